package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web"
)

// The demo accounts, the same on the three nodes.
const (
	demoAdmin    = "admin@demo.maillage.test"
	demoWorker   = "worker@demo.maillage.test"
	demoPassword = "demo-password"
)

func demoCommand() command {
	return command{name: "demo", summary: "run a demo network of three federated nodes with sample Brussels associations (state in a temp dir unless --data)", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := fs.String("data", "", "keep the demo network's state in this directory between runs")
		listen := fs.String("listen", defaultListen, "address of the first node, the others taking the next two ports; or three addresses, comma-separated")
		return func(ctx context.Context, c *cli, args []string) error {
			addrs, err := demoAddrs(*listen)
			if err != nil {
				return usagef("--listen: %v", err)
			}
			dir := *data
			if dir == "" {
				tmp, err := os.MkdirTemp("", "maillage-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				dir = tmp
			}
			return runDemo(ctx, c, dir, addrs)
		}
	}}
}

// demoAddrs reads --listen: one address (the others on the next ports)
// or three.
func demoAddrs(listen string) ([]string, error) {
	parts := strings.Split(listen, ",")
	if len(parts) == 3 {
		return parts, nil
	}
	if len(parts) != 1 {
		return nil, errors.New("give one address or three")
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65533 {
		return nil, fmt.Errorf("port %q: give a port from 1 to 65533 (0 cannot tell the nodes where the others are)", port)
	}
	return []string{listen, net.JoinHostPort(host, strconv.Itoa(p+1)), net.JoinHostPort(host, strconv.Itoa(p+2))}, nil
}

// runDemo creates the three nodes if dir holds none, serves them, links
// them on the first run, and stops them all when ctx ends.
func runDemo(ctx context.Context, c *cli, dir string, addrs []string) error {
	dirs := make([]string, len(demoNetwork))
	fresh := false
	for i, a := range demoNetwork {
		dirs[i] = filepath.Join(dir, a.handle)
		st, err := node.Inspect(dirs[i])
		if err != nil {
			return err
		}
		url := "http://" + addrs[i]
		if st == node.Empty {
			if err := os.MkdirAll(dirs[i], 0o700); err != nil {
				return err
			}
			if err := seedDemo(ctx, dirs[i], url, a); err != nil {
				return fmt.Errorf("demo node %s: %w", a.handle, err)
			}
			fresh = true
			continue
		}
		if err := checkDemoURL(dirs[i], url); err != nil {
			return err
		}
	}
	logger, err := newLogger(c.stderr, "warn", "text")
	if err != nil {
		return err
	}
	logBuild(logger)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	nodes := make([]*node.Node, len(dirs))
	ready := make(chan int, len(dirs))
	errs := make(chan error, len(dirs))
	var wg sync.WaitGroup
	for i := range dirs {
		wg.Go(func() {
			err := node.Serve(ctx, node.ServeOptions{
				Config:  node.Config{DataDir: dirs[i], Logger: logger.With("node", demoNetwork[i].handle), AllowPrivate: true, Version: version},
				Listen:  addrs[i],
				OnOpen:  func(n *node.Node) { nodes[i] = n },
				OnReady: func(string) { ready <- i },
			})
			if err != nil {
				stop()
			}
			errs <- err
		})
	}
	failed := func(err error) error {
		stop()
		wg.Wait()
		close(errs)
		return errors.Join(append([]error{err}, collect(errs)...)...)
	}
	for range dirs {
		select {
		case <-ready:
		case <-ctx.Done():
			return failed(nil)
		}
	}
	if fresh {
		fmt.Fprintln(c.stderr, "linking the demo nodes: partnerships, then referrals…")
		if err := linkDemo(ctx, nodes); err != nil {
			return failed(fmt.Errorf("demo: %w", err))
		}
	}
	printDemo(c.stdout, addrs)
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			out = append(out, err)
		}
	}
	return out
}

// checkDemoURL refuses to serve a kept demo node at another address than
// the one it was made for: its address is its identity to the others.
func checkDemoURL(dir, url string) error {
	n, err := node.Open(node.Config{DataDir: dir})
	if err != nil {
		return err
	}
	defer n.Close()
	if n.ID.BaseURL != url {
		return fmt.Errorf("the demo node in %s was made for %s, not %s: run the demo with the --listen it was made with", dir, n.ID.BaseURL, url)
	}
	return nil
}

