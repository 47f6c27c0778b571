package federation

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// ServicePage is how a service travels: a Note any fediverse server
// shows in full, whose HTML content is what people read (the name as a
// link, a short description, where and when, the categories as
// hashtags), in every language the service is written in (contentMap,
// the service's main language first), with the name (nameMap), url,
// location and tags beside it for software, and the full HSDS record in
// the "hsds" extension that Maillage nodes read.
//
// It is a Note, not a Page, because Mastodon shows a Page as its name and
// a link, without its content. It has no summary and no plain name:
// Mastodon and GoToSocial show a summary as a content warning, and
// GoToSocial shows a plain name as one when there is no summary. Pages
// from nodes of earlier versions are still read.
type ServicePage struct {
	Context      any                    `json:"@context,omitempty"`
	ID           string                 `json:"id"`
	Type         string                 `json:"type"`
	AttributedTo string                 `json:"attributedTo"`
	Name         string                 `json:"name,omitempty"`
	NameMap      LangMap                `json:"nameMap,omitempty"`
	Content      string                 `json:"content,omitempty"`
	ContentMap   LangMap                `json:"contentMap,omitempty"`
	URL          string                 `json:"url"`
	Published    string                 `json:"published,omitempty"`
	Updated      string                 `json:"updated,omitempty"`
	To           []string               `json:"to,omitempty"`
	Cc           []string               `json:"cc,omitempty"`
	Tag          []Tag                  `json:"tag,omitempty"`
	Location     []Place                `json:"location,omitempty"`
	HSDS         *directory.HSDSService `json:"hsds,omitempty"`
}

// UnmarshalJSON reads a service page in every shape ActivityStreams
// allows for its properties (one value or a list, an IRI or a Link for
// url); what Maillage does not read is left aside.
func (p *ServicePage) UnmarshalJSON(data []byte) error {
	var w struct {
		ID           oneIRI                 `json:"id"`
		Type         asType                 `json:"type"`
		AttributedTo oneIRI                 `json:"attributedTo"`
		Name         oneString              `json:"name"`
		NameMap      LangMap                `json:"nameMap"`
		Content      oneString              `json:"content"`
		ContentMap   LangMap                `json:"contentMap"`
		URL          oneIRI                 `json:"url"`
		Published    oneString              `json:"published"`
		Updated      oneString              `json:"updated"`
		To           iriList                `json:"to"`
		Cc           iriList                `json:"cc"`
		Tag          many[Tag]              `json:"tag"`
		Location     many[Place]            `json:"location"`
		HSDS         *directory.HSDSService `json:"hsds"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*p = ServicePage{ID: string(w.ID), Type: string(w.Type), AttributedTo: string(w.AttributedTo), Name: string(w.Name),
		NameMap: w.NameMap, Content: string(w.Content), ContentMap: w.ContentMap, URL: string(w.URL), Published: string(w.Published), Updated: string(w.Updated),
		To: w.To, Cc: w.Cc, Tag: w.Tag, Location: w.Location, HSDS: w.HSDS}
	return nil
}

// Tag is a category of a service as a fediverse hashtag.
type Tag struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Href string `json:"href,omitempty"`
}

// servicePage converts a local service. A service never edited has no
// updated (a fediverse server would show it as edited); an edited one
// has its updated to the nanosecond: the version partners order a
// service's changes by, and two changes within a second must not tie.
func (f *Federator) servicePage(s *directory.Service, locs map[string]*directory.Location) *ServicePage {
	tax := f.o.Catalog.Taxonomy()
	wire := directory.HSDSEncoder{Taxonomy: tax, Lang: directory.FR}.Service(s, nil, nil)
	lang := s.Name.Primary()
	p := &ServicePage{
		ID:           f.serviceURI(s.ID),
		Type:         typeNote,
		AttributedTo: f.actorID,
		URL:          f.serviceURI(s.ID),
		Published:    s.Created.UTC().Format(time.RFC3339),
		To:           []string{Public},
		Cc:           []string{f.base + "/followers"},
		HSDS:         &wire,
	}
	if s.Updated.After(s.Created) {
		p.Updated = s.Updated.UTC().Format(time.RFC3339Nano)
	}
	for _, c := range s.Categories {
		if term, ok := tax.Category(c); ok {
			p.Tag = append(p.Tag, Tag{Type: "Hashtag", Name: "#" + hashtag(term.Labels.In(lang)), Href: f.categoryURL(c)})
		}
	}
	var places []*directory.Location
	for _, id := range s.Locations {
		if l := locs[id]; l != nil {
			places = append(places, l)
			p.Location = append(p.Location, placeOf(l, lang))
		}
	}
	for _, l := range append([]directory.Lang{lang}, directory.Langs...) {
		if s.Name[l] != "" && p.NameMap.Get(string(l)) == "" {
			p.NameMap = append(p.NameMap, LangValue{string(l), s.Name[l]})
			p.ContentMap = append(p.ContentMap, LangValue{string(l), f.postContent(s, places, l)})
		}
	}
	p.Content = p.ContentMap.Get(string(lang))
	return p
}

// categoryURL is the node's search page for one category: where a
// hashtag of the category leads.
func (f *Federator) categoryURL(code string) string {
	return f.base + "/search?category=" + url.QueryEscape(code)
}

func hashtag(label string) string {
	var b strings.Builder
	for _, w := range strings.Fields(directory.Fold(label)) {
		w = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, w)
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// isServiceType reports whether an object of type t may be a service: a
// Note, or a Page as nodes of earlier versions sent.
func isServiceType(t string) bool { return t == typeNote || t == typePage }

// partnerService reads a partner's service page: the HSDS record must be
// there, valid, and attributed to the sending actor on the same host.
func (f *Federator) partnerService(raw json.RawMessage, actor string, provider string) (*directory.PartnerService, error) {
	var p ServicePage
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("federation: service object: %w", err)
	}
	if !isServiceType(p.Type) || !validIRI(p.ID) || p.HSDS == nil {
		return nil, errors.New("federation: object is not a Maillage service page")
	}
	if p.AttributedTo != actor || hostOf(p.ID) != hostOf(actor) {
		return nil, errors.New("federation: service attributed to another actor or host")
	}
	tax := f.o.Catalog.Taxonomy()
	s, err := p.HSDS.Model(tax)
	if err != nil {
		return nil, fmt.Errorf("federation: service record: %w", err)
	}
	// Locations of other nodes are not in this node's store: keep only
	// the service's own fields.
	s.Locations = nil
	if prob := s.Validate(tax); len(prob) > 0 {
		return nil, fmt.Errorf("federation: service record: %w", prob.Err())
	}
	// The page's updated, to the nanosecond, orders the versions; the
	// record's last_modified (to the second) stands in for pages that
	// lack it.
	if t, err := time.Parse(time.RFC3339Nano, p.Updated); err == nil {
		s.Updated = t
	} else if t, err := time.Parse(time.RFC3339, p.HSDS.LastModified); err == nil {
		s.Updated = t
	}
	if t, err := time.Parse(time.RFC3339, p.HSDS.Created); err == nil {
		s.Created = t
	}
	ps := &directory.PartnerService{URI: p.ID, Actor: actor, Provider: provider, Service: s, Received: f.now().UTC()}
	// The places are shown on the service's page; their positions also
	// serve search by distance and the map, as Points did before places
	// travelled whole.
	ps.Places = partnerPlaces(p.Location, s.Name.Primary())
	for _, l := range ps.Places {
		if l.Point != nil {
			ps.Points = append(ps.Points, *l.Point)
		}
	}
	return ps, nil
}
