package federation_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// gtsAccount, gtsStatus and gtsRelationship are the parts of the
// Mastodon client API's answers the test reads.
type gtsAccount struct {
	ID          string `json:"id"`
	Acct        string `json:"acct"`
	DisplayName string `json:"display_name"`
	Note        string `json:"note"`
	Locked      bool   `json:"locked"`
	Fields      []struct{ Name, Value string }
}

type gtsStatus struct {
	ID          string  `json:"id"`
	URL         string  `json:"url"`
	URI         string  `json:"uri"`
	Content     string  `json:"content"`
	SpoilerText string  `json:"spoiler_text"`
	Language    string  `json:"language"`
	EditedAt    *string `json:"edited_at"`
	Tags        []struct{ Name string }
}

type gtsRelationship struct {
	ID        string `json:"id"`
	Following bool   `json:"following"`
	Requested bool   `json:"requested"`
}

// waitFor polls cond for up to a minute: GoToSocial applies what it
// receives in background workers.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestGoToSocialFollowsAnAssociation runs a real GoToSocial server and a
// node: a person on GoToSocial finds the association by its handle,
// follows it, reads its services as posts, sees edits and deletions, and
// unfollows; the node refuses that person as a partner. Every check is
// on what the server's own client API returns.
func TestGoToSocialFollowsAnAssociation(t *testing.T) {
	g := nodetest.StartGoToSocial(t)
	var nodeLog syncBuffer
	n := nodetest.Start(t, 1, nodetest.Options{Log: &nodeLog})[0]
	tok := n.AdminToken()

	org := map[string]any{"name": "Maison de quartier Midi", "description": "Des activités <pour> tous.\nLundi et mardi.\n\nAccueil sans rendez-vous.",
		"organization_identifiers": []map[string]string{{"identifier_scheme": "BE-BCE_KBO", "identifier_type": "enterprise number", "identifier": "0403.170.701"}}}
	if r := n.Do("PUT", "/api/v1/organization", tok, org); r.Status != http.StatusOK {
		t.Fatalf("organization: %d %s", r.Status, r.Body)
	}

	// The person resolves the association by its handle (WebFinger, then
	// a signed fetch of the actor) and sees its profile.
	handle := "@" + n.Name + "@" + n.Addr
	var found struct{ Accounts []gtsAccount }
	if c := g.API("GET", "/api/v2/search?type=accounts&resolve=true&q="+url.QueryEscape(handle), nil, &found); c != http.StatusOK || len(found.Accounts) != 1 {
		t.Fatalf("GoToSocial search %s: %d, %d accounts\n%s", handle, c, len(found.Accounts), g.Log())
	}
	acc := found.Accounts[0]
	t.Logf("GoToSocial shows the association as %q, note %q, fields %v, locked %v", acc.DisplayName, acc.Note, acc.Fields, acc.Locked)
	if acc.DisplayName != "Maison de quartier Midi" {
		t.Errorf("display name %q", acc.DisplayName)
	}
	if !strings.Contains(acc.Note, "activités &lt;pour") || !strings.Contains(acc.Note, "tous.<br") || !strings.Contains(acc.Note, "</p><p>Accueil sans rendez-vous.</p>") {
		t.Errorf("description shown as %q: want the text with <pour> kept and its line breaks", acc.Note)
	}
	if len(acc.Fields) != 1 || acc.Fields[0].Name != "BCE/KBO" || !strings.Contains(acc.Fields[0].Value, "0403.170.701") {
		t.Errorf("profile fields %+v, want BCE/KBO 0403.170.701", acc.Fields)
	}

	// Follow: the node accepts a person at once, as a subscriber.
	var rel gtsRelationship
	if c := g.API("POST", "/api/v1/accounts/"+acc.ID+"/follow", url.Values{}, &rel); c != http.StatusOK {
		t.Fatalf("follow: %d", c)
	}
	relationship := func() gtsRelationship {
		var rs []gtsRelationship
		g.API("GET", "/api/v1/accounts/relationships?id[]="+acc.ID, nil, &rs)
		if len(rs) != 1 {
			t.Fatalf("relationships: %d entries", len(rs))
		}
		return rs[0]
	}
	waitFor(t, "GoToSocial to see its follow accepted", func() bool { return relationship().Following })
	subscriber := func() (relation, bool) {
		for _, r := range relations(t, n, tok) {
			if strings.HasPrefix(r.Actor, g.URL+"/") {
				return r, true
			}
		}
		return relation{}, false
	}
	if r, ok := subscriber(); !ok || r.State != "subscriber" {
		t.Fatalf("the node holds the person as %+v (found %v), want a subscriber", r, ok)
	}

	// A new service appears as a post with its name, link, hashtags and
	// language, not edited, with no content warning.
	loc := n.Do("POST", "/api/v1/locations", tok, `{"name": "Maison Midi", "latitude": 50.8366, "longitude": 4.3306,
	  "addresses": [{"address_1": "Rue Brogniez 50", "city": "Anderlecht", "postal_code": "1070", "country": "BE"}]}`)
	var l struct{ ID string }
	loc.JSON(t, &l)
	resp := n.Do("POST", "/api/v1/services", tok, `{"name": "Épicerie sociale", "description": "Colis alimentaire et produits à petit prix.", "status": "active",
	  "categories": ["equipement-et-alimentation--alimentation"], "service_at_locations": [{"location_id": "`+l.ID+`"}],
	  "schedules": [{"freq": "WEEKLY", "byday": "MO,WE", "opens_at": "09:00", "closes_at": "12:00"}]}`)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create service: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	serviceURL := n.URL + "/services/" + svc.ID
	statuses := func() []gtsStatus {
		var st []gtsStatus
		g.API("GET", "/api/v1/accounts/"+acc.ID+"/statuses", nil, &st)
		return st
	}
	var post gtsStatus
	waitFor(t, "the service's post on GoToSocial", func() bool {
		st := statuses()
		if len(st) > 0 {
			post = st[0]
		}
		return len(st) > 0
	})
	t.Logf("GoToSocial shows the new service as: content %q, spoiler %q, language %q, edited_at %v, tags %v", post.Content, post.SpoilerText, post.Language, post.EditedAt, post.Tags)
	if !strings.Contains(post.Content, "Épicerie sociale") || !strings.Contains(post.Content, `href="`+serviceURL+`"`) {
		t.Errorf("post content %q lacks the name as a link to %s", post.Content, serviceURL)
	}
	if !strings.Contains(post.Content, "Colis alimentaire") || !strings.Contains(post.Content, "Rue Brogniez 50, 1070 Anderlecht") ||
		!strings.Contains(post.Content, "lun. 09:00–12:00") {
		t.Errorf("post content %q lacks the description, the place or the hours", post.Content)
	}
	if post.SpoilerText != "" {
		t.Errorf("post has a content warning %q", post.SpoilerText)
	}
	if post.Language != "fr" {
		t.Errorf("post language %q, want fr", post.Language)
	}
	if post.EditedAt != nil {
		t.Errorf("a new service shows as edited at %s", *post.EditedAt)
	}
	if len(post.Tags) == 0 || !strings.Contains(post.Content, "#<span>") {
		t.Errorf("post has no hashtags: tags %v, content %q", post.Tags, post.Content)
	}

	// An update arrives as an edit: two versions in the history.
	if r := n.Do("PUT", "/api/v1/services/"+svc.ID, tok, `{"name": "Épicerie sociale du Midi", "description": "Colis alimentaire et produits à petit prix.", "status": "active",
	  "categories": ["equipement-et-alimentation--alimentation"], "service_at_locations": [{"location_id": "`+l.ID+`"}]}`); r.Status != http.StatusOK {
		t.Fatalf("update service: %d %s", r.Status, r.Body)
	}
	var edited gtsStatus
	waitFor(t, "the edit on GoToSocial", func() bool {
		edited = gtsStatus{}
		g.API("GET", "/api/v1/statuses/"+post.ID, nil, &edited)
		return strings.Contains(edited.Content, "Épicerie sociale du Midi")
	})
	var history []gtsStatus
	if c := g.API("GET", "/api/v1/statuses/"+post.ID+"/history", nil, &history); c != http.StatusOK || len(history) != 2 {
		t.Errorf("history: %d, %d versions, want 2", c, len(history))
	}
	if edited.EditedAt != nil {
		t.Logf("GoToSocial after the update: edited_at %s, %d versions", *edited.EditedAt, len(history))
	}
	if edited.EditedAt == nil {
		t.Errorf("the updated service does not show as edited")
	}

	// A deletion removes the post.
	if r := n.Do("DELETE", "/api/v1/services/"+svc.ID, tok, nil); r.Status/100 != 2 {
		t.Fatalf("delete service: %d %s", r.Status, r.Body)
	}
	waitFor(t, "the post's removal on GoToSocial", func() bool {
		return g.API("GET", "/api/v1/statuses/"+post.ID, nil, nil) == http.StatusNotFound
	})

	// Unfollow: the node forgets the person and sends it nothing more.
	if c := g.API("POST", "/api/v1/accounts/"+acc.ID+"/unfollow", url.Values{}, nil); c != http.StatusOK {
		t.Fatalf("unfollow: %d", c)
	}
	waitFor(t, "the node to drop its subscriber", func() bool { _, ok := subscriber(); return !ok })
	queued := deliveriesQueued(t, n)
	resp = n.Do("POST", "/api/v1/services", tok, `{"name": "Permanence logement", "description": "Aide", "status": "active",
	  "categories": ["equipement-et-alimentation--alimentation"]}`)
	if resp.Status != http.StatusCreated {
		t.Fatalf("create service: %d %s", resp.Status, resp.Body)
	}
	time.Sleep(time.Second)
	if after := deliveriesQueued(t, n); after != queued {
		t.Errorf("after the unfollow, a new service queued %v deliveries", after-queued)
	}

	// The node resolves the person, and refuses it as a partner.
	r := n.Do("POST", "/api/v1/partners", tok, map[string]string{"actor": g.Handle})
	t.Logf("partnership request to %s: %d %s", g.Handle, r.Status, r.Body)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "not an association") {
		t.Errorf("partnership request to a person: %d %s, want 400 saying it is not an association", r.Status, r.Body)
	}
	if _, ok := subscriber(); ok {
		t.Errorf("the refused request left a relation with the person")
	}

	// Signed fetches both ways: no 401 in either log, and the node logged
	// the server's requests.
	if m := regexp.MustCompile(`(?m)^.*statusCode=401.*$`).FindString(g.Log()); m != "" {
		t.Errorf("GoToSocial answered 401: %s", m)
	}
	logs := string(nodeLog.Bytes())
	for _, l := range regexp.MustCompile(`route=federation-\S+ status=\d+`).FindAllString(logs, -1) {
		t.Log(l)
	}
	if m := regexp.MustCompile(`(?m)^.*status=401.*$`).FindString(logs); m != "" {
		t.Errorf("the node answered 401: %s", m)
	}
	for _, route := range []string{"federation-webfinger", "federation-actor", "federation-inbox"} {
		if !regexp.MustCompile(`route=` + route + ` status=2\d\d .*(peer|remote)=`).MatchString(logs) {
			t.Errorf("no request log line for %s", route)
		}
	}
	if m := regexp.MustCompile(`(?m)^.*route=federation-\S+ status=4\d\d.*$`).FindString(logs); m != "" {
		t.Errorf("the node refused a request of GoToSocial: %s", m)
	}
}

// deliveriesQueued reads the node's count of queued deliveries.
func deliveriesQueued(t *testing.T, n *nodetest.Node) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^maillage_delivery_queued_total (\S+)$`).FindSubmatch(n.Do("GET", "/metrics", "", nil).Body)
	if m == nil {
		t.Fatal("no maillage_delivery_queued_total in the metrics")
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
