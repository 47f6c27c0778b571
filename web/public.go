package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/search"
)

// The public pages: what anyone may read without an account. They are
// server-rendered and work without JavaScript; static/app.js only draws
// the map over a list that is already on the page.

// mapData is what static/app.js draws: markers and the tile server.
type mapData struct {
	Tiles       string      `json:"tiles,omitempty"`
	Attribution string      `json:"attribution,omitempty"`
	Markers     []mapMarker `json:"markers"`
}

type mapMarker struct {
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	Name string  `json:"name"`
	URL  string  `json:"url"`
	Info string  `json:"info,omitempty"`
}

func (s *Server) newMap() *mapData {
	m := &mapData{Tiles: s.TileURL, Markers: []mapMarker{}}
	if strings.Contains(s.TileURL, "openstreetmap.org") {
		m.Attribution = "© OpenStreetMap"
	}
	return m
}

// categoryTile is a top-level category on the home page.
type categoryTile struct {
	Code  string
	Label localText
}

type homePage struct {
	Description localText
	Categories  []categoryTile
	Local       int
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return "", 0, err
	}
	d := homePage{Description: p.Local(o.Description)}
	for _, c := range s.Catalog.Taxonomy().Themes() {
		d.Categories = append(d.Categories, categoryTile{Code: c.Code, Label: p.Local(c.Labels)})
	}
	d.Local, err = s.Catalog.CountServices(r.Context())
	p.Nav, p.Data = "home", d
	return "home", http.StatusOK, err
}

// resultView is a search result as the list shows it.
type resultView struct {
	Name       localText
	URL        string
	Provider   string
	Distance   string
	OpenNow    bool
	Referrals  bool
	Languages  []string
	Categories []localText
	// Capacity, ClosedUntil and Stale come from partners too: places
	// free, closed today by a dated change, not reviewed for long.
	Capacity    *capacityView
	ClosedUntil string
	Stale       string
}

type facetView struct {
	Label   localText
	Count   string
	URL     string
	Current bool
}

type searchPage struct {
	Query      url.Values
	Text       string
	Category   string
	Postcode   string
	Radius     string
	OpenNow    bool
	Referrals  bool
	Places     bool
	Categories []categoryTile // for the select
	Total      int
	Results    []resultView
	Facets     []facetView
	Prev, Next string
	Page       int
	Pages      int
	Searched   bool
	// Folded is set once the person searched (the address has criteria):
	// the form folds under a summary so that the results come first.
	Folded bool
	// TotalText is the count in words, with each language's plural.
	TotalText string
	// Partial says the results match part of the words only.
	Partial string
	// Criteria are the active criteria in words, shown above the folded
	// form once a search ran.
	Criteria []string
	// Suggestions are the ways out of a search that found nothing:
	// further, without a filter, another spelling.
	Suggestions []suggestion
}

// suggestion is a link to another search.
type suggestion struct {
	Text string
	URL  string
}

