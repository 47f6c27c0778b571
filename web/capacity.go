package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/web/account"
)

// Coordination between partners on a service's page and in results: its
// capacity (places free, full, a waiting list, no one new until a day),
// set in one click by any worker of the node; its dated temporary
// changes (closed, other hours, a message); and when its association
// last said it is right. All three travel with the service, so a
// partner's page shows them as the service's own node does.

// capacityView is a capacity as people read it.
type capacityView struct {
	State string // open, full, waiting, not-accepting
	Text  string // "Places libres : 3 sur 12"
	Age   string // "mis à jour il y a 2 h"
	// Warn says a referral may have to wait: full, a waiting list, or
	// no one new until a day.
	Warn bool
}

// unitLabel names what a capacity counts, as the label of its number.
func unitLabel(p *pageData, unit string) string {
	if !slices.Contains(directory.CapacityUnits, unit) {
		unit = directory.UnitPlaces
	}
	return p.T("capacity free " + unit)
}

// capacityOf says what c means now, with its age; nil when it says
// nothing (none set, or a "not accepting until" whose day is past).
func capacityOf(p *pageData, c *directory.Capacity) *capacityView {
	state := c.State(p.now)
	if state == directory.CapacityUnknown {
		return nil
	}
	v := &capacityView{State: string(state), Age: updatedAgo(p, c.Updated), Warn: state != directory.CapacityOpen}
	switch state {
	case directory.CapacityOpen:
		n := p.Num(c.Available)
		if c.Maximum > 0 {
			n = p.T("capacity of", c.Available, c.Maximum)
		}
		v.Text = p.T("labelled", unitLabel(p, c.UnitOrDefault()), n)
	case directory.CapacityFull:
		v.Text = p.T("capacity full")
	case directory.CapacityWaiting:
		var parts []string
		if w := c.Waiting; w.Length > 0 {
			parts = append(parts, plural(p, "capacity waiting people", w.Length))
		}
		if w := c.Waiting; w.DelayDays > 0 {
			parts = append(parts, plural(p, "capacity waiting days", w.DelayDays))
		}
		v.Text = p.T("capacity waiting")
		if len(parts) > 0 {
			v.Text = p.T("labelled", v.Text, strings.Join(parts, ", "))
		}
	case directory.CapacityNotAccepting:
		v.Text = p.T("capacity not accepting", dayMonthYear(p, parseDay(c.NotAcceptingUntil)))
	}
	return v
}

// plural picks key+" one" or key+" other" for n in the page's language.
func plural(p *pageData, key string, n int) string {
	if singular(p.Lang, n) && n == 1 {
		return p.T(key + " one")
	}
	return p.T(key+" other", n)
}

// updatedAgo says how long ago t was, in words: "il y a 2 h", "hier",
// then the day after a month. A time ahead of the clock (a partner's
// clock ahead of ours) reads as just now.
func updatedAgo(p *pageData, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := p.now.Sub(t)
	switch {
	case d < time.Minute:
		return p.T("updated now")
	case d < time.Hour:
		return p.T("updated minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		return p.T("updated hours", int(d/time.Hour))
	case d < 48*time.Hour:
		return p.T("updated yesterday")
	case d < 30*24*time.Hour:
		return p.T("updated days", int(d/(24*time.Hour)))
	}
	return p.T("updated on", dayMonthYear(p, t.In(directory.Brussels())))
}

// parseDay reads a day (YYYY-MM-DD) as midnight in Brussels.
func parseDay(d string) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, d, directory.Brussels())
	return t
}

// dayOfMonth writes a day of the month: "1er" in French.
func dayOfMonth(p *pageData, d int) string {
	if d == 1 {
		return p.T("first of month")
	}
	return strconv.Itoa(d)
}

// dayMonth writes "3 décembre", with the year when it is not this year's
// or when always is set.
func dayMonth(p *pageData, t time.Time, withYear bool) string {
	s := dayOfMonth(p, t.Day()) + " " + p.T("month "+strconv.Itoa(int(t.Month())))
	if withYear {
		s += " " + strconv.Itoa(t.Year())
	}
	return s
}

// dayMonthYear writes "3 décembre 2026".
func dayMonthYear(p *pageData, t time.Time) string { return dayMonth(p, t, true) }

// dayRange writes two days as a span: "du 20 au 31 décembre", "du 1er
// juillet au 31 août", "le 24 décembre"; years shown when not this one.
func dayRange(p *pageData, from, to time.Time) string {
	year := from.Year() != to.Year() || from.Year() != p.now.In(directory.Brussels()).Year()
	switch {
	case from.Equal(to):
		return p.T("range one day", dayMonth(p, from, year))
	case from.Year() == to.Year() && from.Month() == to.Month():
		month := p.T("month " + strconv.Itoa(int(to.Month())))
		if year {
			month += " " + strconv.Itoa(to.Year())
		}
		return p.T("range in month", dayOfMonth(p, from.Day()), dayOfMonth(p, to.Day()), month)
	}
	// The year once, at the end, when both days share it.
	return p.T("range", dayMonth(p, from, year && from.Year() != to.Year()), dayMonth(p, to, year))
}

