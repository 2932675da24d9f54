package ctl

import (
	"context"
	"fmt"
	"sort"
)

// Inventories fetches the inventory of one host (id, unique id prefix or friendly name) or, with
// an empty query, of every host that answers a ping, asking them concurrently. A host that
// leaves between the ping and its inventory request is left out; the inventories come sorted by
// host id.
func (c *Client) Inventories(ctx context.Context, hostQuery string) ([]HostInventory, error) {
	var ids []string
	if hostQuery != "" && IsHostID(hostQuery) {
		ids = []string{hostQuery}
	} else {
		hosts, err := c.PingHosts(ctx, GatherOptions{})
		if err != nil {
			return nil, err
		}
		if hostQuery != "" {
			h, err := ResolveHost(hosts, hostQuery, c.Lattice())
			if err != nil {
				return nil, err
			}
			ids = []string{h.ID}
		} else {
			for _, h := range hosts {
				ids = append(ids, h.ID)
			}
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no hosts are available for inventory query in lattice %q; start one with `wash up`", c.Lattice())
	}
	type res struct {
		inv *HostInventory
		err error
	}
	results := make([]res, len(ids))
	done := make(chan struct{}, len(ids))
	for i, id := range ids {
		go func() {
			inv, err := c.GetHostInventory(ctx, id)
			results[i] = res{inv, err}
			done <- struct{}{}
		}()
	}
	for range ids {
		<-done
	}
	var out []HostInventory
	for i, r := range results {
		if r.err != nil {
			if hostQuery != "" {
				return nil, fmt.Errorf("inventory of host %s: %w", ids[i], r.err)
			}
			continue // a host that left between ping and request
		}
		out = append(out, *r.inv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].HostID < out[j].HostID })
	return out, nil
}
