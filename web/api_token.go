package web

import (
	"net/http"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createToken exchanges an email and password for a short-lived API token.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	var req tokenRequest
	if p := directory.DecodeStrict(body, &req); len(p) > 0 {
		return p
	}
	u, err := s.Accounts.Login(r.Context(), req.Email, req.Password, s.clientAddr(r))
	if err != nil {
		return err
	}
	tok, exp, err := s.Accounts.IssueToken(u)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{Token: tok, ExpiresAt: exp.UTC()})
	return nil
}

// revokeTokens invalidates every token and session of the caller.
func (s *Server) revokeTokens(w http.ResponseWriter, r *http.Request, u *account.User) error {
	if err := s.Accounts.RevokeTokens(r.Context(), u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type userView struct {
	ID       string       `json:"id"`
	Email    string       `json:"email"`
	Name     string       `json:"name,omitempty"`
	Role     account.Role `json:"role"`
	Disabled bool         `json:"disabled"`
	Created  time.Time    `json:"created"`
}

func viewUser(u *account.User) userView {
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled, Created: u.Created}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	users, err := s.Accounts.Users(r.Context())
	if err != nil {
		return err
	}
	out := make([]userView, 0, len(users))
	for _, u := range users {
		out = append(out, viewUser(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

type userRequest struct {
	Email    string       `json:"email"`
	Name     string       `json:"name"`
	Role     account.Role `json:"role"`
	Password string       `json:"password"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	var req userRequest
	if p := directory.DecodeStrict(body, &req); len(p) > 0 {
		return p
	}
	u, err := s.Accounts.AddUser(r.Context(), req.Email, req.Name, req.Role, req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewUser(u))
	return nil
}

func (s *Server) setUserDisabled(disabled bool) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *account.User) error {
		u, err := s.Accounts.User(r.Context(), pathVar(r, "id"))
		if err != nil {
			return err
		}
		if u, err = s.Accounts.SetDisabled(r.Context(), u.Email, disabled); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, viewUser(u))
		return nil
	}
}

// deleteUser deletes a disabled account (not the caller's own).
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, caller *account.User) error {
	if err := s.Accounts.DeleteUser(r.Context(), pathVar(r, "id"), caller.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) backup(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	if s.Backup == nil {
		return errNotReady
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="maillage-`+s.Now().UTC().Format("20060102-150405")+`.backup"`)
	w.Header().Set("Cache-Control", "no-store")
	// Once streaming has started an error can only cut the download short;
	// the backup format's authenticated last chunk makes that detectable.
	if err := s.Backup(r.Context(), w); err != nil {
		s.log.Error("backup failed", "err", err)
	}
	return nil
}
