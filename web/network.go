package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/search"
	"github.com/maillage/maillage/web/account"
)

// The network's overlap and gap view: for the services the node knows
// (its own and its partners'), how many providers offer each theme in
// each Brussels postcode area; where nobody does; and the unmet needs
// that workers and residents signal (counts only).

// Coverer gives the network's coverage (the search index does).
type Coverer interface {
	Coverage() (*search.Coverage, error)
}

// Needs counts unmet needs (the store does).
type Needs interface {
	// AddNeed counts a need and keeps its note, if any, for the admins.
	AddNeed(ctx context.Context, theme, area, note string) error
	ForEachNeed(ctx context.Context, fn func(theme, area string, count int) error) error
	// NeedNotes returns the newest notes, at most limit.
	NeedNotes(ctx context.Context, limit int) ([]directory.NeedNote, error)
	// ForEachPartnerNeeds gives the counts partners share.
	ForEachPartnerNeeds(ctx context.Context, fn func(*directory.PartnerNeeds) error) error
}

// maxNeedNote bounds the note of a signalled need, in characters.
const maxNeedNote = 500

func (s *Server) coverage() (*search.Coverage, error) {
	c, ok := s.Search.(Coverer)
	if !ok || s.Search == nil {
		return nil, errNotReady
	}
	cov, err := c.Coverage()
	if errors.Is(err, search.ErrNotReady) {
		return nil, fmt.Errorf("%w: %v", errNotReady, err)
	}
	return cov, err
}

type overlapCell struct {
	Theme     string `json:"theme"`
	Area      string `json:"area"`
	Providers int    `json:"providers"`
	Services  int    `json:"services"`
}

func (s *Server) networkOverlaps(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	cov, err := s.coverage()
	if err != nil {
		return err
	}
	cells := []overlapCell{}
	for ti, theme := range cov.Themes {
		for ai, area := range cov.Areas {
			if cov.Services[ti][ai] > 0 {
				cells = append(cells, overlapCell{theme, area, cov.Providers[ti][ai], cov.Services[ti][ai]})
			}
		}
	}
	type member struct {
		URI          string `json:"uri"`
		Name         string `json:"name"`
		Organization string `json:"organization"`
	}
	clusters := [][]member{}
	for _, c := range cov.Clusters {
		var ms []member
		for i := range c.URIs {
			ms = append(ms, member{c.URIs[i], c.Names[i], c.Providers[i]})
		}
		clusters = append(clusters, ms)
	}
	writeJSON(w, http.StatusOK, map[string]any{"themes": cov.Themes, "areas": cov.Areas, "cells": cells,
		"services": cov.Total, "outside_areas": cov.Outside, "duplicate_pairs": cov.Pairs, "duplicate_clusters": clusters})
	return nil
}

// needCount is the unmet needs of a theme in an area across the network:
// signalled here, and at partners as they share their counts.
type needCount struct {
	Theme    string `json:"theme"`
	Area     string `json:"area"`
	Count    int    `json:"count"`
	Here     int    `json:"here"`
	Partners int    `json:"partners"`
}

