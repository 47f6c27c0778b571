package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/maillage/maillage/cmd/maillage/node"
)

// The container files at the top of the repository are checked against the
// commands as the binary defines them, so that a renamed flag, a typo in a
// variable or a port that does not match fails here rather than in a
// container that never comes up.

const repoRoot = "../.."

// flagSetOf returns a command's flag set, as run defines it.
func flagSetOf(t *testing.T, name string) *flag.FlagSet {
	t.Helper()
	for _, cmd := range commands() {
		if cmd.name == name {
			fs := flag.NewFlagSet(name, flag.ContinueOnError)
			cmd.define(fs)
			return fs
		}
	}
	t.Fatalf("no command %q", name)
	return nil
}

// configure applies environment variables to a command's flags as run
// does; strict, it first checks that each MAILLAGE_* one names a flag of
// that command (the container's own, serve), not only of some command.
func configure(t *testing.T, where, command string, env map[string]string, strict bool) *flag.FlagSet {
	t.Helper()
	fs := flagSetOf(t, command)
	var kv []string
	for k, v := range env {
		if name, ok := strings.CutPrefix(k, envPrefix); ok && strict {
			flagName := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
			if fs.Lookup(flagName) == nil {
				t.Errorf("%s: %s is no flag of maillage %s (no --%s)", where, k, command, flagName)
			}
		}
		kv = append(kv, k+"="+v)
	}
	fs.SetOutput(nopWriter{})
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := applyConfig(fs, kv, knownFlags()); err != nil {
		t.Errorf("%s: maillage %s refuses its environment: %v", where, command, err)
	}
	return fs
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func flagValue(fs *flag.FlagSet, name string) string { return fs.Lookup(name).Value.String() }

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

type composeService struct {
	Image           string            `yaml:"image"`
	Restart         string            `yaml:"restart"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Environment     map[string]string `yaml:"environment"`
	Secrets         []string          `yaml:"secrets"`
	Volumes         []string          `yaml:"volumes"`
	Ports           []string          `yaml:"ports"`
	Healthcheck     struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(b, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	img := readDockerfile(t)
	names := []string{"maillage-a", "maillage-b", "maillage-c"}
	if got := slices.Sorted(maps.Keys(cf.Services)); !slices.Equal(got, names) {
		t.Fatalf("services = %v, want %v", got, names)
	}
	volumes, hostPorts, urls := map[string]string{}, map[string]string{}, map[string]string{}
	for _, name := range names {
		svc := cf.Services[name]
		fs := configure(t, name, "serve", svc.Environment, true)
		data, listen, base := flagValue(fs, "data"), flagValue(fs, "listen"), flagValue(fs, "url")

		if svc.Restart != "unless-stopped" {
			t.Errorf("%s: restart = %q, want unless-stopped", name, svc.Restart)
		}
		// serve drains for up to 15 s, then saves its search index.
		if d, err := time.ParseDuration(svc.StopGracePeriod); err != nil || d < 20*time.Second {
			t.Errorf("%s: stop_grace_period = %q, want 20s or more", name, svc.StopGracePeriod)
		}

		// Its own named volume, at the data directory.
		if len(svc.Volumes) != 1 {
			t.Errorf("%s: volumes = %v, want its one data volume", name, svc.Volumes)
		} else if vol, target, _ := strings.Cut(svc.Volumes[0], ":"); target != data {
			t.Errorf("%s: volume %q is mounted at %q, want MAILLAGE_DATA %q", name, vol, target, data)
		} else if _, declared := cf.Volumes[vol]; !declared {
			t.Errorf("%s: volume %q is not a named volume declared under volumes:", name, vol)
		} else if other, dup := volumes[vol]; dup {
			t.Errorf("%s and %s share the volume %q", other, name, vol)
		} else {
			volumes[vol] = name
		}

		// Published on the host's loopback only, to the port serve listens on
		// (on every interface of the container, or the port is unreachable).
		lhost, lport, err := net.SplitHostPort(listen)
		if err != nil || (lhost != "0.0.0.0" && lhost != "" && lhost != "::") {
			t.Errorf("%s: MAILLAGE_LISTEN = %q, want 0.0.0.0:PORT", name, listen)
		}
		if len(svc.Ports) != 1 {
			t.Errorf("%s: ports = %v, want one", name, svc.Ports)
		} else if p := strings.Split(svc.Ports[0], ":"); len(p) != 3 || p[0] != "127.0.0.1" || p[2] != lport {
			t.Errorf("%s: port %q, want 127.0.0.1:HOST:%s", name, svc.Ports[0], lport)
		} else if other, dup := hostPorts[p[1]]; dup {
			t.Errorf("%s and %s both publish host port %s", other, name, p[1])
		} else {
			hostPorts[p[1]] = name
		}

		// A URL of its own, naming the service and the port it listens on,
		// so that it works between containers and, through an /etc/hosts
		// line, from the host's browser.
		u, err := url.Parse(base)
		if norm, nerr := node.NormalizeBaseURL(base); err != nil || nerr != nil || norm != base {
			t.Errorf("%s: MAILLAGE_URL = %q is not a normalised base URL (%v)", name, base, nerr)
		} else if u.Hostname() != name || u.Port() != lport {
			t.Errorf("%s: MAILLAGE_URL = %q, want http://%s:%s", name, base, name, lport)
		} else if other, dup := urls[base]; dup {
			t.Errorf("%s and %s share the URL %s", other, name, base)
		} else {
			urls[base] = name
		}
		if flagValue(fs, "allow-private-network") != "true" {
			t.Errorf("%s: MAILLAGE_ALLOW_PRIVATE_NETWORK is not true: nodes on a compose network could not reach each other", name)
		}

		// Created on first start from the environment, its password read
		// from a declared secret.
		for _, f := range []string{"url", "name", "handle", "admin-email", "admin-password-file"} {
			if flagValue(fs, f) == "" {
				t.Errorf("%s: %s is not set: the node would show the setup page, or refuse to start", name, envName(f))
			}
		}
		p := node.InitParams{BaseURL: base, Name: flagValue(fs, "name"), Handle: flagValue(fs, "handle"),
			AdminEmail: flagValue(fs, "admin-email"), AdminPassword: "a-long-enough-password"}
		if err := p.Validate().Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		passwordFile := flagValue(fs, "admin-password-file")
		secret, ok := strings.CutPrefix(passwordFile, "/run/secrets/")
		if !ok || !slices.Contains(svc.Secrets, secret) {
			t.Errorf("%s: MAILLAGE_ADMIN_PASSWORD_FILE = %q, want /run/secrets/ and one of its secrets %v", name, passwordFile, svc.Secrets)
		}
		for _, s := range svc.Secrets {
			if f := cf.Secrets[s].File; !strings.HasPrefix(f, "./secrets/") {
				t.Errorf("%s: secret %q is not declared with a file under ./secrets/ (%q)", name, s, f)
			}
		}
		if _, set := svc.Environment[envName("admin-password")]; set {
			t.Errorf("%s: a password in the environment; use MAILLAGE_ADMIN_PASSWORD_FILE and a secret", name)
		}

		// The health check runs a real command, without a shell (the image
		// has none), on the address serve listens on.
		hc := svc.Healthcheck.Test
		if len(hc) < 3 || hc[0] != "CMD" || hc[1] != img.binary {
			t.Errorf("%s: healthcheck test = %q, want [CMD %s healthcheck]", name, hc, img.binary)
		} else {
			checkCommandLine(t, name+" healthcheck", hc[2:])
			if hc[2] == "healthcheck" {
				if got := flagValue(configure(t, name, "healthcheck", svc.Environment, false), "listen"); got != listen {
					t.Errorf("%s: healthcheck asks %s, serve listens on %s", name, got, listen)
				}
			}
		}
	}
	for name, s := range cf.Secrets {
		if !strings.HasPrefix(s.File, "./secrets/") {
			t.Errorf("secret %s: file %q, want it under ./secrets/ (kept out of git and of the image)", name, s.File)
		}
	}
	for _, f := range []string{".gitignore", ".dockerignore"} {
		if !ignores(t, f, "secrets") {
			t.Errorf("%s does not keep the secrets/ directory out", f)
		}
	}
}

// checkCommandLine checks that args (a command and its flags) are a
// command line maillage accepts.
func checkCommandLine(t *testing.T, where string, args []string) {
	t.Helper()
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
			fs.SetOutput(nopWriter{})
			cmd.define(fs)
			if err := fs.Parse(args[1:]); err != nil {
				t.Errorf("%s: %q: %v", where, args, err)
			}
			return
		}
	}
	t.Errorf("%s: %q is no maillage command", where, args[0])
}

func ignores(t *testing.T, file, dir string) bool {
	b, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Error(err)
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Trim(strings.TrimSpace(line), "/") == dir {
			return true
		}
	}
	return false
}

// dockerfile is what the tests need of the Dockerfile: the instructions of
// each stage, and facts read from the final one.
type dockerfile struct {
	stages [][]instruction
	binary string // the ENTRYPOINT's program
}

type instruction struct {
	cmd  string // upper case: FROM, RUN, …
	args string
	line int
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerfile
	var cur string
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur == "") {
			continue // comments may stand between continued lines too
		}
		if cur == "" {
			start = n
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur += s + " "
			continue
		}
		cur += line
		cmd, args, _ := strings.Cut(cur, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			d.stages = append(d.stages, nil)
		}
		if len(d.stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("Dockerfile:%d: %s before FROM", start, in.cmd)
			}
		} else {
			d.stages[len(d.stages)-1] = append(d.stages[len(d.stages)-1], in)
		}
		cur = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(d.stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a build stage and a final one", len(d.stages))
	}
	if ep := d.exec(t, "ENTRYPOINT"); len(ep) > 0 {
		d.binary = ep[0]
	}
	return d
}

func (d dockerfile) final() []instruction { return d.stages[len(d.stages)-1] }

// last returns the final stage's last instruction cmd, which wins.
func (d dockerfile) last(cmd string) (instruction, bool) {
	var found instruction
	ok := false
	for _, in := range d.final() {
		if in.cmd == cmd {
			found, ok = in, true
		}
	}
	return found, ok
}

// exec returns the exec form (JSON array) of the final stage's cmd.
func (d dockerfile) exec(t *testing.T, cmd string) []string {
	t.Helper()
	in, ok := d.last(cmd)
	if !ok {
		return nil
	}
	var argv []string
	if err := json.Unmarshal([]byte(in.args), &argv); err != nil {
		t.Errorf("Dockerfile:%d: %s %s is not in exec form [\"…\"]: the image has no shell", in.line, cmd, in.args)
	}
	return argv
}

func TestDockerfile(t *testing.T) {
	d := readDockerfile(t)

	// ENV: every MAILLAGE_* variable is a flag of serve, with a value it takes.
	env := map[string]string{}
	for _, in := range d.final() {
		if in.cmd != "ENV" {
			continue
		}
		fields := strings.Fields(in.args)
		if len(fields) > 0 && !strings.Contains(fields[0], "=") {
			env[fields[0]] = strings.Join(fields[1:], " ") // ENV key value
			continue
		}
		for _, f := range fields {
			k, v, _ := strings.Cut(f, "=")
			env[k] = strings.Trim(v, `"`)
		}
	}
	fs := configure(t, "Dockerfile ENV", "serve", env, true)
	data, listen := flagValue(fs, "data"), flagValue(fs, "listen")
	if data == "" {
		t.Error("Dockerfile: ENV sets no MAILLAGE_DATA")
	}
	if h, _, err := net.SplitHostPort(listen); err != nil || (h != "0.0.0.0" && h != "" && h != "::") {
		t.Errorf("Dockerfile: MAILLAGE_LISTEN = %q: a container must listen on all its interfaces", listen)
	}

	// USER: not root.
	user, ok := d.last("USER")
	uid, _, _ := strings.Cut(user.args, ":")
	if !ok || uid == "" || uid == "0" || uid == "root" {
		t.Errorf("Dockerfile: final USER is %q, want a non-root user", user.args)
	}

	// ENTRYPOINT and CMD run serve, through the binary the image holds.
	argv := append(d.exec(t, "ENTRYPOINT"), d.exec(t, "CMD")...)
	if len(argv) < 2 || argv[1] != "serve" {
		t.Errorf("Dockerfile: ENTRYPOINT + CMD = %q, want the binary then serve", argv)
	} else {
		checkCommandLine(t, "Dockerfile ENTRYPOINT + CMD", argv[1:])
	}
	copied := false
	for _, in := range d.final() {
		if in.cmd == "COPY" && strings.HasSuffix(in.args, " "+d.binary) {
			copied = true
		}
	}
	if d.binary == "" || !copied {
		t.Errorf("Dockerfile: the final stage does not COPY the ENTRYPOINT's binary %q", d.binary)
	}

	// HEALTHCHECK: `maillage healthcheck`, exec form, on serve's address.
	hc, ok := d.last("HEALTHCHECK")
	_, cmd, found := strings.Cut(hc.args, "CMD ")
	var hargv []string
	if ok && found {
		json.Unmarshal([]byte(strings.TrimSpace(cmd)), &hargv)
	}
	if len(hargv) < 2 || hargv[0] != d.binary || hargv[1] != "healthcheck" {
		t.Errorf("Dockerfile: HEALTHCHECK %q, want CMD [\"%s\", \"healthcheck\"]", hc.args, d.binary)
	} else {
		checkCommandLine(t, "Dockerfile HEALTHCHECK", hargv[1:])
		if got := flagValue(configure(t, "Dockerfile ENV", "healthcheck", env, false), "listen"); got != listen {
			t.Errorf("Dockerfile: healthcheck would ask %s, serve listens on %s", got, listen)
		}
	}

	// The data directory is a volume, created for the image's user.
	vol, _ := d.last("VOLUME")
	var vols []string
	if json.Unmarshal([]byte(vol.args), &vols) != nil {
		vols = strings.Fields(vol.args)
	}
	if !slices.Contains(vols, data) {
		t.Errorf("Dockerfile: VOLUME %q, want MAILLAGE_DATA %q", vol.args, data)
	}
	owned := false
	for _, in := range d.final() {
		if in.cmd == "COPY" && strings.HasSuffix(in.args, " "+data) && strings.Contains(in.args, "--chown="+user.args+" ") {
			owned = true
		}
	}
	if !owned {
		t.Errorf("Dockerfile: %s is not created with --chown=%s: the node could not write its volume", data, user.args)
	}
	_, lport, _ := net.SplitHostPort(listen)
	if expose, ok := d.last("EXPOSE"); !ok || expose.args != lport {
		t.Errorf("Dockerfile: EXPOSE %q, want the port of MAILLAGE_LISTEN, %s", expose.args, lport)
	}

	// The build: static, its version stamped from a build argument.
	var static, stamped, versionArg bool
	for _, stage := range d.stages[:len(d.stages)-1] {
		for _, in := range stage {
			static = static || in.cmd == "RUN" && strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "go build")
			stamped = stamped || in.cmd == "RUN" && strings.Contains(in.args, "-X main.version=$VERSION")
			versionArg = versionArg || in.cmd == "ARG" && strings.HasPrefix(in.args, "VERSION")
		}
	}
	if !static || !stamped || !versionArg {
		t.Errorf("Dockerfile: static build %v, version stamped with -X main.version=$VERSION %v, ARG VERSION %v; want all", static, stamped, versionArg)
	}
	_ = version // the variable the -X flag sets
	if !ignores(t, ".dockerignore", "secrets") || !ignores(t, ".dockerignore", ".git") {
		t.Error(".dockerignore must keep secrets/ and .git/ out of the build context")
	}
}
