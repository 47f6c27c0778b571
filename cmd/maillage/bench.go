package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
)

func benchCommand() command {
	return command{name: "bench-seed", summary: "add N generated sample services to a stopped node (for measurements)", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := dataFlag(fs)
		count := fs.Int("services", 10000, "number of services to add")
		seed := fs.Uint64("seed", 1, "generator seed")
		shared := fs.Int("locations", 0, "share this many locations among the services (0: one location each, as in the search benchmark)")
		return func(ctx context.Context, c *cli, args []string) error {
			if err := needData(*data); err != nil {
				return err
			}
			if *count < 1 || *count > 10_000_000 {
				return usagef("--services must be between 1 and 10000000")
			}
			if *shared < 0 || *shared > *count {
				return usagef("--locations must be between 0 and --services")
			}
			n, err := node.Open(node.Config{DataDir: *data})
			if err != nil {
				return err
			}
			defer n.Close()
			g := sample.New(*seed)
			var locs []string
			for range *shared {
				l, err := n.Catalog.CreateLocation(ctx, g.Location())
				if err != nil {
					return err
				}
				locs = append(locs, l.ID)
			}
			start := time.Now()
			for i := range *count {
				if err := ctx.Err(); err != nil {
					return err
				}
				var loc string
				if len(locs) > 0 {
					loc = locs[i%len(locs)]
				} else {
					l, err := n.Catalog.CreateLocation(ctx, g.Location())
					if err != nil {
						return err
					}
					loc = l.ID
				}
				if _, err := n.Catalog.CreateService(ctx, g.Service(loc)); err != nil {
					return err
				}
			}
			d := time.Since(start)
			fmt.Fprintf(c.stdout, "added %d services in %s (%.0f/s)\n", *count, d.Round(time.Millisecond), float64(*count)/d.Seconds())
			return nil
		}
	}}
}

// benchExportCommand writes the services of the search benchmark
// (directory/search BenchmarkSearchScale: sample.New(42), one location
// each, 500 providers) as CSV files, for loading the same data into
// another engine (bench/postgres).
func benchExportCommand() command {
	return command{name: "bench-export", summary: "write the search benchmark's generated services as CSV (for bench/postgres)", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		count := fs.Int("services", 100000, "number of services")
		out := fs.String("out", "", "directory to write services.csv, slots.csv and exceptions.csv into (required)")
		return func(ctx context.Context, c *cli, args []string) error {
			if *out == "" {
				return usagef("--out is required")
			}
			if *count < 1 || *count > 10_000_000 {
				return usagef("--services must be between 1 and 10000000")
			}
			if err := os.MkdirAll(*out, 0o755); err != nil {
				return err
			}
			files := map[string]*csv.Writer{}
			for _, name := range []string{"services", "slots", "exceptions"} {
				f, err := os.Create(filepath.Join(*out, name+".csv"))
				if err != nil {
					return err
				}
				defer f.Close()
				w := csv.NewWriter(f)
				defer w.Flush()
				files[name] = w
			}
			tax := directory.DefaultTaxonomy()
			pgArray := func(v []string) string { return "{" + strings.Join(v, ",") + "}" }
			g := sample.New(42)
			for i := range *count {
				if err := ctx.Err(); err != nil {
					return err
				}
				l := g.Location()
				s := g.Service(l.ID)
				files["services"].Write([]string{s.ID,
					s.Name[directory.FR], s.Name[directory.NL], s.Name[directory.EN],
					s.Description[directory.FR], s.Description[directory.NL], s.Description[directory.EN],
					fmt.Sprintf("https://n%d.example/actor", i%500), pgArray(tax.Expand(s.Categories)), pgArray(s.Audiences),
					pgArray(s.Languages), s.Fee, strconv.FormatBool(s.AcceptsReferrals()), strconv.FormatBool(i%10 == 0),
					strconv.FormatFloat(l.Point.Lat, 'f', -1, 64), strconv.FormatFloat(l.Point.Lon, 'f', -1, 64)})
				for _, sl := range s.Schedule.Weekly {
					files["slots"].Write([]string{s.ID, strconv.Itoa(int(sl.Day)), strconv.Itoa(int(sl.Opens)), strconv.Itoa(int(sl.Closes))})
				}
				for _, e := range s.Schedule.Exceptions {
					files["exceptions"].Write([]string{s.ID, e.Date, strconv.FormatBool(e.Closed)})
				}
			}
			for name, w := range files {
				if w.Flush(); w.Error() != nil {
					return fmt.Errorf("%s.csv: %w", name, w.Error())
				}
			}
			fmt.Fprintf(c.stdout, "wrote %d services to %s\n", *count, *out)
			return nil
		}
	}}
}
