package tui

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// configView lists named config with its values; a drill-down adds the links that use it. The
// dashboard reads every value while this view is shown (see Model.configToFetch).
type configView struct{ list }

func newConfigView(ctx *viewContext) viewModel {
	v := &configView{}
	v.list = newList(ctx, v)
	return v
}

var configColumns = []column{{Title: "NAME", Min: 6, Max: 30, Flex: true}, {Title: "KEYS", Min: 4}, {Title: "VALUES", Min: 10, Flex: true}}

func (v *configView) rows() ([]column, []row) {
	c, st := v.ctx, v.ctx.lattice()
	var rows []row
	for _, n := range st.configNamesAll() {
		rows = append(rows, row{Key: n, Cells: []string{c.mask(n), configKeyCount(st, n), c.mask(configSummary(st, n))}})
	}
	return configColumns, rows
}

func configKeyCount(st *latticeState, n string) string {
	if _, bad := st.configErr[n]; bad {
		return "?"
	}
	v, ok := st.configValues[n]
	if !ok {
		return "…"
	}
	return strconv.Itoa(len(v))
}

func configSummary(st *latticeState, n string) string {
	if e, bad := st.configErr[n]; bad {
		return "error: " + e
	}
	v, ok := st.configValues[n]
	if !ok {
		return "loading…"
	}
	if v == nil {
		return "(not stored)"
	}
	keys := slices.Sorted(maps.Keys(v))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + v[k]
	}
	return strings.Join(parts, " ")
}

func (v *configView) detail(name string) (string, []string) {
	c, st := v.ctx, v.ctx.lattice()
	out := []string{""}
	if e, bad := st.configErr[name]; bad {
		out = append(out, "  error: "+e)
	}
	values, ok := st.configValues[name]
	switch {
	case !ok:
		out = append(out, "  loading…")
	case values == nil:
		out = append(out, "  not stored in the lattice (referenced by a link only)")
	default:
		for _, k := range slices.Sorted(maps.Keys(values)) {
			out = append(out, "  "+c.mask(k)+" = "+c.mask(values[k]))
		}
	}
	var users []string
	for _, l := range st.sortedLinks() {
		if slices.Contains(l.SourceConfig, name) || slices.Contains(l.TargetConfig, name) {
			users = append(users, "    "+c.mask(l.SourceID)+" → "+c.mask(l.Target)+" ("+l.WitNamespace+":"+l.WitPackage+")")
		}
	}
	if len(users) > 0 {
		out = append(out, "", "  Used by links:")
		out = append(out, users...)
	}
	return "Config " + c.mask(name), out
}