func printDemo(w io.Writer, addrs []string) {
	fmt.Fprintln(w, "Maillage demo: three associations, federated on this machine.")
	for i, a := range demoNetwork {
		fmt.Fprintf(w, "  %-28s http://%s/\n", a.name.In(directory.FR), addrs[i])
	}
	fmt.Fprintf(w, "Log in on any of them:\n  admin:  %s / %s\n  worker: %s / %s\n", demoAdmin, demoPassword, demoWorker, demoPassword)
	fmt.Fprintf(w, "%s and %s are partners, and so are %s and %s; %s asked %s to be partners (accept it under Admin, Partners).\n",
		demoNetwork[0].name.In(directory.FR), demoNetwork[1].name.In(directory.FR), demoNetwork[1].name.In(directory.FR), demoNetwork[2].name.In(directory.FR),
		demoNetwork[2].name.In(directory.FR), demoNetwork[0].name.In(directory.FR))
	fmt.Fprintln(w, "Referrals in various states are under Referrals; the network's overlaps and gaps under Network.")
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// seedDemo creates a stopped node with its association, accounts, places
// and services.
func seedDemo(ctx context.Context, dir, baseURL string, a demoAssociation) error {
	err := node.Init(ctx, dir, node.InitParams{BaseURL: baseURL, Name: a.name.In(directory.FR), Handle: a.handle,
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
	org.Name, org.Description = a.name, a.desc
	org.Website, org.Email = a.website, a.email
	org.Phones = []directory.Phone{{Number: a.phone, Type: "voice"}}
	org.Identifiers = []directory.Identifier{{Scheme: directory.SchemeBCE, Value: a.bce}}
	if _, err := n.Catalog.UpdateOrganization(ctx, org); err != nil {
		return err
	}
	var places []string
	for _, p := range a.places {
		l, err := n.Catalog.CreateLocation(ctx, p.location())
		if err != nil {
			return err
		}
		places = append(places, l.ID)
	}
	for _, d := range a.services {
		s, err := d.service(places[d.place], a.phone)
		if err != nil {
			return err
		}
		if _, err := n.Catalog.CreateService(ctx, s); err != nil {
			return fmt.Errorf("service %q: %w", d.fr, err)
		}
	}
	// Needs that people could not find a service for, for the gaps view.
	for _, need := range [][2]string{{"sante", "1070"}, {"sante", "1070"}, {"logement-hebergement", "1080"}, {"mobilite", "1030"}} {
		if err := n.Store.AddNeed(ctx, need[0], need[1], ""); err != nil {
			return err
		}
	}
	return nil
}

// linkDemo makes the partnerships of the demo network and referrals in
// various states, through the nodes' own federation: Midi and Le Panier
// are partners, Le Panier and Babel too, and Babel asked Midi.
func linkDemo(ctx context.Context, nodes []*node.Node) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	midi, panier, babel := nodes[0], nodes[1], nodes[2]
	for _, p := range [][2]*node.Node{{midi, panier}, {panier, babel}} {
		if err := demoPartners(ctx, p[0], p[1]); err != nil {
			return err
		}
	}
	if _, err := babel.Fed.Follow(ctx, midi.ID.BaseURL+"/actor"); err != nil {
		return fmt.Errorf("partner request: %w", err)
	}
	if err := waitDemo(ctx, "partners' services", func() (bool, error) {
		a, err := replicated(ctx, midi, panier)
		if err != nil {
			return false, err
		}
		b, err := replicated(ctx, panier, babel)
		return a == len(demoNetwork[1].services) && b == len(demoNetwork[2].services), err
	}); err != nil {
		return err
	}
	for _, r := range []struct {
		from, to *node.Node
		service  string
		resident string
		moves    []demoMove
		withdraw bool
	}{
		{from: midi, to: panier, service: "Épicerie sociale de Cureghem", resident: `{"name": "Amina El Idrissi", "phone": "+32 470 12 34 56", "preferred_language": "fr"}`},
		{from: midi, to: panier, service: "Médiation de dettes", resident: `{"name": "Jan Peeters", "phone": "+32 486 22 33 44", "preferred_language": "nl"}`,
			moves: []demoMove{{to: referral.Accepted}, {to: referral.InProgress}}},
		{from: midi, to: panier, service: "Colis alimentaires d'urgence", resident: `{"name": "Fatou Diallo", "preferred_language": "fr"}`,
			moves: []demoMove{{referral.Rejected, "no-capacity"}}},
		{from: midi, to: panier, service: "Atelier budget", resident: `{"name": "Marek Nowak", "phone": "+32 471 98 76 54"}`,
			moves: []demoMove{{to: referral.Accepted}, {to: referral.InProgress}, {referral.Completed, "service-provided"}}},
		{from: midi, to: panier, service: "Permanence énergie", resident: `{"name": "Sofia Rossi", "preferred_language": "fr"}`, withdraw: true},
		{from: panier, to: babel, service: "Alphabétisation en français", resident: `{"name": "Yusuf Demir", "phone": "+32 465 11 22 33", "preferred_language": "fr"}`,
			moves: []demoMove{{to: referral.Accepted}}},
	} {
		uri, err := serviceURI(ctx, r.to, r.service)
		if err != nil {
			return err
		}
		ref, err := demoRefer(ctx, r.from, r.to, uri, r.resident)
		if err != nil {
			return fmt.Errorf("referral to %q: %w", r.service, err)
		}
		if err := waitDemo(ctx, "a referral's arrival", func() (bool, error) {
			_, err := r.to.Store.Referral(ctx, ref.ID)
			if errors.Is(err, directory.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		}); err != nil {
			return err
		}
		worker, err := workerID(ctx, r.to)
		if err != nil {
			return err
		}
		for _, m := range r.moves {
			if _, err := r.to.MoveReferral(ctx, ref.ID, m.to, m.reason, worker); err != nil {
				return fmt.Errorf("referral to %q, %s: %w", r.service, m.to, err)
			}
		}
		if r.withdraw {
			sender, err := workerID(ctx, r.from)
			if err != nil {
				return err
			}
			if _, err := r.from.WithdrawReferral(ctx, ref.ID, sender); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoMove is a transition the recipient makes, with its reason code.
type demoMove struct {
	to     referral.State
	reason string
}

// demoPartners makes a and b partners: a asks, b's admin accepts.
func demoPartners(ctx context.Context, a, b *node.Node) error {
	if _, err := a.Fed.Follow(ctx, b.ID.BaseURL+"/actor"); err != nil {
		return fmt.Errorf("partner request: %w", err)
	}
	var rel *federation.Relation
	if err := waitDemo(ctx, "a partner request", func() (bool, error) {
		r, err := b.Store.Relation(ctx, a.ID.BaseURL+"/actor")
		if errors.Is(err, directory.ErrNotFound) {
			return false, nil
		}
		rel = r
		return err == nil && r.State() == "pending", err
	}); err != nil {
		return err
	}
	if _, err := b.Fed.Accept(ctx, rel.ID); err != nil {
		return err
	}
	return waitDemo(ctx, "a partnership", func() (bool, error) {
		ok1, err := a.Fed.IsPartner(ctx, b.ID.BaseURL+"/actor")
		if err != nil {
			return false, err
		}
		ok2, err := b.Fed.IsPartner(ctx, a.ID.BaseURL+"/actor")
		return ok1 && ok2, err
	})
}

// replicated counts the services of from that n holds.
func replicated(ctx context.Context, n, from *node.Node) (int, error) {
	count := 0
	err := n.Store.ForEachPartnerService(ctx, func(ps *directory.PartnerService) error {
		if ps.Actor == from.ID.BaseURL+"/actor" {
			count++
		}
		return nil
	})
	return count, err
}

// serviceURI finds a service of n by its French name.
func serviceURI(ctx context.Context, n *node.Node, name string) (string, error) {
	uri := ""
	err := n.Catalog.ForEachService(ctx, func(s *directory.Service) error {
		if s.Name.In(directory.FR) == name {
			uri = n.ID.BaseURL + "/services/" + s.ID
		}
		return nil
	})
	if err == nil && uri == "" {
		err = fmt.Errorf("no service %q", name)
	}
	return uri, err
}

func workerID(ctx context.Context, n *node.Node) (string, error) {
	users, err := n.Accounts.Users(ctx)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if u.Email == demoWorker {
			return u.ID, nil
		}
	}
	return "", errors.New("no demo worker")
}

// demoRefer refers a resident from one node to a service of another, with
// the consent the worker's page would record.
func demoRefer(ctx context.Context, from, to *node.Node, uri, resident string) (*referral.Referral, error) {
	worker, err := workerID(ctx, from)
	if err != nil {
		return nil, err
	}
	org, err := to.Catalog.Organization(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := from.Store.PartnerService(ctx, uri)
	if err != nil {
		return nil, err
	}
	version, _, hash := web.ConsentNotice(directory.FR, org.Name.In(directory.FR), ps.Service.Name.In(directory.FR))
	cats := []directory.DataCategory{directory.DataIdentity, directory.DataContact}
	return from.Refer(ctx, uri, referral.Request{
		Resident: json.RawMessage(resident),
		Consent: referral.ConsentInput{Method: referral.OnScreen, Categories: cats, NoticeVersion: version, NoticeHash: hash,
			NoticeLang: "fr", GivenAt: time.Now()},
		Worker: worker,
	})
}

// waitDemo polls cond until it holds, fails, or ctx ends.
func waitDemo(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
