package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// The e-mails of the node, rendered when they are sent, in the
// recipient's language: a subject, a plain-text part and a simple HTML
// part (inline styles, no images) that reads on a phone. They name a
// referral by its short reference, its service and the other association,
// never anything of the resident, and always link to the page where the
// person acts.

//go:embed templates/mail/*.tmpl
var mailFS embed.FS

// mailPage is the HTML part of every mail; html/template escapes the
// names it shows (a service may be called "<script>…").
var mailPage = template.Must(template.ParseFS(mailFS, "templates/mail/mail.html.tmpl"))

// mailLink is a link of a mail: what it says, where it goes.
type mailLink struct {
	Text string
	URL  string
}

// mailBody is what a mail says, once, for both its parts.
type mailBody struct {
	Lang    directory.Lang
	Subject string
	Intro   []string   // paragraphs
	Items   []mailLink // a digest's lines
	Action  mailLink   // the button: what to do and where
	Notes   []string   // after the button
	Org     string     // the association's name
	Why     string     // why the person receives it
	Links   []mailLink // the footer's: settings, unsubscribe
}

// Render writes a queued mail for its recipient (notify.Renderer). It
// returns notify.ErrDrop when the mail has nothing left to say: its
// account or what it is about is gone.
func (s *Server) Render(ctx context.Context, m *notify.Mail, to *account.User, p *notify.Prefs) (*notify.Message, error) {
	if m.Kind == notify.MailReceipt {
		return s.receiptMail(ctx, m) // to the resident, not to staff
	}
	if to == nil {
		return nil, notify.ErrDrop // every other mail is for a staff account
	}
	l := directory.FR // the node's default
	if p != nil {
		if pl, ok := directory.ParseLang(p.Lang); ok {
			l = pl
		}
	}
	b := &mailBody{Lang: l, Org: s.orgName(ctx, l)}
	b.Why = translate(l, "mail why staff", b.Org)
	msg := &notify.Message{ID: m.ID, To: to.Email}
	var err error
	switch m.Kind {
	case notify.MailEvent:
		err = s.eventMail(ctx, b, msg, m, to)
	case notify.MailDigest:
		err = s.digestMail(ctx, b, msg, m, to)
	case notify.MailReset:
		err = s.tokenMail(b, m, "mail reset", int(account.ResetTTL/time.Minute))
	case notify.MailInvite:
		b.Why = translate(l, "mail why invited", b.Org)
		err = s.tokenMail(b, m, "mail invite", int(account.InviteTTL/(24*time.Hour)))
	case notify.MailTest:
		b.Subject = translate(l, "mail test subject")
		b.Intro = []string{translate(l, "mail test body", b.Org)}
		b.Action = mailLink{translate(l, "mail test open"), s.BaseURL + s.urlFor("admin-mail-page")}
	default:
		err = fmt.Errorf("web: no mail of kind %q: %w", m.Kind, notify.ErrPermanent)
	}
	if err != nil {
		return nil, err
	}
	if m.Kind != notify.MailInvite {
		// Someone invited has no account to log in with yet.
		b.Links = append([]mailLink{{translate(l, "mail settings"), s.BaseURL + s.urlFor("notification-settings")}}, b.Links...)
	}
	msg.Subject = oneLine(b.Subject)
	msg.Text = b.text()
	if msg.HTML, err = b.html(); err != nil {
		return nil, fmt.Errorf("web: mail %s: %w", m.Kind, err)
	}
	return msg, nil
}

// html writes the HTML part.
func (b *mailBody) html() (string, error) {
	var html bytes.Buffer
	if err := mailPage.Execute(&html, b); err != nil {
		return "", err
	}
	return html.String(), nil
}

// eventMail tells one event, with a one-click unsubscribe from its topic.
func (s *Server) eventMail(ctx context.Context, b *mailBody, msg *notify.Message, m *notify.Mail, to *account.User) error {
	if len(m.Events) == 0 {
		return notify.ErrDrop
	}
	ev := m.Events[0]
	et, err := s.describe(ctx, s.mailNamer(ctx, b.Lang), &ev)
	if errors.Is(err, directory.ErrNotFound) {
		return notify.ErrDrop
	}
	if err != nil {
		return err
	}
	b.Subject = et.Text
	b.Intro = []string{translate(b.Lang, "mail sentence", et.Text)}
	if et.Do != "" {
		b.Intro = append(b.Intro, et.Do)
	}
	b.Action = mailLink{et.Open, s.BaseURL + et.Path}
	if u := s.unsubscribeURL(to.ID, ev.Kind.Topic()); u != "" {
		msg.Unsubscribe = u
		b.Links = append(b.Links, mailLink{translate(b.Lang, "mail unsubscribe", topicLabel(b.Lang, ev.Kind.Topic())), u})
	}
	return nil
}

