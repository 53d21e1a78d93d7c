package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/pii/masterkey"
)

// The deployment files are checked offline: every manifest parses, has the
// fields Kubernetes requires and the probes and ports Handover answers on;
// every HANDOVER_ variable they name is one the server knows; every
// command they run is a real subcommand.

const deployDir = "../../deploy"

// manifest is one YAML document of deploy/k8s.
type manifest struct {
	file string
	doc  map[string]any
}

func (m manifest) kind() string { return str(m.doc, "kind") }
func (m manifest) name() string { return str(m.doc, "metadata", "name") }

// get walks maps by key and lists by decimal index.
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any, path ...string) []any {
	l, _ := get(v, path...).([]any)
	return l
}

func loadManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s: %v", err)
	}
	var out []manifest
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if doc != nil {
				out = append(out, manifest{file: filepath.Base(f), doc: doc})
			}
		}
	}
	return out
}

func TestDeployKubernetesManifests(t *testing.T) {
	ms := loadManifests(t)
	byKind := map[string][]manifest{}
	var files []string
	for _, m := range ms {
		if m.kind() == "" || str(m.doc, "apiVersion") == "" {
			t.Errorf("%s: a document without apiVersion or kind", m.file)
			continue
		}
		byKind[m.kind()] = append(byKind[m.kind()], m)
		if m.kind() == "Kustomization" {
			continue
		}
		files = append(files, m.file)
		if m.name() == "" {
			t.Errorf("%s: %s without metadata.name", m.file, m.kind())
		}
		if ns := str(m.doc, "metadata", "namespace"); m.kind() != "Namespace" && ns != "handover" {
			t.Errorf("%s: %s %s in namespace %q; want handover", m.file, m.kind(), m.name(), ns)
		}
	}
	for kind, n := range map[string]int{"Kustomization": 1, "Namespace": 1, "ConfigMap": 1, "Secret": 1, "Job": 1,
		"Deployment": 2, "Service": 1, "PodDisruptionBudget": 1} {
		if len(byKind[kind]) != n {
			t.Errorf("%d %s manifests; want %d", len(byKind[kind]), kind, n)
		}
	}
	// The kustomization lists every manifest, and only those.
	if k := byKind["Kustomization"]; len(k) == 1 {
		var res []string
		for _, r := range list(k[0].doc, "resources") {
			res = append(res, r.(string))
		}
		sort.Strings(res)
		files = slices.Compact(files)
		sort.Strings(files)
		if !slices.Equal(res, files) {
			t.Errorf("kustomization resources %v; the manifests are %v", res, files)
		}
	}

	cm := map[string]map[string]any{}
	for _, m := range byKind["ConfigMap"] {
		cm[m.name()], _ = get(m.doc, "data").(map[string]any)
	}
	secrets := map[string]map[string]any{}
	for _, m := range byKind["Secret"] {
		secrets[m.name()], _ = get(m.doc, "stringData").(map[string]any)
		if secrets[m.name()]["HANDOVER_MASTER_KEY"] == nil {
			t.Errorf("%s: Secret %s has no HANDOVER_MASTER_KEY", m.file, m.name())
		}
	}
	// The ConfigMap is a valid configuration once a master key is added.
	var httpPort string
	for name, data := range cm {
		env := []string{"HANDOVER_MASTER_KEY=" + masterkey.Generate()}
		for k, v := range data {
			s, ok := v.(string)
			if !ok {
				t.Errorf("ConfigMap %s: %s is not a string (quote it)", name, k)
			}
			env = append(env, k+"="+s)
		}
		c, err := config.Load(env)
		if err != nil {
			t.Errorf("ConfigMap %s: %v", name, err)
			continue
		}
		_, httpPort, _ = net.SplitHostPort(c.HTTPAddr)
		if grace := c.ShutdownTimeout; grace <= 0 {
			t.Errorf("ConfigMap %s: shutdown timeout %s", name, grace)
		}
	}

	pods := map[string]map[string]any{} // component → pod spec
	podLabels := map[string]map[string]any{}
	for _, m := range append(append([]manifest{}, byKind["Deployment"]...), byKind["Job"]...) {
		spec, _ := get(m.doc, "spec", "template", "spec").(map[string]any)
		labels, _ := get(m.doc, "spec", "template", "metadata", "labels").(map[string]any)
		if spec == nil || labels == nil {
			t.Errorf("%s: %s %s without spec.template.spec or its labels", m.file, m.kind(), m.name())
			continue
		}
		if m.kind() == "Deployment" {
			sel, _ := get(m.doc, "spec", "selector", "matchLabels").(map[string]any)
			if len(sel) == 0 {
				t.Errorf("%s: Deployment %s without spec.selector.matchLabels", m.file, m.name())
			}
			for k, v := range sel {
				if labels[k] != v {
					t.Errorf("%s: selector %s=%v does not match the pod's labels", m.file, k, v)
				}
			}
		} else if rp := str(spec, "restartPolicy"); rp != "OnFailure" && rp != "Never" {
			t.Errorf("%s: Job restartPolicy %q; want OnFailure or Never", m.file, rp)
		}
		component, _ := labels["app.kubernetes.io/component"].(string)
		pods[component], podLabels[component] = spec, labels
		containers := list(spec, "containers")
		if len(containers) != 1 {
			t.Errorf("%s: %d containers; want 1", m.file, len(containers))
			continue
		}
		c := containers[0]
		if str(c, "name") == "" || str(c, "image") == "" {
			t.Errorf("%s: a container without name or image", m.file)
		}
		args := list(c, "args")
		if len(args) == 0 {
			t.Errorf("%s: container runs no subcommand", m.file)
			continue
		}
		sub, _ := args[0].(string)
		if _, ok := commands[sub]; !ok {
			t.Errorf("%s: %q is not a handover subcommand", m.file, sub)
		}
		if want := map[string]string{"api": "api", "worker": "worker", "migrate": "migrate"}[component]; sub != want {
			t.Errorf("%s: component %q runs %q; want %q", m.file, component, sub, want)
		}
		for _, ef := range list(c, "envFrom") {
			if n := str(ef, "configMapRef", "name"); n != "" && cm[n] == nil {
				t.Errorf("%s: envFrom names ConfigMap %s, which deploy/k8s does not define", m.file, n)
			}
			if n := str(ef, "secretRef", "name"); n != "" && secrets[n] == nil {
				t.Errorf("%s: envFrom names Secret %s, which deploy/k8s does not define", m.file, n)
			}
		}
		if len(list(c, "envFrom")) != 2 {
			t.Errorf("%s: container takes its settings from %d sources; want the ConfigMap and the Secret", m.file, len(list(c, "envFrom")))
		}
		if m.kind() == "Deployment" {
			if g, _ := get(spec, "terminationGracePeriodSeconds").(int); time.Duration(g)*time.Second <= 30*time.Second {
				t.Errorf("%s: terminationGracePeriodSeconds %d; want more than HANDOVER_SHUTDOWN_TIMEOUT (30 s)", m.file, g)
			}
		}
	}
	for _, c := range []string{"api", "worker", "migrate"} {
		if pods[c] == nil {
			t.Errorf("no pod with app.kubernetes.io/component=%s", c)
		}
	}

	// The api answers its probes on /healthz and /readyz, on the port
	// HANDOVER_HTTP_ADDR names.
	if api := pods["api"]; api != nil {
		c := get(api, "containers", "0")
		ports := map[string]string{}
		for _, p := range list(c, "ports") {
			n, _ := get(p, "containerPort").(int)
			ports[str(p, "name")] = strconv.Itoa(n)
		}
		if ports["http"] != httpPort {
			t.Errorf("api container port http is %q; HANDOVER_HTTP_ADDR's port is %q", ports["http"], httpPort)
		}
		for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
			if got := str(c, probe, "httpGet", "path"); got != path {
				t.Errorf("api %s path %q; want %s", probe, got, path)
			}
			if port := str(c, probe, "httpGet", "port"); ports[port] == "" {
				t.Errorf("api %s port %q is not a container port", probe, port)
			}
		}
		for _, svc := range byKind["Service"] {
			sel, _ := get(svc.doc, "spec", "selector").(map[string]any)
			for k, v := range sel {
				if podLabels["api"][k] != v {
					t.Errorf("Service %s selector %s=%v does not match the api pods", svc.name(), k, v)
				}
			}
			for _, p := range list(svc.doc, "spec", "ports") {
				if tp := str(p, "targetPort"); ports[tp] == "" {
					t.Errorf("Service %s targetPort %q is not an api container port", svc.name(), tp)
				}
			}
		}
	}
}

