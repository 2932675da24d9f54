package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testtool"
	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// nodeEnv makes this test binary run one clustered NATS server instead of the tests (see
// TestMain), so a test can kill -9 a node without killing itself.
const nodeEnv = "WASH_TEST_NATS_NODE"

type nodeSpec struct {
	Name        string   `json:"name"`
	Port        int      `json:"port"`
	ClusterPort int      `json:"cluster_port"`
	Routes      []string `json:"routes"`
	StoreDir    string   `json:"store_dir"`
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(nodeEnv); spec != "" {
		runNode(spec)
		return
	}
	testtool.Main(m)
}

func runNode(spec string) {
	var s nodeSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "bad node spec:", err)
		os.Exit(2)
	}
	routes := make([]string, len(s.Routes))
	for i, r := range s.Routes {
		routes[i] = "nats-route://" + r
	}
	opts := &server.Options{
		ServerName: s.Name, Host: "127.0.0.1", Port: s.Port, JetStream: true, StoreDir: s.StoreDir,
		Cluster: server.ClusterOpts{Name: "wadmha", Host: "127.0.0.1", Port: s.ClusterPort},
		Routes:  server.RoutesFromStr(strings.Join(routes, ",")), NoSigs: true, NoLog: true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		os.Exit(1)
	}
	ns.Start()
	ns.WaitForShutdown()
}

func freePorts(t *testing.T, n int) []int { return testtool.FreePorts(t, n) }

// proc is a child process killed at the end of the test.
type proc struct {
	cmd *exec.Cmd
	log string
}

func startProc(t *testing.T, logPath string, env []string, name string, args ...string) *proc {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		p.kill()
		_ = f.Close()
	})
	return p
}

func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// buildWash builds the wash binary once per test binary.
func buildWash(t *testing.T) string { return testtool.Wash(t) }

type cluster struct {
	t     *testing.T
	dir   string
	specs []nodeSpec
	nodes []*proc
}

func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	ports := freePorts(t, 2*n)
	c := &cluster{t: t, dir: t.TempDir()}
	var routes []string
	for i := range n {
		routes = append(routes, "127.0.0.1:"+strconv.Itoa(ports[n+i]))
	}
	for i := range n {
		c.specs = append(c.specs, nodeSpec{Name: fmt.Sprintf("n%d", i+1), Port: ports[i], ClusterPort: ports[n+i],
			Routes: routes, StoreDir: filepath.Join(c.dir, fmt.Sprintf("n%d", i+1))})
		c.nodes = append(c.nodes, nil)
	}
	for i := range n {
		c.start(i)
	}
	return c
}

func (c *cluster) start(i int) {
	spec, _ := json.Marshal(c.specs[i])
	c.nodes[i] = startProc(c.t, filepath.Join(c.dir, c.specs[i].Name+".log"), []string{nodeEnv + "=" + string(spec)}, os.Args[0])
}

func (c *cluster) url(i int) string { return "nats://127.0.0.1:" + strconv.Itoa(c.specs[i].Port) }

func (c *cluster) urls(idx ...int) string {
	var u []string
	for _, i := range idx {
		u = append(u, c.url(i))
	}
	return strings.Join(u, ",")
}

