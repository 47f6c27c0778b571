package web

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/account"
	"github.com/maillage/maillage/web/notify"
)

// The notifications' pages: a person's list, their settings (what comes
// by e-mail and when, which services they handle), the unsubscribe link
// of the e-mails (no login: the link is signed), and the admin's view of
// the e-mail queue. Without a Notifier none of them is served.

// notificationsShown is how many notifications the list shows.
const notificationsShown = 100

// inbox is what the header shows of a person's notifications.
type inbox struct{ Unread int }

// inbox returns the header's count for staff, nil when notifications are
// off or nobody is logged in. A failure only hides the count.
func (s *Server) inbox(ctx context.Context, u *account.User) *inbox {
	if s.Notifier == nil || u == nil {
		return nil
	}
	k, err := s.Notifier.Unread(ctx, u.ID)
	if err != nil {
		s.log.WarnContext(ctx, "unread notifications", "err", err)
		return nil
	}
	return &inbox{Unread: k}
}

// eventText is an event told to a person, in their language.
type eventText struct {
	Text string // one sentence, without a final stop
	Do   string // what to do about it, or ""
	Path string // the page it is about
	Open string // what a link to that page says
}

// namer looks up the names an event's text needs, in one language.
type namer struct {
	lang    directory.Lang
	service func(uri string) string
	partner func(actor string) string
}

func (s *Server) pageNamer(r *http.Request, p *pageData) namer {
	return namer{lang: p.Lang, service: s.serviceNames(r, p), partner: s.partnerNames(r, p)}
}

// mailNamer is pageNamer for a mail: worker.go's lookups read a page's
// request and language, so a request stands for the mail's context.
func (s *Server) mailNamer(ctx context.Context, l directory.Lang) namer {
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	return s.pageNamer(r, &pageData{Lang: l})
}

// describe tells an event: which referral (its reference, its service,
// the other association), partnership or service, what to do, and where.
// It returns an error wrapping directory.ErrNotFound when what the event
// is about is gone.
func (s *Server) describe(ctx context.Context, nm namer, ev *notify.Event) (eventText, error) {
	t := func(key string, args ...any) string { return translate(nm.lang, key, args...) }
	key := "notify " + string(ev.Kind)
	switch ev.Kind {
	case notify.PartnerRequested, notify.PartnerAccepted, notify.PartnerEnded:
		return eventText{Text: t(key, nm.partner(ev.Partner)), Do: t(key + " do"), Path: s.urlFor("admin-partners-page"), Open: t("notify open partners")}, nil
	case notify.ServiceStale:
		sv, err := s.Catalog.Service(ctx, ev.Service)
		if err != nil {
			return eventText{}, err
		}
		return eventText{Text: t(key, sv.Name.In(nm.lang)), Do: t(key + " do"), Path: s.urlFor("admin-service-edit", "id", sv.ID),
			Open: t("notify open service")}, nil
	}
	if !ev.Kind.Valid() {
		return eventText{}, fmt.Errorf("web: event of kind %q: %w", ev.Kind, directory.ErrNotFound)
	}
	if s.Referrals == nil {
		return eventText{}, errNotReady
	}
	ref, err := s.Referrals.ReferralByHandle(ctx, referral.Handle(ev.Referral))
	if err != nil {
		return eventText{}, err
	}
	partner := ref.Sender
	if ref.Side == referral.Sender {
		partner = ref.Recipient
	}
	service := nm.service(ref.Service)
	if service == ref.Service {
		service = t("notify some service") // gone from the directory: never its address
	}
	args := []any{ref.Reference(), service, nm.partner(partner)}
	do := key + " do"
	switch ev.Kind {
	case notify.ReferralAnswered:
		state := referral.State(ev.State)
		if !state.Valid() {
			state = ref.State
		}
		args = append(args, t("state "+string(state)))
		if ev.Reason != "" && hasMessage(nm.lang, "reason "+ev.Reason) {
			key += " reason"
			args = append(args, t("reason "+ev.Reason))
		}
	case notify.ReferralExpiring:
		due := ev.Due
		if due.IsZero() {
			due = ref.Consent.ExpiresAt
		}
		args = append(args, formatDate(nm.lang, due.In(brussels())))
		do += " " + string(ref.Side)
	}
	return eventText{Text: t(key, args...), Do: t(do), Path: s.urlFor("referral-page", "id", referral.Handle(ref.ID)),
		Open: t("notify open referral")}, nil
}

// topicLabel names a topic for people.
func topicLabel(l directory.Lang, t notify.Topic) string { return translate(l, "topic "+string(t)) }

