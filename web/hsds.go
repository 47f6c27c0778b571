package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/search"
	"github.com/maillage/maillage/web/account"
)

// The HSDS read API serves records for display: every HSDS field is
// filled in the requested language (lang parameter or Accept-Language),
// with the other languages under translations.

// hsdsPage is the HSDS 3.0 Page envelope.
type hsdsPage[T any] struct {
	TotalItems int  `json:"total_items"`
	TotalPages int  `json:"total_pages"`
	PageNumber int  `json:"page_number"`
	Size       int  `json:"size"`
	FirstPage  bool `json:"first_page"`
	LastPage   bool `json:"last_page"`
	Empty      bool `json:"empty"`
	Contents   []T  `json:"contents"`
}

func newPage[T any](all []T, page, perPage int) hsdsPage[T] {
	p := hsdsPage[T]{TotalItems: len(all), PageNumber: page, Contents: []T{}}
	p.TotalPages = (len(all) + perPage - 1) / perPage
	if start := (page - 1) * perPage; start < len(all) {
		p.Contents = all[start:min(start+perPage, len(all))]
	}
	p.Size = len(p.Contents)
	p.FirstPage = page == 1
	p.LastPage = page >= p.TotalPages
	p.Empty = len(all) == 0
	return p
}

func (s *Server) hsdsEncoder(r *http.Request) directory.HSDSEncoder {
	return directory.HSDSEncoder{Taxonomy: s.Catalog.Taxonomy(), Lang: requestLang(r), Display: true}
}

func (s *Server) hsdsRoot(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	writeJSON(w, http.StatusOK, map[string]string{
		"version":     "3.0",
		"profile":     "https://docs.openreferral.org/en/latest/hsds/",
		"openapi_url": "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json",
	})
	return nil
}

// serviceFilter is the HSDS services query: search, taxonomy_term_id
// (a term's id or code; a top category includes its terms),
// organization_id and modified_after.
type serviceFilter struct {
	search, term, org string
	after             time.Time
}

func (s *Server) parseServiceFilter(r *http.Request) (serviceFilter, error) {
	q := r.URL.Query()
	f := serviceFilter{search: q.Get("search"), org: q.Get("organization_id")}
	if len(f.search) > 500 {
		return f, fmt.Errorf("search is longer than 500 characters: %w", errBadQuery)
	}
	if v := q.Get("taxonomy_term_id"); v != "" {
		tax := s.Catalog.Taxonomy()
		if t, ok := tax.TermByID(v); ok {
			f.term = t.Code
		} else if _, ok := tax.Category(v); ok {
			f.term = v
		} else {
			return f, fmt.Errorf("taxonomy_term_id %q is not a term of this node's taxonomy: %w", v, errBadQuery)
		}
	}
	if v := q.Get("modified_after"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t, err = time.Parse(time.DateOnly, v)
		}
		if err != nil {
			return f, fmt.Errorf("modified_after must be a date or RFC 3339 date-time: %w", errBadQuery)
		}
		f.after = t
	}
	return f, nil
}

