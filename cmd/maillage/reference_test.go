package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The checked-in reference is what the code generates today, in both
// languages: a flag added, renamed or redocumented without regenerating it
// fails here.
func TestConfigurationReference(t *testing.T) {
	for lang, file := range map[string]string{"en": "docs/configuration.md", "fr": "docs/configuration.fr.md"} {
		var b bytes.Buffer
		if err := writeConfigReference(&b, referenceText[lang]); err != nil {
			t.Fatal(err)
		}
		got := b.Bytes()
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v; create it with: go generate ./cmd/maillage", err)
		}
		if !bytes.Equal(got, want) {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
			i := 0
			for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
				i++
			}
			line := func(l []string) string {
				if i < len(l) {
					return l[i]
				}
				return "(end of file)"
			}
			t.Errorf("%s differs from the flags in the code, from line %d:\n  file: %s\n  code: %s\nRegenerate it with: go generate ./cmd/maillage",
				file, i+1, line(wl), line(gl))
		}

		// Every flag of every command is in it, with its variable.
		for _, cmd := range commands() {
			fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
			cmd.define(fs)
			fs.VisitAll(func(f *flag.Flag) {
				if row := "| `--" + f.Name + "` | `" + envName(f.Name) + "` |"; !bytes.Contains(got, []byte(row)) {
					t.Errorf("%s: the reference lacks %s of %s", lang, row, cmd.name)
				}
			})
		}
	}
}

// The command the go:generate lines run writes the same pages.
func TestConfigReferenceCommand(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		out := filepath.Join(t.TempDir(), "configuration.md")
		var stdout, stderr bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, terminal: func() bool { return false }}
		if code := run(context.Background(), c, []string{"config-reference", "--lang", lang, "--out", out}); code != 0 {
			t.Fatalf("config-reference --out: exit %d, %s", code, stderr.String())
		}
		written, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if code := run(context.Background(), c, []string{"config-reference", "--lang", lang}); code != 0 {
			t.Fatalf("config-reference: exit %d, %s", code, stderr.String())
		}
		var want bytes.Buffer
		writeConfigReference(&want, referenceText[lang])
		if !bytes.Equal(written, want.Bytes()) || !bytes.Equal(stdout.Bytes(), want.Bytes()) {
			t.Errorf("config-reference --lang %s wrote something other than the reference", lang)
		}
	}
	var stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, terminal: func() bool { return false }}
	if code := run(context.Background(), c, []string{"config-reference", "--lang", "nl"}); code != 2 || !strings.Contains(stderr.String(), "--lang") {
		t.Errorf("config-reference --lang nl: exit %d, %q; want 2", code, stderr.String())
	}
}
