package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"github.com/maillage/maillage/directory"
)

// The interface text lives in one catalogue file per language,
// locales/<lang>.json (message key → text, with fmt verbs where a
// message takes arguments), loaded into a golang.org/x/text catalogue:
// its printers also format numbers the way each language writes them
// (1 234,5 · 1.234,5 · 1,234.5). A test fails when a key is missing in
// any language or a template uses an unknown key.

//go:embed locales/*.json
var localeFS embed.FS

var langTags = map[directory.Lang]language.Tag{
	directory.FR: language.French, directory.NL: language.Dutch, directory.EN: language.English,
}

// messageKeys holds the keys of each language's file.
var messageKeys = map[directory.Lang]map[string]bool{}

var printers = map[directory.Lang]*message.Printer{}

func init() {
	if err := loadCatalogue(); err != nil {
		panic("web: message catalogue: " + err.Error()) // a build defect, caught by tests
	}
}

func loadCatalogue() error {
	b := catalog.NewBuilder(catalog.Fallback(language.French))
	for _, l := range directory.Langs {
		raw, err := localeFS.ReadFile("locales/" + string(l) + ".json")
		if err != nil {
			return err
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return fmt.Errorf("locales/%s.json: %w", l, err)
		}
		messageKeys[l] = map[string]bool{}
		for k, v := range msgs {
			if err := b.SetString(langTags[l], k, v); err != nil {
				return fmt.Errorf("locales/%s.json: %s: %w", l, k, err)
			}
			messageKeys[l][k] = true
		}
	}
	for _, l := range directory.Langs {
		printers[l] = message.NewPrinter(langTags[l], message.Catalog(b))
	}
	return nil
}

// hasMessage reports whether key is in l's catalogue.
func hasMessage(l directory.Lang, key string) bool { return messageKeys[l][key] }

// translate returns the message key in l, formatted with args.
func translate(l directory.Lang, key string, args ...any) string {
	p, ok := printers[l]
	if !ok {
		p, l = printers[directory.FR], directory.FR
	}
	if len(args) == 0 && messageKeys[l][key] {
		// A catalogue's message without arguments is always the same
		// text: formatted once (a results page asks for hundreds).
		k := string(l) + "\x00" + key
		if v, ok := plainMessages.Load(k); ok {
			return v.(string)
		}
		v := p.Sprintf(key)
		plainMessages.Store(k, v)
		return v
	}
	return p.Sprintf(key, args...)
}

// plainMessages holds the catalogues' messages without arguments, as
// formatted: bounded by the catalogues' keys.
var plainMessages sync.Map

// formatNumber writes n as l writes numbers.
func formatNumber(l directory.Lang, n any) string {
	if f, ok := n.(float64); ok {
		return printers[l].Sprintf("%.1f", f)
	}
	return printers[l].Sprintf("%d", n)
}

// formatDate writes a day in words: "lundi 21 décembre 2026".
func formatDate(l directory.Lang, t time.Time) string {
	return translate(l, "date format", translate(l, fmt.Sprintf("weekday %d", t.Weekday())), t.Day(),
		translate(l, fmt.Sprintf("month %d", t.Month())), strconv.Itoa(t.Year())) // a year has no thousands separator
}

// formatDateTime writes a day and a time of day (24-hour clock in the
// three languages, as Belgium writes them).
func formatDateTime(l directory.Lang, t time.Time) string {
	return translate(l, "date time format", formatDate(l, t), t.Format("15:04"))
}
