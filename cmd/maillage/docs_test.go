package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The documentation is checked against the program: every `maillage
// <command>` it shows must exist with the flags it is given, every
// MAILLAGE_* variable it names must set a flag, and every page of
// cmd/maillage/docs must exist in English (X.md) and in French (X.fr.md).
// Commands are read from the code of the pages only (fenced blocks and
// inline code spans), and from the unit files shipped beside them.

const docsDir = "docs"

var readmePath = filepath.Join("..", "..", "README.md")

// docLine is one logical line of code in a documentation file.
type docLine struct {
	file string
	line int
	text string
}

func (l docLine) String() string { return fmt.Sprintf("%s:%d", l.file, l.line) }

// proseLangs are the info strings of fenced blocks that hold no command
// lines; their content is not read for commands.
var proseLangs = []string{"json", "go", "html", "xml", "css", "js", "javascript", "csv", "text", "txt"}

// markdownCode returns the code of a Markdown page: each line of its
// fenced blocks (a line ending in \ continued by the next) and each
// inline code span, which may run over a line break within its paragraph.
// Escaped pipes (\|, inside tables) read as pipes.
func markdownCode(file, src string) []docLine {
	var out []docLine
	lines := strings.Split(src, "\n")
	fence, fenceLen, skip := byte(0), 0, false
	var pending *docLine
	var para []string // the paragraph being read, outside fences
	paraStart := 0
	flush := func() {
		text := strings.Join(para, "\n")
		for _, sp := range codeSpans(text) {
			line := paraStart + strings.Count(text[:sp.at], "\n")
			span := strings.Join(strings.Fields(sp.text), " ")
			out = append(out, docLine{file, line, strings.ReplaceAll(span, `\|`, "|")})
		}
		para = nil
	}
	for i, raw := range lines {
		n := i + 1
		trimmed := strings.TrimSpace(raw)
		if fence != 0 {
			run := len(trimmed) - len(strings.TrimLeft(trimmed, string(fence)))
			if run >= fenceLen && strings.TrimSpace(trimmed[run:]) == "" {
				fence, pending = 0, nil
				continue
			}
			if skip {
				continue
			}
			text, more := strings.CutSuffix(strings.TrimRight(raw, " \t\r"), `\`)
			if pending != nil {
				pending.text += " " + text
			} else {
				out = append(out, docLine{file, n, text})
				pending = &out[len(out)-1]
			}
			if !more {
				pending = nil
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			flush()
			fence = trimmed[0]
			fenceLen = len(trimmed) - len(strings.TrimLeft(trimmed, string(fence)))
			info, _, _ := strings.Cut(strings.TrimSpace(trimmed[fenceLen:]), " ")
			skip = slices.Contains(proseLangs, strings.ToLower(info))
			continue
		}
		if trimmed == "" {
			flush()
			continue
		}
		if len(para) == 0 {
			paraStart = n
		}
		para = append(para, raw)
	}
	flush()
	return out
}

// span is an inline code span and the offset of its text.
type span struct {
	at   int
	text string
}

// codeSpans returns the inline code spans of a paragraph: text between two
// runs of the same number of backticks.
func codeSpans(text string) []span {
	var spans []span
	for i := 0; i < len(text); {
		if text[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(text) && text[i+n] == '`' {
			n++
		}
		start := i + n
		end := -1
		for j := start; j < len(text); {
			if text[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(text) && text[j+m] == '`' {
				m++
			}
			if m == n {
				end = j
				break
			}
			j += m
		}
		if end < 0 {
			i = start
			continue
		}
		spans = append(spans, span{start, strings.TrimSpace(text[start:end])})
		i = end + n
	}
	return spans
}

// plainCode returns the lines of a file that is code throughout (a unit
// file), joining lines continued with \.
func plainCode(file, src string) []docLine {
	var out []docLine
	var pending *docLine
	for i, raw := range strings.Split(src, "\n") {
		text, more := strings.CutSuffix(strings.TrimRight(raw, " \t\r"), `\`)
		if pending != nil {
			pending.text += " " + text
		} else {
			out = append(out, docLine{file, i + 1, text})
			pending = &out[len(out)-1]
		}
		if !more {
			pending = nil
		}
	}
	return out
}

// word is one word of a shell line.
type word struct {
	text   string
	quoted bool // some of it was in quotes: not a flag, maybe a script (sh -c)
	sep    bool // a separator between commands: | || && ; &
}

// shellWords splits a line as a shell would, roughly: quotes group, a
// # starting a word ends the line, and separators stand between
// commands. A | inside a word (json|ndjson) is not a separator.
func shellWords(s string) []word {
	var out []word
	var cur strings.Builder
	inWord, quoted := false, false
	var quote rune
	flush := func() {
		if !inWord {
			return
		}
		t := cur.String()
		w := word{text: t, quoted: quoted}
		if !quoted {
			switch {
			case t == "|" || t == "||" || t == "&&" || t == ";" || t == "&":
				w.sep = true
			case strings.Contains(t, "$("):
				// x=$(maillage version): what precedes is a word of its
				// own, and a command starts after $(.
				before, after, _ := strings.Cut(t, "$(")
				if before != "" {
					out = append(out, word{text: before})
				}
				out = append(out, word{sep: true})
				w.text = after
			case strings.HasPrefix(t, "("):
				out = append(out, word{sep: true})
				w.text = strings.TrimLeft(t, "(")
			}
		}
		var after bool
		if !quoted && !w.sep {
			if tt, ok := strings.CutSuffix(w.text, ";"); ok {
				w.text, after = tt, true
			}
			if tt, ok := strings.CutSuffix(w.text, ")"); ok && !strings.Contains(tt, "(") {
				w.text, after = tt, true
			}
		}
		if w.text != "" || w.sep {
			out = append(out, w)
		}
		if after {
			out = append(out, word{sep: true})
		}
		cur.Reset()
		inWord, quoted = false, false
	}
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord, quoted = r, true, true
		case r == ' ' || r == '\t':
			flush()
		case r == '#' && !inWord:
			flush()
			return out
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return out
}

// invocation is one `maillage <command>` found in the documentation.
type invocation struct {
	command string   // "backup", "user add"; "" when the line names none
	bad     string   // what is wrong with how the command is named
	flags   []string // flag names, without dashes or values
}

// wrappers run the command that follows them; the flags listed take a
// value, which is not the command.
var wrappers = map[string][]string{
	"sudo":    {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"},
	"doas":    {"-u", "-C"},
	"runuser": {"-u", "-g", "-G"},
	"env":     {"-u", "-C", "-S"},
	"exec":    {"-a"},
	"nohup":   nil,
	"time":    nil,
	"command": nil,
	"nice":    {"-n"},
	"ionice":  {"-c", "-n"},
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// invocations finds the maillage commands of one line of code: those in
// the position of a command (first, after a separator, an assignment, a
// wrapper such as sudo, or a systemd Exec…= key), also inside the script
// of sh -c.
func invocations(line string) []invocation {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "$ ")
	var out []invocation
	words := shellWords(line)
	for len(words) > 0 {
		end := slices.IndexFunc(words, func(w word) bool { return w.sep })
		if end < 0 {
			end = len(words)
		}
		out = append(out, commandAt(words[:end])...)
		if end == len(words) {
			break
		}
		words = words[end+1:]
	}
	return out
}

func commandAt(ws []word) []invocation {
	i := 0
	for i < len(ws) {
		w := ws[i].text
		if key, value, ok := strings.Cut(w, "="); ok && strings.HasPrefix(key, "Exec") && !ws[i].quoted {
			ws[i].text = strings.TrimLeft(value, "-@:+!")
			continue
		}
		if assignment.MatchString(w) {
			i++
			continue
		}
		valued, ok := wrappers[filepath.Base(w)]
		if !ok {
			break
		}
		for i++; i < len(ws) && strings.HasPrefix(ws[i].text, "-") && !ws[i].quoted; i++ {
			if ws[i].text == "--" {
				i++
				break
			}
			if slices.Contains(valued, ws[i].text) {
				i++
			}
		}
	}
	if i >= len(ws) || ws[i].quoted {
		return nil
	}
	switch filepath.Base(ws[i].text) {
	case "sh", "bash", "dash":
		for j := i + 1; j+1 < len(ws); j++ {
			if ws[j].text == "-c" {
				return invocations(ws[j+1].text)
			}
		}
		return nil
	case "maillage":
	default:
		return nil
	}
	rest := ws[i+1:]
	if len(rest) == 0 {
		return nil // the program named, no command
	}
	inv := invocation{command: rest[0].text}
	rest = rest[1:]
	switch {
	case placeholder(inv.command):
		return nil
	case inv.command == "help" || inv.command == "--help" || inv.command == "-h":
		return nil
	case strings.HasPrefix(inv.command, "-"):
		inv.bad = fmt.Sprintf("%q is not a command", inv.command)
		return []invocation{inv}
	case inv.command == "user":
		if len(rest) == 0 || strings.HasPrefix(rest[0].text, "-") {
			inv.bad = "user needs add, list, disable or enable"
			return []invocation{inv}
		}
		if placeholder(rest[0].text) {
			return nil
		}
		inv.command += " " + rest[0].text
		rest = rest[1:]
	}
	for _, w := range rest {
		if w.quoted {
			continue
		}
		t := strings.TrimRight(strings.TrimLeft(w.text, "[("), "]),.")
		if len(t) < 2 || t[0] != '-' || t == "--" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(t, "-"), "=")
		if name == "" || !('a' <= name[0] && name[0] <= 'z') {
			continue
		}
		inv.flags = append(inv.flags, name)
	}
	return []invocation{inv}
}

// placeholder tells a word that stands for something (<command>, …).
func placeholder(s string) bool {
	return s == "" || strings.ContainsAny(s, "<>[]{}…$|") || s == "..." || strings.ToUpper(s) == s
}

// commandFlags maps each command of the program to its flags.
func commandFlags() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, cmd := range commands() {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.define(fs)
		flags := map[string]bool{"help": true, "h": true}
		fs.VisitAll(func(f *flag.Flag) { flags[f.Name] = true })
		out[cmd.name] = flags
	}
	return out
}

var envRE = regexp.MustCompile(`\bMAILLAGE_[A-Z0-9_]*[A-Z0-9]`)

// docFiles returns the files the documentation test reads: README.md and
// every Markdown and unit file of docs.
func docFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(docsDir)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{readmePath}
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".md", ".service", ".timer":
			files = append(files, filepath.Join(docsDir, e.Name()))
		}
	}
	return files
}

func TestDocsMatchCommands(t *testing.T) {
	known := commandFlags()
	envs := map[string]bool{}
	for f := range knownFlags() {
		envs[envName(f)] = true
	}
	var nCmds, nFlags, nEnvs int
	files := docFiles(t)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		code := plainCode(file, src)
		if filepath.Ext(file) == ".md" {
			code = markdownCode(file, src)
		}
		for _, l := range code {
			for _, inv := range invocations(l.text) {
				nCmds++
				if inv.bad != "" {
					t.Errorf("%s: `%s`: %s", l, l.text, inv.bad)
					continue
				}
				flags, ok := known[inv.command]
				if !ok {
					t.Errorf("%s: `%s`: maillage has no command %q", l, l.text, inv.command)
					continue
				}
				for _, f := range inv.flags {
					nFlags++
					if !flags[f] {
						t.Errorf("%s: `%s`: maillage %s has no flag --%s", l, l.text, inv.command, f)
					}
				}
			}
		}
		for i, line := range strings.Split(src, "\n") {
			for _, v := range envRE.FindAllString(line, -1) {
				nEnvs++
				if !envs[v] {
					t.Errorf("%s:%d: %s sets no flag of any command", file, i+1, v)
				}
			}
		}
	}
	// A parser that stopped finding anything would pass every check.
	if nCmds < 20 || nFlags < 20 || nEnvs < 5 {
		t.Errorf("found only %d maillage commands, %d flags and %d MAILLAGE_ variables: is the parser broken?", nCmds, nFlags, nEnvs)
	}
	t.Logf("%d files: %d maillage commands with %d flags, %d MAILLAGE_ variables checked", len(files), nCmds, nFlags, nEnvs)
}

var translated = regexp.MustCompile(`^(.+)\.([a-z]{2})\.md$`)

func TestDocsInEnglishAndFrench(t *testing.T) {
	entries, err := os.ReadDir(docsDir)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
	}
	pairs := 0
	for _, e := range entries {
		name := e.Name()
		if filepath.Ext(name) != ".md" {
			continue
		}
		if m := translated.FindStringSubmatch(name); m != nil {
			if m[2] == "fr" && !have[m[1]+".md"] {
				t.Errorf("%s has no English page %s.md", filepath.Join(docsDir, name), m[1])
			}
			continue
		}
		fr := strings.TrimSuffix(name, ".md") + ".fr.md"
		if !have[fr] {
			t.Errorf("%s has no French page %s", filepath.Join(docsDir, name), fr)
			continue
		}
		pairs++
	}
	t.Logf("%d pages in English and French", pairs)
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinks checks that the pages' relative links reach a file.
func TestDocsLinks(t *testing.T) {
	entries, err := os.ReadDir(docsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".md" {
			continue
		}
		file := filepath.Join(docsDir, e.Name())
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target, _, _ := strings.Cut(m[1], "#")
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				if _, err := os.Stat(filepath.Join(docsDir, target)); err != nil {
					t.Errorf("%s:%d: link to %s: no such file", file, i+1, m[1])
				}
			}
		}
	}
}

func TestInvocations(t *testing.T) {
	tests := []struct {
		line string
		want []string // command, then its flags, for each invocation
	}{
		{"maillage init --data /var/lib/maillage --url https://x", []string{"init data url"}},
		{"sudo -u maillage /usr/local/bin/maillage backup --data D -", []string{"backup data"}},
		{"sudo -u maillage maillage user add --data D --email e --role=admin", []string{"user add data email role"}},
		{"journalctl -u maillage -f", nil},
		{"systemctl restart maillage", nil},
		{"go build -o maillage ./cmd/maillage", nil},
		{"chown maillage:maillage /var/lib/maillage", nil},
		{"ExecStart=/usr/local/bin/maillage serve", []string{"serve"}},
		{`ExecStart=/bin/sh -c 'exec /usr/local/bin/maillage backup "/x/$$(date +%%F).backup"'`, []string{"backup"}},
		{"MAILLAGE_DATA=/d ./maillage export --out f [--format json|ndjson] [--lang fr|nl|en]", []string{"export out format lang"}},
		{"maillage backup --data D - | ssh nas 'cat > f' && maillage version", []string{"backup data", "version"}},
		{"maillage <command> --help", nil},
		{"maillage serve --data DIR # --not-a-flag", []string{"serve data"}},
		{"maillage --version", []string{"! \"--version\" is not a command"}},
		{"maillage", nil},
		{"x=$(maillage version)", []string{"version"}},
	}
	for _, tt := range tests {
		var got []string
		for _, inv := range invocations(tt.line) {
			if inv.bad != "" {
				got = append(got, "! "+inv.bad)
				continue
			}
			got = append(got, strings.Join(append([]string{inv.command}, inv.flags...), " "))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("invocations(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestMarkdownCode(t *testing.T) {
	src := "Run `maillage serve` or ``a `b` c``.\n\n```sh\nmaillage init \\\n  --data D\n```\n\n```json\n{\"maillage\": 1}\n```\n| `a\\|b` |\n\nthen `maillage backup\n  --data D -` and\n"
	var got []string
	for _, l := range markdownCode("f.md", src) {
		got = append(got, fmt.Sprintf("%d:%s", l.line, l.text))
	}
	want := []string{"1:maillage serve", "1:a `b` c", "4:maillage init    --data D", "11:a|b", "13:maillage backup --data D -"}
	if !slices.Equal(got, want) {
		t.Errorf("markdownCode = %q, want %q", got, want)
	}
}
