package main

import (
	"bytes"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cgroupTree writes files under a temporary directory: path → content.
func cgroupTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// The container's limit is read from either version of cgroups, the
// lowest along the cgroup's ancestors; no limit reads as 0.
func TestContainerMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"v2, limit on the cgroup", map[string]string{
			"proc": "0::/system.slice/maillage.service\n", "sys/cgroup.controllers": "cpu memory",
			"sys/system.slice/maillage.service/memory.max": "67108864\n", "sys/system.slice/memory.max": "max\n"}, 64 << 20},
		{"v2, lower limit on a parent", map[string]string{
			"proc": "0::/a/b\n", "sys/cgroup.controllers": "memory",
			"sys/a/b/memory.max": "max\n", "sys/a/memory.max": "100663296\n"}, 96 << 20},
		{"v2, no limit", map[string]string{
			"proc": "0::/\n", "sys/cgroup.controllers": "memory", "sys/memory.max": "max\n"}, 0},
		{"v1 beside an unused v2 (hybrid)", map[string]string{
			"proc": "4:memory:/docker/abc\n0::/\n", "sys/cgroup.controllers": "",
			"sys/memory/docker/abc/memory.limit_in_bytes": "134217728\n"}, 128 << 20},
		{"v1, no limit (a value near 2^63)", map[string]string{
			"proc": "4:memory:/\n", "sys/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"v1 in a container without its own name space: the host's path is not mounted", map[string]string{
			"proc": "7:cpuacct,memory:/docker/0123\n", "sys/memory/memory.limit_in_bytes": "268435456\n"}, 256 << 20},
		{"unreadable content", map[string]string{
			"proc": "0::/x\n", "sys/cgroup.controllers": "", "sys/x/memory.max": "lots\n"}, 0},
		{"no cgroup file system", map[string]string{"proc": "0::/x\n"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := cgroupTree(t, c.files)
			if got := containerMemoryLimit(filepath.Join(root, "proc"), filepath.Join(root, "sys")); got != c.want {
				t.Errorf("limit %d, want %d", got, c.want)
			}
		})
	}
	if got := containerMemoryLimit("/nonexistent/cgroup", "/nonexistent"); got != 0 {
		t.Errorf("without /proc/self/cgroup: %d, want 0", got)
	}
}

// Under a hard limit the default soft limit leaves room for the
// program's and the store's pages; a limit given by the admin is kept;
// a small container is warned about.
func TestContainerSoftLimit(t *testing.T) {
	defer func(saved struct{ proc, sysfs string }) { cgroupFiles = saved }(cgroupFiles)
	const def = 64 << 20
	for _, c := range []struct {
		hard       string
		args       []string
		want       int64
		warn, info bool
	}{
		{"67108864", nil, 36 << 20, false, true}, // 64 MiB: measured, serves at 4 ms
		{"1073741824", nil, def, false, false},   // 1 GiB: room enough
		{"max", nil, def, false, false},          // no limit
		{"41943040", nil, 16 << 20, true, true},  // 40 MiB: the floor, and a warning
		{"67108864", []string{"--memory-limit", "50MiB"}, 50 << 20, false, false},
		{"41943040", []string{"--memory-limit", "0"}, 0, true, false},
	} {
		root := cgroupTree(t, map[string]string{"proc": "0::/n\n", "sys/cgroup.controllers": "memory", "sys/n/memory.max": c.hard})
		cgroupFiles.proc, cgroupFiles.sysfs = filepath.Join(root, "proc"), filepath.Join(root, "sys")
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		limit := fs.String("memory-limit", defaultMemoryLimit, "")
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		soft, err := parseMemoryLimit(*limit)
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		got := containerSoftLimit(fs, soft, slog.New(slog.NewTextHandler(&log, nil)))
		if got != c.want {
			t.Errorf("hard %s, args %v: soft limit %d MiB, want %d MiB", c.hard, c.args, got>>20, c.want>>20)
		}
		if warned := strings.Contains(log.String(), "level=WARN"); warned != c.warn {
			t.Errorf("hard %s, args %v: warned %v, want %v; log: %s", c.hard, c.args, warned, c.warn, log.String())
		}
		if informed := strings.Contains(log.String(), "memory limit lowered"); informed != c.info {
			t.Errorf("hard %s, args %v: said it lowered the limit %v, want %v; log: %s", c.hard, c.args, informed, c.info, log.String())
		}
	}
}
