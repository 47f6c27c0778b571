package federation

import (
	"strings"
	"testing"
)

// Profile fields are read leniently: Mastodon's HTML values, a single
// object instead of a list, other attachment types and odd members are
// kept or skipped without making the actor unreadable.
func TestActorAttachmentLenient(t *testing.T) {
	base := `{"id": "https://peer.example/actor", "type": "Organization", "preferredUsername": "peer", "inbox": "https://peer.example/inbox",
	  "publicKey": {"id": "https://peer.example/actor#main-key", "owner": "https://peer.example/actor", "publicKeyPem": "x"}, "attachment": %s}`
	cases := []struct {
		attachment string
		want       string // the number read, or ""
	}{
		{`[{"type": "PropertyValue", "name": "Site", "value": "<a href=\"https://x\">x</a>"}, {"type": "PropertyValue", "name": "KBO", "value": "<span>BE 0403.170.701</span>"}]`, "0403.170.701"},
		{`{"type": "PropertyValue", "name": "bce/kbo", "value": "0403170701"}`, "0403.170.701"},
		{`[{"type": "IdentityProof", "name": "BCE"}, 42, "text", {"type": "PropertyValue", "name": "BCE", "value": {"nested": true}}]`, ""},
		{`[{"type": "PropertyValue", "name": "BCE", "value": "0403.170.702"}]`, ""}, // bad check digits
		{`"just a string"`, ""},
		{`null`, ""},
	}
	for _, c := range cases {
		doc, err := parseActor([]byte(strings.Replace(base, "%s", c.attachment, 1)), "https://peer.example/actor")
		if err != nil {
			t.Errorf("attachment %s: actor refused: %v", c.attachment, err)
			continue
		}
		ids := doc.Identifiers()
		got := ""
		if len(ids) > 0 {
			got = ids[0].Value
		}
		if got != c.want || len(ids) > 1 {
			t.Errorf("attachment %s: identifiers %v, want %q", c.attachment, ids, c.want)
		}
	}
	// A flood of fields is cut at maxAttachments.
	many := "[" + strings.Repeat(`{"type": "PropertyValue", "name": "f", "value": "v"},`, 1000) + `{"type": "PropertyValue", "name": "f", "value": "v"}]`
	doc, err := parseActor([]byte(strings.Replace(base, "%s", many, 1)), "https://peer.example/actor")
	if err != nil || len(doc.Attachment) != maxAttachments {
		t.Errorf("1001 fields: err %v, kept %d, want %d", err, len(doc.Attachment), maxAttachments)
	}
}
