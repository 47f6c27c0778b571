package web

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/maillage/maillage/directory"
)

// Every message a template asks for exists in every language.
func TestTemplateMessagesExist(t *testing.T) {
	re := regexp.MustCompile(`\.T "([^"]+)"`)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	used := 0
	for _, f := range files {
		b, _ := fs.ReadFile(templateFS, f)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			used++
			msg, ok := messages[m[1]]
			if !ok {
				t.Errorf("%s uses message %q, which is not in the catalogue", f, m[1])
				continue
			}
			for _, l := range directory.Langs {
				if msg[l] == "" {
					t.Errorf("message %q has no %s text", m[1], l)
				}
			}
		}
	}
	if used == 0 {
		t.Error("no message found in the templates: the pattern is wrong")
	}
	if _, err := parseTemplates(); err != nil {
		t.Errorf("parseTemplates: %v", err)
	}
}
