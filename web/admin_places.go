package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/maillage/maillage/directory"
)

// The admin's places: the locations services are delivered at, with their
// names in three languages, address, coordinates and accessibility.

type locationForm struct {
	ID         string
	Texts      []textField
	Street     string
	Postcode   string
	City       string
	Lat, Lon   string
	Wheelchair bool
	Problems   []string
	Saved      bool
}

func (s *Server) adminLocations(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	var list []option
	err := s.Catalog.ForEachLocation(r.Context(), func(l *directory.Location) error {
		label := p.Local(l.Name)
		if l.Address.Street != "" {
			label.Text += " — " + l.Address.Street + ", " + l.Address.Postcode + " " + l.Address.City
		}
		list = append(list, option{Value: l.ID, Label: label})
		return nil
	})
	p.Title, p.Data = p.T("admin locations"), list
	return "admin-locations", http.StatusOK, err
}

func (s *Server) newLocationForm(p *pageData, l *directory.Location) *locationForm {
	f := &locationForm{ID: l.ID, Street: l.Address.Street, Postcode: l.Address.Postcode, City: l.Address.City, Wheelchair: l.WheelchairOK,
		Texts: []textField{p.textField("name", "form name", l.Name, false), p.textField("accessibility", "accessibility", l.Accessibility, false),
			p.textField("transportation", "form transportation", l.Transportation, false)}}
	if l.Point != nil {
		f.Lat, f.Lon = strconv.FormatFloat(l.Point.Lat, 'f', -1, 64), strconv.FormatFloat(l.Point.Lon, 'f', -1, 64)
	}
	return f
}

func (s *Server) locationEditor(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	l := &directory.Location{}
	if id := pathVar(r, "id"); id != "" {
		var err error
		if l, err = s.Catalog.Location(r.Context(), id); err != nil {
			return "", 0, err
		}
	}
	f := s.newLocationForm(p, l)
	f.Saved = r.URL.Query().Get("saved") == "1"
	p.Title, p.Data = p.T("admin edit location"), f
	return "location-form", http.StatusOK, nil
}

func (s *Server) saveLocation(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	l := &directory.Location{}
	id := pathVar(r, "id")
	if id != "" {
		cur, err := s.Catalog.Location(r.Context(), id)
		if err != nil {
			return "", 0, err
		}
		*l = *cur
	}
	l.Name, l.Accessibility, l.Transportation = formText(r, "name"), formText(r, "accessibility"), formText(r, "transportation")
	l.Address = directory.Address{Street: strings.TrimSpace(r.PostFormValue("street")), Postcode: strings.TrimSpace(r.PostFormValue("postcode")),
		City: strings.TrimSpace(r.PostFormValue("city")), Country: "BE"}
	l.WheelchairOK = r.PostFormValue("wheelchair") == "yes"
	var problems []string
	l.Point = nil
	lat, lon := strings.TrimSpace(r.PostFormValue("lat")), strings.TrimSpace(r.PostFormValue("lon"))
	if lat != "" || lon != "" {
		la, err1 := strconv.ParseFloat(strings.ReplaceAll(lat, ",", "."), 64)
		lo, err2 := strconv.ParseFloat(strings.ReplaceAll(lon, ",", "."), 64)
		if err1 != nil || err2 != nil {
			problems = append(problems, p.T("form coordinates bad"))
		} else {
			l.Point = &directory.Point{Lat: la, Lon: lo}
		}
	}
	if len(problems) == 0 {
		var err error
		if id == "" {
			_, err = s.Catalog.CreateLocation(r.Context(), l)
		} else {
			_, err = s.Catalog.UpdateLocation(r.Context(), l)
		}
		if problems, err = formProblems(p, err); err != nil {
			return "", 0, err
		}
	}
	if len(problems) > 0 {
		if id == "" {
			l.ID = ""
		}
		f := s.newLocationForm(p, l)
		f.Lat, f.Lon, f.Problems = lat, lon, problems
		p.Title, p.Data = p.T("admin edit location"), f
		return "location-form", http.StatusBadRequest, nil
	}
	http.Redirect(w, r, "/admin/locations/"+url.PathEscape(l.ID)+"?saved=1", http.StatusSeeOther)
	return "", 0, nil
}
