package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/search"
	"github.com/maillage/maillage/web/account"
)

// Similarer finds services like a given one (the search index does).
type Similarer interface {
	Similar(d search.Doc, n int, minScore float64, l directory.Lang) ([]search.SimilarHit, error)
}

type similarView struct {
	ID           string          `json:"id"`
	URI          string          `json:"uri"`
	Name         string          `json:"name"`
	Organization string          `json:"organization"`
	Local        bool            `json:"local"`
	Score        float64         `json:"score"`
	DistanceKm   *float64        `json:"distance_km"`
	Reasons      []search.Reason `json:"reasons"`
}

// errUnknownService answers a lookup of a service the node does not know.
var errUnknownService = notFound("no service of this node or of its partners has this id or address: " +
	"give ?service= with one of the node's service ids, or ?uri= with the address of a partner's service as its search results give it")

// similarDoc is the service to compare: one of the node's, by id; any
// service the node knows, its own or a partner's, by address; or the
// body of a service being created (the same JSON as a create).
func (s *Server) similarDoc(w http.ResponseWriter, r *http.Request) (search.Doc, error) {
	q := r.URL.Query()
	id, uri := q.Get("service"), q.Get("uri")
	if own, ok := strings.CutPrefix(uri, s.BaseURL+"/services/"); ok && id == "" {
		id, uri = own, ""
	}
	if id != "" {
		sv, err := s.Catalog.Service(r.Context(), id)
		if errors.Is(err, directory.ErrNotFound) {
			return search.Doc{}, errUnknownService
		}
		if err != nil {
			return search.Doc{}, err
		}
		return s.docOf(r, sv), nil
	}
	if uri != "" {
		if len(uri) > 2048 || s.Network == nil {
			return search.Doc{}, errUnknownService
		}
		ps, err := s.Network.PartnerService(r.Context(), uri)
		if errors.Is(err, directory.ErrNotFound) || (err == nil && ps.Service == nil) {
			return search.Doc{}, errUnknownService
		}
		if err != nil {
			return search.Doc{}, err
		}
		return search.PartnerDoc(ps), nil
	}
	var body []byte
	var err error
	if r.ContentLength != 0 {
		body, err = readJSON(w, r)
	}
	if errors.Is(err, io.EOF) || (err == nil && len(body) == 0) {
		var p directory.Problems
		p.Add("service", "give ?service={id}, ?uri={a partner's service address}, or the service as a JSON body")
		return search.Doc{}, p
	}
	if err != nil {
		return search.Doc{}, err
	}
	sv, err := directory.DecodeService(body, s.Catalog.Taxonomy())
	if err != nil {
		return search.Doc{}, err
	}
	sv.ID = "" // a service being written: never itself
	return s.docOf(r, sv), nil
}

// docOf is the document of one of the node's services, points included.
func (s *Server) docOf(r *http.Request, sv *directory.Service) search.Doc {
	d := search.Doc{Service: sv, Actor: s.BaseURL + "/actor", Local: true}
	if sv.ID != "" {
		d.URI = s.BaseURL + "/services/" + sv.ID
	}
	for _, id := range sv.Locations {
		if l, err := s.Catalog.Location(r.Context(), id); err == nil && l.Point != nil {
			d.Points = append(d.Points, *l.Point)
		}
	}
	return d
}

// similarServices lists the services (the node's and its partners') that
// may already do what a service does, nearby, best first, with reasons.
func (s *Server) similarServices(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	sim, ok := s.Search.(Similarer)
	if !ok || s.Search == nil {
		return errNotReady
	}
	d, err := s.similarDoc(w, r)
	if err != nil {
		return err
	}
	n := 10
	if raw := r.URL.Query().Get("limit"); raw != "" {
		if n, err = strconv.Atoi(raw); err != nil || n < 1 || n > search.MaxPerPage {
			var p directory.Problems
			p.Add("limit", "must be between 1 and %d", search.MaxPerPage)
			return p
		}
	}
	hits, err := sim.Similar(d, n, search.SimilarThreshold, requestLang(r))
	if errors.Is(err, search.ErrNotReady) {
		w.Header().Set("Retry-After", "5")
		return fmt.Errorf("%w: %v", errNotReady, err)
	}
	if err != nil {
		return err
	}
	out := []similarView{}
	lang := requestLang(r)
	for _, h := range hits {
		v := similarView{ID: h.Service.ID, URI: h.URI, Name: h.Service.Name.In(lang), Organization: h.Provider, Score: h.Score,
			DistanceKm: h.DistanceKm, Reasons: h.Reasons, Local: h.Actor == s.BaseURL+"/actor"}
		if v.Reasons == nil {
			v.Reasons = []search.Reason{}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out, "threshold": search.SimilarThreshold})
	return nil
}