// searchPage runs the same search as the API, from the same parameters:
// its URL is the search, to bookmark or send.
func (s *Server) searchPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	v := r.URL.Query()
	v.Del("lang")
	d := searchPage{Query: v, Text: v.Get("q"), Category: v.Get("category"), Postcode: v.Get("postcode"), Radius: v.Get("radius_km")}
	d.OpenNow, _ = strconv.ParseBool(v.Get("open_now"))
	d.Referrals, _ = strconv.ParseBool(v.Get("referrals"))
	d.Places = hasPlaces(v)
	for _, c := range s.Catalog.Taxonomy().Themes() {
		d.Categories = append(d.Categories, categoryTile{Code: c.Code, Label: p.Local(c.Labels)})
	}
	p.Nav, p.Title, p.Data = "search", p.T("search title"), &d
	if s.Search == nil {
		return "search", http.StatusServiceUnavailable, errNotReady
	}
	q, err := s.parseSearch(r)
	if err != nil {
		p.Error = p.T("search bad query")
		return "search", http.StatusBadRequest, nil
	}
	if q.Near != nil && q.RadiusKm == 0 && d.Postcode != "" {
		q.RadiusKm = 2 // a postcode alone: its neighbourhood
	}
	// The map shows the first hundred results, more than the page's list:
	// on the first page one search gives both; on later pages the list
	// is another page of the same search.
	wide := q
	wide.Page, wide.PerPage = 1, search.MaxPerPage
	res, err := s.Search.Search(wide)
	list := res
	if err == nil && q.Page > 1 {
		list, err = s.Search.Search(q)
	}
	switch {
	case errors.Is(err, search.ErrNotReady):
		w.Header().Set("Retry-After", "5")
		p.Error = p.T("search not ready")
		return "search", http.StatusServiceUnavailable, nil
	case errors.Is(err, search.ErrQuery):
		p.Error = p.T("search bad query")
		return "search", http.StatusBadRequest, nil
	case err != nil:
		return "search", 0, err
	}
	d.Searched, d.Total, d.Page = true, res.Total, q.Page
	d.Pages = (res.Total + q.PerPage - 1) / q.PerPage
	d.Folded = len(v) > 0
	d.TotalText = resultsInWords(p, res.Total)
	if res.Partial && res.Total > 0 {
		d.Partial = p.T("search partial", strings.Join(res.Matched, " "))
	}
	d.Criteria = criteriaInWords(p, &d)
	if res.Total == 0 {
		d.Suggestions = s.noResultSuggestions(p, &d)
	}
	tax := s.Catalog.Taxonomy()
	p.Map = s.newMap()
	for i, h := range res.Hits {
		rv := s.resultView(p, h, tax)
		if q.Page == 1 && i < q.PerPage {
			d.Results = append(d.Results, rv)
		}
		for _, pt := range h.Points {
			if h.AreaOnly {
				break // a postcode's centre is not a place to go to
			}
			p.Map.Markers = append(p.Map.Markers, mapMarker{Lat: pt.Lat, Lon: pt.Lon, Name: rv.Name.Text, URL: rv.URL, Info: rv.Provider})
		}
	}
	if q.Page > 1 {
		for _, h := range list.Hits {
			d.Results = append(d.Results, s.resultView(p, h, tax))
		}
	}
	for _, f := range res.Facets["category"] {
		t, ok := tax.Category(f.Value)
		if !ok {
			continue
		}
		fv := facetView{Label: p.Local(t.Labels), Count: p.Num(f.Count), Current: f.Value == d.Category}
		u := cloneValues(v)
		u.Set("category", f.Value)
		u.Del("page")
		fv.URL = "/search?" + u.Encode()
		d.Facets = append(d.Facets, fv)
		if len(d.Facets) == 12 {
			break
		}
	}
	page := func(n int) string {
		u := cloneValues(v)
		u.Set("page", strconv.Itoa(n))
		return "/search?" + u.Encode()
	}
	if q.Page > 1 {
		d.Prev = page(q.Page - 1)
	}
	if q.Page < d.Pages {
		d.Next = page(q.Page + 1)
	}
	return "search", http.StatusOK, nil
}

// resultsInWords says how many services a search found, with the plural
// of the page's language: French counts 0 and 1 as singular, Dutch and
// English only 1. The catalogue holds plain strings, so the rule is here
// rather than in golang.org/x/text's plural tables; nothing found has
// its own sentence.
func resultsInWords(p *pageData, n int) string {
	switch {
	case n == 0:
		return p.T("search total none")
	case singular(p.Lang, n):
		return p.T("search total one", n)
	}
	return p.T("search total other", n)
}

// singular reports whether a count of n takes the singular in l.
func singular(l directory.Lang, n int) bool {
	if l == directory.FR {
		return n == 0 || n == 1
	}
	return n == 1
}

