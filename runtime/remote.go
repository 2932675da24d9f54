package runtime

import (
	"strings"

	"github.com/wasmlattice/wash/runtime/cabi"
)

// ImportResolver supplies an imported function that neither InstanceConfig.HostInterfaces nor
// the engine (built-in WASI) provides: iface is the imported interface ("my:pkg/iface@0.1.0",
// "" for a top-level function import), name the function as the component names it
// ("get", "[method]counter.get-count"), t its type from the component's own WIT. Returning nil
// leaves the import unsatisfied (instantiation fails with ErrUnsatisfiedImport). A host uses
// it to route imports to other components or providers, e.g. over the network; the
// HostFunc it returns gets lifted arguments and returns one value (see cabi), and resources it
// returns are opaque host representations.
type ImportResolver func(iface, name string, t *cabi.FuncType) HostFunc

// ExportedFunc is one function a component exports, with its type.
type ExportedFunc struct {
	// Interface is the exported interface ("wasi:http/incoming-handler@0.2.0"), "" for a
	// top-level function.
	Interface string
	Name      string
	Type      *cabi.FuncType
}

// ExportedFuncs lists every exported function with its type (nil for core modules), in
// export order. Program.Invoke calls any of them with values of these types.
func (p *Program) ExportedFuncs() []ExportedFunc {
	if p.comp == nil {
		return nil
	}
	var out []ExportedFunc
	for _, f := range p.comp.ExportedFunctions() {
		iface, name, ok := strings.Cut(f, "#")
		if !ok {
			iface, name = "", f
		}
		if t, ok := p.comp.FuncType(iface, name); ok {
			out = append(out, ExportedFunc{Interface: iface, Name: name, Type: t})
		}
	}
	return out
}
