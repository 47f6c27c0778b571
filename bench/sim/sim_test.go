package sim

import (
	"context"
	"flag"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	nodesFlag   = flag.String("sim.nodes", "50", "network sizes to simulate, comma-separated (e.g. 100,250,500,1000)")
	changesFlag = flag.Int("sim.changes", 0, "service edits timed per network (default 50)")
)

// BenchmarkNetwork builds networks of the sizes in -sim.nodes (50 by
// default: the smoke run CI makes with -benchtime 1x, a few seconds), each
// over the real protocol in one process, and reports their figures. The
// measurement by hand (cmd/maillage/docs/network-scale.md):
//
//	go test -run '^$' -bench Network -benchtime 1x -timeout 60m ./bench/sim/ -sim.nodes 100,250,500,1000
func BenchmarkNetwork(b *testing.B) {
	for _, f := range strings.Split(*nodesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			b.Fatalf("-sim.nodes: %q is not a size of 10 or more", f)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				res, err := Run(context.Background(), Config{Nodes: n, Changes: *changesFlag, Seed: 1}, benchLog(b))
				if err != nil {
					b.Fatal(err)
				}
				if testing.Verbose() {
					res.Print(os.Stdout)
				}
				b.ReportMetric(res.ChangeP50.Seconds()*1000, "ms-p50-all-partners")
				b.ReportMetric(res.ChangeP99.Seconds()*1000, "ms-p99-all-partners")
				b.ReportMetric(res.DeliveriesPerChange, "deliveries/change")
				b.ReportMetric(res.HeapPerNode/1024, "KB-heap/node")
				b.ReportMetric(float64(res.CPUPerDelivery)/float64(time.Microsecond), "µs-CPU/delivery")
				if len(res.HubFanOut) > 0 {
					b.ReportMetric(pct(res.HubFanOut, 50).Seconds()*1000, "ms-hub-fanout")
				}
				b.ReportMetric(float64(res.DiscoveredViaOrdinary), "found-via-1-partner")
				b.ReportMetric(float64(res.Duplicates), "duplicate-deliveries")
			}
		})
	}
}

// benchLog shows progress with -v.
func benchLog(b *testing.B) io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return nil
}
