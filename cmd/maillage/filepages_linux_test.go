package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

const smapsSample = `00400000-00ad9000 r-xp 00000000 fd:01 131 /srv/maillage/bin/maillage
Size:              11108 kB
Rss:                9644 kB
Anonymous:             0 kB
00eda000-01c79000 r--p 00ada000 fd:01 131 /srv/maillage/bin/maillage
Rss:               11208 kB
Anonymous:             4 kB
01c79000-01e1b000 rw-p 01879000 fd:01 131 /srv/maillage/bin/maillage
Rss:                1256 kB
Anonymous:           300 kB
c000000000-c004000000 rw-p 00000000 00:00 0
Rss:               30332 kB
Anonymous:         30332 kB
7f0000000000-7f0000200000 rw-s 00000000 fd:01 901 /srv/maillage/data/db/000013.sst
Rss:                1948 kB
Anonymous:             0 kB
7f0000200000-7f0000300000 rw-s 00000000 fd:01 902 /srv/maillage/data/db/000001.vlog
Rss:                1024 kB
7f0000300000-7f0000400000 rw-s 00000000 fd:01 903 /srv/other/db/000014.sst
Rss:                1024 kB
7f0000400000-7f0000500000 rw-s 00000000 fd:01 904 /srv/maillage/data/db/000015.sst
Rss:                   0 kB
7f0000500000-7f0000600000 r--p 00000000 fd:01 905 /srv/maillage/data/db/my file (deleted).sst
Rss:                 512 kB
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
Rss:                  16 kB
`

func TestParseSmaps(t *testing.T) {
	maps, err := parseSmaps([]byte(smapsSample))
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 10 {
		t.Fatalf("%d mappings, want 10", len(maps))
	}
	m := maps[1]
	if m.start != 0xeda000 || m.end != 0x1c79000 || m.perms != "r--p" || m.dev != "fd:01" || m.inode != 131 ||
		m.path != "/srv/maillage/bin/maillage" || m.rss != 11208<<10 || m.anon != 4<<10 {
		t.Errorf("second mapping read as %+v", m)
	}
	if p := maps[8].path; p != "/srv/maillage/data/db/my file (deleted).sst" {
		t.Errorf("path with spaces read as %q", p)
	}
	if maps[3].path != "" || maps[9].path != "[stack]" {
		t.Errorf("anonymous mappings read as %q and %q", maps[3].path, maps[9].path)
	}
	for _, bad := range []string{"00400000 r-xp 00000000 fd:01 131\n", "zz-00ad9000 r-xp 0 fd:01 131\n",
		"00ad9000-00400000 r-xp 0 fd:01 131\n", "00400000-00ad9000 r-xp 0\n"} {
		if _, err := parseSmaps([]byte(bad)); err == nil {
			t.Errorf("%q read without an error", bad)
		}
	}
}

// Only the program's unchanged read-only pages are dropped, and only the
// store's tables are paged out.
func TestPagePlan(t *testing.T) {
	maps, err := parseSmaps([]byte(smapsSample))
	if err != nil {
		t.Fatal(err)
	}
	exe := fileID{dev: "fd:01", inode: 131, path: "/srv/maillage/bin/maillage"}
	drop, pageout, filePart := pagePlan(maps, exe, "/srv/maillage/data/db")
	if len(drop) != 1 || drop[0].perms != "r-xp" {
		t.Errorf("dropped %+v; want the program's code alone (its read-only data holds a changed page, its data is writable)", drop)
	}
	if len(filePart) != 2 || filePart[0].perms != "r--p" || filePart[1].perms != "rw-p" {
		t.Errorf("file pages paged out of %+v; want the program's read-only data and its data, which hold changed pages", filePart)
	}
	var got []string
	for _, m := range pageout {
		got = append(got, filepath.Base(m.path))
	}
	if strings.Join(got, ",") != "000013.sst,my file (deleted).sst" {
		t.Errorf("paged out %v; want the resident tables of the store's directory", got)
	}
	// A program on an overlay: the maps show another device, the path
	// still tells.
	drop, _, _ = pagePlan(maps, fileID{dev: "00:2f", inode: 77, path: "/srv/maillage/bin/maillage"}, "")
	if len(drop) != 1 {
		t.Errorf("program found by its path: dropped %d mappings, want 1", len(drop))
	}
	if drop, pageout, filePart := pagePlan(maps, fileID{dev: "00:2f", inode: 77, path: "/elsewhere"}, ""); len(drop)+len(pageout)+len(filePart) != 0 {
		t.Errorf("another program, no tables: advised on %+v %+v %+v", drop, pageout, filePart)
	}
}

// resident sums the resident bytes of the mappings keep selects.
func resident(t *testing.T, keep func(mapping) bool) int64 {
	t.Helper()
	maps, err := readMappings()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, m := range maps {
		if keep(m) {
			n += m.rss
		}
	}
	return n
}

// The running program's read-only pages leave its resident memory, and
// come back as they are needed: the test goes on running.
func TestReleaseProgramPages(t *testing.T) {
	exe, err := executable()
	if err != nil {
		t.Fatal(err)
	}
	program := func(m mapping) bool { return exe.is(m) && !strings.Contains(m.perms, "w") }
	before := resident(t, program)
	if before < 1<<20 {
		t.Fatalf("the test program holds %d bytes of its read-only pages; expected at least 1 MiB", before)
	}
	if _, err := releaseFilePages(""); err != nil {
		t.Fatal(err)
	}
	after := resident(t, program)
	t.Logf("program's read-only pages resident: %d KiB before, %d KiB after", before>>10, after>>10)
	if after > before/2 {
		t.Errorf("%d KiB resident after, %d KiB before: the pages were not released", after>>10, before>>10)
	}
}

