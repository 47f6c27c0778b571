package web

import (
	"fmt"
	"io/fs"
	"maps"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template/parse"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// The three catalogues have the same keys, no empty text, and the same
// formatting verbs for each key.
func TestCataloguesMatch(t *testing.T) {
	verbs := regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-z]`)
	fr := messageKeys[directory.FR]
	if len(fr) < 100 {
		t.Fatalf("the French catalogue has %d keys: not loaded?", len(fr))
	}
	for _, l := range directory.Langs {
		for k := range fr {
			if !messageKeys[l][k] {
				t.Errorf("%q is missing in %s", k, l)
			}
		}
		for k := range messageKeys[l] {
			if !fr[k] {
				t.Errorf("%q is in %s but not in fr", k, l)
			}
			text := translateRaw(l, k)
			if strings.TrimSpace(text) == "" {
				t.Errorf("%q is empty in %s", k, l)
			}
			want := verbsOf(verbs, translateRaw(directory.FR, k))
			if got := verbsOf(verbs, text); !slices.Equal(got, want) {
				t.Errorf("%q in %s has verbs %v, fr has %v", k, l, got, want)
			}
		}
	}
}

func verbsOf(re *regexp.Regexp, s string) []string {
	out := re.FindAllString(s, -1)
	for i, v := range out {
		out[i] = v[len(v)-1:] // the kind only: the position may move
	}
	slices.Sort(out)
	return out
}

// translateRaw returns the catalogue text without formatting.
func translateRaw(l directory.Lang, key string) string {
	raw, _ := localeFS.ReadFile("locales/" + string(l) + ".json")
	// The key's line in the file, decoded by the catalogue loader's rules.
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), `": "`); ok && strings.TrimPrefix(k, `"`) == key {
			return strings.TrimSuffix(strings.TrimSuffix(v, ","), `"`)
		}
	}
	return ""
}

// Every message a template asks for exists in every language: the keys
// are read from the parsed templates, every {{.T "key"}} call.
func TestTemplateMessagesExist(t *testing.T) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) < 10 {
		t.Fatalf("templates: %v", err)
	}
	pages, err := parseTemplates()
	if err != nil {
		t.Fatalf("parseTemplates: %v", err)
	}
	used := map[string]bool{}
	for _, tmpl := range append(slices.Collect(maps.Values(pages.pages)), pages.layout) {
		for _, tt := range tmpl.Templates() {
			if tt.Tree != nil {
				collectKeys(tt.Tree.Root, used)
			}
		}
	}
	if len(used) < 80 {
		t.Fatalf("found %d message keys in the templates: the walk is wrong", len(used))
	}
	for _, k := range slices.Sorted(maps.Keys(used)) {
		for _, l := range directory.Langs {
			if !hasMessage(l, k) {
				t.Errorf("a template uses %q, missing in %s", k, l)
			}
		}
	}
}

// collectKeys finds the string arguments of .T and $.T calls.
func collectKeys(n parse.Node, out map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				collectKeys(c, out)
			}
		}
	case *parse.ActionNode:
		collectKeys(n.Pipe, out)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			collectKeys(c, out)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 {
			var name string
			switch f := n.Args[0].(type) {
			case *parse.FieldNode:
				name = f.Ident[len(f.Ident)-1]
			case *parse.VariableNode:
				name = f.Ident[len(f.Ident)-1]
			}
			if s, ok := n.Args[1].(*parse.StringNode); ok && name == "T" {
				out[s.Text] = true
			}
		}
		for _, a := range n.Args {
			collectKeys(a, out)
		}
	case *parse.IfNode:
		collectKeys(n.Pipe, out)
		collectKeys(n.List, out)
		collectKeys(n.ElseList, out)
	case *parse.RangeNode:
		collectKeys(n.Pipe, out)
		collectKeys(n.List, out)
		collectKeys(n.ElseList, out)
	case *parse.WithNode:
		collectKeys(n.Pipe, out)
		collectKeys(n.List, out)
		collectKeys(n.ElseList, out)
	}
}