// criteriaInWords lists what a search asked for, as the folded form's
// summary: the words, theme, postcode, distance and checked options.
func criteriaInWords(p *pageData, d *searchPage) []string {
	var out []string
	if t := strings.TrimSpace(d.Text); t != "" {
		out = append(out, p.T("search quoted", t))
	}
	if c := d.categoryLabel(); c != "" {
		out = append(out, c)
	}
	if d.Postcode != "" {
		out = append(out, p.T("search around", d.Postcode, strconv.Itoa(d.radiusKm())))
	}
	if d.OpenNow {
		out = append(out, p.T("search open now"))
	}
	if d.Referrals {
		out = append(out, p.T("search referrals"))
	}
	if d.Places {
		out = append(out, p.T("search places"))
	}
	return out
}

// categoryLabel is the chosen theme's label, "" when none is.
func (d *searchPage) categoryLabel() string {
	for _, c := range d.Categories {
		if c.Code == d.Category {
			return c.Label.Text
		}
	}
	return ""
}

// radiusKm is the distance the search used around its postcode: the one
// chosen, else the neighbourhood (2 km); 0 without a postcode.
func (d *searchPage) radiusKm() int {
	if d.Postcode == "" {
		return 0
	}
	if r, err := strconv.Atoi(d.Radius); err == nil && r > 0 {
		return r
	}
	return 2
}

// noResultSuggestions are the searches to try when one found nothing:
// the next distance, the search without each of its filters, and the
// closest spellings the index knows of words no service contains.
func (s *Server) noResultSuggestions(p *pageData, d *searchPage) []suggestion {
	var out []suggestion
	link := func(change func(url.Values)) string {
		u := cloneValues(d.Query)
		u.Del("page")
		change(u)
		return "/search?" + u.Encode()
	}
	if r := d.radiusKm(); r > 0 {
		radii := []int{1, 2, 5, 10, 25} // those the form offers
		if i := slices.IndexFunc(radii, func(km int) bool { return km > r }); i >= 0 {
			km := strconv.Itoa(radii[i])
			out = append(out, suggestion{p.T("search widen", km), link(func(u url.Values) { u.Set("radius_km", km) })})
		}
	}
	out = append(out, s.spellingSuggestions(p, d, link)...)
	if c := d.categoryLabel(); c != "" {
		out = append(out, suggestion{p.T("search drop category", c), link(func(u url.Values) { u.Del("category") })})
	}
	if d.Postcode != "" {
		out = append(out, suggestion{p.T("search drop postcode", d.Postcode), link(func(u url.Values) { u.Del("postcode"); u.Del("radius_km") })})
	}
	if d.OpenNow {
		out = append(out, suggestion{p.T("search drop open now"), link(func(u url.Values) { u.Del("open_now") })})
	}
	if d.Referrals {
		out = append(out, suggestion{p.T("search drop referrals"), link(func(u url.Values) { u.Del("referrals") })})
	}
	if d.Places {
		out = append(out, suggestion{p.T("search drop places"), link(func(u url.Values) { u.Del("places"); u.Del("has_places") })})
	}
	if t := strings.TrimSpace(d.Text); t != "" && len(d.Criteria) > 1 {
		out = append(out, suggestion{p.T("search drop words", t), link(func(u url.Values) { u.Del("q") })})
	}
	return out
}

// spellingSearcher is what an index offers for words it does not know.
type spellingSearcher interface {
	CloseWords(text string, n int) []search.Spelling
}

// spellingSuggestions offers the search again with a word no service
// contains replaced by a close one the index knows, at most three.
func (s *Server) spellingSuggestions(p *pageData, d *searchPage, link func(func(url.Values)) string) []suggestion {
	sp, ok := s.Search.(spellingSearcher)
	if !ok || strings.TrimSpace(d.Text) == "" {
		return nil
	}
	var out []suggestion
	for _, w := range sp.CloseWords(d.Text, 3) {
		for _, c := range w.Close {
			if len(out) == 3 {
				return out
			}
			q := replaceWord(d.Text, w.Word, s.spelledAsWritten(c))
			out = append(out, suggestion{p.T("search did you mean", q), link(func(u url.Values) { u.Set("q", q) })})
		}
	}
	return out
}