// touched is where the test reads mapped pages to, so that the reads
// stay in the program.
var touched byte

// mapFile maps path as Badger maps its tables, shared and writable.
func mapFile(t *testing.T, path string, flags int) []byte {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ|syscall.PROT_WRITE, flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(b) })
	return b
}

// The store's tables are paged out and read back intact; other files of
// the store, the same names elsewhere and pages the node changed in a
// private mapping are left as they are.
func TestReleaseTablePages(t *testing.T) {
	root := t.TempDir()
	tables, other := filepath.Join(root, "db"), filepath.Join(root, "other")
	for _, d := range []string{tables, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	content := make([]byte, 2<<20)
	rand.Read(content)
	files := map[string]string{"table": filepath.Join(tables, "000013.sst"), "log": filepath.Join(tables, "000001.vlog"),
		"elsewhere": filepath.Join(other, "000014.sst"), "private": filepath.Join(tables, "000015.sst")}
	for _, p := range files {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		// Synced, as Badger syncs a table it writes: the kernel pages
		// out clean pages only.
		if _, err := f.Write(content); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	mapped := map[string][]byte{}
	for name, p := range files {
		flags := syscall.MAP_SHARED
		if name == "private" {
			flags = syscall.MAP_PRIVATE
		}
		b := mapFile(t, p, flags)
		if name == "private" {
			// A page changed in a private mapping is the process's
			// own: paging it out must not lose the change.
			b[5] ^= 0xff
		}
		for i := 0; i < len(b); i += 4096 {
			touched += b[i]
		}
		mapped[name] = b
	}
	of := func(name string) func(mapping) bool { return func(m mapping) bool { return m.path == files[name] } }
	before := map[string]int64{}
	for name := range files {
		if before[name] = resident(t, of(name)); before[name] < 1<<20 {
			t.Fatalf("%s: %d bytes resident after reading 2 MiB", name, before[name])
		}
	}
	// The node names its data directory as the admin gave it, often
	// relative; the maps give absolute paths.
	t.Chdir(root)
	if _, err := releaseFilePages("db"); err != nil {
		t.Fatal(err)
	}
	after := map[string]int64{}
	for name := range files {
		after[name] = resident(t, of(name))
	}
	t.Logf("resident bytes before %v, after %v", before, after)
	if after["table"] > before["table"]/4 {
		t.Errorf("table: %d KiB resident after, %d before: not paged out", after["table"]>>10, before["table"]>>10)
	}
	for _, name := range []string{"log", "elsewhere"} {
		if after[name] < before[name] {
			t.Errorf("%s: %d KiB resident after, %d before: advised on a file that is not a table of the store", name, after[name]>>10, before[name]>>10)
		}
	}
	for name, b := range mapped {
		want := content
		if name == "private" {
			want = bytes.Clone(content)
			want[5] ^= 0xff
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s: content changed by the advice", name)
		}
	}
}

func TestFileRuns(t *testing.T) {
	const p, f = pagePresent, pagePresent | pageFile
	// Present pages of the file, a changed page (anonymous), a page
	// not present, one swapped out (file bit set but not present).
	entries := []uint64{f, f | 0x1234, p, f, 0, f, f, f, 1<<62 | pageFile, f}
	got := fileRuns(entries, 0x10000, 0x1000)
	want := [][2]uintptr{{0x10000, 0x12000}, {0x13000, 0x14000}, {0x15000, 0x18000}, {0x19000, 0x1a000}}
	if len(got) != len(want) {
		t.Fatalf("runs %x, want %x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("run %d: %x, want %x", i, got[i], want[i])
		}
	}
	if got := fileRuns(nil, 0x10000, 0x1000); len(got) != 0 {
		t.Errorf("no pages: runs %x", got)
	}
}

// programData is initialised data of the program, 64 pages of it: in
// the program's file and its writable mapping.
var programData = [64 * 4096]byte{0: 1, 4096: 2, 64*4096 - 1: 3}

// presentPages counts the pages of b resident in the process.
func presentPages(t *testing.T, b []byte) (present, file int) {
	t.Helper()
	ps := uintptr(os.Getpagesize())
	lo := uintptr(unsafe.Pointer(&b[0])) &^ (ps - 1)
	hi := (uintptr(unsafe.Pointer(&b[len(b)-1])) + ps) &^ (ps - 1)
	entries, err := pagemap(mapping{start: lo, end: hi})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e&pagePresent != 0 {
			present++
			if e&pageFile != 0 {
				file++
			}
		}
	}
	return present, file
}

// The program's initialised data is paged out where it is still the
// file's, and keeps what the program wrote to it.
func TestReleaseProgramData(t *testing.T) {
	for i := 0; i < len(programData); i += 4096 {
		touched += programData[i]
	}
	programData[4096+7] = 42 // this page becomes the process's own
	present, file := presentPages(t, programData[:])
	if present < 60 || file < 59 {
		t.Fatalf("%d of 64 pages present, %d of them the file's, after reading them all", present, file)
	}
	if _, err := releaseFilePages(""); err != nil {
		t.Fatal(err)
	}
	presentAfter, fileAfter := presentPages(t, programData[:])
	t.Logf("pages present: %d (%d of the file) before, %d (%d) after", present, file, presentAfter, fileAfter)
	if fileAfter > file/4 {
		t.Errorf("%d pages of the file still present of %d: not paged out", fileAfter, file)
	}
	if programData[0] != 1 || programData[4096] != 2 || programData[4096+7] != 42 || programData[len(programData)-1] != 3 {
		t.Errorf("data changed by the advice: %d %d %d %d", programData[0], programData[4096], programData[4096+7], programData[len(programData)-1])
	}
}
