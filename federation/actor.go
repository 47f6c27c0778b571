package federation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// context is the JSON-LD context of every document Maillage writes.
var ldContext = []any{
	"https://www.w3.org/ns/activitystreams",
	"https://w3id.org/security/v1",
	map[string]any{
		"maillage":                  Namespace,
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"sealingKey":                "maillage:sealingKey",
		"hsds":                      "maillage:hsds",
		"schema":                    "http://schema.org#",
		"PropertyValue":             "schema:PropertyValue",
		"value":                     "schema:value",
		"NeedsReport":               "maillage:NeedsReport",
		"StatsReport":               "maillage:StatsReport",
		"toot":                      "http://joinmastodon.org/ns#",
		"featured":                  map[string]any{"@id": "toot:featured", "@type": "@id"},
		"counts":                    "maillage:counts",
		"address":                   "schema:address",
		"PostalAddress":             "schema:PostalAddress",
		"streetAddress":             "schema:streetAddress",
		"postalCode":                "schema:postalCode",
		"addressLocality":           "schema:addressLocality",
		"addressCountry":            "schema:addressCountry",
		"wheelchairAccessible":      "maillage:wheelchairAccessible",
		"accessibilityMap":          map[string]any{"@id": "maillage:accessibility", "@container": "@language"},
	},
}

// ActorDoc is an actor document: ours when written, a peer's when read
// (Maillage node, Mastodon or GoToSocial account). Reading ignores what it
// does not need.
type ActorDoc struct {
	Context           any    `json:"@context,omitempty"`
	ID                string `json:"id"`
	Type              string `json:"type"`
	PreferredUsername string `json:"preferredUsername"`
	Name              string `json:"name,omitempty"`
	Summary           string `json:"summary,omitempty"`
	// NameMap and SummaryMap carry the association's name and
	// description in each language it writes them in, the main one
	// (French when it has it) first, as Name and Summary do.
	NameMap                   LangMap     `json:"nameMap,omitempty"`
	SummaryMap                LangMap     `json:"summaryMap,omitempty"`
	URL                       string      `json:"url,omitempty"`
	Inbox                     string      `json:"inbox"`
	Outbox                    string      `json:"outbox,omitempty"`
	Followers                 string      `json:"followers,omitempty"`
	Following                 string      `json:"following,omitempty"`
	Featured                  string      `json:"featured,omitempty"`
	ManuallyApprovesFollowers bool        `json:"manuallyApprovesFollowers"`
	Discoverable              bool        `json:"discoverable,omitempty"`
	Endpoints                 *Endpoints  `json:"endpoints,omitempty"`
	PublicKey                 *KeyDoc     `json:"publicKey"`
	SealingKey                *SealingDoc `json:"sealingKey,omitempty"`
	// Attachment holds profile fields, as Mastodon shows them; Maillage
	// writes the association's enterprise number there.
	Attachment Attachments `json:"attachment,omitempty"`
}

