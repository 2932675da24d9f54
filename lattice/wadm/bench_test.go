package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"fmt"
	"testing"
)

// benchLattice: 20 hosts in two zones, 100 apps with a 10-instance
// component spread (80/20 over the zones),
// half of them already placed so reconcile sees both satisfied and
// unsatisfied scalers.
func benchLattice(b *testing.B) (*LatticeState, [][]Scaler) {
	b.Helper()
	s := NewLatticeState()
	for i := 0; i < 20; i++ {
		zone := "us-east-1"
		if i%2 == 1 {
			zone = "us-west-1"
		}
		s.AddHost(fmt.Sprintf("N%02d", i), map[string]string{"zone": zone, "hostcore.os": "linux"})
	}
	apps := make([][]Scaler, 0, 100)
	for a := 0; a < 100; a++ {
		doc := fmt.Sprintf(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: app%d
  annotations: {version: v1}
spec:
  components:
    - name: hello
      type: component
      properties:
        image: ghcr.io/example/hello:%d
      traits:
        - type: spreadscaler
          properties:
            instances: 10
            spread:
              - {name: east, requirements: {zone: us-east-1}, weight: 80}
              - {name: west, requirements: {zone: us-west-1}, weight: 20}
`, a, a)
		m, err := model.ParseManifest([]byte(doc))
		if err != nil {
			b.Fatal(err)
		}
		scalers := BuildScalers(m)
		if a%2 == 0 {
			cmds, _ := ReconcileAll(scalers, s)
			apply(s, cmds)
		}
		apps = append(apps, scalers)
	}
	return s, apps
}

func BenchmarkSpreadScaler(b *testing.B) {
	s, apps := benchLattice(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, scalers := range apps {
			ReconcileAll(scalers, s)
		}
	}
}
