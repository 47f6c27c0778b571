package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size MiB for the test, or skips it where
// mounting is not allowed (not root, or no capability in a container).
func smallDisk(t *testing.T, mib int) string {
	t.Helper()
	dir := t.TempDir()
	opts := "size=" + strconv.Itoa(mib) + "m"
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("cannot mount a small disk here (%v): needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes a file that leaves about leave MiB free on the disk of dir.
func fill(t *testing.T, dir string, leave int) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	size := free - int64(leave)<<20
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for written := int64(0); written < size; written += int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), size-written)]); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
	return path
}

// A node whose disk fills up refuses writes with a clear answer instead of
// dying (Badger writes through memory-mapped files: a write into a full
// disk is a SIGBUS), keeps serving reads, takes writes again once space is
// freed, and loses nothing it acknowledged. A read-only data directory is
// refused at start with a clear error, and serves again once writable.
func TestDiskFullAndReadOnly(t *testing.T) {
	disk := smallDisk(t, 256)
	dir := filepath.Join(disk, "node")
	initNode(t, dir, "http://maison.test")
	srv := startServe(t, dir)
	tok := srv.token(t, "admin@maison.test", "correct-horse-battery")
	var ids []string
	create := func(name string) (int, []byte) {
		code, body := srv.do(t, "POST", "/api/v1/services", tok, `{"name": "`+name+`", "status": "active", "description": "`+strings.Repeat("Aide alimentaire et accompagnement. ", 40)+`"}`)
		if code == 201 {
			var s struct{ ID string }
			json.Unmarshal(body, &s)
			ids = append(ids, s.ID)
		}
		return code, body
	}
	for i := range 20 {
		if code, body := create("Avant " + strconv.Itoa(i)); code != 201 {
			t.Fatalf("create with room: %d %s", code, body)
		}
	}

	filler := fill(t, disk, 2)
	time.Sleep(1100 * time.Millisecond) // the free space is checked once a second
	refused := 0
	for i := range 2000 {
		code, body := create("Pendant " + strconv.Itoa(i))
		switch code {
		case 201:
		case 507:
			refused++
			if i == 0 && !strings.Contains(string(body), "disk is full") {
				t.Errorf("refusal: %s", body)
			}
		default:
			t.Fatalf("write on a full disk: %d %s", code, body)
		}
	}
	if refused != 2000 {
		t.Errorf("%d of 2,000 writes refused on a nearly full disk, want all", refused)
	}
	if code, _ := srv.do(t, "GET", "/api/v1/services", "", ""); code != 200 {
		t.Errorf("reads on a full disk: %d", code)
	}
	if !strings.Contains(srv.Logs(), "disk is nearly full") {
		t.Error("the log does not say the disk is nearly full")
	}

	os.Remove(filler)
	time.Sleep(1100 * time.Millisecond)
	if code, body := create("Après"); code != 201 {
		t.Fatalf("create once space is freed: %d %s", code, body)
	}
	srv.stop(t)

	// Read-only: a clear refusal at start, nothing changed.
	if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=256m"); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	_, stderr, code := runCLI(t, nil, "serve", "--data", dir, "--listen", freeAddr(t))
	if code != 1 || !strings.Contains(stderr, "read-only file system") {
		t.Errorf("serve on a read-only disk: exit %d, %q", code, stderr)
	}
	if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT, "size=256m"); err != nil {
		t.Fatalf("remount read-write: %v", err)
	}
	srv = startServe(t, dir)
	for _, id := range ids {
		if code, _ := srv.do(t, "GET", "/api/v1/services/"+id, "", ""); code != 200 {
			t.Errorf("acknowledged service %s lost: %d", id, code)
		}
	}
	srv.stop(t)
	if len(ids) != 21 {
		t.Errorf("%d services acknowledged, want 21", len(ids))
	}
}