func (f serviceFilter) match(tax *directory.Taxonomy, sv *directory.Service) bool {
	if f.org != "" && sv.OrganizationID != f.org {
		return false
	}
	if !f.after.IsZero() && !sv.Updated.After(f.after) {
		return false
	}
	if f.term != "" {
		found := false
		for _, c := range tax.Expand(sv.Categories) {
			if c == f.term {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// maxTextMatches bounds the services a text search of the HSDS list reads.
const maxTextMatches = 10_000

// textMatches returns the ids of the node's own services matching text
// through the search engine, or nil when text is empty.
func (s *Server) textMatches(text string) (map[string]bool, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	if s.Search == nil {
		return nil, errNotReady
	}
	ids := map[string]bool{}
	for page := 1; len(ids) < maxTextMatches; page++ {
		res, err := s.Search.Search(search.Query{Text: text, Scope: search.ScopeLocal, Page: page, PerPage: search.MaxPerPage})
		if errors.Is(err, search.ErrNotReady) {
			return nil, fmt.Errorf("%w: %v", errNotReady, err)
		}
		if errors.Is(err, search.ErrQuery) {
			return nil, fmt.Errorf("%s: %w", err, errBadQuery)
		}
		if err != nil {
			return nil, err
		}
		for _, h := range res.Hits {
			ids[h.Service.ID] = true
		}
		if len(res.Hits) < search.MaxPerPage {
			break
		}
	}
	return ids, nil
}

func (s *Server) hsdsServices(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	page, perPage, err := paging(r, 50, 500)
	if err != nil {
		return err
	}
	f, err := s.parseServiceFilter(r)
	if err != nil {
		return err
	}
	enc := s.hsdsEncoder(r)
	tax := s.Catalog.Taxonomy()
	matched, err := s.textMatches(f.search)
	if err != nil {
		return err
	}
	if f == (serviceFilter{}) {
		// The whole list, a page of it: the services of that page alone
		// are read, not every one.
		return s.hsdsServicesPage(w, r, enc, page, perPage)
	}
	var all []*directory.Service
	err = s.Catalog.ForEachService(r.Context(), func(sv *directory.Service) error {
		if (matched == nil || matched[sv.ID]) && f.match(tax, sv) {
			all = append(all, sv)
		}
		return nil
	})
	if err != nil {
		return err
	}
	pg := newPage(all, page, perPage)
	out := hsdsPage[directory.HSDSService]{TotalItems: pg.TotalItems, TotalPages: pg.TotalPages, PageNumber: pg.PageNumber,
		Size: pg.Size, FirstPage: pg.FirstPage, LastPage: pg.LastPage, Empty: pg.Empty, Contents: []directory.HSDSService{}}
	for _, sv := range pg.Contents {
		out.Contents = append(out.Contents, enc.Service(sv, nil, nil))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// hsdsServicesPage answers a page of the unfiltered list, counting the
// services by their keys and reading only the page's.
func (s *Server) hsdsServicesPage(w http.ResponseWriter, r *http.Request, enc directory.HSDSEncoder, page, perPage int) error {
	total, err := s.Catalog.CountServices(r.Context())
	if err != nil {
		return err
	}
	var contents []*directory.Service
	if err := s.Catalog.ServicesPage(r.Context(), (page-1)*perPage, perPage, func(sv *directory.Service) error {
		contents = append(contents, sv)
		return nil
	}); err != nil {
		return err
	}
	pg := newPage(contents, 1, perPage)
	out := hsdsPage[directory.HSDSService]{TotalItems: total, TotalPages: (total + perPage - 1) / perPage, PageNumber: page,
		Size: pg.Size, FirstPage: page == 1, Empty: total == 0, Contents: []directory.HSDSService{}}
	out.LastPage = page >= out.TotalPages
	for _, sv := range contents {
		out.Contents = append(out.Contents, enc.Service(sv, nil, nil))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) hsdsService(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	sv, err := s.Catalog.Service(r.Context(), id)
	if err != nil {
		return err
	}
	locs := map[string]*directory.Location{}
	for _, lid := range sv.Locations {
		if l, err := s.Catalog.Location(r.Context(), lid); err == nil {
			locs[lid] = l
		}
	}
	org, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.hsdsEncoder(r).Service(sv, locs, org))
	return nil
}

func (s *Server) hsdsOrganizations(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	page, perPage, err := paging(r, 50, 500)
	if err != nil {
		return err
	}
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage([]directory.HSDSOrganization{s.hsdsEncoder(r).Organization(o)}, page, perPage))
	return nil
}

func (s *Server) hsdsOrganization(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return err
	}
	if o.ID != id {
		return fmt.Errorf("organization %s: %w", id, directory.ErrNotFound)
	}
	enc := s.hsdsEncoder(r)
	wo := enc.Organization(o)
	err = s.Catalog.ForEachService(r.Context(), func(sv *directory.Service) error {
		wo.Services = append(wo.Services, enc.Service(sv, nil, nil))
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wo)
	return nil
}

func (s *Server) hsdsTaxonomies(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	page, perPage, err := paging(r, 50, 500)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage([]directory.HSDSTaxonomy{s.hsdsEncoder(r).TaxonomyRecord()}, page, perPage))
	return nil
}

func (s *Server) hsdsTaxonomy(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	if pathVar(r, "id") != directory.TaxonomyID {
		return fmt.Errorf("taxonomy: %w", directory.ErrNotFound)
	}
	writeJSON(w, http.StatusOK, s.hsdsEncoder(r).TaxonomyRecord())
	return nil
}

func (s *Server) hsdsTerms(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	page, perPage, err := paging(r, 100, 500)
	if err != nil {
		return err
	}
	enc := s.hsdsEncoder(r)
	tax := s.Catalog.Taxonomy()
	search := directory.Fold(r.URL.Query().Get("search"))
	var all []directory.HSDSTaxonomyTerm
	for _, t := range append(append([]directory.Term{}, tax.Categories...), tax.Terms...) {
		wt := enc.Term(t, enc.Lang)
		if search != "" && !strings.Contains(directory.Fold(strings.Join(t.Names(), " ")), search) {
			continue
		}
		all = append(all, wt)
	}
	writeJSON(w, http.StatusOK, newPage(all, page, perPage))
	return nil
}

func (s *Server) hsdsTerm(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	t, ok := s.Catalog.Taxonomy().TermByID(pathVar(r, "id"))
	if !ok {
		return fmt.Errorf("taxonomy term: %w", directory.ErrNotFound)
	}
	enc := s.hsdsEncoder(r)
	writeJSON(w, http.StatusOK, enc.Term(t, enc.Lang))
	return nil
}