// periodView is a dated change as a service's page shows it.
type periodView struct {
	Text    string   // "Fermé du 20 au 31 décembre"
	Hours   []string // other hours, day by day
	Message localText
	Now     bool // in force today; else it starts within announceDays
}

// announceDays is how long before a dated change its page announces it.
const announceDays = 30

// periodsOf lists the changes in force today or starting within
// announceDays, in the order they start.
func periodsOf(p *pageData, sc directory.Schedule) []periodView {
	today := directory.DateOf(p.now)
	limit := parseDay(today).AddDate(0, 0, announceDays).Format(time.DateOnly)
	periods := slices.Clone(sc.Periods)
	slices.SortStableFunc(periods, func(a, b directory.Period) int { return strings.Compare(a.From, b.From) })
	var out []periodView
	for _, per := range periods {
		if per.To < today || per.From > limit {
			continue
		}
		span := dayRange(p, parseDay(per.From), parseDay(per.To))
		v := periodView{Message: p.Local(per.Message), Now: per.From <= today}
		switch {
		case per.Closed:
			v.Text = p.T("period closed", span)
		case len(per.Hours) > 0:
			v.Text = p.T("period hours", span)
			v.Hours = slotsInWords(p, per.Hours)
		default:
			v.Text = p.T("period note", span)
		}
		out = append(out, v)
	}
	return out
}

// slotsInWords writes weekly slots day by day, Monday first.
func slotsInWords(p *pageData, slots []directory.Slot) []string {
	var out []string
	for i := range 7 {
		day := time.Weekday((i + 1) % 7)
		var spans []string
		for _, sl := range slots {
			if sl.Day == day {
				spans = append(spans, p.T("from to", sl.Opens.String(), sl.Closes.String()))
			}
		}
		if len(spans) > 0 {
			out = append(out, p.T("labelled", p.T("weekday "+strconv.Itoa(int(day))), strings.Join(spans, ", ")))
		}
	}
	return out
}

// closedUntil says the service is closed today by a dated change, until
// which day; "" when it is not.
func closedUntil(p *pageData, sc directory.Schedule) string {
	per, ok := sc.PeriodAt(directory.DateOf(p.now))
	if !ok || !per.Closed {
		return ""
	}
	return p.T("closed until", dayMonth(p, parseDay(per.To), parseDay(per.To).Year() != p.now.In(directory.Brussels()).Year()))
}

// freshnessView says when the service was last said to be right, or
// that it has not been for long.
type freshnessView struct {
	Text  string
	Stale bool
}

// freshnessOf reads a service's review date against the delay after
// which this node marks services as not reviewed.
func freshnessOf(p *pageData, sv *directory.Service, after time.Duration) *freshnessView {
	at := sv.ReviewedAt()
	if at.IsZero() {
		return nil
	}
	at = at.In(directory.Brussels())
	stale := sv.ReviewDue(p.now, after)
	// The same few review days come back on every results page: their
	// words are formatted once per language.
	k := fmt.Sprintf("%s %s %v %d", p.Lang, at.Format(time.DateOnly), stale, after)
	if v, ok := freshnessMemo.Load(k); ok {
		return &freshnessView{Text: v.(string), Stale: stale}
	}
	day := dayMonthYear(p, at)
	text := p.T("reviewed on", day)
	if stale {
		text = staleText(p, after, day)
	}
	if freshnessCount.Add(1) <= maxFreshnessMemo {
		freshnessMemo.Store(k, text)
	}
	return &freshnessView{Text: text, Stale: stale}
}

// freshnessMemo holds the freshness lines already written, at most
// maxFreshnessMemo of them (a day and a language each).
var (
	freshnessMemo  sync.Map
	freshnessCount atomic.Int64
)

const maxFreshnessMemo = 20000

// staleText says a service has not been reviewed for more than after.
func staleText(p *pageData, after time.Duration, day string) string {
	days := after.Hours() / 24
	if months := int(math.Round(days / 30.44)); months >= 2 {
		return p.T("not reviewed months", months, day)
	}
	return p.T("not reviewed days", int(math.Round(days)), day)
}

// capacityForm is what the capacity forms of a service's page hold:
// the values set, or typed when they were refused.
type capacityForm struct {
	Available, Maximum, Length, Days, Until string
	Unit                                    string
	Units                                   []option
	Problems                                []string
	Saved                                   bool
}

