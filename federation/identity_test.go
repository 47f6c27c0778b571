package federation_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// An association's enterprise number travels in its actor, and a change of
// name or number reaches its partners by an Update of the actor.
func TestActorIdentifiersReachPartners(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()

	setOrg := func(name, bce string) {
		t.Helper()
		resp := a.Do("PUT", "/api/v1/organization", ta, `{"name": "`+name+`", "organization_identifiers": [{"identifier_scheme": "BE-BCE_KBO", "identifier_type": "enterprise number", "identifier": "`+bce+`"}]}`)
		if resp.Status != 200 {
			t.Fatalf("update organization: %d %s", resp.Status, resp.Body)
		}
	}
	setOrg("Maison de quartier Midi", "BE 0403 170 701")

	var actor struct {
		Attachment []struct{ Type, Name, Value string }
	}
	req, _ := http.NewRequest("GET", actorOf(a), nil)
	req.Header.Set("Accept", "application/activity+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(res.Body).Decode(&actor)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(actor.Attachment) != 1 || actor.Attachment[0] != (struct{ Type, Name, Value string }{"PropertyValue", "BCE/KBO", "0403.170.701"}) {
		t.Fatalf("actor attachment = %+v, want the normalised BCE/KBO number", actor.Attachment)
	}

	partner(t, a, b, ta, tb)
	number := func() (string, string) {
		var out struct {
			Partners []struct {
				Actor, Name string
				Identifiers []struct{ Scheme, Value string }
			}
		}
		b.Do("GET", "/api/v1/partners", tb, nil).JSON(t, &out)
		for _, p := range out.Partners {
			if p.Actor == actorOf(a) && len(p.Identifiers) == 1 && p.Identifiers[0].Scheme == "BE-BCE_KBO" {
				return p.Name, p.Identifiers[0].Value
			}
		}
		return "", ""
	}
	if name, bce := number(); name != "Maison de quartier Midi" || bce != "0403.170.701" {
		t.Fatalf("B knows A as %q, number %q", name, bce)
	}

	setOrg("Maison de quartier Anneessens", "0202.239.951")
	eventually(t, "B learns A's new name and number", func() bool {
		name, bce := number()
		return name == "Maison de quartier Anneessens" && bce == "0202.239.951"
	})
}