// topicsOf are the topics that can concern a person: partnerships and
// services to review go to the admins only.
func topicsOf(u *account.User) []notify.Topic {
	if u.Role == account.RoleAdmin {
		return notify.Topics
	}
	return slices.DeleteFunc(slices.Clone(notify.Topics), func(t notify.Topic) bool {
		return t == notify.TopicPartnerships || t == notify.TopicReviews
	})
}

// needNotifier answers 404 on a node without notifications.
func (s *Server) needNotifier() error {
	if s.Notifier == nil {
		return fmt.Errorf("notifications are off: %w", directory.ErrNotFound)
	}
	return nil
}

// notificationRow is one notification in the list.
type notificationRow struct {
	ID      string // the event's
	Text    string
	When    string
	Unread  bool
	CanOpen bool // what it is about is still here
}

type notificationsPage struct {
	Rows   []notificationRow
	Unread int
	MailOn bool
}

// notificationsPage lists the person's notifications, newest first. They
// stay unread until opened or all marked read: seeing the list is not
// reading each one.
func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	if err := s.needNotifier(); err != nil {
		return "", 0, err
	}
	ns, unread, err := s.Notifier.Notifications(r.Context(), p.User.ID, notificationsShown)
	if err != nil {
		return "", 0, err
	}
	d := notificationsPage{Unread: unread, MailOn: s.Notifier.MailOn()}
	nm, loc := s.pageNamer(r, p), brussels()
	for _, n := range ns {
		row := notificationRow{ID: n.Event.ID, When: p.DateTime(n.Event.At.In(loc)), Unread: !n.Read}
		et, err := s.describe(r.Context(), nm, &n.Event)
		switch {
		case errors.Is(err, directory.ErrNotFound):
			row.Text = p.T("notify gone")
		case err != nil:
			return "", 0, err
		default:
			row.Text, row.CanOpen = et.Text, true
		}
		d.Rows = append(d.Rows, row)
	}
	p.Title, p.Data, p.Nav = p.T("notifications title"), d, "notifications"
	return "notifications", http.StatusOK, nil
}

