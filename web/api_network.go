package web

import (
	"context"
	"net/http"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/web/account"
)

// Network is the federation side the API drives.
type Network interface {
	Follow(ctx context.Context, who string) (*federation.Relation, error)
	Relations(ctx context.Context) ([]*federation.Relation, error)
	Accept(ctx context.Context, id string) (*federation.Relation, error)
	Decline(ctx context.Context, id string) (*federation.Relation, error)
	End(ctx context.Context, id string) (*federation.Relation, error)
	PartnersOfPartners(ctx context.Context) ([]federation.Discovered, error)
	PartnerServices(ctx context.Context, fn func(*directory.PartnerService) error) error
	PartnerService(ctx context.Context, uri string) (*directory.PartnerService, error)
	Block(ctx context.Context, host string, blocked bool) error
	BlockedHosts(ctx context.Context) ([]string, error)
}

type relationView struct {
	ID      string    `json:"id"`
	Actor   string    `json:"actor"`
	Handle  string    `json:"handle,omitempty"`
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	State   string    `json:"state"`
	Updated time.Time `json:"updated"`
	// Identifiers are the legal identifiers the actor states (BCE/KBO).
	Identifiers []directory.Identifier `json:"identifiers,omitempty"`
}

func viewRelation(r *federation.Relation) relationView {
	return relationView{ID: r.ID, Actor: r.Actor, Handle: r.Handle, Name: r.Name, Kind: r.Kind, State: r.State(), Updated: r.Updated,
		Identifiers: r.Identifiers}
}

func (s *Server) listPartners(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	rels, err := s.Network.Relations(r.Context())
	if err != nil {
		return err
	}
	out := []relationView{}
	for _, rel := range rels {
		if rel.State() != "none" {
			out = append(out, viewRelation(rel))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"partners": out})
	return nil
}

type partnerRequest struct {
	Actor string `json:"actor"`
}

func (s *Server) requestPartner(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	var req partnerRequest
	if p := directory.DecodeStrict(body, &req); len(p) > 0 {
		return p
	}
	if req.Actor == "" {
		var p directory.Problems
		p.Add("actor", "is required: @handle@host or an actor URL")
		return p
	}
	rel, err := s.Network.Follow(r.Context(), req.Actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, viewRelation(rel))
	return nil
}

// partnerAction serves one of the Network methods on a relation id; the
// method is bound to s.Network per request, not when routes are built.
func (s *Server) partnerAction(do func(Network, context.Context, string) (*federation.Relation, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *account.User) error {
		rel, err := do(s.Network, r.Context(), pathVar(r, "id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, viewRelation(rel))
		return nil
	}
}

type partnerServiceView struct {
	URI      string                `json:"uri"`
	Actor    string                `json:"actor"`
	Provider string                `json:"provider"`
	Received time.Time             `json:"received"`
	Service  directory.HSDSService `json:"service"`
}

func (s *Server) networkServices(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	page, perPage, err := paging(r, 50, 500)
	if err != nil {
		return err
	}
	enc := s.hsdsEncoder(r)
	out := []partnerServiceView{}
	total := 0
	err = s.Network.PartnerServices(r.Context(), func(ps *directory.PartnerService) error {
		total++
		if total > (page-1)*perPage && len(out) < perPage {
			out = append(out, partnerServiceView{URI: ps.URI, Actor: ps.Actor, Provider: ps.Provider, Received: ps.Received, Service: enc.Service(ps.Service, nil, nil)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "page": page, "per_page": perPage, "services": out})
	return nil
}

func (s *Server) partnersOfPartners(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	found, err := s.Network.PartnersOfPartners(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"associations": found})
	return nil
}

func (s *Server) listBlocked(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	hosts, err := s.Network.BlockedHosts(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"hosts": nonNil(hosts)})
	return nil
}

type blockRequest struct {
	Host string `json:"host"`
}

func (s *Server) block(blocked bool) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *account.User) error {
		host := pathVar(r, "host")
		if blocked {
			body, err := readJSON(w, r)
			if err != nil {
				return err
			}
			var req blockRequest
			if p := directory.DecodeStrict(body, &req); len(p) > 0 {
				return p
			}
			host = req.Host
		}
		if err := s.Network.Block(r.Context(), host, blocked); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
