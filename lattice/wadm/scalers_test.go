package wadm

import (
	"os"
	"path/filepath"

	"github.com/wasmlattice/wash/lattice/wadm/model"

	"fmt"
	"reflect"
	"strings"
	"testing"
)

func ptrInt(i int) *int { return &i }

func spreadCounts(ts []SpreadTarget) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s=%d", t.Spread.Name, t.Count))
	}
	return out
}

func TestComputeSpread(t *testing.T) {
	sp := func(name string, w *int) model.Spread {
		return model.Spread{Name: name, Requirements: map[string]string{}, Weight: w}
	}
	cases := []struct {
		n      int
		spread []model.Spread
		want   []string
	}{
		{1, []model.Spread{sp("a", ptrInt(100))}, []string{"a=1"}},
		{10, []model.Spread{sp("a", ptrInt(100)), sp("b", ptrInt(100))}, []string{"a=5", "b=5"}},
		{7, []model.Spread{sp("w30", ptrInt(30)), sp("w40", ptrInt(40))}, []string{"w40=4", "w30=3"}},
		{7, []model.Spread{sp("a", ptrInt(100)), sp("b", ptrInt(100))}, []string{"a=4", "b=3"}},
		{10, []model.Spread{sp("a", nil), sp("b", nil)}, []string{"a=5", "b=5"}},
		{12, nil, []string{"default=12"}},
		{103, []model.Spread{sp("w42", ptrInt(42)), sp("w3", ptrInt(3)), sp("w37", ptrInt(37)), sp("w384", ptrInt(384))}, []string{"w384=85", "w42=10", "w37=8", "w3=0"}},
		{103, []model.Spread{sp("w42", ptrInt(42)), sp("w3", ptrInt(3)), sp("w37", ptrInt(37))}, []string{"w42=53", "w37=47", "w3=3"}},
		{5, []model.Spread{sp("a", ptrInt(40)), sp("b", ptrInt(40)), sp("c", ptrInt(20))}, []string{"a=2", "b=2", "c=1"}},
		{5, []model.Spread{sp("a", ptrInt(40)), sp("b", ptrInt(40))}, []string{"a=3", "b=2"}},
		// Guarded: upstream divides by zero here.
		{3, []model.Spread{sp("a", ptrInt(0)), sp("b", ptrInt(0))}, []string{"a=2", "b=1"}},
	}
	for _, tc := range cases {
		got := spreadCounts(ComputeSpread(model.SpreadScalerProperty{Instances: tc.n, Spread: tc.spread}))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%d over %v: got %v want %v", tc.n, tc.spread, got, tc.want)
		}
	}
}

func TestComponentIDs(t *testing.T) {
	id := "myid"
	cases := []struct {
		app  string
		id   *string
		name string
		want string
	}{
		{"mymodel", &id, "x", "myid"},
		{"mymodel", nil, "echo-component", "mymodel-echo_component"},
		{"some model name with spaces cause yaml", nil, "echo", "some_model_name_with_spaces_cause_yaml-echo"},
		{"My ThInG", nil, "thing.wasm", "my_thing-thing_wasm"},
		{"hello-simple", nil, "hello", "hello_simple-hello"},
	}
	for _, tc := range cases {
		if got := model.ComponentID(tc.app, tc.id, tc.name); got != tc.want {
			t.Errorf("ComponentID(%q,%v,%q) = %q, want %q", tc.app, tc.id, tc.name, got, tc.want)
		}
	}
	if got := model.SecretConfigName("sample", "test-secret"); got != "SECRET_sample-test_secret" {
		t.Errorf("secret config name %q", got)
	}
}

