package federation

import (
	"fmt"
	"html"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// What a fediverse follower reads of a service is the post's HTML
// content: the name as a link to the service's page, a short
// description, where and when, and the categories as hashtags. Mastodon
// and GoToSocial keep links, paragraphs and line breaks of it and drop
// the rest, so nothing else is used.

// postWords are the few words of a post, in each language.
type postWords struct {
	where, when string
	days        [7]string // Sunday first, as time.Weekday
	// places says a capacity in a few words: places free (of a
	// maximum), full, a waiting list, nobody new until a day.
	places, free, of, full, waiting, until string
}

var postLabels = map[directory.Lang]postWords{
	directory.FR: {where: "Où\u00a0:", when: "Quand\u00a0:", days: [7]string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."},
		places: "Places\u00a0:", free: "libres", of: "sur", full: "complet", waiting: "liste d’attente", until: "pas de nouvelle inscription jusqu’au"},
	directory.NL: {where: "Waar:", when: "Wanneer:", days: [7]string{"zo", "ma", "di", "wo", "do", "vr", "za"},
		places: "Plaatsen:", free: "vrij", of: "van de", full: "volzet", waiting: "wachtlijst", until: "geen nieuwe inschrijvingen tot en met"},
	directory.EN: {where: "Where:", when: "When:", days: [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
		places: "Places:", free: "free", of: "of", full: "full", waiting: "waiting list", until: "nobody new until"},
}

// postDescription is how much of a description a post carries; the
// service's page has the rest.
const postDescription = 300

// postContent writes the post of service s in language l.
func (f *Federator) postContent(s *directory.Service, places []*directory.Location, l directory.Lang) string {
	words := postLabels[l]
	var b strings.Builder
	b.WriteString(`<p><a href="`)
	b.WriteString(html.EscapeString(f.serviceURI(s.ID)))
	b.WriteString(`"><strong>`)
	b.WriteString(html.EscapeString(s.Name.In(l)))
	b.WriteString("</strong></a></p>")
	if d := shorten(firstParagraph(s.Description.In(l)), postDescription); d != "" {
		b.WriteString("<p>" + html.EscapeString(d) + "</p>")
	}
	var lines []string
	for _, p := range places {
		if w := placeInWords(p, l); w != "" {
			lines = append(lines, words.where+" "+html.EscapeString(w))
		}
	}
	if w := hoursInWords(s.Schedule, words); w != "" {
		lines = append(lines, words.when+" "+html.EscapeString(w))
	}
	if w := capacityInWords(s.Capacity, words, f.now()); w != "" {
		lines = append(lines, words.places+" "+html.EscapeString(w))
	}
	if len(lines) > 0 {
		b.WriteString("<p>" + strings.Join(lines, "<br>") + "</p>")
	}
	tax := f.o.Catalog.Taxonomy()
	var tags []string
	for _, c := range s.Categories {
		if term, ok := tax.Category(c); ok {
			tags = append(tags, `<a href="`+html.EscapeString(f.categoryURL(c))+`" class="mention hashtag" rel="tag">#<span>`+
				html.EscapeString(hashtag(term.Labels.In(l)))+`</span></a>`)
		}
	}
	if len(tags) > 0 {
		b.WriteString("<p>" + strings.Join(tags, " ") + "</p>")
	}
	return b.String()
}

// firstParagraph is the text up to the first blank line.
func firstParagraph(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n")
	if i := strings.Index(s, "\n\n"); i >= 0 {
		s = s[:i]
	}
	return strings.Join(strings.Fields(s), " ")
}

// shorten cuts s to at most max characters, at a word, with an ellipsis.
func shorten(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	cut, n := 0, 0
	for i := range s {
		if n == max {
			cut = i
			break
		}
		n++
	}
	if sp := strings.LastIndexFunc(s[:cut], unicode.IsSpace); sp > cut/2 {
		cut = sp
	}
	return strings.TrimRightFunc(s[:cut], func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

// placeInWords is a location as people write it: its name, then street,
// postcode and city.
func placeInWords(p *directory.Location, l directory.Lang) string {
	var parts []string
	if n := p.Name.In(l); n != "" {
		parts = append(parts, n)
	}
	if a := p.Address.Street; a != "" {
		parts = append(parts, a)
	}
	if pc := strings.TrimSpace(p.Address.Postcode + " " + p.Address.City); pc != "" {
		parts = append(parts, pc)
	}
	return strings.Join(parts, ", ")
}

// hoursInWords writes the weekly hours, Monday first, each open day with
// its spans ("lun. 09:00–12:00, 13:00–16:00 · mer. 14:00–18:00").
func hoursInWords(sc directory.Schedule, w postWords) string {
	var days []string
	for i := range 7 {
		day := time.Weekday((i + 1) % 7)
		var spans []string
		for _, sl := range sc.Weekly {
			if sl.Day == day {
				spans = append(spans, sl.Opens.String()+"–"+sl.Closes.String())
			}
		}
		if len(spans) > 0 {
			days = append(days, w.days[day]+" "+strings.Join(spans, ", "))
		}
	}
	return strings.Join(days, " · ")
}

// capacityInWords says a capacity as of now in a few words ("3 libres
// sur 12", "complet"); "" when it says nothing. A post is written when
// the service changes: the service's page has the capacity as it is.
func capacityInWords(c *directory.Capacity, w postWords, now time.Time) string {
	switch c.State(now) {
	case directory.CapacityOpen:
		if c.Maximum > 0 {
			return fmt.Sprintf("%d %s %s %d", c.Available, w.free, w.of, c.Maximum)
		}
		return fmt.Sprintf("%d %s", c.Available, w.free)
	case directory.CapacityFull:
		return w.full
	case directory.CapacityWaiting:
		return w.waiting
	case directory.CapacityNotAccepting:
		return w.until + " " + c.NotAcceptingUntil
	}
	return ""
}

// textHTML writes plain text as HTML: escaped, a paragraph for each
// block separated by a blank line, a line break for each single one.
func textHTML(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n")
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		lines := strings.Split(para, "\n")
		for i, ln := range lines {
			lines[i] = html.EscapeString(strings.TrimSpace(ln))
		}
		b.WriteString("<p>" + strings.Join(lines, "<br>") + "</p>")
	}
	return b.String()
}
