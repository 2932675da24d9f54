package model

import (
	"github.com/wasmlattice/wash/lattice/ctl"
)

// checkNameLengths refuses a manifest whose app name, component or provider ids, link names or
// config names are longer than ctl.MaxNameLength: they end up in NATS subjects and KV keys, and
// a subject past the server's max_control_line makes the server close the connection of
// whoever publishes it (wadm's, a host's). It returns the first problem, or "".
func checkNameLengths(m *Manifest) string {
	app := m.Metadata.Name
	if err := ctl.CheckName("app name", app); err != nil {
		return err.Error()
	}
	configs := func(cs []ConfigProperty) error {
		for i := range cs {
			if err := ctl.CheckName("config name", ConfigName(app, &cs[i])); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		if err := ctl.CheckName("component id", ResolvedComponentID(app, c)); err != nil {
			return err.Error()
		}
		if err := configs(c.Properties.Config); err != nil {
			return err.Error()
		}
		for _, t := range c.Traits {
			l := t.Properties.Link
			if l == nil {
				continue
			}
			if err := ctl.CheckName("link name", l.LinkName()); err != nil {
				return err.Error()
			}
			if l.Source != nil {
				if err := configs(l.Source.Config); err != nil {
					return err.Error()
				}
			}
			if err := configs(l.Target.Config); err != nil {
				return err.Error()
			}
		}
	}
	return ""
}
