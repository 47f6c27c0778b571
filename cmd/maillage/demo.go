package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/sample"
)

const (
	demoAdmin    = "admin@demo.maillage.test"
	demoWorker   = "worker@demo.maillage.test"
	demoPassword = "demo-password"
)

func demoCommand() command {
	return command{name: "demo", summary: "run a demo node with sample Brussels services (state in a temp dir unless --data)", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := fs.String("data", "", "keep the demo's state in this directory between runs")
		listen := fs.String("listen", defaultListen, "address to listen on")
		return func(ctx context.Context, c *cli, args []string) error {
			dir := *data
			if dir == "" {
				tmp, err := os.MkdirTemp("", "maillage-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				dir = tmp
			}
			if st, err := node.Inspect(dir); err != nil {
				return err
			} else if st == node.Empty {
				if err := seedDemo(ctx, dir, "http://"+*listen, c.stderr); err != nil {
					return err
				}
			}
			logger, err := newLogger(c.stderr, "warn", "text")
			if err != nil {
				return err
			}
			return node.Serve(ctx, node.ServeOptions{
				Config: node.Config{DataDir: dir, Logger: logger},
				Listen: *listen,
				OnReady: func(addr string) {
					fmt.Fprintf(c.stdout, "Maillage demo node: http://%s/\n  admin:  %s / %s\n  worker: %s / %s\n  API:    http://%s/api/v1/services   HSDS: http://%s/hsds/services\nPress Ctrl-C to stop.\n",
						addr, demoAdmin, demoPassword, demoWorker, demoPassword, addr, addr)
				},
			})
		}
	}}
}

// seedDemo creates a node with a neighbourhood house and sample services.
func seedDemo(ctx context.Context, dir, baseURL string, log io.Writer) error {
	err := node.Init(ctx, dir, node.InitParams{BaseURL: baseURL, Name: "Maison de quartier Midi", Handle: "maison_midi",
		AdminEmail: demoAdmin, AdminPassword: demoPassword})
	if err != nil {
		return err
	}
	n, err := node.Open(node.Config{DataDir: dir})
	if err != nil {
		return err
	}
	defer n.Close()
	if _, err := n.Accounts.AddUser(ctx, demoWorker, "Demo worker", "worker", demoPassword); err != nil {
		return err
	}
	org, err := n.Catalog.Organization(ctx)
	if err != nil {
		return err
	}
	org.Name = directory.T(directory.FR, "Maison de quartier Midi", directory.NL, "Buurthuis Zuid")
	org.Description = directory.T(directory.FR, "Maison de quartier au cœur de Saint-Gilles et d'Anderlecht.",
		directory.NL, "Buurthuis in het hart van Sint-Gillis en Anderlecht.")
	org.Identifiers = []directory.Identifier{{Scheme: directory.SchemeBCE, Value: "0403.170.701"}}
	if _, err := n.Catalog.UpdateOrganization(ctx, org); err != nil {
		return err
	}
	g := sample.New(1)
	var locs []string
	for range 4 {
		l, err := n.Catalog.CreateLocation(ctx, g.Location())
		if err != nil {
			return err
		}
		locs = append(locs, l.ID)
	}
	for i := range 30 {
		if _, err := n.Catalog.CreateService(ctx, g.Service(locs[i%len(locs)])); err != nil {
			return fmt.Errorf("demo service %d: %w", i, err)
		}
	}
	fmt.Fprintf(log, "demo node seeded in %s\n", dir)
	return nil
}
