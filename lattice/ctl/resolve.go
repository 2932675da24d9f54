package ctl

import (
	"fmt"
	"sort"
	"strings"
)

// ResolveHost finds one host by full id, friendly name, unique id prefix or unique friendly-name
// substring. The errors name the lattice and, when ambiguous, every candidate.
func ResolveHost(hosts []Host, query, lattice string) (Host, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return Host{}, fmt.Errorf("empty host id: give a host id, a unique prefix of one, or a friendly name")
	}
	var matches []Host
	for _, h := range hosts {
		if h.ID == query || h.FriendlyName == query {
			return h, nil
		}
		if strings.HasPrefix(h.ID, query) || strings.Contains(h.FriendlyName, query) {
			matches = append(matches, h)
		}
	}
	switch len(matches) {
	case 0:
		if len(hosts) == 0 {
			return Host{}, fmt.Errorf("no host matching %q: lattice %q has no hosts (start one with `wash up`)", query, lattice)
		}
		return Host{}, fmt.Errorf("no host matching %q in lattice %q (%d hosts answered; list them with `wash get hosts`)", query, lattice, len(hosts))
	case 1:
		return matches[0], nil
	}
	sort.Slice(matches, func(i, j int) bool { return matches[i].ID < matches[j].ID })
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = m.FriendlyName + " " + m.ID[:min(len(m.ID), 12)]
	}
	return Host{}, fmt.Errorf("%q is ambiguous in lattice %q: it matches %s; give more of the id", query, lattice, strings.Join(names, ", "))
}