// spelledAsWritten is how the services write a word the index knows
// folded ("épicerie" for "epicerie"): as in the name of a service that
// contains it, else folded.
func (s *Server) spelledAsWritten(folded string) string {
	res, err := s.Search.Search(search.Query{Text: folded, Page: 1, PerPage: 10})
	if err != nil {
		return folded
	}
	notLetter := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	for _, h := range res.Hits {
		for _, name := range h.Service.Name.All() {
			for _, w := range strings.FieldsFunc(name, notLetter) {
				if directory.Fold(w) == folded {
					return strings.ToLower(w)
				}
			}
		}
	}
	return folded
}

// replaceWord replaces the words of text that fold to word by with.
func replaceWord(text, word, with string) string {
	fields := strings.Fields(text)
	for i, f := range fields {
		if directory.Fold(strings.Trim(f, ".,;:!?\"'()")) == word {
			fields[i] = with
		}
	}
	return strings.Join(fields, " ")
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func (s *Server) resultView(p *pageData, h search.Hit, tax *directory.Taxonomy) resultView {
	rv := resultView{Name: p.Local(h.Service.Name), URL: s.servicePageURL(h.URI), Provider: h.Provider, OpenNow: h.OpenNow,
		Referrals: h.Service.AcceptsReferrals()}
	switch {
	case h.AreaOnly:
		rv.Distance = p.T("search serves area")
	case h.DistanceKm != nil:
		rv.Distance = p.T("km away", *h.DistanceKm)
	}
	rv.Languages = languageNames(p.Lang, h.Service.Languages)
	rv.Capacity = capacityOf(p, h.Service.Capacity)
	rv.ClosedUntil = closedUntil(p, h.Service.Schedule)
	if f := freshnessOf(p, h.Service, s.Catalog.ReviewAfter()); f != nil && f.Stale {
		rv.Stale = f.Text
	}
	for _, c := range h.Service.Categories {
		if t, ok := tax.Category(c); ok && t.Parent != "" {
			rv.Categories = append(rv.Categories, p.Local(t.Labels))
		}
	}
	return rv
}

// servicePageURL is where a service's page is: at its own URI for the
// node's services (the browser's view of the ActivityPub object), and
// here from the replica for partners' ones.
func (s *Server) servicePageURL(uri string) string {
	if id, ok := strings.CutPrefix(uri, s.BaseURL+"/services/"); ok {
		return "/services/" + url.PathEscape(id)
	}
	return "/service?uri=" + url.QueryEscape(uri)
}

// languageNames names language codes in l ("arabe", "Arabisch", "Arabic").
func languageNames(l directory.Lang, codes []string) []string {
	var out []string
	for _, c := range codes {
		k := string(l) + "\x00" + c
		if v, ok := languageNameMemo.Load(k); ok {
			out = append(out, v.(string))
			continue
		}
		name := c
		if tag, err := language.Parse(c); err == nil {
			if n := display.Tags(langTags[l]).Name(tag); n != "" {
				name = n
			}
			if len(c) <= 12 {
				// Valid tags only, short: a bounded set.
				languageNameMemo.Store(k, name)
			}
		}
		out = append(out, name)
	}
	return out
}

// languageNameMemo keeps the names of language codes already shown, by
// page language: parsing a tag and finding its name costs more than the
// rest of a result's view.
var languageNameMemo sync.Map

type associationPage struct {
	Name        localText
	Description localText
	Website     string
	Email       string
	Phones      []directory.Phone
	Services    []resultView
	Local       bool
}

// association shows the node's association (at its actor's URL).
func (s *Server) association(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return "", 0, err
	}
	d := associationPage{Name: p.Local(o.Name), Description: p.Local(o.Description), Website: o.Website, Email: o.Email, Phones: o.Phones, Local: true}
	tax := s.Catalog.Taxonomy()
	err = s.Catalog.ForEachService(r.Context(), func(sv *directory.Service) error {
		if sv.Status == directory.StatusActive {
			d.Services = append(d.Services, s.resultView(p, search.Hit{URI: s.BaseURL + "/services/" + sv.ID, Service: sv, Provider: o.Name.In(p.Lang)}, tax))
		}
		return nil
	})
	p.Title, p.Data, p.Nav = d.Name.Text, d, "about"
	return "association", http.StatusOK, err
}

