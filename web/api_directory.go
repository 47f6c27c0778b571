package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

// encoder returns the exact encoder of the JSON API for r.
func (s *Server) encoder(r *http.Request) directory.HSDSEncoder {
	return directory.HSDSEncoder{Taxonomy: s.Catalog.Taxonomy(), Lang: requestLang(r)}
}

// idFromPath checks that a body's id, if any, agrees with the path.
func idFromPath(r *http.Request, bodyID string) (string, error) {
	id := pathVar(r, "id")
	if !directory.IsUUID(id) {
		return "", fmt.Errorf("id %q: %w", id, directory.ErrNotFound)
	}
	if bodyID != "" && bodyID != id {
		var p directory.Problems
		p.Add("id", "does not match the id in the URL")
		return "", p
	}
	return id, nil
}

// paging reads page (from 1) and per_page (1..max, default def).
func paging(r *http.Request, def, max int) (page, perPage int, err error) {
	q := r.URL.Query()
	page, perPage = 1, def
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 1_000_000 {
			return 0, 0, fmt.Errorf("page must be a positive integer: %w", errBadQuery)
		}
	}
	if v := q.Get("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > max {
			return 0, 0, fmt.Errorf("per_page must be between 1 and %d: %w", max, errBadQuery)
		}
	}
	return page, perPage, nil
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	page, perPage, err := paging(r, 50, 500)
	if err != nil {
		return err
	}
	enc := s.encoder(r)
	var out []directory.HSDSService
	total := 0
	err = s.Catalog.ForEachService(r.Context(), func(sv *directory.Service) error {
		total++
		if total > (page-1)*perPage && len(out) < perPage {
			out = append(out, enc.Service(sv, nil, nil))
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "page": page, "per_page": perPage, "services": nonNil(out)})
	return nil
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func (s *Server) getService(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	sv, err := s.Catalog.Service(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.encoder(r).Service(sv, nil, nil))
	return nil
}

func (s *Server) createService(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	sv, err := directory.DecodeService(body, s.Catalog.Taxonomy())
	if err != nil {
		return err
	}
	if sv, err = s.Catalog.CreateService(r.Context(), sv); err != nil {
		return err
	}
	w.Header().Set("Location", s.urlFor("service", "id", sv.ID))
	writeJSON(w, http.StatusCreated, s.encoder(r).Service(sv, nil, nil))
	return nil
}

func (s *Server) updateService(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	sv, err := directory.DecodeService(body, s.Catalog.Taxonomy())
	if err != nil {
		return err
	}
	if sv.ID, err = idFromPath(r, sv.ID); err != nil {
		return err
	}
	if sv, err = s.Catalog.UpdateService(r.Context(), sv); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.encoder(r).Service(sv, nil, nil))
	return nil
}

func (s *Server) deleteService(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	if err := s.Catalog.DeleteService(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listLocations(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	enc := s.encoder(r)
	out := []directory.HSDSLocation{}
	err := s.Catalog.ForEachLocation(r.Context(), func(l *directory.Location) error {
		out = append(out, enc.Location(l))
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(out), "locations": out})
	return nil
}

func (s *Server) getLocation(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	l, err := s.Catalog.Location(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.encoder(r).Location(l))
	return nil
}

func (s *Server) createLocation(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	l, err := directory.DecodeLocation(body)
	if err != nil {
		return err
	}
	if l, err = s.Catalog.CreateLocation(r.Context(), l); err != nil {
		return err
	}
	w.Header().Set("Location", s.urlFor("location", "id", l.ID))
	writeJSON(w, http.StatusCreated, s.encoder(r).Location(l))
	return nil
}

func (s *Server) updateLocation(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	l, err := directory.DecodeLocation(body)
	if err != nil {
		return err
	}
	if l.ID, err = idFromPath(r, l.ID); err != nil {
		return err
	}
	if l, err = s.Catalog.UpdateLocation(r.Context(), l); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.encoder(r).Location(l))
	return nil
}

func (s *Server) deleteLocation(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	if err := s.Catalog.DeleteLocation(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	o, err := s.Catalog.Organization(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.encoder(r).Organization(o))
	return nil
}

func (s *Server) updateOrganization(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	o, err := directory.DecodeOrganization(body)
	if err != nil {
		return err
	}
	if o, err = s.Catalog.UpdateOrganization(r.Context(), o); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.encoder(r).Organization(o))
	return nil
}

type taxonomyView struct {
	Source     string           `json:"source"`
	Categories []directory.Term `json:"categories"`
	Terms      []directory.Term `json:"terms"`
	Audiences  []directory.Term `json:"audiences"`
	Fees       []directory.Term `json:"fees"`
}

func (s *Server) getTaxonomy(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	t := s.Catalog.Taxonomy()
	writeJSON(w, http.StatusOK, taxonomyView{t.Source, t.Categories, t.Terms, t.Audiences, t.Fees})
	return nil
}