// A page that asks for a message the catalogue lacks does not render.
func TestMissingMessageFailsRendering(t *testing.T) {
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	bad, err := pages.pages["error"].Clone()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Parse(`{{define "content"}}{{.T "no such message"}}{{end}}`); err != nil {
		t.Fatal(err)
	}
	pages.pages["error"] = bad
	rec := httptest.NewRecorder()
	err = pages.render(rec, httptest.NewRequest("GET", "/", nil), "error", 200, pageData{Lang: directory.NL}, "")
	if err == nil || !strings.Contains(err.Error(), "no such message") {
		t.Errorf("render = %v, want an error naming the missing message", err)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("half a page was sent: %q", rec.Body.String())
	}
}

// Numbers and dates are written as each language writes them.
func TestLocaleFormats(t *testing.T) {
	for l, want := range map[directory.Lang]string{directory.FR: "12 345 services trouvés", directory.NL: "12.345 diensten gevonden", directory.EN: "12,345 services found"} {
		if got := translate(l, "search total", 12345); strings.ReplaceAll(got, "\u00a0", " ") != want {
			t.Errorf("%s: %q, want %q", l, got, want)
		}
	}
	for l, want := range map[directory.Lang]string{directory.FR: "à 2,5 km", directory.NL: "op 2,5 km", directory.EN: "2.5 km away"} {
		if got := translate(l, "km away", 2.5); got != want {
			t.Errorf("%s: %q, want %q", l, got, want)
		}
	}
}

// The messages whose keys are built in code exist too: referral states,
// reason codes, transitions, the resident form's fields, calendar names.
func TestBuiltMessageKeysExist(t *testing.T) {
	keys := []string{"date format", "date time format"}
	for _, s := range referral.States {
		keys = append(keys, "state "+string(s))
		for _, by := range []referral.Side{referral.Sender, referral.Recipient} {
			for _, to := range referral.Next(s, by) {
				if to != referral.Cancelled {
					keys = append(keys, "move to "+string(to))
				}
			}
		}
	}
	codes := slices.Clone(referral.RejectReasons)
	for _, cs := range referral.Outcomes {
		codes = append(codes, cs...)
	}
	for _, c := range codes {
		keys = append(keys, "reason "+c)
	}
	for _, f := range residentForm {
		keys = append(keys, "field "+f.Name)
	}
	for _, m := range referral.Methods {
		keys = append(keys, string(m))
	}
	for _, c := range directory.DataCategories {
		keys = append(keys, string(c))
	}
	for i := range 7 {
		keys = append(keys, fmt.Sprintf("weekday %d", i))
	}
	for i := 1; i <= 12; i++ {
		keys = append(keys, fmt.Sprintf("month %d", i))
	}
	for _, st := range []string{"partner", "pending", "requested", "following", "follower", "subscriber", "rejected", "none"} {
		keys = append(keys, "relation "+st)
	}
	keys = append(keys, "partner accept", "partner decline", "partner end", "role admin", "role worker", "suggested via",
		"partner request failed", "user not added", "form coordinates bad", "form name", "form description", "form eligibility", "form application")
	for _, part := range []string{"theme", "place", "name", "description", "audience", "language"} {
		keys = append(keys, "similar "+part)
	}
	for code := 400; code < 600; code++ {
		keys = append(keys, errorMessage(code))
	}
	for _, k := range keys {
		for _, l := range directory.Langs {
			if !hasMessage(l, k) {
				t.Errorf("%q is missing in %s", k, l)
			}
		}
	}
	if got := formatDate(directory.FR, time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)); got != "lundi 21 décembre 2026" {
		t.Errorf("French date = %q", got)
	}
	if got := formatDateTime(directory.EN, time.Date(2026, 12, 21, 9, 5, 0, 0, time.UTC)); got != "Monday 21 December 2026 at 09:05" {
		t.Errorf("English date and time = %q", got)
	}
}