// needCounts adds up the needs signalled here and at partners, the most
// signalled first.
func (s *Server) needCounts(ctx context.Context) ([]needCount, error) {
	out := []needCount{}
	if s.Needs == nil {
		return out, nil
	}
	at := map[[2]string]int{}
	row := func(theme, area string) *needCount {
		k := [2]string{theme, area}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, needCount{Theme: theme, Area: area})
		}
		return &out[i]
	}
	err := s.Needs.ForEachNeed(ctx, func(theme, area string, n int) error {
		r := row(theme, area)
		r.Here += n
		r.Count += n
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.Needs.ForEachPartnerNeeds(ctx, func(p *directory.PartnerNeeds) error {
		for _, c := range p.Counts {
			r := row(c.Theme, c.Area)
			r.Partners += c.Count
			r.Count += c.Count
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b needCount) int { return b.Count - a.Count })
	return out, err
}

// checkNote checks the note of a signalled need.
func checkNote(note string) error {
	var p directory.Problems
	if !utf8.ValidString(note) {
		p.Add("note", "is not valid UTF-8")
	} else if utf8.RuneCountInString(note) > maxNeedNote {
		p.Add("note", "is longer than %d characters", maxNeedNote)
	}
	return p.Err()
}

func (s *Server) networkGaps(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	cov, err := s.coverage()
	if err != nil {
		return err
	}
	type gap struct {
		Theme string `json:"theme"`
		Area  string `json:"area"`
	}
	gaps := []gap{}
	for ti, theme := range cov.Themes {
		for ai, area := range cov.Areas {
			if cov.Providers[ti][ai] == 0 {
				gaps = append(gaps, gap{theme, area})
			}
		}
	}
	needs, err := s.needCounts(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"gaps": gaps, "needs": needs})
	return nil
}

// checkNeed checks a signalled need: a top-level theme and a Brussels
// postcode, nothing else.
func (s *Server) checkNeed(theme, area string) error {
	var p directory.Problems
	if !slices.ContainsFunc(s.Catalog.Taxonomy().Categories, func(t directory.Term) bool { return t.Code == theme }) {
		p.Add("theme", "must be a top-level theme of the taxonomy")
	}
	if _, ok := search.PostcodeCentre(area); !ok {
		p.Add("area", "must be a Brussels postcode")
	}
	return p.Err()
}

func (s *Server) signalNeed(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	if s.Needs == nil {
		return errNotReady
	}
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	var req struct {
		Theme string `json:"theme"`
		Area  string `json:"area"`
		Note  string `json:"note"`
	}
	if p := directory.DecodeStrict(body, &req); len(p) > 0 {
		return p
	}
	req.Note = strings.TrimSpace(req.Note)
	if err := errors.Join(s.checkNeed(req.Theme, req.Area), checkNote(req.Note)); err != nil {
		return err
	}
	if err := s.Needs.AddNeed(r.Context(), req.Theme, req.Area, req.Note); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type networkPage struct {
	Areas     []string
	Rows      []coverageRow
	Chart     template.HTML
	Gaps      []gapRow
	Needs     []needRow
	Notes     []noteRow
	ShowNotes bool
	Themes    []categoryTile
	Total     string
	Outside   string
	Thanks    bool
	Clusters  [][]clusterMember
	Pairs     string
	// NoOne are the themes no service of the network offers anywhere.
	NoOne []localText
}

type clusterMember struct {
	Name     string
	URL      string
	Provider string
}

type coverageRow struct {
	Theme localText
	Cells []coverageCell
}

type coverageCell struct {
	Providers int
	Class     string
}

type gapRow struct {
	Theme localText
	Areas string // postcodes without it
	Near  string // the neighbouring postcodes that have it
}

type needRow struct {
	Theme localText
	Area  string
	Count string
	Here  string
}

type noteRow struct {
	Theme localText
	Area  string
	Text  string
	At    string
}

// networkView is the overlap and gap page.
func (s *Server) networkView(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	cov, err := s.coverage()
	if err != nil {
		return "", 0, err
	}
	tax := s.Catalog.Taxonomy()
	label := func(code string) localText {
		if t, ok := tax.Category(code); ok {
			return p.Local(t.Labels)
		}
		return localText{Text: code, Lang: p.Lang}
	}
	d := networkPage{Areas: cov.Areas, Total: p.Num(cov.Total), Outside: p.Num(cov.Outside), Thanks: r.URL.Query().Get("thanks") == "1"}
	for ti, theme := range cov.Themes {
		row := coverageRow{Theme: label(theme)}
		for _, n := range cov.Providers[ti] {
			row.Cells = append(row.Cells, coverageCell{Providers: n, Class: heatClass(n)})
		}
		d.Rows = append(d.Rows, row)
		switch missing, near := gapsNear(cov.Areas, cov.Providers[ti]); {
		case len(near) == 0 && len(missing) > 0:
			d.NoOne = append(d.NoOne, label(theme))
		case len(missing) > 0:
			d.Gaps = append(d.Gaps, gapRow{Theme: label(theme), Areas: strings.Join(missing, ", "), Near: strings.Join(near, ", ")})
		}
		d.Themes = append(d.Themes, categoryTile{Code: theme, Label: label(theme)})
	}
	d.Chart = coverageChart(cov, p, d.Rows)
	d.Pairs = p.Num(cov.Pairs)
	for _, c := range cov.Clusters {
		var ms []clusterMember
		for i := range c.URIs {
			ms = append(ms, clusterMember{Name: c.Names[i], URL: s.servicePageURL(c.URIs[i]), Provider: c.Providers[i]})
		}
		d.Clusters = append(d.Clusters, ms)
	}
	needs, err := s.needCounts(r.Context())
	if err != nil {
		return "", 0, err
	}
	for _, n := range needs {
		d.Needs = append(d.Needs, needRow{Theme: label(n.Theme), Area: n.Area, Count: p.Num(n.Count), Here: p.Num(n.Here)})
	}
	// The notes may say more than a count: admins only read them.
	if p.User != nil && p.User.Role == account.RoleAdmin {
		notes, err := s.Needs.NeedNotes(r.Context(), 50)
		if err != nil {
			return "", 0, err
		}
		for _, n := range notes {
			d.Notes = append(d.Notes, noteRow{Theme: label(n.Theme), Area: n.Area, Text: n.Text, At: p.DateTime(n.At)})
		}
		d.ShowNotes = true
	}
	p.Title, p.Data, p.Nav = p.T("network title"), d, "about"
	return "network", http.StatusOK, nil
}

// signalNeedPage takes the "I could not find…" form.
func (s *Server) signalNeedPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if s.Needs == nil {
		return "", 0, errNotReady
	}
	theme, area, note := r.PostFormValue("theme"), r.PostFormValue("area"), strings.TrimSpace(r.PostFormValue("note"))
	if err := errors.Join(s.checkNeed(theme, area), checkNote(note)); err != nil {
		return "", 0, err
	}
	if err := s.Needs.AddNeed(r.Context(), theme, area, note); err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/network?thanks=1#needs", http.StatusSeeOther)
	return "", 0, nil
}

// neighbourDistance is how close two postcode areas' centres are for one
// to be next to the other: in Brussels, the few communes around.
const neighbourDistance = 3000 // metres

// gapsNear returns, for one theme, the postcodes without any provider
// that lie next to a postcode with one, and those postcodes. A postcode
// far from any offer is not listed: the table shows it, and a gap next
// to an offer is the one a partner can most easily close. When nobody
// offers the theme anywhere, every postcode is missing and none near.
func gapsNear(areas []string, providers []int) (missing, near []string) {
	if !slices.ContainsFunc(providers, func(n int) bool { return n > 0 }) {
		return areas, nil
	}
	var nearSet []string
	for ai, area := range areas {
		if providers[ai] > 0 {
			continue
		}
		c, ok := search.PostcodeCentre(area)
		if !ok {
			continue
		}
		found := false
		for bi, other := range areas {
			oc, ok := search.PostcodeCentre(other)
			if providers[bi] == 0 || !ok || directory.Distance(c, oc) > neighbourDistance {
				continue
			}
			found = true
			if !slices.Contains(nearSet, other) {
				nearSet = append(nearSet, other)
			}
		}
		if found {
			missing = append(missing, area)
		}
	}
	slices.Sort(nearSet)
	return missing, nearSet
}

func heatClass(n int) string {
	switch {
	case n == 0:
		return "heat0"
	case n == 1:
		return "heat1"
	case n <= 3:
		return "heat2"
	default:
		return "heat3"
	}
}

// coverageChart draws the coverage as an SVG heat map, on the server:
// one row per theme, labelled on the left, one column per area, darker
// with more providers. Its text alternative is the table beside it.
func coverageChart(cov *search.Coverage, p *pageData, rows []coverageRow) template.HTML {
	const cell, top, labelChars = 22, 40, 26
	left := 8 + 6*labelChars // room for a label of labelChars at font size 10
	colours := map[string]string{"heat0": "#f3f4f6", "heat1": "#c6dbef", "heat2": "#6baed6", "heat3": "#08519c"}
	width, height := left+cell*len(cov.Areas)+8, top+cell*len(cov.Themes)+8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="chart-title"><title id="chart-title">%s</title>`,
		width, height, template.HTMLEscapeString(p.T("network chart")))
	for ai, area := range cov.Areas {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="8" transform="rotate(-60 %d %d)" fill="#1b1b1b">%s</text>`,
			left+ai*cell+cell/2, top-4, left+ai*cell+cell/2, top-4, area)
	}
	for ti := range cov.Themes {
		if ti < len(rows) {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" text-anchor="end" fill="#1b1b1b" class="theme-label"%s><title>%s</title>%s</text>`,
				left-6, top+ti*cell+cell/2+4, langAttr(rows[ti].Theme, p.Lang),
				template.HTMLEscapeString(rows[ti].Theme.Text), template.HTMLEscapeString(shorten(rows[ti].Theme.Text, labelChars)))
		}
		for ai := range cov.Areas {
			n := cov.Providers[ti][ai]
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#ffffff"><title>%d</title></rect>`,
				left+ai*cell, top+ti*cell, cell, cell, colours[heatClass(n)], n)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here from numbers and escaped text only
}

// langAttr is the lang attribute of a label found in another language
// than the page's.
func langAttr(t localText, page directory.Lang) string {
	if t.Lang == "" || t.Lang == page {
		return ""
	}
	return ` lang="` + template.HTMLEscapeString(string(t.Lang)) + `"`
}

// shorten cuts a label to n characters with an ellipsis; the full label
// is the text's title and the table's row header.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
