package federation_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

type needsView struct {
	Needs []struct {
		Theme, Area           string
		Count, Here, Partners int
	}
}

func needsOf(t *testing.T, n *nodetest.Node) needsView {
	t.Helper()
	var v needsView
	n.Do("GET", "/api/v1/network/gaps", "", nil).JSON(t, &v)
	return v
}

// Unmet needs reach partners as counts only: B, a partner of A, adds A's
// counts to its own; C, a partner of B alone, gets nothing of A; the note
// written with a need stays on A.
func TestNeedsSharedAsCounts(t *testing.T) {
	nodes := nodetest.Start(t, 3, nodetest.Options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb, tc := a.AdminToken(), b.AdminToken(), c.AdminToken()
	partner(t, a, b, ta, tb)
	partner(t, b, c, tb, tc)
	ctx := context.Background()

	const marker = "Quibble-Needle-5521"
	for _, body := range []string{
		`{"theme": "sante", "area": "1030", "note": "dentiste pour ` + marker + `"}`,
		`{"theme": "sante", "area": "1030"}`,
		`{"theme": "logement-hebergement", "area": "1000"}`,
	} {
		if r := a.Do("POST", "/api/v1/network/needs", "", body); r.Status != 204 {
			t.Fatalf("need %s: %d %s", body, r.Status, r.Body)
		}
	}
	if r := b.Do("POST", "/api/v1/network/needs", "", `{"theme": "sante", "area": "1030"}`); r.Status != 204 {
		t.Fatalf("need on B: %d %s", r.Status, r.Body)
	}

	sent, err := a.Node().Fed.PublishNeeds(ctx)
	if err != nil || !sent {
		t.Fatalf("A publishes its needs: sent %v, %v", sent, err)
	}
	if sent, err := a.Node().Fed.PublishNeeds(ctx); err != nil || sent {
		t.Errorf("A publishes unchanged counts again: sent %v, %v", sent, err)
	}
	eventually(t, "B counts A's needs", func() bool {
		for _, n := range needsOf(t, b).Needs {
			if n.Theme == "sante" && n.Area == "1030" {
				return n.Count == 3 && n.Here == 1 && n.Partners == 2
			}
		}
		return false
	})
	if got := needsOf(t, b).Needs; len(got) != 2 || got[0].Theme != "sante" || got[1].Theme != "logement-hebergement" || got[1].Count != 1 || got[1].Here != 0 {
		t.Errorf("B's needs = %+v, want health 1030 (3) then housing 1000 (1, none here)", got)
	}

	// One more need at A: the new counts replace the old ones at B.
	a.Do("POST", "/api/v1/network/needs", "", `{"theme": "logement-hebergement", "area": "1000"}`)
	if sent, err := a.Node().Fed.PublishNeeds(ctx); err != nil || !sent {
		t.Fatalf("A publishes changed counts: sent %v, %v", sent, err)
	}
	eventually(t, "B replaces A's counts", func() bool {
		for _, n := range needsOf(t, b).Needs {
			if n.Theme == "logement-hebergement" {
				return n.Count == 2
			}
		}
		return false
	})
	// C is not A's partner; B does not pass A's counts on.
	if sent, err := b.Node().Fed.PublishNeeds(ctx); err != nil || !sent {
		t.Fatalf("B publishes: sent %v, %v", sent, err)
	}
	eventually(t, "C counts B's own need", func() bool {
		got := needsOf(t, c).Needs
		return len(got) == 1 && got[0].Theme == "sante" && got[0].Partners == 1
	})

	for _, n := range nodes {
		for _, path := range []string{"/network", "/api/v1/network/gaps", "/api/v1/network/overlaps", "/metrics"} {
			for _, token := range []string{"", n.AdminToken()} {
				shows := bytes.Contains(n.Do("GET", path, token, nil).Body, []byte(marker))
				// Only A's admins read A's notes, on its network page.
				want := n == a && token != "" && path == "/network"
				if shows != want {
					t.Errorf("%s %s (admin %v): shows the note %v, want %v", n.Name, path, token != "", shows, want)
				}
			}
		}
	}
	notes, err := a.Node().Store.NeedNotes(ctx, 10)
	if err != nil || len(notes) != 1 || !bytes.Contains([]byte(notes[0].Text), []byte(marker)) {
		t.Errorf("A's notes = %+v, %v; want the one note", notes, err)
	}
}
