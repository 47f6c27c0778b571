package web

import (
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
)

// Ending a partnership is not undone by a click: the partner must accept
// a new request. So "end" first shows what ending does, and only the form
// of that page (a plain POST, no script needed) ends it.

// graceTeller is a network that says how long a former partner's
// services stay in the directory (the federator does, from its options).
type graceTeller interface {
	EndGrace() time.Duration
}

type partnerEndPage struct {
	ID   string
	Name string
	// Grace says how long the partner's services stay, in words; empty
	// when the network does not tell.
	Grace string
	// Replicated is whether this node holds the partner's services.
	Replicated bool
	Partner    bool
}

// relationByID finds one relation of the node.
func (s *Server) relationByID(r *http.Request, id string) (*federation.Relation, error) {
	rels, err := s.Network.Relations(r.Context())
	if err != nil {
		return nil, err
	}
	for _, rel := range rels {
		if rel.ID == id {
			return rel, nil
		}
	}
	return nil, directory.ErrNotFound
}

// confirmEndPartner explains what ending the relation does, before the
// admin confirms.
func (s *Server) confirmEndPartner(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if s.Network == nil {
		return "", 0, errNotReady
	}
	rel, err := s.relationByID(r, pathVar(r, "id"))
	if err != nil {
		return "", 0, err
	}
	d := partnerEndPage{ID: rel.ID, Name: rel.NameIn(p.Lang), Partner: rel.IsPartner(), Replicated: rel.Ours == federation.StateAccepted}
	if g, ok := s.Network.(graceTeller); ok {
		d.Grace = daysInWords(p, g.EndGrace())
	}
	p.Title, p.Data = p.T("partner end title", d.Name), d
	return "partner-end", http.StatusOK, nil
}

// daysInWords writes a grace period in days: the catalogues have no
// plural forms, so one day has its own words.
func daysInWords(p *pageData, d time.Duration) string {
	if n := days(d); n > 1 {
		return p.T("partner end days", n)
	}
	return p.T("partner end one day")
}

// days rounds a duration up to whole days: "services leave after 7 days"
// is what an admin plans with.
func days(d time.Duration) int {
	return max(1, int(math.Ceil(d.Hours()/24)))
}

// endPartnerPage ends the relation once confirmed, and says so on the
// partners page.
func (s *Server) endPartnerPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	rel, err := s.Network.End(r.Context(), pathVar(r, "id"))
	if err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/admin/partners?ended="+url.QueryEscape(rel.ID), http.StatusSeeOther)
	return "", 0, nil
}

// endedNote says on the partners page which relation just ended.
func (s *Server) endedNote(r *http.Request, p *pageData, rels []*federation.Relation) string {
	id := r.URL.Query().Get("ended")
	if id == "" {
		return ""
	}
	for _, rel := range rels {
		if rel.ID == id {
			return p.T("partner ended", rel.NameIn(p.Lang))
		}
	}
	return ""
}

// relationLabel is a relation's state for people: an ended partnership
// says when its services leave the directory.
func (s *Server) relationLabel(p *pageData, rel *federation.Relation) (key, label string) {
	key = rel.State()
	if key == "none" && !rel.EndedAt.IsZero() {
		if g, ok := s.Network.(graceTeller); ok {
			return "ended", p.T("relation ended until", p.Date(rel.EndedAt.Add(g.EndGrace()).In(brussels())))
		}
		return "ended", p.T("relation ended")
	}
	return key, p.T("relation " + key)
}
