package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// killAfter runs the binary with args and kills it with SIGKILL after
// delay, unless it ended first; it reports whether it was killed.
func killAfter(t *testing.T, delay time.Duration, args ...string) bool {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s ended with %v before its kill: %s", args[0], err, stderr.String())
		}
		return false
	case <-time.After(delay):
		cmd.Process.Kill()
		<-done
		return true
	}
}

// exportedIDs exports the node in dir as NDJSON and returns the ids of
// its services, failing the test if the store does not open or a record
// is unreadable.
func exportedIDs(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out, stderr, code := runCLI(t, nil, "export", "--data", dir, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("export after a kill: exit %d: %s", code, stderr)
	}
	ids := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			ID       string
			Services json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("export after a kill: unreadable line %q: %v", sc.Text(), err)
		}
		var kind struct {
			Status string `json:"status"`
		}
		json.Unmarshal(sc.Bytes(), &kind)
		if kind.Status != "" { // services have a status; places and the association none
			ids[rec.ID] = true
		}
	}
	return ids
}

// Imports and backups killed with SIGKILL at random moments leave a store
// that opens, holds only whole records of the file, and takes the import
// again to exactly the file's services; a killed backup never leaves a
// file under its final name, and a backup under its final name restores
// (issue 9, fault injection).
func TestKillsDuringImportAndBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("kills of real processes")
	}
	// CI kills 10 imports and 10 backups; LOADTEST=1, 25 of each.
	runs := loadtest(10, 25)
	root := t.TempDir()
	// The source: a node with generated services, exported as NDJSON.
	src := filepath.Join(root, "source")
	initNode(t, src, "http://source.test")
	if _, stderr, code := runCLI(t, nil, "bench-seed", "--data", src, "--services", "1500"); code != 0 {
		t.Fatalf("bench-seed: %s", stderr)
	}
	file := filepath.Join(root, "services.ndjson")
	if _, stderr, code := runCLI(t, nil, "export", "--data", src, "--format", "ndjson", "--out", file); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	want := exportedIDs(t, src)
	if len(want) != 1500 {
		t.Fatalf("the source exports %d services", len(want))
	}

	// A full import, timed, so that kills land all along it.
	timing := filepath.Join(root, "timing")
	initNode(t, timing, "http://timing.test")
	start := time.Now()
	if _, stderr, code := runCLI(t, nil, "import", "--data", timing, file); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	full := time.Since(start)
	t.Logf("a full import of 1,500 services takes %v", full.Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	dst := filepath.Join(root, "target")
	initNode(t, dst, "http://target.test")
	killed, partial, fresh := 0, 0, 0
	for i := range runs {
		delay := time.Duration(rng.Int64N(int64(full)))
		if !killAfter(t, delay, "import", "--data", dst, file) {
			// It finished: start again from an empty node, so that the
			// next kills land in a first import again.
			fresh++
			dst = filepath.Join(root, "target-"+strconv.Itoa(i))
			initNode(t, dst, "http://target.test")
			continue
		}
		killed++
		got := exportedIDs(t, dst)
		for id := range got {
			if !want[id] {
				t.Fatalf("kill %d: the store holds a service %s the file does not", i, id)
			}
		}
		if len(got) > 0 && len(got) < len(want) {
			partial++
		}
	}
	if _, stderr, code := runCLI(t, nil, "import", "--data", dst, file); code != 0 {
		t.Fatalf("import after the kills: %s", stderr)
	}
	if got := exportedIDs(t, dst); len(got) != len(want) {
		t.Errorf("after the kills and a last import: %d services, want %d", len(got), len(want))
	}
	t.Logf("import: %d of %d runs killed (%d finished first), %d kills left a partial import", killed, runs, fresh, partial)

	// Backups of the 1,500-service store, killed at random.
	start = time.Now()
	if _, stderr, code := runCLI(t, nil, "backup", "--data", dst, filepath.Join(root, "timing.backup")); code != 0 {
		t.Fatalf("backup: %s", stderr)
	}
	full = time.Since(start)
	killed = 0
	for i := range runs {
		out := filepath.Join(root, "kill.backup")
		os.Remove(out)
		os.Remove(out + ".partial")
		// Up to one and a half times a backup's length: most are killed,
		// some finish and must restore.
		if killAfter(t, time.Duration(rng.Int64N(int64(full)*3/2)), "backup", "--data", dst, out) {
			killed++
		}
		// Killed or not, a file under the final name is a whole backup:
		// a kill after the rename, before the exit, leaves one too.
		if _, err := os.Stat(out); err == nil {
			restored := filepath.Join(root, "restored")
			os.RemoveAll(restored)
			if _, stderr, code := runCLI(t, nil, "restore", "--data", restored, "--key", filepath.Join(dst, "store.key"), out); code != 0 {
				t.Errorf("kill %d: the backup under its final name does not restore: %s", i, stderr)
			} else if got := exportedIDs(t, restored); len(got) != len(want) {
				t.Errorf("kill %d: the restored backup holds %d services, want %d", i, len(got), len(want))
			}
		}
		if got := exportedIDs(t, dst); len(got) != len(want) {
			t.Fatalf("kill %d of a backup: the store now holds %d services", i, len(got))
		}
	}
	t.Logf("backup: %d of %d runs killed (a full backup takes %v)", killed, runs, full.Round(time.Millisecond))
}
