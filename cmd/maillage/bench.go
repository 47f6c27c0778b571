package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/directory/sample"
)

func benchCommand() command {
	return command{name: "bench-seed", summary: "add N generated sample services to a stopped node (for measurements)", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := dataFlag(fs)
		count := fs.Int("services", 10000, "number of services to add")
		seed := fs.Uint64("seed", 1, "generator seed")
		return func(ctx context.Context, c *cli, args []string) error {
			if err := needData(*data); err != nil {
				return err
			}
			if *count < 1 || *count > 10_000_000 {
				return usagef("--services must be between 1 and 10000000")
			}
			n, err := node.Open(node.Config{DataDir: *data})
			if err != nil {
				return err
			}
			defer n.Close()
			g := sample.New(*seed)
			var locs []string
			for range 50 {
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
				if _, err := n.Catalog.CreateService(ctx, g.Service(locs[i%len(locs)])); err != nil {
					return err
				}
			}
			d := time.Since(start)
			fmt.Fprintf(c.stdout, "added %d services in %s (%.0f/s)\n", *count, d.Round(time.Millisecond), float64(*count)/d.Seconds())
			return nil
		}
	}}
}
