package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/search"
	"github.com/maillage/maillage/web/account"
)

// Searcher answers directory searches.
type Searcher interface {
	Search(q search.Query) (*search.Result, error)
}

type searchHit struct {
	ID               string   `json:"id"`
	URI              string   `json:"uri"`
	Name             string   `json:"name"`
	Organization     string   `json:"organization"`
	OrganizationURI  string   `json:"organization_uri"`
	Local            bool     `json:"local"`
	DistanceKm       *float64 `json:"distance_km"`
	ServesArea       bool     `json:"serves_area,omitempty"` // no place: placed by the postcodes it serves`
	Categories       []string `json:"categories"`
	Languages        []string `json:"languages"`
	OpenNow          bool     `json:"open_now"`
	AcceptsReferrals bool     `json:"accepts_referrals"`
	// Capacity is whether the service takes someone new now (null when
	// it does not say); Reviewed the day its association last said it
	// is right, ReviewDue whether that is longer ago than this node's
	// review delay.
	Capacity  *capacityAnswer `json:"capacity"`
	Reviewed  string          `json:"reviewed,omitempty"`
	ReviewDue bool            `json:"review_due"`
}

type searchResponse struct {
	Total   int                            `json:"total"`
	Page    int                            `json:"page"`
	PerPage int                            `json:"per_page"`
	Results []searchHit                    `json:"results"`
	Facets  map[string][]search.FacetCount `json:"facets"`
	// Partial: no service has every word; the results have some of
	// them (matched_words), the most first; missing_words are in no
	// service.
	Partial      bool     `json:"partial,omitempty"`
	MatchedWords []string `json:"matched_words,omitempty"`
	MissingWords []string `json:"missing_words,omitempty"`
}

// parseSearch reads the search parameters; every problem is a 400.
func (s *Server) parseSearch(r *http.Request) (search.Query, error) {
	v := r.URL.Query()
	q := search.Query{
		Text:     v.Get("q"),
		Category: v.Get("category"),
		Audience: v.Get("audience"),
		Language: v.Get("language"),
		Scope:    v.Get("scope"),
		SortBy:   v.Get("sort"),
	}
	var p []string
	num := func(name string, dst *float64) {
		if raw := v.Get(name); raw != "" {
			f, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				p = append(p, name+" must be a number")
			}
			*dst = f
		}
	}
	num("radius_km", &q.RadiusKm)
	if raw := v.Get("near"); raw != "" {
		lat, lon, ok := strings.Cut(raw, ",")
		la, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
		lo, err2 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
		if !ok || err1 != nil || err2 != nil {
			p = append(p, "near must be lat,lon")
		} else {
			q.Near = &directory.Point{Lat: la, Lon: lo}
		}
	}
	if pc := v.Get("postcode"); pc != "" {
		c, ok := search.PostcodeCentre(pc)
		if !ok {
			p = append(p, fmt.Sprintf("postcode %q is not a known Brussels postcode", pc))
		} else if q.Near == nil {
			q.Near = &c
		}
	}
	if raw := v.Get("open_at"); raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			p = append(p, "open_at must be an RFC 3339 date-time")
		}
		q.OpenAt = &t
	}
	if b, _ := strconv.ParseBool(v.Get("open_now")); b && q.OpenAt == nil {
		now := s.Now()
		q.OpenAt = &now
	}
	q.Referrals, _ = strconv.ParseBool(v.Get("referrals"))
	q.HasPlaces = hasPlaces(v)
	if v.Get("sort") == "relevance" {
		q.SortBy = ""
	}
	var err error
	if q.Page, q.PerPage, err = paging(r, 20, search.MaxPerPage); err != nil {
		p = append(p, err.Error())
	}
	if len(p) > 0 {
		return q, fmt.Errorf("%s: %w", strings.Join(p, "; "), errBadQuery)
	}
	return q, nil
}

// hasPlaces reads the "places free now" filter: has_places=true (the
// API) or places=1 (the search page's form).
func hasPlaces(v url.Values) bool {
	for _, name := range []string{"has_places", "places"} {
		if b, _ := strconv.ParseBool(v.Get(name)); b {
			return true
		}
	}
	return false
}

func (s *Server) searchServices(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	if s.Search == nil {
		return errNotReady
	}
	q, err := s.parseSearch(r)
	if err != nil {
		return err
	}
	res, err := s.Search.Search(q)
	if errors.Is(err, search.ErrNotReady) {
		w.Header().Set("Retry-After", "5")
		return fmt.Errorf("%w: %v", errNotReady, err)
	}
	if errors.Is(err, search.ErrQuery) {
		return fmt.Errorf("%s: %w", err, errBadQuery)
	}
	if err != nil {
		return err
	}
	lang := requestLang(r)
	out := searchResponse{Total: res.Total, Page: q.Page, PerPage: q.PerPage, Results: []searchHit{}, Facets: res.Facets,
		Partial: res.Partial, MatchedWords: res.Matched, MissingWords: res.Missing}
	for _, h := range res.Hits {
		out.Results = append(out.Results, searchHit{
			ID: h.Service.ID, URI: h.URI, Name: h.Service.Name.In(lang), Organization: h.Provider, OrganizationURI: h.Actor,
			Local: h.Local, DistanceKm: h.DistanceKm, ServesArea: h.AreaOnly, Categories: nonNil(h.Service.Categories), Languages: nonNil(h.Service.Languages),
			OpenNow: h.OpenNow, AcceptsReferrals: h.Service.AcceptsReferrals(),
			Capacity: capacityAnswerOf(h.Service.Capacity, s.Now()), ReviewDue: h.Service.ReviewDue(s.Now(), s.Catalog.ReviewAfter()),
		})
		if r := h.Service.ReviewedAt(); !r.IsZero() {
			out.Results[len(out.Results)-1].Reviewed = directory.DateOf(r)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