// newCapacityForm fills the forms from the service's capacity.
func newCapacityForm(p *pageData, c *directory.Capacity) *capacityForm {
	f := &capacityForm{Unit: directory.UnitPlaces}
	if c != nil {
		f.Unit = c.UnitOrDefault()
		if c.Available > 0 || (c.Waiting == nil && c.NotAcceptingUntil == "") {
			f.Available = strconv.Itoa(c.Available)
		}
		if c.Maximum > 0 {
			f.Maximum = strconv.Itoa(c.Maximum)
		}
		if w := c.Waiting; w != nil {
			if w.Length > 0 {
				f.Length = strconv.Itoa(w.Length)
			}
			if w.DelayDays > 0 {
				f.Days = strconv.Itoa(w.DelayDays)
			}
		}
		f.Until = c.NotAcceptingUntil
	}
	f.setUnits(p)
	return f
}

func (f *capacityForm) setUnits(p *pageData) {
	f.Units = nil
	for _, u := range directory.CapacityUnits {
		f.Units = append(f.Units, option{Value: u, Label: localText{Text: p.T("capacity unit " + u), Lang: p.Lang}, Checked: u == f.Unit})
	}
}

// capacityFromForm reads the capacity a form asks for: places free,
// full, a waiting list, no one new until a day, or nothing said (nil).
// A number that is not one is refused as out of range, as the catalogue
// would. What stays of the current capacity (its maximum and unit) when
// the form does not say is taken from cur.
func capacityFromForm(form url.Values, cur *directory.Capacity) (*directory.Capacity, *capacityForm, directory.Problems) {
	typed := &capacityForm{Available: strings.TrimSpace(form.Get("available")), Maximum: strings.TrimSpace(form.Get("maximum")),
		Length: strings.TrimSpace(form.Get("length")), Days: strings.TrimSpace(form.Get("delay_days")),
		Until: strings.TrimSpace(form.Get("not_accepting_until")), Unit: form.Get("unit")}
	var p directory.Problems
	number := func(field, v string, code directory.Code) int {
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			p.Rule(field, code, "%q is not a whole number", v)
		}
		return n
	}
	c := &directory.Capacity{Unit: directory.UnitPlaces}
	if cur != nil {
		c.Maximum, c.Unit = cur.Maximum, cur.UnitOrDefault()
	}
	switch form.Get("kind") {
	case "places":
		if typed.Available == "" {
			p.Rule("available", directory.CodeCapacityRange, "is required")
		}
		c.Available = number("available", typed.Available, directory.CodeCapacityRange)
		c.Maximum = number("maximum", typed.Maximum, directory.CodeCapacityRange)
		if typed.Unit != "" {
			c.Unit = typed.Unit
		}
	case "full":
	case "waiting":
		c.Waiting = &directory.WaitingList{Length: number("waiting_list.length", typed.Length, directory.CodeCapacityRange),
			DelayDays: number("waiting_list.delay_days", typed.Days, directory.CodeDelayRange)}
	case "closed":
		if typed.Until == "" {
			p.Rule("not_accepting_until", directory.CodeDate, "is required")
		}
		c.NotAcceptingUntil = typed.Until
	case "clear":
		return nil, typed, nil
	default:
		p.Rule("kind", directory.CodeChoice, "must be places, full, waiting, closed or clear")
	}
	if typed.Unit == "" {
		typed.Unit = c.Unit
	}
	return c, typed, p
}

// setCapacityPage sets a service's capacity from its page, for any
// worker of the node: then back to the page, or the page again with
// what is wrong in the worker's language and what was typed.
func (s *Server) setCapacityPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	if needLogin(w, r, p) {
		return "", 0, nil
	}
	id := pathVar(r, "id")
	sv, err := s.Catalog.Service(r.Context(), id)
	if err != nil {
		return "", 0, err
	}
	c, typed, problems := capacityFromForm(r.PostForm, sv.Capacity)
	if len(problems) == 0 {
		_, err = s.Catalog.SetCapacity(r.Context(), id, c)
		if problems, _ = directory.AsProblems(err); problems == nil && err != nil {
			return "", 0, err
		}
	}
	if len(problems) > 0 {
		d, err := s.localServiceView(r, p, sv)
		if err != nil {
			return "", 0, err
		}
		for _, pr := range problems {
			typed.Problems = append(typed.Problems, p.problemText(pr))
		}
		typed.setUnits(p)
		d.CapacityForm = typed
		p.Title, p.Data, p.Nav = d.Name.Text, d, "search"
		return "service", http.StatusBadRequest, nil
	}
	http.Redirect(w, r, "/services/"+url.PathEscape(id)+"?capacity=saved#capacity", http.StatusSeeOther)
	return "", 0, nil
}

