package component

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmlattice/wash/runtime/cabi"
)

// Registry maps interface names to host implementations, matching versions the way wasmtime
// does: a host providing pkg/iface@0.2.x serves an import of pkg/iface@0.2.y (same major for
// >= 1.0, same minor for 0.x, exact for pre-releases).
type Registry struct {
	byName map[string]*cabi.HostInterface
	byBase map[string][]*cabi.HostInterface
	// Fallback supplies the imports that neither this registry nor the program's defaults
	// provide, given the function's type as the component declares it; nil leaves them
	// unsatisfied.
	Fallback func(iface, name string, t *cabi.FuncType) cabi.HostFunc
}

// NewRegistry builds a registry from interfaces; later entries replace earlier ones of the
// same name.
func NewRegistry(ifaces ...*cabi.HostInterface) *Registry {
	r := &Registry{byName: map[string]*cabi.HostInterface{}, byBase: map[string][]*cabi.HostInterface{}}
	for _, i := range ifaces {
		r.Add(i)
	}
	return r
}

// Add registers (or replaces) one interface.
func (r *Registry) Add(i *cabi.HostInterface) {
	if old, ok := r.byName[i.Name]; ok {
		base, _ := splitVersion(old.Name)
		list := r.byBase[base]
		for k, x := range list {
			if x == old {
				r.byBase[base] = append(list[:k:k], list[k+1:]...)
				break
			}
		}
	}
	r.byName[i.Name] = i
	base, _ := splitVersion(i.Name)
	r.byBase[base] = append(r.byBase[base], i)
}

// Interface finds the host interface serving name (exact, then semver-compatible).
func (r *Registry) Interface(name string) (*cabi.HostInterface, bool) {
	if r == nil {
		return nil, false
	}
	if i, ok := r.byName[name]; ok {
		return i, true
	}
	base, _ := splitVersion(name)
	for _, i := range r.byBase[base] {
		if Compatible(name, i.Name) {
			return i, true
		}
	}
	return nil, false
}

// Lookup finds one function; iface "" means a top-level function import.
func (r *Registry) Lookup(iface, fn string) cabi.HostFunc {
	f, _ := r.lookupDecl(iface, fn)
	return f
}

// lookupDecl finds one function and its declared type (nil when undeclared).
func (r *Registry) lookupDecl(iface, fn string) (cabi.HostFunc, *cabi.FuncType) {
	i, ok := r.Interface(iface)
	if !ok {
		return nil, nil
	}
	return i.Funcs[fn], i.Types[fn]
}

// checkImport compares the type a component imports iface#fn with to the type its host
// function declares: a one-line error naming the import when they differ.
func checkImport(iface, fn string, declared, imported *cabi.FuncType) error {
	if declared == nil || imported == nil {
		return nil
	}
	if err := cabi.CheckFunc(declared, imported); err != nil {
		return fmt.Errorf("import %s#%s: %w", iface, fn, err)
	}
	return nil
}

func splitVersion(name string) (base, version string) {
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return name, ""
}

type semver struct {
	major, minor, patch uint64
	pre                 string
}

func parseSemver(v string) (semver, bool) {
	var s semver
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i]
	}
	if i := strings.IndexByte(v, '-'); i >= 0 {
		s.pre = v[i+1:]
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return s, false
	}
	var nums [3]uint64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return s, false
		}
		nums[i] = n
	}
	s.major, s.minor, s.patch = nums[0], nums[1], nums[2]
	return s, true
}

// Compatible reports whether interface names a and b denote semver-compatible versions of
// the same interface.
func Compatible(a, b string) bool {
	if a == b {
		return true
	}
	ba, va := splitVersion(a)
	bb, vb := splitVersion(b)
	if ba != bb || va == "" || vb == "" {
		return false
	}
	x, ok1 := parseSemver(va)
	y, ok2 := parseSemver(vb)
	if !ok1 || !ok2 || x.pre != "" || y.pre != "" {
		return false
	}
	switch {
	case x.major != y.major:
		return false
	case x.major > 0:
		return true
	case x.minor != y.minor:
		return false
	case x.minor > 0:
		return true
	}
	return x.patch == y.patch
}