// connect opens a connection to the given nodes (in that order), retrying while they start.
func (c *cluster) connect(idx ...int) *nats.Conn {
	c.t.Helper()
	nc, err := nats.Connect(c.urls(idx...), nats.DontRandomize(), nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond), nats.Timeout(2*time.Second))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	deadline := time.Now().Add(15 * time.Second)
	for !nc.IsConnected() {
		if time.Now().After(deadline) {
			c.t.Fatalf("cannot reach NATS nodes %v", idx)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nc
}

// TestClusterFailover is issue 8's acceptance scenario: three NATS nodes, three `wash wadm`
// processes, two hosts, 20 apps; one wadm and one NATS node are killed with SIGKILL while the
// apps reconcile. Every app reaches Deployed, no component is scaled twice on a host, and the
// manifests survive the node's restart.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("three NATS processes, three wadm processes, 20 apps")
	}
	const lattice = "ha"
	const apps = 20
	bin := buildWash(t)
	wasm := testComponent(t)
	start := time.Now()
	cl := startCluster(t, 3)
	nc := cl.connect(0, 1)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	// The operator creates the buckets beforehand: 3 replicas, file storage. That includes the
	// hosts' lattice data buckets: a host creates missing ones with 1 replica, and a host whose
	// bucket lived on the killed node could not start components until it came back.
	var kvs []jetstream.KeyValue
	for _, b := range []string{buckets.WadmManifests, buckets.WadmState, "LATTICEDATA_" + lattice, "CONFIGDATA_" + lattice} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, History: 1, Replicas: 3,
				Storage: jetstream.FileStorage, Description: "created by the operator"})
			cancel()
			if err == nil {
				kvs = append(kvs, kv)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("creating %s with 3 replicas: %v", b, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Logf("cluster and buckets ready after %s", time.Since(start).Round(time.Millisecond))

	// Two hosts, each on its own connection (node 1 first, node 2 as fallback).
	var hosts []*host.Host
	for i := range 2 {
		hosts = append(hosts, testlattice.StartHostOn(t, cl.connect(i, (i+1)%2), host.Config{
			Lattice: lattice, HeartbeatInterval: time.Second, Labels: map[string]string{"n": strconv.Itoa(i)}}))
	}

	// Count component.scale requests per (host, component), seen on node 1, which survives.
	var mu sync.Mutex
	scales := map[string]int{}
	obs := cl.connect(0)
	if _, err := obs.Subscribe(ctl.DefaultTopicPrefix+".v1."+lattice+".>", func(m *nats.Msg) {
		if !strings.Contains(m.Subject, ".component.scale.") {
			return
		}
		var body struct {
			ComponentID string `json:"component_id"`
		}
		_ = json.Unmarshal(m.Data, &body)
		hostID := m.Subject[strings.LastIndex(m.Subject, ".")+1:]
		mu.Lock()
		scales[hostID+" "+body.ComponentID]++
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	must(t, obs.Flush())

	// Three wadm processes, each given all three nodes.
	var wadms []*proc
	for i := range 3 {
		wadms = append(wadms, startProc(t, filepath.Join(cl.dir, fmt.Sprintf("wadm%d.log", i+1)), []string{
			"WADM_NATS_SERVER=" + cl.urls(0, 1, 2), "WADM_HOST_ID=wadm-" + strconv.Itoa(i+1), "WADM_CLEANUP_INTERVAL=30",
		}, bin, "wadm"))
	}
	client := wadmclient.New(nc, wadmclient.Options{Lattice: lattice, Timeout: 5 * time.Second})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := client.List(context.Background()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no wadm answers; wadm1 log:\n%s", wadms[0].tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("wadm processes answering after %s", time.Since(start).Round(time.Millisecond))

	// Deploy 20 apps, then kill wadm 1 and NATS node 3 while they reconcile.
	names := make([]string, apps)
	for i := range apps {
		names[i] = fmt.Sprintf("app-%02d", i)
		deploy(t, client, simpleManifest(names[i], wasm, 2))
	}
	wadms[0].kill()
	cl.nodes[2].kill()
	killed := time.Now()
	pending := 0
	for _, n := range names {
		if st, err := client.Status(context.Background(), n); err != nil || st.Info.Type != model.StatusDeployed {
			pending++
		}
	}
	t.Logf("killed wadm-1 and NATS node n3 with %d of %d apps not yet deployed", pending, apps)

	for _, n := range names {
		waitStatusOr(t, client, n, 40*time.Second, isType(model.StatusDeployed), func() string {
			return "wadm2 log:\n" + wadms[1].tail() + "\nwadm3 log:\n" + wadms[2].tail()
		})
	}
	t.Logf("all %d apps deployed %s after the kill (%d were in flight)", apps, time.Since(killed).Round(time.Millisecond), pending)

	// Each component runs 2 instances over the hosts, and no host got the same component
	// scaled twice.
	cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: lattice, Timeout: 3 * time.Second})
	for _, n := range names {
		id := model.ComponentID(n, nil, "hello")
		total := 0
		for _, h := range hosts {
			total += instances(t, cc, h.ID(), id)
		}
		if total != 2 {
			t.Errorf("%s: %d instances over the hosts, want 2", n, total)
		}
	}
	mu.Lock()
	for k, v := range scales {
		if v > 1 {
			t.Errorf("component.scale sent %d times for (host, component) %s", v, k)
		}
	}
	t.Logf("%d (host, component) pairs scaled, each once", len(scales))
	mu.Unlock()

	// Streams wadm created are replicated over the cluster; the operator's buckets kept their
	// settings.
	ctx := context.Background()
	for _, kv := range kvs[:2] {
		var st jetstream.KeyValueStatus
		retry(t, func() (err error) { st, err = kv.Status(ctx); return err })
		info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
		if info.Config.Replicas != 3 || info.Config.Description != "created by the operator" {
			t.Errorf("bucket %s changed: replicas %d, description %q", st.Bucket(), info.Config.Replicas, info.Config.Description)
		}
	}
	for _, name := range []string{wadm.EventConsumerStream, wadm.CommandsStream, wadm.StatusStream, wadm.NotifyStream} {
		var s jetstream.Stream
		retry(t, func() (err error) { s, err = js.Stream(ctx, name); return err })
		if r := s.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("stream %s created with %d replicas, want min(3, cluster size) = 3", name, r)
		}
	}

	// Node 3 comes back; it catches up and the manifests are all there when read through it.
	cl.start(2)
	nc3, err := nats.Connect(cl.url(2), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	must(t, err)
	defer nc3.Close()
	c3 := wadmclient.New(nc3, wadmclient.Options{Lattice: lattice, Timeout: 3 * time.Second})
	deadline = time.Now().Add(20 * time.Second)
	for {
		list, err := c3.List(ctx)
		if err == nil && len(list) == apps {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restarting n3: list has %d apps (err %v), want %d", len(list), err, apps)
		}
		time.Sleep(200 * time.Millisecond)
	}
	js3, err := jetstream.New(nc3)
	must(t, err)
	var kv3 jetstream.KeyValue
	retry(t, func() (err error) { kv3, err = js3.KeyValue(ctx, buckets.WadmManifests); return err })
	for _, n := range names {
		e, err := kv3.Get(ctx, lattice+"-"+n)
		if err != nil || len(e.Value()) == 0 {
			t.Errorf("manifest %s missing after n3 restarted: %v", n, err)
		}
	}
	// The restarted node's replica of the manifest bucket is current again.
	deadline = time.Now().Add(20 * time.Second)
	for {
		s, err := js3.Stream(ctx, "KV_"+buckets.WadmManifests)
		ok := err == nil && s.CachedInfo().Cluster != nil
		if ok {
			peers := 1 // the leader
			for _, r := range s.CachedInfo().Cluster.Replicas {
				if r.Current && !r.Offline {
					peers++
				}
			}
			ok = peers == 3
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("manifest bucket replicas not current after n3 restarted: %+v", s.CachedInfo().Cluster)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("whole scenario %s", time.Since(start).Round(time.Millisecond))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// retry runs f until it succeeds, for up to 15 s: JetStream API calls time out while the
// cluster elects new leaders.
func retry(t testing.TB, f func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
