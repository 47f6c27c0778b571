package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maillage/maillage/referral"
)

// docs/outcomes.md and its French twin list every state and every reason
// code of the referral package, each with the words the pages use in
// French, Dutch and English: the fixed list people read is the one the
// nodes exchange.
func TestOutcomesDocumented(t *testing.T) {
	labels := map[string]map[string]string{}
	for _, l := range []string{"fr", "nl", "en"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "web", "locales", l+".json"))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		labels[l] = m
	}
	codes := append([]string{}, referral.RejectReasons...)
	for _, list := range referral.Outcomes {
		codes = append(codes, list...)
	}
	for _, doc := range []string{"outcomes.md", "outcomes.fr.md"} {
		raw, err := os.ReadFile(filepath.Join(docsDir, doc))
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		row := func(key, code string) {
			want := "| `" + code + "` | " + labels["fr"][key+code] + " | " + labels["nl"][key+code] + " | " + labels["en"][key+code] + " |"
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks the row %s", doc, want)
			}
		}
		for _, c := range codes {
			row("reason ", c)
		}
		for _, s := range referral.States {
			if s != referral.Draft {
				row("state ", string(s))
			}
		}
	}
}