// digestMail lists the day's events, one line each with its link. A
// digest may gather several topics: the footer offers to stop each of
// them, and the List-Unsubscribe header is set only when it holds one
// topic, since one click must not turn off more than the person expects.
func (s *Server) digestMail(ctx context.Context, b *mailBody, msg *notify.Message, m *notify.Mail, to *account.User) error {
	evs := slices.Clone(m.Events)
	slices.SortStableFunc(evs, func(a, b notify.Event) int { return a.At.Compare(b.At) })
	nm := s.mailNamer(ctx, b.Lang)
	var topics []notify.Topic
	for i := range evs {
		et, err := s.describe(ctx, nm, &evs[i])
		if errors.Is(err, directory.ErrNotFound) {
			continue // what it was about is gone: nothing to open
		}
		if err != nil {
			return err
		}
		b.Items = append(b.Items, mailLink{et.Text, s.BaseURL + et.Path})
		if t := evs[i].Kind.Topic(); !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	if len(b.Items) == 0 {
		return notify.ErrDrop
	}
	key := "mail digest subject other"
	if len(b.Items) == 1 {
		key = "mail digest subject one"
	}
	b.Subject = translate(b.Lang, key, len(b.Items))
	b.Intro = []string{translate(b.Lang, "mail digest intro")}
	b.Action = mailLink{translate(b.Lang, "mail digest open"), s.BaseURL + s.urlFor("notifications-page")}
	for _, t := range notify.Topics {
		if !slices.Contains(topics, t) {
			continue
		}
		if u := s.unsubscribeURL(to.ID, t); u != "" {
			b.Links = append(b.Links, mailLink{translate(b.Lang, "mail unsubscribe", topicLabel(b.Lang, t)), u})
			if len(topics) == 1 {
				msg.Unsubscribe = u
			}
		}
	}
	return nil
}

// tokenMail is a reset or an invitation: a link that sets a password.
func (s *Server) tokenMail(b *mailBody, m *notify.Mail, key string, valid int) error {
	if m.Token == "" {
		return fmt.Errorf("web: %s mail without a token: %w", m.Kind, notify.ErrPermanent)
	}
	b.Subject = translate(b.Lang, key+" subject", b.Org)
	b.Intro = []string{translate(b.Lang, key+" body", b.Org)}
	link := s.Accounts.TokenLink(m.Token)
	if link == "" {
		return fmt.Errorf("web: %s mail: a token of no known kind: %w", m.Kind, notify.ErrPermanent)
	}
	b.Action = mailLink{translate(b.Lang, key+" open"), s.BaseURL + link}
	b.Notes = []string{translate(b.Lang, key+" valid", valid), translate(b.Lang, key+" ignore")}
	return nil
}

// unsubscribeURL is the link that turns off a topic's e-mails for a
// person, without logging in.
func (s *Server) unsubscribeURL(user string, t notify.Topic) string {
	if s.Notifier == nil {
		return ""
	}
	return s.BaseURL + s.urlFor("unsubscribe-page") + "?u=" + url.QueryEscape(user) + "&k=" + url.QueryEscape(string(t)) +
		"&s=" + url.QueryEscape(s.Notifier.UnsubscribeToken(user, t))
}

// orgName is the association's name in l.
func (s *Server) orgName(ctx context.Context, l directory.Lang) string {
	if o, err := s.Catalog.Organization(ctx); err == nil {
		if n := o.Name.In(l); n != "" {
			return n
		}
	}
	return "Maillage"
}

// text is the plain-text part.
func (b *mailBody) text() string {
	var w strings.Builder
	for _, p := range b.Intro {
		w.WriteString(p + "\n\n")
	}
	for _, it := range b.Items {
		w.WriteString("- " + it.Text + "\n  " + it.URL + "\n\n")
	}
	if b.Action.URL != "" {
		w.WriteString(translate(b.Lang, "mail link", b.Action.Text, b.Action.URL) + "\n\n")
	}
	for _, n := range b.Notes {
		w.WriteString(n + "\n\n")
	}
	w.WriteString("-- \n" + b.Org + "\n" + b.Why + "\n")
	for _, l := range b.Links {
		w.WriteString(translate(b.Lang, "mail link", l.Text, l.URL) + "\n")
	}
	return w.String()
}

// oneLine keeps a subject on one line: no line break or other control
// character may reach a mail header.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