var handoverVar = regexp.MustCompile(`HANDOVER_[A-Z0-9_]*[A-Z0-9]`)

// TestDeployNamesRealVariables checks every HANDOVER_ variable written
// anywhere in deploy/ against the config package.
func TestDeployNamesRealVariables(t *testing.T) {
	known := map[string]bool{}
	for _, n := range config.Names() {
		known[n] = true
	}
	seen := 0
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			for _, v := range handoverVar.FindAllString(sc.Text(), -1) {
				seen++
				if !known[v] {
					t.Errorf("%s:%d: %s is not a configuration variable (config.Names)", path, line, v)
				}
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatal("no HANDOVER_ variable found in deploy/")
	}
}

// TestDeployRunsRealSubcommands checks the compose file's, the systemd
// unit's and the Dockerfile's commands.
func TestDeployRunsRealSubcommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image   string   `yaml:"image"`
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	var ran []string
	for name, s := range compose.Services {
		if !strings.HasPrefix(s.Image, "handover:") {
			continue
		}
		if len(s.Command) == 0 {
			t.Errorf("compose service %s runs no subcommand", name)
			continue
		}
		if _, ok := commands[s.Command[0]]; !ok {
			t.Errorf("compose service %s runs %q, not a handover subcommand", name, s.Command[0])
		}
		ran = append(ran, s.Command[0])
	}
	sort.Strings(ran)
	if !slices.Equal(ran, []string{"api", "migrate", "worker"}) {
		t.Errorf("compose runs %v; want api, migrate and worker", ran)
	}

	unit, err := os.ReadFile(filepath.Join(deployDir, "handover.service"))
	if err != nil {
		t.Fatal(err)
	}
	execs := 0
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execs++
			f := strings.Fields(v)
			if len(f) < 2 || filepath.Base(f[0]) != "handover" {
				t.Errorf("handover.service: ExecStart=%s does not run handover SUBCOMMAND", v)
			} else if _, ok := commands[f[1]]; !ok {
				t.Errorf("handover.service: %q is not a handover subcommand", f[1])
			}
		}
	}
	if execs != 1 {
		t.Errorf("handover.service has %d ExecStart lines; want 1", execs)
	}

	df, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := regexp.MustCompile(`(?m)^CMD \["([a-z]+)"`).FindSubmatch(df)
	if cmd == nil {
		t.Fatal("Dockerfile has no CMD [\"subcommand\"]")
	}
	if _, ok := commands[string(cmd[1])]; !ok {
		t.Errorf("Dockerfile CMD runs %q, not a handover subcommand", cmd[1])
	}
}