// markRead marks one notification read and opens what it is about, or
// marks them all read. The page to open is found from the person's own
// notification, never taken from the form.
func (s *Server) markRead(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	if err := s.needNotifier(); err != nil {
		return "", 0, err
	}
	ctx, list := r.Context(), s.urlFor("notifications-page")
	id := r.PostFormValue("id")
	if id == "" {
		if r.PostFormValue("all") == "" {
			return "", 0, errBadQuery
		}
		if err := s.Notifier.MarkRead(ctx, p.User.ID, nil); err != nil {
			return "", 0, err
		}
		http.Redirect(w, r, list, http.StatusSeeOther)
		return "", 0, nil
	}
	ns, _, err := s.Notifier.Notifications(ctx, p.User.ID, notificationsShown)
	if err != nil {
		return "", 0, err
	}
	i := slices.IndexFunc(ns, func(n notify.Notification) bool { return n.Event.ID == id })
	if i < 0 {
		return "", 0, fmt.Errorf("no notification %q: %w", id, directory.ErrNotFound)
	}
	if err := s.Notifier.MarkRead(ctx, p.User.ID, []string{id}); err != nil {
		return "", 0, err
	}
	to := list
	if et, err := s.describe(ctx, s.pageNamer(r, p), &ns[i].Event); err == nil {
		to = et.Path
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return "", 0, nil
}

// modeOption is one choice of a topic's radio group.
type modeOption struct {
	Value   string
	Label   string
	Checked bool
}

type topicChoice struct {
	Topic string
	Label string
	Hint  string
	Modes []modeOption
}

type settingsPage struct {
	MailOn   bool
	Topics   []topicChoice
	Hours    []option
	Langs    []option
	Services []option
	Problems []string
	Saved    bool
}

// notificationSettings shows the person's choices.
func (s *Server) notificationSettings(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	if err := s.needNotifier(); err != nil {
		return "", 0, err
	}
	prefs, err := s.Notifier.Prefs(r.Context(), p.User.ID)
	if err != nil {
		return "", 0, err
	}
	d, _, err := s.settingsData(r, p, prefs)
	if err != nil {
		return "", 0, err
	}
	p.Title, p.Data, p.Nav = p.T("settings title"), d, "notifications"
	return "notification-settings", http.StatusOK, nil
}

// saveNotificationSettings checks and records the form. With e-mail off
// on the node, only the services are asked, and the rest is kept.
func (s *Server) saveNotificationSettings(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	if err := s.needNotifier(); err != nil {
		return "", 0, err
	}
	prefs, err := s.Notifier.Prefs(r.Context(), p.User.ID)
	if err != nil {
		return "", 0, err
	}
	next := *prefs
	next.User = p.User.ID
	var problems []string
	if s.Notifier.MailOn() {
		next.Modes = maps.Clone(prefs.Modes)
		if next.Modes == nil {
			next.Modes = map[notify.Topic]notify.Mode{}
		}
		for _, t := range topicsOf(p.User) {
			m := notify.Mode(r.PostFormValue("mode_" + string(t)))
			if !slices.Contains(notify.Modes, m) {
				problems = append(problems, p.T("settings problem mode", topicLabel(p.Lang, t)))
				continue
			}
			next.Modes[t] = m
		}
		h, err := strconv.Atoi(r.PostFormValue("digest_hour"))
		if err != nil || h < 0 || h > 23 {
			problems = append(problems, p.T("settings problem hour"))
		} else {
			next.DigestHour = h
		}
		if l, ok := directory.ParseLang(r.PostFormValue("lang")); ok {
			next.Lang = string(l)
		} else {
			problems = append(problems, p.T("settings problem lang"))
		}
	}
	d, known, err := s.settingsData(r, p, &next)
	if err != nil {
		return "", 0, err
	}
	next.Services = nil
	for _, id := range r.PostForm["service"] {
		if !slices.Contains(known, id) {
			problems = append(problems, p.T("settings problem service"))
			break
		}
		if !slices.Contains(next.Services, id) {
			next.Services = append(next.Services, id)
		}
	}
	p.Title, p.Data, p.Nav = p.T("settings title"), d, "notifications"
	d.fill(r, p)
	if len(problems) > 0 {
		d.Problems = problems
		return "notification-settings", http.StatusBadRequest, nil
	}
	if err := s.Notifier.SetPrefs(r.Context(), &next); err != nil {
		return "", 0, err
	}
	d.Saved = true
	return "notification-settings", http.StatusOK, nil
}

// settingsData builds the form from a person's choices; it also returns
// the ids of the services that may be ticked.
func (s *Server) settingsData(r *http.Request, p *pageData, prefs *notify.Prefs) (*settingsPage, []string, error) {
	d := &settingsPage{MailOn: s.Notifier.MailOn()}
	for _, t := range topicsOf(p.User) {
		c := topicChoice{Topic: string(t), Label: topicLabel(p.Lang, t), Hint: p.T("topic " + string(t) + " hint")}
		for _, m := range notify.Modes {
			c.Modes = append(c.Modes, modeOption{Value: string(m), Label: p.T("mode " + string(m)), Checked: prefs.Mode(t) == m})
		}
		d.Topics = append(d.Topics, c)
	}
	for h := range 24 {
		d.Hours = append(d.Hours, option{Value: strconv.Itoa(h), Label: localText{Text: fmt.Sprintf("%02d:00", h), Lang: p.Lang},
			Checked: h == prefs.DigestHour})
	}
	lang := directory.FR // the node's default
	if l, ok := directory.ParseLang(prefs.Lang); ok {
		lang = l
	}
	for _, l := range directory.Langs {
		d.Langs = append(d.Langs, option{Value: string(l), Label: localText{Text: langLabels[l], Lang: l}, Checked: l == lang})
	}
	var known []string
	err := s.Catalog.ForEachService(r.Context(), func(sv *directory.Service) error {
		ticked := slices.Contains(prefs.Services, sv.ID)
		if !sv.AcceptsReferrals() && !ticked {
			return nil
		}
		known = append(known, sv.ID)
		d.Services = append(d.Services, option{Value: sv.ID, Label: p.Local(sv.Name), Checked: ticked})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(d.Services, func(a, b option) int { return cmp.Compare(a.Label.Text, b.Label.Text) })
	return d, known, nil
}

// fill shows the form again as it was sent.
func (d *settingsPage) fill(r *http.Request, p *pageData) {
	for i := range d.Topics {
		for j := range d.Topics[i].Modes {
			m := &d.Topics[i].Modes[j]
			m.Checked = r.PostFormValue("mode_"+d.Topics[i].Topic) == m.Value
		}
	}
	check := func(opts []option, v string) {
		for i := range opts {
			opts[i].Checked = opts[i].Value == v
		}
	}
	if d.MailOn {
		check(d.Hours, r.PostFormValue("digest_hour"))
		check(d.Langs, r.PostFormValue("lang"))
	}
	for i := range d.Services {
		d.Services[i].Checked = slices.Contains(r.PostForm["service"], d.Services[i].Value)
	}
}

// unsubscribePage is the page of an e-mail's unsubscribe link.
type unsubscribePage struct {
	User, Topic, Token string
	Label              string // the topic's name
	Bad                bool   // the link is not valid
	Done               bool
}

// unsubscribeLink reads the link's person, topic and signature, from
// the query or the form (a one-click POST sends them in the query), and
// checks the signature.
func (s *Server) unsubscribeLink(r *http.Request, p *pageData) unsubscribePage {
	d := unsubscribePage{User: r.FormValue("u"), Topic: r.FormValue("k"), Token: r.FormValue("s")}
	t := notify.Topic(d.Topic)
	d.Bad = !t.Valid() || d.User == "" || !hmac.Equal([]byte(d.Token), []byte(s.Notifier.UnsubscribeToken(d.User, t)))
	if !d.Bad {
		d.Label = topicLabel(p.Lang, t)
	}
	return d
}

// confirmUnsubscribe asks before turning the topic off: a link opened by
// a mail scanner changes nothing.
func (s *Server) confirmUnsubscribe(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if err := s.needNotifier(); err != nil {
		return "", 0, err
	}
	d := s.unsubscribeLink(r, p)
	p.Title, p.Data = p.T("unsubscribe title"), d
	if d.Bad {
		return "unsubscribe", http.StatusBadRequest, nil
	}
	return "unsubscribe", http.StatusOK, nil
}

// unsubscribe turns the topic's e-mails off: from the page's button, or
// a mail program's one-click POST (RFC 8058). The signed link is its
// proof, so no form token is asked.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if err := s.needNotifier(); err != nil {
		return "", 0, err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return "", 0, errBadQuery
	}
	d := s.unsubscribeLink(r, p)
	p.Title = p.T("unsubscribe title")
	if !d.Bad {
		err := s.Notifier.Unsubscribe(r.Context(), d.User, notify.Topic(d.Topic), d.Token)
		switch {
		case errors.Is(err, notify.ErrBadToken):
			d.Bad = true // the account is gone
		case err != nil:
			return "", 0, err
		}
	}
	if d.Bad {
		p.Data = d
		return "unsubscribe", http.StatusBadRequest, nil
	}
	d.Done = true
	p.Data = d
	return "unsubscribe", http.StatusOK, nil
}

// failedMail is a mail given up, as the admin sees it.
type failedMail struct {
	Kind     string
	Created  string
	Attempts string
	Error    string
}

type adminMailPage struct {
	On      bool
	Queue   string // how many wait
	Next    string // when the next attempt is, or ""
	Failed  []failedMail
	Sent    bool
	Problem string
}

// adminMail shows whether e-mail works: the queue, the failures, and a
// test to send.
func (s *Server) adminMail(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if err := s.needNotifier(); err != nil {
		return "", 0, err
	}
	queued, failed, err := s.Notifier.Mails(r.Context(), 50)
	if err != nil {
		return "", 0, err
	}
	loc := brussels()
	d := adminMailPage{On: s.Notifier.MailOn(), Sent: r.URL.Query().Get("test") == "queued"}
	switch len(queued) {
	case 0:
		d.Queue = p.T("admin mail queued none")
	case 1:
		d.Queue = p.T("admin mail queued one")
	default:
		d.Queue = p.T("admin mail queued other", len(queued))
	}
	var next time.Time
	for _, m := range queued {
		if next.IsZero() || m.NextAt.Before(next) {
			next = m.NextAt
		}
	}
	if !next.IsZero() {
		d.Next = p.DateTime(next.In(loc))
	}
	for _, m := range failed {
		d.Failed = append(d.Failed, failedMail{Kind: p.T("mail kind " + string(m.Kind)), Created: p.DateTime(m.Created.In(loc)),
			Attempts: p.Num(m.Attempts), Error: m.LastError})
	}
	p.Title, p.Data = p.T("admin mail"), d
	return "admin-mail", http.StatusOK, nil
}

// sendTestMail queues a test e-mail to the admin who asks.
func (s *Server) sendTestMail(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if err := s.needNotifier(); err != nil {
		return "", 0, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	err := s.Notifier.QueueMail(r.Context(), &notify.Mail{ID: "test/" + hex.EncodeToString(b), Kind: notify.MailTest, User: p.User.ID})
	if errors.Is(err, notify.ErrMailOff) {
		name, code, err := s.adminMail(w, r, p)
		if err == nil {
			d := p.Data.(adminMailPage)
			d.Problem = p.T("admin mail test off")
			p.Data, code = d, http.StatusConflict
		}
		return name, code, err
	}
	if err != nil {
		return "", 0, err
	}
	http.Redirect(w, r, s.urlFor("admin-mail-page")+"?test=queued", http.StatusSeeOther)
	return "", 0, nil
}

// mailOff reports, for the admin's home page, that the node sends no
// e-mail.
func (s *Server) mailOff() bool { return s.Notifier != nil && !s.Notifier.MailOn() }
