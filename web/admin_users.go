package web

import (
	"fmt"
	"net/http"

	"github.com/maillage/maillage/web/account"
)

// The staff accounts page: list, add, disable or enable, delete.

type userRow struct {
	ID, Email, Name, Role string
	Disabled              bool
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	users, err := s.Accounts.Users(r.Context())
	if err != nil {
		return "", 0, err
	}
	var rows []userRow
	for _, u := range users {
		rows = append(rows, userRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: p.T("role " + string(u.Role)), Disabled: u.Disabled})
	}
	if e := r.URL.Query().Get("error"); e != "" {
		p.Error = p.T("user not added")
	}
	p.Title, p.Data = p.T("admin users"), rows
	return "admin-users", http.StatusOK, nil
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	_, err := s.Accounts.AddUser(r.Context(), r.PostFormValue("email"), r.PostFormValue("name"), account.Role(r.PostFormValue("role")), r.PostFormValue("password"))
	if err != nil {
		// The reason is in the words of the checks, without the password.
		s.log.InfoContext(r.Context(), "user not added", "err", err)
		http.Redirect(w, r, "/admin/users?error=1", http.StatusSeeOther)
		return "", 0, nil
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return "", 0, nil
}

func (s *Server) setUserDisabledPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	u, err := s.Accounts.User(r.Context(), pathVar(r, "id"))
	if err != nil {
		return "", 0, err
	}
	if u.ID == p.User.ID {
		return "", 0, fmt.Errorf("an admin cannot disable their own account: %w", errForbidden)
	}
	if _, err := s.Accounts.SetDisabled(r.Context(), u.Email, r.PostFormValue("disabled") == "yes"); err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return "", 0, nil
}

// deleteUserPage deletes a disabled account from the accounts page.
func (s *Server) deleteUserPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if err := s.Accounts.DeleteUser(r.Context(), pathVar(r, "id"), p.User.ID); err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	return "", 0, nil
}
