package federation

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// ServicePage is how a service travels: a Page any fediverse server can
// show (name, summary, content, url, location, category tags), carrying
// the full HSDS record in the "hsds" extension that Maillage nodes read.
type ServicePage struct {
	Context      any                    `json:"@context,omitempty"`
	ID           string                 `json:"id"`
	Type         string                 `json:"type"`
	AttributedTo string                 `json:"attributedTo"`
	Name         string                 `json:"name"`
	NameMap      map[string]string      `json:"nameMap,omitempty"`
	Summary      string                 `json:"summary,omitempty"`
	SummaryMap   map[string]string      `json:"summaryMap,omitempty"`
	Content      string                 `json:"content,omitempty"`
	URL          string                 `json:"url"`
	Published    string                 `json:"published,omitempty"`
	Updated      string                 `json:"updated,omitempty"`
	To           []string               `json:"to,omitempty"`
	Cc           []string               `json:"cc,omitempty"`
	Tag          []Tag                  `json:"tag,omitempty"`
	Location     []Place                `json:"location,omitempty"`
	HSDS         *directory.HSDSService `json:"hsds,omitempty"`
}

// Tag is a category of a service as a fediverse hashtag.
type Tag struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Href string `json:"href,omitempty"`
}

// Place is where a service is delivered.
type Place struct {
	Type      string  `json:"type"`
	Name      string  `json:"name"`
	Latitude  float64 `json:"latitude,omitempty"`
	Longitude float64 `json:"longitude,omitempty"`
}

func langMap(t directory.Text) map[string]string {
	if len(t) < 2 {
		return nil // a single language is the plain property
	}
	m := map[string]string{}
	for l, v := range t {
		m[string(l)] = v
	}
	return m
}

// servicePage converts a local service. Its updated is to the
// nanosecond: the version partners order a service's changes by, and two
// changes within a second must not tie.
func (f *Federator) servicePage(s *directory.Service, locs map[string]*directory.Location) *ServicePage {
	tax := f.o.Catalog.Taxonomy()
	wire := directory.HSDSEncoder{Taxonomy: tax, Lang: directory.FR}.Service(s, nil, nil)
	p := &ServicePage{
		ID:           f.serviceURI(s.ID),
		Type:         typePage,
		AttributedTo: f.actorID,
		Name:         s.Name.In(directory.FR),
		NameMap:      langMap(s.Name),
		Summary:      s.Description.In(directory.FR),
		SummaryMap:   langMap(s.Description),
		Content:      "<p>" + html.EscapeString(s.Description.In(directory.FR)) + "</p>",
		URL:          f.serviceURI(s.ID),
		Published:    s.Created.UTC().Format(time.RFC3339),
		Updated:      s.Updated.UTC().Format(time.RFC3339Nano),
		To:           []string{Public},
		Cc:           []string{f.base + "/followers"},
		HSDS:         &wire,
	}
	for _, c := range s.Categories {
		if term, ok := tax.Category(c); ok {
			p.Tag = append(p.Tag, Tag{Type: "Hashtag", Name: "#" + hashtag(term.Labels.In(directory.FR))})
		}
	}
	for _, id := range s.Locations {
		if l := locs[id]; l != nil && l.Point != nil {
			p.Location = append(p.Location, Place{Type: "Place", Name: l.Name.In(directory.FR), Latitude: l.Point.Lat, Longitude: l.Point.Lon})
		}
	}
	return p
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

// partnerService reads a partner's service page: the HSDS record must be
// there, valid, and attributed to the sending actor on the same host.
func (f *Federator) partnerService(raw json.RawMessage, actor string, provider string) (*directory.PartnerService, error) {
	var p ServicePage
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("federation: service object: %w", err)
	}
	if p.Type != typePage || !validIRI(p.ID) || p.HSDS == nil {
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
	for _, pl := range p.Location {
		pt := directory.Point{Lat: pl.Latitude, Lon: pl.Longitude}
		if pt.Lat >= -90 && pt.Lat <= 90 && pt.Lon >= -180 && pt.Lon <= 180 && pt != (directory.Point{}) && len(ps.Points) < 20 {
			ps.Points = append(ps.Points, pt)
		}
	}
	return ps, nil
}
