package main

import (
	"bufio"
	"bytes"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A node in a container (Docker's --memory, systemd's MemoryMax, a VPS
// provider's cgroup) has a hard memory limit: past it the kernel takes
// back the pages of the program and of the store, and reads them again
// at every request. The Go runtime does not read that limit; with the
// default soft limit of 64 MiB its heap grew into the room those pages
// need. Measured with .ci/measure-limit and 10,000 services: under a
// 64 MiB hard limit, a list request took minutes with the default, and
// 4 ms (under 100 ms) with a soft limit of 36 MiB; under 56 MiB, 5 ms
// (145 ms at most); under 48 MiB none answered within 30 s.

// containerReserve is the room left beside the Go runtime's memory under
// a hard limit: the pages of the program (about 20 MB resident) and of
// the store that a working node keeps.
const containerReserve = 28 << 20

// smallContainer is the hard limit below which a node with 10,000
// services stopped answering (measured as above): serve warns.
const smallContainer = 56 << 20

// containerMemoryLimit returns the hard memory limit of the cgroup this
// process runs in, from procCgroup (/proc/self/cgroup) and the cgroup
// file systems under sysfs (/sys/fs/cgroup); 0 when there is none or it
// cannot be read. The lowest limit of the cgroup and its ancestors
// counts. Version 1's memory controller is read first (a hybrid system
// mounts it beside an unused version 2), then version 2.
func containerMemoryLimit(procCgroup, sysfs string) int64 {
	b, err := os.ReadFile(procCgroup)
	if err != nil {
		return 0
	}
	var v1, v2 string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				v1 = parts[2]
			}
		}
	}
	if root := filepath.Join(sysfs, "memory"); v1 != "" && isDir(root) {
		return lowestLimit(root, v1, "memory.limit_in_bytes")
	}
	if v2 != "" && isFile(filepath.Join(sysfs, "cgroup.controllers")) {
		return lowestLimit(sysfs, v2, "memory.max")
	}
	return 0
}

// lowestLimit reads file in the cgroup at path under root and in each of
// its ancestors, and returns the lowest limit, 0 for none. A path that
// is not under root as seen here (a container without its own cgroup
// name space) is read from the ancestors that are.
func lowestLimit(root, path, file string) int64 {
	var lowest int64
	dir := filepath.Join(root, filepath.Clean("/"+path))
	for {
		if b, err := os.ReadFile(filepath.Join(dir, file)); err == nil {
			// "max" (version 2) or a value near 2^63 (version 1) is no
			// limit.
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < 1<<62 && (lowest == 0 || n < lowest) {
				lowest = n
			}
		}
		if dir == root || len(dir) < len(root) {
			return lowest
		}
		dir = filepath.Dir(dir)
	}
}

func isDir(p string) bool  { fi, err := os.Stat(p); return err == nil && fi.IsDir() }
func isFile(p string) bool { fi, err := os.Stat(p); return err == nil && !fi.IsDir() }

// softLimitUnder returns the soft limit for a node under a hard limit
// hard: soft when that leaves containerReserve, else what does, at least
// 16 MiB.
func softLimitUnder(hard, soft int64) int64 {
	if hard <= 0 || hard-containerReserve >= soft {
		return soft
	}
	return max(hard-containerReserve, 16<<20)
}

// cgroupFiles are where containerSoftLimit reads the container's limit;
// tests point them at files of their own.
var cgroupFiles = struct{ proc, sysfs string }{"/proc/self/cgroup", "/sys/fs/cgroup"}

// containerSoftLimit returns the soft limit serve sets: the one given
// with --memory-limit (or its variable or config line) as is, else the
// default lowered to leave containerReserve under the container's hard
// limit, if it has one.
func containerSoftLimit(fs *flag.FlagSet, soft int64, log *slog.Logger) int64 {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "memory-limit" })
	hard := containerMemoryLimit(cgroupFiles.proc, cgroupFiles.sysfs)
	if hard == 0 {
		return soft
	}
	if hard < smallContainer {
		log.Warn("the container's memory limit is below 56 MiB: a node holding thousands of services may stop answering; give it 64 MiB or more",
			"container_mib", hard>>20)
	}
	if given {
		return soft
	}
	limit := softLimitUnder(hard, soft)
	if limit != soft {
		log.Info("memory limit lowered under the container's", "container_mib", hard>>20, "limit_mib", limit>>20)
	}
	return limit
}