// partnerAssociation shows a partner association from the replica: its
// name and the services it shares.
func (s *Server) partnerAssociation(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	actor := r.URL.Query().Get("actor")
	if actor == s.BaseURL+"/actor" {
		http.Redirect(w, r, "/actor", http.StatusSeeOther)
		return "", 0, nil
	}
	if actor == "" || len(actor) > 2048 || s.Network == nil {
		return "", 0, directory.ErrNotFound
	}
	var d associationPage
	tax := s.Catalog.Taxonomy()
	err := s.Network.PartnerServices(r.Context(), func(ps *directory.PartnerService) error {
		if ps.Actor == actor && ps.Service != nil {
			d.Name = localText{Text: ps.ProviderIn(p.Lang), Lang: p.Lang}
			d.Services = append(d.Services, s.resultView(p, search.Hit{URI: ps.URI, Service: ps.Service, Provider: ps.ProviderIn(p.Lang)}, tax))
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	if d.Name.Text == "" {
		rels, err := s.Network.Relations(r.Context())
		if err != nil {
			return "", 0, err
		}
		for _, rel := range rels {
			if rel.Actor == actor && rel.State() == "partner" {
				d.Name = localText{Text: rel.Name, Lang: p.Lang}
			}
		}
		if d.Name.Text == "" {
			return "", 0, directory.ErrNotFound
		}
	}
	p.Title, p.Data, p.Nav = d.Name.Text, d, "about"
	return "association", http.StatusOK, nil
}

type partnerView struct {
	Name     string
	Handle   string
	URL      string
	Services string
}

type aboutPage struct {
	Node     string
	Partners []partnerView
	Total    string
}

// about describes the network as this node knows it: its partners, with
// the number of services each shares.
func (s *Server) about(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	d := aboutPage{Node: p.Node}
	if s.Network != nil {
		count := map[string]int{}
		total := 0
		err := s.Network.PartnerServices(r.Context(), func(ps *directory.PartnerService) error {
			count[ps.Actor]++
			total++
			return nil
		})
		if err != nil {
			return "", 0, err
		}
		rels, err := s.Network.Relations(r.Context())
		if err != nil {
			return "", 0, err
		}
		for _, rel := range rels {
			if rel.State() != "partner" {
				continue
			}
			d.Partners = append(d.Partners, partnerView{Name: rel.Name, Handle: rel.Handle,
				URL: "/organization?actor=" + url.QueryEscape(rel.Actor), Services: p.Num(count[rel.Actor])})
		}
		slices.SortFunc(d.Partners, func(a, b partnerView) int { return strings.Compare(a.Name, b.Name) })
		d.Total = p.Num(total)
	}
	p.Title, p.Data, p.Nav = p.T("about title"), d, "about"
	return "about", http.StatusOK, nil
}

// errorMessage is the catalogue key of the message shown for a status.
func errorMessage(code int) string {
	switch code {
	case http.StatusNotFound:
		return "error not found"
	case http.StatusBadRequest:
		return "error bad request"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "error forbidden"
	case http.StatusServiceUnavailable:
		return "error unavailable"
	default:
		return "error internal"
	}
}
