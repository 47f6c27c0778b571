package federation

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/maillage/maillage/directory"
)

// The fixtures follow the actor formats Mastodon and GoToSocial document:
// a Person with inbox, outbox, followers, following, endpoints.sharedInbox
// and an RSA publicKey, whose id is actor#main-key (Mastodon) or
// actor/main-key (GoToSocial).
func TestReadFediverseActors(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pemText := PublicKeyPEM(&key.PublicKey)
	for _, tt := range []struct{ file, id, keyID, shared string }{
		{"testdata/mastodon_actor.json", "https://social.example/users/lea", "https://social.example/users/lea#main-key", "https://social.example/inbox"},
		{"testdata/gotosocial_actor.json", "https://gts.example/users/quartier", "https://gts.example/users/quartier/main-key", "https://gts.example/inbox"},
	} {
		raw, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		raw = []byte(strings.Replace(string(raw), `"PEM"`, mustString(pemText), 1))
		a, err := parseActor(raw, tt.id)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if a.ID != tt.id || a.PublicKey.ID != tt.keyID || a.Endpoints.SharedInbox != tt.shared || a.Type != "Person" {
			t.Errorf("%s read as %+v", tt.file, a)
		}
		if _, err := ParsePublicKeyPEM(a.PublicKey.PublicKeyPem); err != nil {
			t.Errorf("%s: key: %v", tt.file, err)
		}
		// Served from another host than its id: refused.
		if _, err := parseActor(raw, "https://evil.example/x"); err == nil {
			t.Errorf("%s accepted from another host", tt.file)
		}
	}
}

func mustString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

type memCatalogStore struct{ directory.Store }

// noStore is a federation store with nothing in it, enough to build a
// Federator that only writes documents.
type noStore struct{ Store }

func (noStore) BlockedHosts(context.Context) ([]string, error) { return nil, nil }

func (memCatalogStore) Organization(context.Context) (*directory.Organization, error) {
	return &directory.Organization{ID: "o", Name: directory.T(directory.FR, "Maison")}, nil
}

// Our actor has every field Mastodon and GoToSocial need to follow it and
// verify its signatures.
func TestOurActorHasWhatOthersRequire(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	f, err := New(Options{BaseURL: "https://maison.example.be", Handle: "maison", Key: key, SealingKey: []byte{1, 2, 3},
		Catalog: directory.NewCatalog(memCatalogStore{}, directory.Options{}), Store: noStore{}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.Actor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	for _, k := range []string{"@context", "id", "type", "preferredUsername", "inbox", "outbox", "followers", "following", "publicKey", "endpoints", "url", "name", "manuallyApprovesFollowers", "featured"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("actor lacks %q", k)
		}
	}
	ctx, _ := doc["@context"].([]any)
	if len(ctx) < 2 || ctx[0] != "https://www.w3.org/ns/activitystreams" || ctx[1] != "https://w3id.org/security/v1" {
		t.Errorf("@context = %v", doc["@context"])
	}
	// Peers ask for the featured collection: it is served, empty.
	rec := httptest.NewRecorder()
	f.Handler(http.NotFoundHandler(), nil).ServeHTTP(rec, httptest.NewRequest("GET", "/featured", nil))
	var featured struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		TotalItems *int   `json:"totalItems"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &featured); err != nil || rec.Code != 200 || featured.ID != doc["featured"] ||
		featured.Type != "OrderedCollection" || featured.TotalItems == nil || *featured.TotalItems != 0 {
		t.Errorf("featured: %d %s", rec.Code, rec.Body)
	}
	// Read back the way we read others': it round-trips.
	back, err := parseActor(b, "https://maison.example.be/actor")
	if err != nil || back.PublicKey.Owner != a.ID || back.SealingKey == nil {
		t.Errorf("our actor read back: %+v, %v", back, err)
	}
}
