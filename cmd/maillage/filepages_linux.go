package main

import (
	"bufio"
	"bytes"
	bin "encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// A quiet node also lets go of the file pages it mapped while busy.
//
// Of the 62 MB a node with 10,000 services held after start, 30 MB were
// pages of files: 22 MB of the program itself and 8 MB of the store's
// tables, read once when the search index caught up with the store. The
// kernel maps a program's pages as it runs, 64 KB around each page it
// needs: starting touches most of it once (templates, catalogues, the
// lexicon, every package's set-up), and those pages stay counted as the
// node's own. Cleared and read back 45 s later, the pages the idle node
// referenced were 1.8 MB of the 23.7 MB of the program and none of the
// tables' (/proc/PID/clear_refs, then Referenced in /proc/PID/smaps).
//
// So when the node goes quiet (idletrim.go), it tells the kernel that it
// no longer needs them:
//   - the program's read-only pages are dropped from the node's mappings
//     (MADV_DONTNEED). They stay in the page cache, shared and reclaimable,
//     and a page needed again is mapped back at the cost of a minor fault.
//     The program's mappings last as long as the process, so no other
//     mapping can take their place between reading the map and advising.
//   - the store's tables are paged out (MADV_PAGEOUT): the kernel drops
//     the clean pages of files the node owns. Advice that finds other
//     memory at the address (a table unmapped meanwhile) loses nothing:
//     anonymous pages cannot be paged out without swap, and are written
//     to it, not discarded, with swap.
//
// A page of the program the node changed (a relocated page of a C
// library in a cgo build, a debugger's breakpoint) would revert to the
// file's content if dropped: a mapping holding any such page is not
// dropped. The program's initialised variables (1 MB of resident pages
// at idle, mostly tables read once at start) are in such a mapping: its
// pages still as in the file are paged out instead, which never loses a
// change (/proc/self/pagemap tells which pages those are).

// mapping is one line of /proc/self/maps with its smaps counters.
type mapping struct {
	start, end uintptr
	perms      string
	inode      uint64
	dev        string // major:minor, in hexadecimal
	path       string
	rss, anon  int64 // bytes
}

// readMappings parses /proc/self/smaps.
func readMappings() ([]mapping, error) {
	raw, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	return parseSmaps(raw)
}

// parseSmaps reads the mappings and their Rss and Anonymous counters.
func parseSmaps(raw []byte) ([]mapping, error) {
	var out []mapping
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.HasSuffix(f[0], ":") {
			// A counter of the mapping above: "Rss:    123 kB".
			if len(out) == 0 || len(f) < 2 {
				continue
			}
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			switch f[0] {
			case "Rss:":
				out[len(out)-1].rss = kb << 10
			case "Anonymous:":
				out[len(out)-1].anon = kb << 10
			}
			continue
		}
		m, err := parseMapsLine(f)
		if err != nil {
			return nil, fmt.Errorf("smaps: %q: %w", line, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// parseMapsLine reads "start-end perms offset dev inode [path]".
func parseMapsLine(f []string) (mapping, error) {
	var m mapping
	if len(f) < 5 {
		return m, errors.New("too few fields")
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return m, errors.New("no address range")
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	inode, err3 := strconv.ParseUint(f[4], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || end <= start || len(f[1]) != 4 {
		return m, errors.New("malformed")
	}
	m.start, m.end, m.perms, m.dev, m.inode = uintptr(start), uintptr(end), f[1], f[3], inode
	if len(f) > 5 {
		m.path = strings.Join(f[5:], " ")
	}
	return m, nil
}

// fileID is a file's device (major:minor in hexadecimal, as the maps
// show it) and inode, and its path.
type fileID struct {
	dev   string
	inode uint64
	path  string
}

// executable identifies the running program. Some file systems (overlays
// of containers) show the maps another device than stat does: the path
// then tells.
func executable() (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		return fileID{}, err
	}
	path, _ := os.Readlink("/proc/self/exe")
	return fileID{dev: fmt.Sprintf("%02x:%02x", unix.Major(st.Dev), unix.Minor(st.Dev)), inode: st.Ino, path: path}, nil
}

func (f fileID) is(m mapping) bool {
	return m.inode != 0 && (m.dev == f.dev && m.inode == f.inode || m.path == f.path)
}

// pagePlan says which mappings get which advice: the program's
// read-only, unchanged mappings are dropped; the store's tables (.sst
// files under tables) are paged out; so are the pages of the program's
// other mappings (its data) that are still the file's.
func pagePlan(maps []mapping, exe fileID, tables string) (drop, pageout, filePart []mapping) {
	for _, m := range maps {
		switch {
		case m.rss == 0 || m.path == "":
		case exe.is(m):
			if !strings.Contains(m.perms, "w") && m.anon == 0 {
				drop = append(drop, m)
			} else if m.rss > m.anon {
				filePart = append(filePart, m)
			}
		case tables != "" && filepath.Dir(m.path) == tables && strings.HasSuffix(m.path, ".sst"):
			pageout = append(pageout, m)
		}
	}
	return drop, pageout, filePart
}

// Bits of a /proc/PID/pagemap entry.
const (
	pagePresent = 1 << 63
	pageFile    = 1 << 61 // a page of a file, or shared anonymous memory
)

// fileRuns returns the address ranges of the pages, in a mapping that
// starts at start, whose pagemap entries say present and still the
// file's.
func fileRuns(entries []uint64, start uintptr, pageSize int) [][2]uintptr {
	var runs [][2]uintptr
	for i := 0; i < len(entries); i++ {
		if entries[i]&(pagePresent|pageFile) != pagePresent|pageFile {
			continue
		}
		j := i + 1
		for j < len(entries) && entries[j]&(pagePresent|pageFile) == pagePresent|pageFile {
			j++
		}
		runs = append(runs, [2]uintptr{start + uintptr(i*pageSize), start + uintptr(j*pageSize)})
		i = j
	}
	return runs
}

// pagemap reads the pagemap entries of m's pages.
func pagemap(m mapping) ([]uint64, error) {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ps := os.Getpagesize()
	raw := make([]byte, int(m.end-m.start)/ps*8)
	if _, err := f.ReadAt(raw, int64(m.start)/int64(ps)*8); err != nil {
		return nil, err
	}
	entries := make([]uint64, len(raw)/8)
	for i := range entries {
		entries[i] = bin.NativeEndian.Uint64(raw[8*i:])
	}
	return entries, nil
}

// filePages returns fileRuns of m.
func filePages(m mapping) ([][2]uintptr, error) {
	entries, err := pagemap(m)
	if err != nil {
		return nil, err
	}
	return fileRuns(entries, m.start, os.Getpagesize()), nil
}

func madvise(start, end uintptr, advice int) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, start, end-start, uintptr(advice)); e != 0 {
		return e
	}
	return nil
}

// releaseFilePages advises the kernel as described above and returns
// how many bytes of the node's resident file pages it advised on.
func releaseFilePages(tables string) (int64, error) {
	exe, err := executable()
	if err != nil {
		return 0, err
	}
	maps, err := readMappings()
	if err != nil {
		return 0, err
	}
	if tables != "" {
		// The maps name files by their absolute path, links resolved.
		if abs, err := filepath.Abs(tables); err == nil {
			tables = abs
		}
		if real, err := filepath.EvalSymlinks(tables); err == nil {
			tables = real
		}
	}
	drop, pageout, filePart := pagePlan(maps, exe, tables)
	var n int64
	var errs []error
	for _, m := range drop {
		if err := madvise(m.start, m.end, unix.MADV_DONTNEED); err != nil {
			errs = append(errs, fmt.Errorf("drop %s: %w", m.path, err))
			continue
		}
		n += m.rss
	}
	for _, m := range pageout {
		// EINVAL: a kernel older than 5.4, which has no MADV_PAGEOUT;
		// ENOMEM: the table was unmapped meanwhile.
		switch err := madvise(m.start, m.end, unix.MADV_PAGEOUT); {
		case err == nil:
			n += m.rss
		case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENOMEM):
		default:
			errs = append(errs, fmt.Errorf("page out %s: %w", m.path, err))
		}
	}
	for _, m := range filePart {
		// Paged out, not dropped: a page changed between reading the
		// pagemap and advising is then kept (written to swap if any),
		// not reverted to the file's.
		runs, err := filePages(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("pages of %s: %w", m.path, err))
			continue
		}
		for _, r := range runs {
			switch err := madvise(r[0], r[1], unix.MADV_PAGEOUT); {
			case err == nil:
				n += int64(r[1] - r[0])
			case errors.Is(err, syscall.EINVAL):
			default:
				errs = append(errs, fmt.Errorf("page out %s: %w", m.path, err))
			}
		}
	}
	return n, errors.Join(errs...)
}
