package web

import (
	"net/http"
	"strings"

	"github.com/maillage/maillage/referral"
)

// The audit log as an admin reads it: actions, states, reasons and the
// system in the page's language, people by e-mail, partners by name and
// referrals by their short reference. The CSV export keeps the raw codes.

type auditRow struct {
	At, Who, Action, Detail string
	Handle, Reference       string
}

// auditNames are the lookups an audit page needs, loaded once a page.
type auditNames struct {
	users    map[string]string // account id → e-mail
	refs     map[string]string // referral id → short reference
	partners func(actor string) string
}

func (s *Server) auditNames(r *http.Request, p *pageData) auditNames {
	n := auditNames{users: map[string]string{}, refs: map[string]string{}, partners: s.partnerNames(r, p)}
	if us, err := s.Accounts.Users(r.Context()); err == nil {
		for _, u := range us {
			n.users[u.ID] = u.Email
		}
	}
	s.Referrals.ForEachReferral(r.Context(), func(ref *referral.Referral) error {
		n.refs[ref.ID] = ref.Reference()
		return nil
	})
	return n
}

// row turns an audit entry into what the page shows. An entry of no
// referral is an account action (account.AuditEvent): its detail is the
// account acted on, if not the author.
func (n auditNames) row(p *pageData, e *referral.AuditEntry) auditRow {
	row := auditRow{At: p.DateTime(e.At.In(brussels())), Who: n.who(p, e.Who), Action: e.Action}
	if key := "audit action " + e.Action; hasMessage(p.Lang, key) {
		row.Action = p.T(key)
	}
	if e.Referral == "" {
		if e.Detail != "" {
			row.Detail = n.who(p, e.Detail)
		}
		return row
	}
	row.Detail, row.Handle, row.Reference = auditDetail(p, e.Detail), referral.Handle(e.Referral), n.refs[e.Referral]
	if row.Reference == "" {
		row.Reference = (&referral.Referral{ID: e.Referral}).Reference()
	}
	return row
}

// who names the author of an entry: a worker by e-mail, the node itself,
// or a partner association by name.
func (n auditNames) who(p *pageData, who string) string {
	if email, ok := n.users[who]; ok {
		return email
	}
	if key := "audit by " + who; hasMessage(p.Lang, key) {
		return p.T(key) // system, retention
	}
	if strings.HasPrefix(who, "https://") || strings.HasPrefix(who, "http://") {
		return n.partners(who)
	}
	return p.T("audit by unknown")
}

// auditDetail translates a detail made of states, reason codes and
// erasure causes ("received → accepted", "retention"); words it does not
// know are left out rather than shown raw.
func auditDetail(p *pageData, detail string) string {
	if key := "audit why " + detail; detail != "" && hasMessage(p.Lang, key) {
		return p.T(key)
	}
	var out []string
	for _, tok := range strings.Fields(detail) {
		switch st := referral.State(tok); {
		case tok == "→":
			out = append(out, tok)
		case st.Valid():
			out = append(out, p.T("state "+tok))
		case hasMessage(p.Lang, "reason "+tok):
			out = append(out, "("+p.T("reason "+tok)+")")
		}
	}
	return strings.Join(out, " ")
}