// The manifest fixtures live with the model package.
const fixtureDir = "tests/fixtures/manifests"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("model", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustManifest(t testing.TB, file string) *model.Manifest {
	t.Helper()
	m, err := model.ParseManifest(readFixture(t, file))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScalerIDVectors(t *testing.T) {
	m := mustManifest(t, fixtureDir+"/simple.yaml")
	scalers := BuildScalers(m)
	var got []string
	for _, s := range scalers {
		got = append(got, s.Kind()+" "+s.Name()+" "+s.ID())
	}
	want := []string{
		"SpreadScaler http_hello_world 51f5a7b765665fbd56fb630960d59b2b6b5f41507ccfd5fe1eaca6b154f3c6ac",
		"SpreadScaler http_server 71e4e16aae6b1fd1cac75ad82f407ccabbba4adfcfb631c6a84da5db2eb4759b",
		"LinkScaler http_server -(wasi:http)-> http_hello_world 0fcff01255dc1d2cf54a276555e7cf894fae75a49d273d1a0264a609e9a62aa5",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scalers:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// compSpread builds a component spread scaler with a fixed id.
func compSpread(instances int, spreads ...model.Spread) *ComponentSpreadScaler {
	return &ComponentSpreadScaler{id: "scaler1", ModelName: "app", ComponentName: "c", ComponentID: "comp",
		Reference: "ref:1", Property: model.SpreadScalerProperty{Instances: instances, Spread: spreads}}
}

func spread(name string, w int, req ...string) model.Spread {
	r := map[string]string{}
	for i := 0; i+1 < len(req); i += 2 {
		r[req[i]] = req[i+1]
	}
	return model.Spread{Name: name, Requirements: r, Weight: &w}
}

func scaleSummary(cmds []Command) []string {
	var out []string
	for _, c := range cmds {
		switch v := c.(type) {
		case ScaleComponent:
			out = append(out, fmt.Sprintf("%s=%d/%s", v.HostID, v.Count, v.Annotations[model.SpreadNameAnnotation]))
		case StartProvider:
			out = append(out, fmt.Sprintf("start %s@%s/%s", v.ProviderID, v.HostID, v.Annotations[model.SpreadNameAnnotation]))
		case StopProvider:
			out = append(out, fmt.Sprintf("stop %s@%s", v.ProviderID, v.HostID))
		default:
			out = append(out, fmt.Sprintf("%s %+v", c.CommandName(), c))
		}
	}
	return out
}

func TestSeedScenario8020(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("east", map[string]string{"zone": "us-east-1"})
	s.AddHost("west", map[string]string{"zone": "us-west-1"})
	sc := compSpread(100, spread("eastcoast", 80, "zone", "us-east-1"), spread("westcoast", 20, "zone", "us-west-1"))
	cmds, st := sc.Reconcile(s)
	if got, want := scaleSummary(cmds), []string{"east=80/eastcoast", "west=20/westcoast"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
	if st != model.Reconciling("Scaling component on 2 host(s)") {
		t.Errorf("status %+v", st)
	}
	for _, c := range cmds {
		sc := c.(ScaleComponent)
		if sc.Annotations[model.ScalerAnnotation] != "scaler1" || sc.ComponentID != "comp" || sc.Reference != "ref:1" || sc.ModelName != "app" {
			t.Errorf("command fields: %+v", sc)
		}
	}
	// Apply and reconcile again: deployed.
	apply(s, cmds)
	if cmds, st := sc.Reconcile(s); len(cmds) != 0 || st != model.Deployed("") {
		t.Fatalf("after apply: %v %+v", scaleSummary(cmds), st)
	}
	// Host removal: east is gone, its spread cannot be placed.
	delete(s.Hosts, "east")
	cmds, st = sc.Reconcile(s)
	if st.Type == model.StatusDeployed || len(cmds) != 0 {
		t.Fatalf("after host removal: %v %+v", scaleSummary(cmds), st)
	}
	// Upstream reports a spread conflict here; we say the spread has no
	// eligible host, which is the actual reason.
	if st != model.Failed("Could not satisfy spread eastcoast for ref:1, 0/1 eligible hosts found.") {
		t.Errorf("host removal status %q", st.Message)
	}
	// A replacement east host gets all 80.
	s.AddHost("east2", map[string]string{"zone": "us-east-1"})
	cmds, _ = sc.Reconcile(s)
	if got := scaleSummary(cmds); !reflect.DeepEqual(got, []string{"east2=80/eastcoast"}) {
		t.Errorf("replacement: %v", got)
	}
}

// apply mimics hosts executing commands (for multi-round tests).
func apply(s *LatticeState, cmds []Command) {
	for _, c := range cmds {
		switch v := c.(type) {
		case ScaleComponent:
			if h := s.Hosts[v.HostID]; h != nil {
				h.SetComponent(v.ComponentID, v.Reference, v.Annotations, v.Count)
			}
		case StartProvider:
			if h := s.Hosts[v.HostID]; h != nil {
				h.SetProvider(v.ProviderID, v.Reference, v.Annotations, ProviderRunning)
			}
		case StopProvider:
			if h := s.Hosts[v.HostID]; h != nil {
				delete(h.Providers, v.ProviderID)
			}
		case PutLink:
			s.Links = append(s.Links, Link{SourceID: v.SourceID, Target: v.Target, Name: v.Name, WitNamespace: v.WitNamespace, WitPackage: v.WitPackage, Interfaces: v.Interfaces})
		case PutConfig:
			s.Configs[v.ConfigName] = v.Config
		case DeleteConfig:
			delete(s.Configs, v.ConfigName)
		case DeleteLink:
			kept := s.Links[:0]
			for _, l := range s.Links {
				if !(l.SourceID == v.SourceID && l.Name == v.LinkName && l.WitNamespace == v.WitNamespace && l.WitPackage == v.WitPackage) {
					kept = append(kept, l)
				}
			}
			s.Links = kept
		}
	}
}

func TestNoMatchingHosts(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("moon", map[string]string{"region": "moon"})
	sc := compSpread(4, spread("eastcoast", 100, "region", "us-east-1"))
	cmds, st := sc.Reconcile(s)
	if len(cmds) != 0 || st != model.Failed("Could not satisfy spread eastcoast for ref:1, 0/1 eligible hosts found.") {
		t.Fatalf("got %v %+v", scaleSummary(cmds), st)
	}
	// With a target of 0 the "could not satisfy" text is what remains.
	sc0 := compSpread(0, spread("eastcoast", 100, "region", "us-east-1"))
	if _, st := sc0.Reconcile(s); st != model.Failed("Could not satisfy spread eastcoast for ref:1, 0/1 eligible hosts found.") {
		t.Fatalf("zero target: %+v", st)
	}
	// Empty lattice, no spreads.
	if _, st := compSpread(1).Reconcile(NewLatticeState()); st.Type != model.StatusFailed {
		t.Fatalf("empty lattice: %+v", st)
	}
}

func TestSpreadCommandsAcrossZones(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("h-east", map[string]string{"zone": "east"})
	s.AddHost("h-west", map[string]string{"zone": "west"})
	s.AddHost("h-central", map[string]string{"zone": "central"})
	sc := compSpread(103, spread("EastZone", 42, "zone", "east"), spread("WestZone", 3, "zone", "west"), spread("CentralZone", 37, "zone", "central"))
	cmds, _ := sc.Reconcile(s)
	want := []string{"h-east=53/EastZone", "h-central=47/CentralZone", "h-west=3/WestZone"}
	if got := scaleSummary(cmds); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

func TestScaleUpAndDown(t *testing.T) {
	s := NewLatticeState()
	sc := compSpread(412, spread("SimpleOne", 50, "cloud", "fake"), spread("SimpleTwo", 25, "cloud", "real"), spread("SimpleThree", 25, "cloud", "purgatory"))
	s.AddHost("fake", map[string]string{"cloud": "fake"}).SetComponent("comp", "ref:1", SpreadAnnotations("SimpleOne", "scaler1"), 1)
	s.AddHost("real", map[string]string{"cloud": "real"}).SetComponent("comp", "ref:1", SpreadAnnotations("SimpleTwo", "scaler1"), 103)
	s.AddHost("purgatory", map[string]string{"cloud": "purgatory"}).SetComponent("comp", "ref:1", SpreadAnnotations("SimpleThree", "scaler1"), 400)
	cmds, st := sc.Reconcile(s)
	if got, want := scaleSummary(cmds), []string{"fake=206/SimpleOne", "purgatory=103/SimpleThree"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v (%+v)", got, want, st)
	}

	// blobby: 9 over three equal spreads.
	s = NewLatticeState()
	b := compSpread(9, spread("brooks", 33, "region", "us-brooks-1"), spread("midwest", 33, "region", "us-midwest-4"), spread("edge", 33, "location", "edge"))
	s.AddHost("brooks", map[string]string{"region": "us-brooks-1"}).SetComponent("comp", "ref:1", SpreadAnnotations("brooks", "scaler1"), 3)
	s.AddHost("midwest", map[string]string{"region": "us-midwest-4"}).SetComponent("comp", "ref:1", SpreadAnnotations("midwest", "scaler1"), 19)
	s.AddHost("edge", map[string]string{"location": "edge"})
	cmds, _ = b.Reconcile(s)
	if got, want := scaleSummary(cmds), []string{"midwest=3/midwest", "edge=3/edge"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("blobby got %v want %v", got, want)
	}
}

func TestScaleDownOverSeveralHosts(t *testing.T) {
	s := NewLatticeState()
	ann := SpreadAnnotations(model.DefaultSpreadName, "scaler1")
	s.AddHost("a", nil).SetComponent("comp", "ref:1", ann, 3)
	s.AddHost("b", nil).SetComponent("comp", "ref:1", ann, 2)
	s.AddHost("c", nil).SetComponent("comp", "ref:1", ann, 4)
	// 9 → 4: drain the smallest hosts first; every running host gets a command.
	cmds, _ := compSpread(4).Reconcile(s)
	if got, want := scaleSummary(cmds), []string{"b=0/default", "a=0/default", "c=4/default"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	// Scale up with instances on two hosts: raise the biggest host by the
	// missing amount (upstream's count=target would wedge in a conflict).
	s = NewLatticeState()
	s.AddHost("a", nil).SetComponent("comp", "ref:1", ann, 3)
	s.AddHost("b", nil).SetComponent("comp", "ref:1", ann, 2)
	cmds, st := compSpread(7).Reconcile(s)
	if got, want := scaleSummary(cmds), []string{"a=5/default"}; !reflect.DeepEqual(got, want) || st.Type != model.StatusReconciling {
		t.Fatalf("got %v %+v", got, st)
	}
}

func TestSpreadRequirementConflict(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("h1", map[string]string{"region": "us-east-1", "cloud": "real"})
	s.AddHost("h2", map[string]string{"region": "us-east-1", "cloud": "real"})
	s.AddHost("h3", map[string]string{"region": "us-west-1", "cloud": "real"})
	s.AddHost("h4", map[string]string{"region": "us-west-1", "cloud": "real"})
	sc := compSpread(12, spread("eastcoast", 25, "region", "us-east-1"), spread("westcoast", 25, "region", "us-west-1"), spread("realcloud", 50, "cloud", "real"))
	cmds, st := sc.Reconcile(s)
	if len(cmds) != 0 || st.Type != model.StatusFailed || !strings.Contains(st.Message, "Spread requirement conflict: realcloud spread requires 6 instances") {
		t.Fatalf("got %v %+v", scaleSummary(cmds), st)
	}
}

func TestIneligibleHostRemoval(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("east", map[string]string{"zone": "east"})
	s.AddHost("moon", map[string]string{"zone": "moon"}).SetComponent("comp", "ref:1", map[string]string{"other": "x"}, 2)
	cmds, st := compSpread(2, spread("e", 100, "zone", "east")).Reconcile(s)
	if got := scaleSummary(cmds); !reflect.DeepEqual(got, []string{"moon=0/"}) || st != model.Reconciling("Found components running on ineligible hosts, removing them.") {
		t.Fatalf("got %v %+v", got, st)
	}
	if a := cmds[0].(ScaleComponent).Annotations; len(a) != 0 {
		t.Errorf("removal annotations %v", a)
	}
}

func TestComponentDaemonScaler(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("h", nil)
	d := &ComponentDaemonScaler{*compSpread(13, spread("a", 1), spread("b", 2), spread("c", 3), spread("d", 4))}
	cmds, st := d.Reconcile(s)
	// One command per host, annotated with the first spread the host is eligible for: the
	// host holds one instance set (upstream sends one per spread, which overwrite each other).
	if got, want := scaleSummary(cmds), []string{"h=13/a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	if st != model.Reconciling("Scaling component on 1 host(s)") || d.Kind() != model.KindDaemonScaler {
		t.Errorf("status %+v", st)
	}
	apply(s, cmds)
	if cmds, st := d.Reconcile(s); len(cmds) != 0 || st.Type != model.StatusDeployed {
		t.Fatalf("after apply %v %+v", scaleSummary(cmds), st)
	}
	nd := &ComponentDaemonScaler{*compSpread(1, spread("x", 1, "zone", "none"))}
	empty := NewLatticeState()
	empty.AddHost("h", nil)
	if _, st := nd.Reconcile(empty); st != model.Failed("Could not satisfy daemonscaler x for ref:1, 0 eligible hosts found.") {
		t.Errorf("no host: %+v", st)
	}
	// Cleanup scales the host's instances to 0.
	if got := scaleSummary(d.Cleanup(s)); !reflect.DeepEqual(got, []string{"h=0/a"}) {
		t.Errorf("cleanup %v", got)
	}
}

func provSpread(instances int, spreads ...model.Spread) *ProviderSpreadScaler {
	return &ProviderSpreadScaler{id: "pscaler", ModelName: "app", ComponentName: "p", ProviderID: "prov",
		Reference: "pref:1", Property: model.SpreadScalerProperty{Instances: instances, Spread: spreads}}
}

func TestProviderSpreadScaler(t *testing.T) {
	s := NewLatticeState()
	for _, id := range []string{"a", "b", "c"} {
		s.AddHost(id, map[string]string{"region": "east"})
	}
	s.AddHost("m", map[string]string{"region": "moon"})
	p := provSpread(2, spread("east", 100, "region", "east"))
	cmds, st := p.Reconcile(s)
	if got := scaleSummary(cmds); !reflect.DeepEqual(got, []string{"start prov@a/east", "start prov@b/east"}) || st != model.Reconciling("Scaling provider on 2 host(s)") {
		t.Fatalf("got %v %+v", got, st)
	}
	apply(s, cmds)
	if cmds, st := p.Reconcile(s); len(cmds) != 0 || st.Type != model.StatusDeployed {
		t.Fatalf("after apply %v %+v", scaleSummary(cmds), st)
	}
	// Scale down to 1.
	p1 := provSpread(1, spread("east", 100, "region", "east"))
	if got := scaleSummary(func() []Command { c, _ := p1.Reconcile(s); return c }()); !reflect.DeepEqual(got, []string{"stop prov@a"}) {
		t.Fatalf("scale down %v", got)
	}
	// Not enough hosts.
	p5 := provSpread(5, spread("east", 100, "region", "east"))
	cmds, st = p5.Reconcile(s)
	if got := scaleSummary(cmds); !reflect.DeepEqual(got, []string{"start prov@c/east"}) || st != model.Failed("Could not satisfy spread east for pref:1, 2/5 eligible hosts found.") {
		t.Fatalf("too few hosts %v %+v", got, st)
	}
	// Managed provider on an ineligible host is stopped first.
	s.Hosts["m"].SetProvider("prov", "pref:1", SpreadAnnotations("east", "pscaler"), ProviderRunning)
	cmds, st = p.Reconcile(s)
	if got := scaleSummary(cmds); !reflect.DeepEqual(got, []string{"stop prov@m"}) || st != model.Reconciling("Found providers running on ineligible hosts, removing them.") {
		t.Fatalf("ineligible %v %+v", got, st)
	}
	delete(s.Hosts["m"].Providers, "prov")
	// Cleanup stops only this scaler's providers.
	s.Hosts["c"].SetProvider("prov", "pref:1", map[string]string{"someone": "else"}, ProviderRunning)
	if got := scaleSummary(p.Cleanup(s)); !reflect.DeepEqual(got, []string{"stop prov@a", "stop prov@b"}) {
		t.Fatalf("cleanup %v", got)
	}
}

func TestProviderDaemonScaler(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("a", map[string]string{"r": "x"})
	s.AddHost("b", map[string]string{"r": "x"})
	s.AddHost("c", map[string]string{"r": "y"})
	d := &ProviderDaemonScaler{*provSpread(1, spread("xs", 100, "r", "x"))}
	cmds, _ := d.Reconcile(s)
	if got := scaleSummary(cmds); !reflect.DeepEqual(got, []string{"start prov@a/xs", "start prov@b/xs"}) {
		t.Fatalf("got %v", got)
	}
	apply(s, cmds)
	if got := scaleSummary(d.Cleanup(s)); !reflect.DeepEqual(got, []string{"stop prov@a", "stop prov@b"}) {
		t.Fatalf("cleanup %v", got)
	}
}

func TestSimpleManifestEndToEnd(t *testing.T) {
	m := mustManifest(t, fixtureDir+"/simple.yaml")
	scalers := BuildScalers(m)
	s := NewLatticeState()
	s.AddHost("NHOST", map[string]string{"hostcore.os": "linux"})

	cmds, st := ReconcileAll(scalers, s)
	want := []string{
		"NHOST=4/default",
		"start http_server@NHOST/default",
		"PutConfig {ConfigName:hello_simple-httpaddr Config:map[address:0.0.0.0:8080]}",
	}
	if got := scaleSummary(cmds); !reflect.DeepEqual(got, want) {
		t.Fatalf("round 1:\n%v\nwant\n%v", got, want)
	}
	if st.Info.Type != model.StatusReconciling {
		t.Errorf("round 1 status %+v", st)
	}
	apply(s, cmds)
	cmds, st = ReconcileAll(scalers, s)
	if got := scaleSummary(cmds); len(got) != 1 || !strings.HasPrefix(got[0], "PutLink") {
		t.Fatalf("round 2: %v", got)
	}
	pl := cmds[0].(PutLink)
	if pl.SourceID != "http_server" || pl.Target != "http_hello_world" || pl.Name != "default" || !reflect.DeepEqual(pl.SourceConfig, []string{"hello_simple-httpaddr"}) || len(pl.TargetConfig) != 0 {
		t.Errorf("PutLink %+v", pl)
	}
	if st.Info != model.Reconciling("Putting link definition between http_server and http_hello_world") {
		t.Errorf("round 2 status %+v", st.Info)
	}
	apply(s, cmds)
	cmds, st = ReconcileAll(scalers, s)
	if len(cmds) != 0 || st.Info != model.Deployed("") || len(st.Scalers) != 3 {
		t.Fatalf("round 3: %v %+v", scaleSummary(cmds), st)
	}
	// Undeploy.
	clean := CleanupAll(scalers, s)
	got := scaleSummary(clean)
	wantClean := []string{"NHOST=0/default", "stop http_server@NHOST",
		"DeleteLink {SourceID:http_server WitNamespace:wasi WitPackage:http LinkName:default ModelName:hello-simple}",
		"DeleteConfig {ConfigName:hello_simple-httpaddr}"}
	if !reflect.DeepEqual(got, wantClean) {
		t.Fatalf("cleanup:\n%v\nwant\n%v", got, wantClean)
	}
	apply(s, clean)
	if len(s.Hosts["NHOST"].Components) != 0 || len(s.Hosts["NHOST"].Providers) != 0 || len(s.Links) != 0 || len(s.Configs) != 0 {
		t.Errorf("state after cleanup: %+v", s)
	}
}

func TestBuildScalersVariants(t *testing.T) {
	// simple1: provider→provider link is skipped; ledblinky has a spread.
	m := mustManifest(t, "oam/simple1.yaml")
	var kinds []string
	for _, s := range BuildScalers(m) {
		kinds = append(kinds, s.Kind()+":"+s.Name())
	}
	want := []string{"SpreadScaler:my_example_app-userinfo", "SpreadScaler:my_example_app-webcap", "SpreadScaler:my_example_app-ledblinky"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("simple1 scalers %v", kinds)
	}
	// config.yaml: component without scaler never started; capability gets the
	// implicit provider scaler with its owned config.
	m = mustManifest(t, "oam/config.yaml")
	sc := BuildScalers(m)
	if len(sc) != 1 {
		t.Fatalf("config.yaml scalers: %d", len(sc))
	}
	p := sc[0].(*ProviderSpreadScaler)
	if !reflect.DeepEqual(p.ConfigNames, []string{"config_example-provider_config"}) || p.Property.Instances != 1 {
		t.Errorf("implicit provider scaler %+v", p)
	}
	// Shared reference: links use the shared component id, model is the
	// shared app.
	m = mustManifest(t, fixtureDir+"/shared/shared_http_dev.yaml")
	var names []string
	for _, s := range BuildScalers(m) {
		names = append(names, s.Kind()+":"+s.Name())
		if ls, ok := s.(*LinkScaler); ok && ls.Link.SourceID == "shared_http-httpserver" && ls.ModelName != "shared-http" {
			t.Errorf("shared link model %q", ls.ModelName)
		}
	}
	joined := strings.Join(names, ",")
	for _, w := range []string{"LinkScaler:shared_http-httpserver -(wasi:http)-> shared_http_dev-hello", "LinkScaler:shared_http_dev-hello -(wasi:http)-> shared_http-httpclient"} {
		if !strings.Contains(joined, w) {
			t.Errorf("missing %s in %s", w, joined)
		}
	}
	// Secrets become SECRET_ configs with the policy backend.
	m = mustManifest(t, fixtureDir+"/simple.wadm.yaml")
	cs := BuildScalers(m)[0].(*ComponentSpreadScaler)
	if !reflect.DeepEqual(cs.ConfigNames, []string{"SECRET_sample-test_secret"}) {
		t.Errorf("secret names %v", cs.ConfigNames)
	}
	cmds, _ := cs.Reconcile(NewLatticeState())
	pc, ok := cmds[0].(PutConfig)
	if !ok || pc.Config["backend"] != "vault-prod" || pc.Config["type"] != model.SecretConfigType || pc.Config["key"] != "secret/test" || pc.Config["name"] != "test-secret" {
		t.Errorf("secret config %v", cmds)
	}
}

func TestOutdatedScalers(t *testing.T) {
	oldM := mustManifest(t, fixtureDir+"/outdatedapp.yaml")
	newM := mustManifest(t, fixtureDir+"/upgradedapp.yaml")
	old, nw := BuildScalers(oldM), BuildScalers(newM)
	out := OutdatedScalers(old, nw)
	if len(out) == 0 || len(out) == len(old) {
		t.Fatalf("outdated %d of %d", len(out), len(old))
	}
	for _, o := range out {
		for _, n := range nw {
			if o.ID() == n.ID() {
				t.Errorf("scaler %s both old and new", o.ID())
			}
		}
	}
}

// applyAsHost mimics what wadm observes when wasmCloud 1.x hosts carry out scale commands: a
// host runs one instance set per component id; a rescale of a running component keeps the
// count's new value but reports the annotations it ran with (our host keeps them; upstream's
// 1.9.2 reports the old ones in the event and replaces them only later), a fresh start takes
// the command's annotations, and 0 stops it.
func applyAsHost(s *LatticeState, cmds []Command) {
	for _, c := range cmds {
		v, ok := c.(ScaleComponent)
		if !ok {
			apply(s, []Command{c})
			continue
		}
		h := s.Hosts[v.HostID]
		if h == nil {
			continue
		}
		ann := v.Annotations
		if cs := h.Components[v.ComponentID]; cs != nil && len(cs.Instances) > 0 {
			ann = cs.Instances[0].Annotations
		}
		delete(h.Components, v.ComponentID)
		if v.Count > 0 {
			h.SetComponent(v.ComponentID, v.Reference, ann, v.Count)
		}
	}
}

// converge runs reconcile rounds against applyAsHost until no command is left and returns
// the number of commands sent; more than maxRounds rounds is a loop.
func converge(t *testing.T, s *LatticeState, sc Scaler, maxRounds int) int {
	t.Helper()
	sent := 0
	for round := 0; ; round++ {
		cmds, st := sc.Reconcile(s)
		if len(cmds) == 0 {
			if st.Type != model.StatusDeployed {
				t.Fatalf("round %d: no commands but status %+v", round, st)
			}
			return sent
		}
		if round == maxRounds {
			t.Fatalf("still sending %v after %d rounds: the scaler does not converge", scaleSummary(cmds), round)
		}
		sent += len(cmds)
		applyAsHost(s, cmds)
	}
}

func perZone(s *LatticeState, comp string) map[string]int {
	out := map[string]int{}
	for _, h := range s.Hosts {
		if cs := h.Components[comp]; cs != nil {
			out[h.Labels["zone"]] += cs.Count()
		}
	}
	return out
}

// TestUpgradeToSpreadsAdoptsInstances pins the seed's v0.0.3 → v0.0.4 hot loop: the same
// scaler id (same image and configs), 100 instances started under the "default" spread on the
// east host, then an 80/20 east/west spread. The east spread must count the host's instances
// as its own and rescale them, not ask the host for 80 again and again while the host keeps
// reporting the old spread annotation.
func TestUpgradeToSpreadsAdoptsInstances(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("east", map[string]string{"zone": "us-east-1"}).SetComponent("comp", "ref:1", withApp(SpreadAnnotations(model.DefaultSpreadName, "scaler1")), 100)
	s.AddHost("west", map[string]string{"zone": "us-west-1"})
	sc := compSpread(100, spread("east", 80, "zone", "us-east-1"), spread("west", 20, "zone", "us-west-1"))
	cmds, _ := sc.Reconcile(s)
	if got, want := scaleSummary(cmds), []string{"east=80/east", "west=20/west"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first round %v, want %v", got, want)
	}
	if n := converge(t, s, sc, 2); n != 2 {
		t.Errorf("%d commands, want 2", n)
	}
	if got := perZone(s, "comp"); got["us-east-1"] != 80 || got["us-west-1"] != 20 {
		t.Fatalf("placement %v", got)
	}
	// Undeploy removes the instances whatever spread annotation the host kept.
	if got := scaleSummary(sc.Cleanup(s)); !reflect.DeepEqual(got, []string{"east=0/default", "west=0/west"}) {
		t.Fatalf("cleanup %v", got)
	}
}

func withApp(ann map[string]string) map[string]string {
	out := copyMap(ann)
	out[model.AppSpecAnnotation] = "app"
	out[model.ManagedByAnnotation] = model.ManagedByWadm
	return out
}

// TestUpgradeReplacesOutdatedScaler: a new version changes the scaler id of a component (new
// image); the old scaler's instance set on a host the new scaler uses is scaled to 0 first, then
// the new one starts fresh. The old scaler's own cleanup is left out (UpgradeCleanup), so it
// cannot remove what the new scaler placed on the same host.
func TestUpgradeReplacesOutdatedScaler(t *testing.T) {
	s := NewLatticeState()
	s.AddHost("east", map[string]string{"zone": "us-east-1"}).SetComponent("comp", "ref:0", withApp(SpreadAnnotations(model.DefaultSpreadName, "oldscaler")), 100)
	s.AddHost("west", map[string]string{"zone": "us-west-1"})
	// Another app's component with the same id is not touched.
	s.AddHost("x", map[string]string{"zone": "us-east-1"}).SetComponent("comp", "ref:0", map[string]string{model.ScalerAnnotation: "s9", model.AppSpecAnnotation: "other"}, 3)
	sc := compSpread(100, spread("east", 80, "zone", "us-east-1"), spread("west", 20, "zone", "us-west-1"))
	cmds, _ := sc.Reconcile(s)
	if got, want := scaleSummary(cmds), []string{"east=0/default", "east=80/east", "west=20/west"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first round %v, want %v", got, want)
	}
	if n := converge(t, s, sc, 2); n != 3 {
		t.Errorf("%d commands, want 3", n)
	}
	if cs := s.Hosts["east"].Components["comp"]; cs.Instances[0].Annotations[model.ScalerAnnotation] != "scaler1" || cs.Ref != "ref:1" || cs.Count() != 80 {
		t.Fatalf("east runs %+v", cs)
	}

	old := compSpread(100)
	old.id = "oldscaler"
	link := &LinkScaler{id: "l-old", ModelName: "app", Link: PutLink{SourceID: "comp", Target: "p", Name: "default", WitNamespace: "wasi", WitPackage: "http"}}
	gone := &LinkScaler{id: "l-gone", ModelName: "app", Link: PutLink{SourceID: "comp", Target: "q", Name: "other", WitNamespace: "wasi", WitPackage: "http"}}
	newLink := &LinkScaler{id: "l-new", ModelName: "app", Link: PutLink{SourceID: "comp", Target: "p2", Name: "default", WitNamespace: "wasi", WitPackage: "http"}}
	got := scaleSummary(UpgradeCleanup([]Scaler{old, link, gone}, []Scaler{sc, newLink}, s))
	if len(got) != 2 || !strings.Contains(got[0], "LinkName:default") || !strings.Contains(got[1], "LinkName:other") {
		t.Fatalf("upgrade cleanup %v: want the old links deleted and no scale", got)
	}
}