// UnmarshalJSON reads a peer's actor whatever the shape of its type (a
// list), url (a Link, a list) and publicKey (a list: the first counts).
func (a *ActorDoc) UnmarshalJSON(data []byte) error {
	type plain ActorDoc
	var w struct {
		plain
		Type      asType       `json:"type"`
		URL       oneIRI       `json:"url"`
		Name      oneString    `json:"name"`
		Summary   oneString    `json:"summary"`
		Inbox     oneIRI       `json:"inbox"`
		Outbox    oneIRI       `json:"outbox"`
		Followers oneIRI       `json:"followers"`
		Following oneIRI       `json:"following"`
		Featured  oneIRI       `json:"featured"`
		PublicKey many[KeyDoc] `json:"publicKey"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*a = ActorDoc(w.plain)
	a.Type, a.URL, a.Name, a.Summary = string(w.Type), string(w.URL), string(w.Name), string(w.Summary)
	a.Inbox, a.Outbox, a.Followers, a.Following, a.Featured = string(w.Inbox), string(w.Outbox), string(w.Followers), string(w.Following), string(w.Featured)
	a.PublicKey = nil
	if len(w.PublicKey) > 0 {
		a.PublicKey = &w.PublicKey[0]
	}
	return nil
}

// PropertyValue is a named profile field.
type PropertyValue struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// bceField names the profile field of the enterprise number.
const bceField = "BCE/KBO"

// maxAttachments bounds the profile fields read from a peer's actor.
const maxAttachments = 32

// Attachments reads an actor's attachment leniently: one object or a list,
// keeping the PropertyValues (at most maxAttachments) and skipping what
// it does not understand, so that an odd profile field of a fediverse
// account does not make its whole actor unreadable.
type Attachments []PropertyValue

// UnmarshalJSON implements json.Unmarshaler.
func (as *Attachments) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		raw = []json.RawMessage{data}
	}
	*as = nil
	for _, r := range raw {
		var p PropertyValue
		if json.Unmarshal(r, &p) != nil || p.Type != "PropertyValue" || len(p.Name) > 200 || len(p.Value) > 2000 {
			continue
		}
		if *as = append(*as, p); len(*as) == maxAttachments {
			break
		}
	}
	return nil
}

// Identifiers returns the legal identifiers an actor states: its BCE/KBO
// enterprise number when a profile field named so (or KBO/BCE, BCE, KBO)
// holds a valid one, markup and spacing aside.
func (a *ActorDoc) Identifiers() []directory.Identifier {
	var out []directory.Identifier
	for _, p := range a.Attachment {
		switch strings.ToUpper(strings.TrimSpace(p.Name)) {
		case bceField, "KBO/BCE", "BCE", "KBO":
		default:
			continue
		}
		n, ok := directory.NormalBCE(stripTags(p.Value))
		if ok && !slices.ContainsFunc(out, func(id directory.Identifier) bool { return id.Value == n }) {
			out = append(out, directory.Identifier{Scheme: directory.SchemeBCE, Value: n})
		}
	}
	return out
}

// stripTags removes HTML tags: Mastodon writes profile values as HTML.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Endpoints lists an actor's shared endpoints.
type Endpoints struct {
	SharedInbox string `json:"sharedInbox,omitempty"`
}

// KeyDoc is an actor's published RSA key.
type KeyDoc struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPem string `json:"publicKeyPem"`
}

// SealingDoc is the public HPKE key partners seal referral data to.
type SealingDoc struct {
	ID        string `json:"id"`
	KEM       string `json:"kem"` // "ML-KEM-768+X25519" (HPKE KEM 0x647a)
	PublicKey string `json:"publicKeyBase64"`
}

// Actor returns the node's actor document.
func (f *Federator) Actor(ctx context.Context) (*ActorDoc, error) {
	org, err := f.o.Catalog.Organization(ctx)
	if err != nil {
		return nil, err
	}
	a := &ActorDoc{
		Context:                   ldContext,
		ID:                        f.actorID,
		Type:                      "Organization",
		PreferredUsername:         f.o.Handle,
		Name:                      org.Name.In("fr"),
		Summary:                   textHTML(org.Description.In("fr")),
		NameMap:                   langMap(org.Name, func(s string) string { return s }),
		SummaryMap:                langMap(org.Description, textHTML),
		URL:                       f.base + "/",
		Inbox:                     f.base + "/inbox",
		Outbox:                    f.base + "/outbox",
		Followers:                 f.base + "/followers",
		Following:                 f.base + "/following",
		Featured:                  f.base + "/featured",
		ManuallyApprovesFollowers: true,
		Discoverable:              true,
		Endpoints:                 &Endpoints{SharedInbox: f.base + "/inbox"},
		PublicKey:                 &KeyDoc{ID: f.keyID, Owner: f.actorID, PublicKeyPem: PublicKeyPEM(&f.o.Key.PublicKey)},
	}
	if bce := org.BCE(); bce != "" {
		a.Attachment = Attachments{{Type: "PropertyValue", Name: bceField, Value: bce}}
	}
	if len(f.o.SealingKey) > 0 {
		a.SealingKey = &SealingDoc{ID: f.actorID + "#sealing-key", KEM: "ML-KEM-768+X25519", PublicKey: base64.StdEncoding.EncodeToString(f.o.SealingKey)}
	}
	return a, nil
}

// parseActor reads a peer's actor document and checks that it is served
// from where it claims to be.
func parseActor(data []byte, fetchedFrom string) (*ActorDoc, error) {
	if err := checkDepth(data, maxJSONDepth); err != nil {
		return nil, err
	}
	var a ActorDoc
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("federation: actor document: %w", err)
	}
	if a.ID == "" || a.Inbox == "" || a.PublicKey == nil {
		return nil, errors.New("federation: actor document lacks id, inbox or publicKey")
	}
	if hostOf(a.ID) != hostOf(fetchedFrom) || hostOf(a.Inbox) != hostOf(a.ID) {
		return nil, errors.New("federation: actor document served from another host than its id")
	}
	for _, iri := range []string{a.ID, a.Inbox, a.Outbox, a.Followers, a.Following} {
		if iri != "" && !validIRI(iri) {
			return nil, fmt.Errorf("federation: actor has an invalid IRI %q", iri)
		}
	}
	if a.Endpoints != nil && a.Endpoints.SharedInbox != "" && (!validIRI(a.Endpoints.SharedInbox) || hostOf(a.Endpoints.SharedInbox) != hostOf(a.ID)) {
		a.Endpoints.SharedInbox = ""
	}
	a.Name = cutUTF8(a.Name, maxActorName)
	a.NameMap = knownLangs(a.NameMap, maxActorName)
	a.SummaryMap = knownLangs(a.SummaryMap, maxActorSummary)
	return &a, nil
}

// Bounds of what a peer's actor may say of itself, in bytes: longer
// texts are cut, not refused, so that a verbose profile still partners.
const (
	maxActorName    = 500
	maxActorSummary = 5000
)

// cutUTF8 cuts s to at most n bytes, never inside a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// knownLangs keeps the languages of a peer's map that pages are written
// in (fr, nl, en; "nl-BE" counts as nl), one value each, cut to n bytes.
func knownLangs(m LangMap, n int) LangMap {
	var out LangMap
	for _, v := range m {
		l, ok := directory.ParseLang(v.Lang)
		text := strings.TrimSpace(cutUTF8(v.Value, n))
		if !ok || text == "" || out.Get(string(l)) != "" {
			continue
		}
		out = append(out, LangValue{Lang: string(l), Value: text})
	}
	return out
}

// langMap writes t as a language map, French first then the other
// languages in their usual order, each value through conv.
func langMap(t directory.Text, conv func(string) string) LangMap {
	var m LangMap
	for _, l := range directory.Langs {
		if v := strings.TrimSpace(t[l]); v != "" {
			m = append(m, LangValue{Lang: string(l), Value: conv(v)})
		}
	}
	return m
}

// Names returns the actor's name in each language its nameMap gives;
// none for an actor that writes only a plain name (Mastodon), whose
// Name then stands for every language.
func (a *ActorDoc) Names() directory.Text {
	t := directory.Text{}
	for _, v := range a.NameMap {
		if l, ok := directory.ParseLang(v.Lang); ok {
			t.Set(l, v.Value)
		}
	}
	return t
}

// FetchActor dereferences an actor IRI.
func (f *Federator) FetchActor(ctx context.Context, iri string, fresh bool) (*ActorDoc, error) {
	if !validIRI(iri) {
		return nil, fmt.Errorf("federation: %q is not a valid actor IRI", iri)
	}
	data, err := f.client.Get(ctx, iri, fresh)
	if err != nil {
		return nil, err
	}
	return parseActor(data, iri)
}

// keyCache resolves keyIds to keys through actor documents.
type keyCache struct {
	client *Client
	mu     sync.Mutex
	keys   map[string]*PublicKey
}

// PublicKey implements KeySource. Key ids look like actor#main-key or
// actor/main-key; the document fetched may be the key or its actor.
func (k *keyCache) PublicKey(ctx context.Context, keyID string, refresh bool) (*PublicKey, error) {
	k.mu.Lock()
	if k.keys == nil {
		k.keys = map[string]*PublicKey{}
	}
	pk, ok := k.keys[keyID]
	k.mu.Unlock()
	if ok && !refresh {
		return pk, nil
	}
	docURL, _, _ := strings.Cut(keyID, "#")
	data, err := k.client.Get(ctx, docURL, refresh)
	if err != nil {
		return nil, err
	}
	var doc struct {
		ID           string  `json:"id"`
		Owner        string  `json:"owner"`
		PublicKeyPem string  `json:"publicKeyPem"`
		PublicKey    *KeyDoc `json:"publicKey"`
	}
	if err := checkDepth(data, maxJSONDepth); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("federation: key document: %w", err)
	}
	kd := doc.PublicKey
	if kd == nil && doc.PublicKeyPem != "" { // the key document itself
		kd = &KeyDoc{ID: doc.ID, Owner: doc.Owner, PublicKeyPem: doc.PublicKeyPem}
	}
	if kd == nil || kd.ID != keyID || kd.Owner == "" {
		return nil, fmt.Errorf("federation: %s does not publish key %s", docURL, keyID)
	}
	if hostOf(kd.Owner) != hostOf(keyID) {
		return nil, errors.New("federation: key owner on another host than the key")
	}
	pub, err := ParsePublicKeyPEM(kd.PublicKeyPem)
	if err != nil {
		return nil, err
	}
	pk = &PublicKey{ID: keyID, Owner: kd.Owner, Key: pub}
	k.mu.Lock()
	if len(k.keys) > 4096 {
		clear(k.keys)
	}
	k.keys[keyID] = pk
	k.mu.Unlock()
	return pk, nil
}