// markReviewedPage records "still correct" for an admin, then goes back
// to the page it was asked from (the services list, the admin home, the
// service's page), this node's only.
func (s *Server) markReviewedPage(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
	id := pathVar(r, "id")
	if _, err := s.Catalog.MarkReviewed(r.Context(), id); err != nil {
		return "", 0, err
	}
	next := safeNext(r.PostFormValue("next"))
	if next == "" {
		next = "/admin/services"
	}
	sep := "?"
	if strings.Contains(next, "?") {
		sep = "&"
	}
	http.Redirect(w, r, next+sep+"reviewed="+url.QueryEscape(id), http.StatusSeeOther)
	return "", 0, nil
}

// capacityBody is the JSON a capacity is set with: places free (of a
// maximum, in a unit), or a waiting list, or no one new until a day.
type capacityBody struct {
	Available         *int                   `json:"available"`
	Maximum           int                    `json:"maximum"`
	Unit              string                 `json:"unit"`
	WaitingList       *directory.WaitingList `json:"waiting_list"`
	NotAcceptingUntil string                 `json:"not_accepting_until"`
	// Updated and State are what the API answers; sent back, they are
	// ignored.
	Updated string `json:"updated"`
	State   string `json:"state"`
}

// capacityAnswer is a capacity as the API gives it.
type capacityAnswer struct {
	Available         int                    `json:"available"`
	Maximum           int                    `json:"maximum,omitempty"`
	Unit              string                 `json:"unit"`
	WaitingList       *directory.WaitingList `json:"waiting_list,omitempty"`
	NotAcceptingUntil string                 `json:"not_accepting_until,omitempty"`
	Updated           time.Time              `json:"updated"`
	State             string                 `json:"state"`
}

func capacityAnswerOf(c *directory.Capacity, now time.Time) *capacityAnswer {
	if c == nil {
		return nil
	}
	return &capacityAnswer{Available: c.Available, Maximum: c.Maximum, Unit: c.UnitOrDefault(), WaitingList: c.Waiting,
		NotAcceptingUntil: c.NotAcceptingUntil, Updated: c.Updated, State: string(c.State(now))}
}

// setCapacity is PUT /api/v1/services/{id}/capacity, for any user of the
// node.
func (s *Server) setCapacity(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	var b capacityBody
	if p := directory.DecodeStrict(body, &b); len(p) > 0 {
		return p
	}
	if b.Available == nil && b.WaitingList == nil && b.NotAcceptingUntil == "" {
		var p directory.Problems
		p.Rule("available", directory.CodeRequired, "say available, waiting_list or not_accepting_until")
		return p
	}
	c := &directory.Capacity{Maximum: b.Maximum, Unit: b.Unit, Waiting: b.WaitingList, NotAcceptingUntil: b.NotAcceptingUntil}
	if b.Available != nil {
		c.Available = *b.Available
	}
	sv, err := s.Catalog.SetCapacity(r.Context(), id, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": sv.ID, "capacity": capacityAnswerOf(sv.Capacity, s.Now())})
	return nil
}

// clearCapacity is DELETE /api/v1/services/{id}/capacity: the service
// no longer says.
func (s *Server) clearCapacity(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	if _, err := s.Catalog.SetCapacity(r.Context(), id, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// markReviewed is POST /api/v1/services/{id}/reviewed, for admins.
func (s *Server) markReviewed(w http.ResponseWriter, r *http.Request, _ *account.User) error {
	id, err := idFromPath(r, "")
	if err != nil {
		return err
	}
	sv, err := s.Catalog.MarkReviewed(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": sv.ID, "reviewed": sv.Reviewed, "assured_date": directory.DateOf(sv.Reviewed)})
	return nil
}

// capacityWarning is what the referral form says of a service that may
// not take the resident soon.
type capacityWarning struct {
	Text string // the capacity in words, with its age
}

// referWithCapacity is the referral form's data with a warning about the
// chosen service's capacity.
type referWithCapacity struct {
	*referPage
	CapacityWarning *capacityWarning
}

// CapacityWarning is none on a form shown without withCapacityWarning.
func (d *referPage) CapacityWarning() *capacityWarning { return nil }

// withCapacityWarning adds to the referral form a warning when the
// chosen service is full, has a waiting list or takes no one new: the
// worker may still send.
func (s *Server) withCapacityWarning(h pageHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
		name, code, err := h(w, r, p)
		d, ok := p.Data.(*referPage)
		if name != "refer" || !ok || d == nil || s.Network == nil {
			return name, code, err
		}
		ps, lookErr := s.Network.PartnerService(r.Context(), d.ServiceURI)
		if lookErr != nil || ps.Service == nil {
			return name, code, err
		}
		if v := capacityOf(p, ps.Service.Capacity); v != nil && v.Warn {
			text := v.Text
			if v.Age != "" {
				text += " (" + v.Age + ")"
			}
			p.Data = &referWithCapacity{referPage: d, CapacityWarning: &capacityWarning{Text: text}}
		}
		return name, code, err
	}
}
