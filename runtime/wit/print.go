package wit

import (
	"fmt"
	"sort"
	"strings"
)

// Print writes the world as a WIT document: `package root:component;` with `world root`, then
// one package block per imported or exported package holding its interfaces.
func (w *World) Print() string {
	var b strings.Builder
	b.WriteString("package root:component;\n\nworld root {\n")
	p := &printer{b: &b}
	for _, section := range []struct {
		word  string
		items []Item
	}{{"import", w.Imports}, {"export", w.Exports}} {
		for _, it := range section.items {
			switch {
			case it.Interface != nil:
				if _, _, ok := splitName(it.Name); ok {
					fmt.Fprintf(&b, "  %s %s;\n", section.word, it.Name)
					continue
				}
				fmt.Fprintf(&b, "  %s %s: interface {\n", section.word, id(it.Name))
				p.body(it.Interface, "    ")
				b.WriteString("  }\n")
			case it.Func != nil:
				fmt.Fprintf(&b, "  %s %s: %s;\n", section.word, id(it.Name), p.funcSig(it.Func, ""))
			case it.Type != nil:
				fmt.Fprintf(&b, "  type %s = %s;\n", id(it.Name), p.ref(it.Type.Target, ""))
			}
		}
	}
	b.WriteString("}\n")

	// packages, in order of first appearance
	type pkg struct {
		name   string
		ifaces []*Interface
		seen   map[string]bool
	}
	var pkgs []*pkg
	byName := map[string]*pkg{}
	for _, items := range [][]Item{w.Imports, w.Exports} {
		for _, it := range items {
			if it.Interface == nil {
				continue
			}
			pn, iface, ok := splitName(it.Name)
			if !ok {
				continue
			}
			pk := byName[pn]
			if pk == nil {
				pk = &pkg{name: pn, seen: map[string]bool{}}
				byName[pn] = pk
				pkgs = append(pkgs, pk)
			}
			if !pk.seen[iface] {
				pk.seen[iface] = true
				pk.ifaces = append(pk.ifaces, it.Interface)
			}
		}
	}
	for _, pk := range pkgs {
		fmt.Fprintf(&b, "\npackage %s {\n", pk.name)
		for i, it := range pk.ifaces {
			if i > 0 {
				b.WriteString("\n")
			}
			_, iface, _ := splitName(it.Name)
			fmt.Fprintf(&b, "  interface %s {\n", id(iface))
			p.body(it, "    ")
			b.WriteString("  }\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

type printer struct{ b *strings.Builder }

// keywords must be written %escaped when used as identifiers.
var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`as async bool borrow char constructor enum error-context export f32 f64 flags from func
		future import include interface list option own package record resource result s16 s32 s64 s8 static stream
		string tuple type u16 u32 u64 u8 use variant with world`) {
		keywords[k] = true
	}
}

// id writes a WIT identifier, %-escaping keywords.
func id(s string) string {
	if keywords[s] {
		return "%" + s
	}
	return s
}

// body prints an interface's uses, types and functions; methods go inside their resource.
func (p *printer) body(it *Interface, ind string) {
	b := p.b
	local := map[*Type]string{} // type → its name in this interface
	for _, t := range it.Types {
		local[t] = t.Name
	}
	// uses: named types that stand for another interface's named type
	var useOrder []string
	uses := map[string][]string{}
	for _, t := range it.Types {
		if t.Target != nil && t.Target.Kind == Named && t.Target.Owner != it.Name && t.Target.Owner != "" {
			from := p.usePath(t.Target.Owner, it.Name)
			n := id(t.Target.Name)
			if t.Target.Name != t.Name {
				n += " as " + id(t.Name)
			}
			if _, ok := uses[from]; !ok {
				useOrder = append(useOrder, from)
			}
			uses[from] = append(uses[from], n)
		}
	}
	for _, from := range useOrder {
		fmt.Fprintf(b, "%suse %s.{%s};\n", ind, from, strings.Join(uses[from], ", "))
	}
	methods := map[string][]*Func{}
	var plain []*Func
	for _, f := range it.Funcs {
		if r := resourceOf(f.Name); r != "" {
			methods[r] = append(methods[r], f)
			continue
		}
		plain = append(plain, f)
	}
	for _, t := range it.Types {
		d := t.Target
		if d != nil && d.Kind == Named && d.Owner != it.Name && d.Owner != "" {
			continue // printed as a use
		}
		if d == nil {
			continue
		}
		switch d.Kind {
		case Named:
			fmt.Fprintf(b, "%stype %s = %s;\n", ind, id(t.Name), p.ref(d, it.Name))
		case Resource:
			ms := methods[t.Name]
			if len(ms) == 0 {
				fmt.Fprintf(b, "%sresource %s;\n", ind, id(t.Name))
				continue
			}
			fmt.Fprintf(b, "%sresource %s {\n", ind, id(t.Name))
			for _, f := range ms {
				fmt.Fprintf(b, "%s  %s;\n", ind, p.method(f, t.Name, it.Name))
			}
			fmt.Fprintf(b, "%s}\n", ind)
			delete(methods, t.Name)
		case Record:
			fmt.Fprintf(b, "%srecord %s {\n", ind, id(t.Name))
			for _, f := range d.Fields {
				fmt.Fprintf(b, "%s  %s: %s,\n", ind, id(f.Name), p.ref(f.Type, it.Name))
			}
			fmt.Fprintf(b, "%s}\n", ind)
		case Variant:
			fmt.Fprintf(b, "%svariant %s {\n", ind, id(t.Name))
			for _, c := range d.Cases {
				if c.Type == nil {
					fmt.Fprintf(b, "%s  %s,\n", ind, id(c.Name))
				} else {
					fmt.Fprintf(b, "%s  %s(%s),\n", ind, id(c.Name), p.ref(c.Type, it.Name))
				}
			}
			fmt.Fprintf(b, "%s}\n", ind)
		case Enum, Flags:
			word := "enum"
			if d.Kind == Flags {
				word = "flags"
			}
			fmt.Fprintf(b, "%s%s %s {\n", ind, word, id(t.Name))
			for _, l := range d.Labels {
				fmt.Fprintf(b, "%s  %s,\n", ind, id(l))
			}
			fmt.Fprintf(b, "%s}\n", ind)
		default:
			fmt.Fprintf(b, "%stype %s = %s;\n", ind, id(t.Name), p.ref(d, it.Name))
		}
	}
	// methods of resources this interface does not define (should not happen in valid input)
	rest := make([]string, 0, len(methods))
	for r := range methods {
		rest = append(rest, r)
	}
	sort.Strings(rest)
	for _, r := range rest {
		plain = append(plain, methods[r]...)
	}
	for _, f := range plain {
		fmt.Fprintf(b, "%s%s: %s;\n", ind, id(f.Name), p.funcSig(f, it.Name))
	}
}

// usePath is how interface owner is named from interface from: by interface name within the
// same package, fully qualified otherwise.
func (p *printer) usePath(owner, from string) string {
	op, oi, ok1 := splitName(owner)
	fp, _, ok2 := splitName(from)
	if ok1 && ok2 && op == fp {
		return oi
	}
	return owner
}

// resourceOf returns the resource a [method]/[static]/[constructor] function belongs to.
func resourceOf(name string) string {
	switch {
	case strings.HasPrefix(name, "[constructor]"):
		return strings.TrimPrefix(name, "[constructor]")
	case strings.HasPrefix(name, "[method]"), strings.HasPrefix(name, "[static]"):
		r, _, _ := strings.Cut(name[strings.IndexByte(name, ']')+1:], ".")
		return r
	}
	return ""
}

func (p *printer) method(f *Func, res, owner string) string {
	switch {
	case strings.HasPrefix(f.Name, "[constructor]"):
		// the constructor's own<R> result is implied
		return "constructor(" + p.params(f.Params, owner) + ")"
	case strings.HasPrefix(f.Name, "[static]"):
		return id(strings.TrimPrefix(f.Name, "[static]"+res+".")) + ": static " + p.funcSig(f, owner)
	default:
		params := f.Params
		if len(params) > 0 {
			params = params[1:] // self
		}
		g := *f
		g.Params = params
		return id(strings.TrimPrefix(f.Name, "[method]"+res+".")) + ": " + p.funcSig(&g, owner)
	}
}

func (p *printer) params(ps []Field, owner string) string {
	parts := make([]string, 0, len(ps))
	for _, x := range ps {
		parts = append(parts, id(x.Name)+": "+p.ref(x.Type, owner))
	}
	return strings.Join(parts, ", ")
}

func (p *printer) funcSig(f *Func, owner string) string {
	s := "func(" + p.params(f.Params, owner) + ")"
	switch {
	case len(f.Results) == 1 && f.Results[0].Name == "":
		s += " -> " + p.ref(f.Results[0].Type, owner)
	case len(f.Results) > 0:
		s += " -> (" + p.params(f.Results, owner) + ")"
	}
	return s
}

// ref writes a reference to t from inside interface owner.
func (p *printer) ref(t *Type, owner string) string {
	if t == nil {
		return "_"
	}
	switch t.Kind {
	case Named:
		// references inside an interface point at its own (possibly used) names
		return id(t.Name)
	case Prim:
		return t.Prim
	case List:
		return "list<" + p.ref(t.Elem, owner) + ">"
	case FixedList:
		return fmt.Sprintf("list<%s, %d>", p.ref(t.Elem, owner), t.Len)
	case Option:
		return "option<" + p.ref(t.Elem, owner) + ">"
	case Result:
		switch {
		case t.Ok == nil && t.Err == nil:
			return "result"
		case t.Err == nil:
			return "result<" + p.ref(t.Ok, owner) + ">"
		default:
			ok := "_"
			if t.Ok != nil {
				ok = p.ref(t.Ok, owner)
			}
			return "result<" + ok + ", " + p.ref(t.Err, owner) + ">"
		}
	case Tuple:
		parts := make([]string, 0, len(t.Fields))
		for _, f := range t.Fields {
			parts = append(parts, p.ref(f.Type, owner))
		}
		return "tuple<" + strings.Join(parts, ", ") + ">"
	case Own:
		return p.ref(t.Target, owner)
	case Borrow:
		return "borrow<" + p.ref(t.Target, owner) + ">"
	case Future:
		if t.Elem == nil {
			return "future"
		}
		return "future<" + p.ref(t.Elem, owner) + ">"
	case Stream:
		if t.Elem == nil {
			return "stream"
		}
		return "stream<" + p.ref(t.Elem, owner) + ">"
	case Resource:
		return "resource"
	case Record, Variant, Enum, Flags:
		// anonymous: valid components name these, so this is a fallback for odd input
		return fmt.Sprintf("/* anonymous %s */ _", [...]string{Record: "record", Variant: "variant", Enum: "enum", Flags: "flags"}[t.Kind])
	}
	return "_"
}
