package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// ruleCodes reads the rule codes a package declares (constants of type
// directory.Code) and the codes its Rule calls use, from its source: a
// new rule is found without anyone listing it.
func ruleCodes(t *testing.T, dir string) (declared map[string]string, used []string) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	declared = map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if isCodeType(n.Type) {
					for i, id := range n.Names {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok {
							declared[id.Name] = strings.Trim(lit.Value, `"`)
						}
					}
				}
			case *ast.CallExpr:
				// A code is passed to Rule, Refused or checkList; a parameter
				// named code only passes one through from such a call.
				if name, at := calledName(n.Fun), codeArg[calledName(n.Fun)]; at > 0 && len(n.Args) > at {
					if c := exprName(n.Args[at]); c != "code" {
						used = append(used, name+"→"+c)
					}
				}
			}
			return true
		})
	}
	return declared, used
}

// codeArg is the position of the code among the arguments of the calls
// that take one.
var codeArg = map[string]int{"Rule": 1, "Refused": 1, "checkList": 4}

func calledName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

func isCodeType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "Code"
	case *ast.SelectorExpr:
		return e.Sel.Name == "Code"
	}
	return false
}

func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return "<not a constant>"
}

// Every rule the validators can report has a message in each language
// that names the field (directory) or reads alone (referral refusals),
// and every Rule call uses a declared code, not a string made up on the
// spot.
func TestEveryProblemCodeHasAMessage(t *testing.T) {
	dirCodes, dirUsed := ruleCodes(t, "../directory")
	refCodes, refUsed := ruleCodes(t, "../referral")
	if len(dirCodes) < 20 || len(refCodes) < 15 || len(dirUsed) < 30 || len(refUsed) < 15 {
		t.Fatalf("read %d+%d codes and %d+%d uses: the source was not read", len(dirCodes), len(refCodes), len(dirUsed), len(refUsed))
	}
	all := map[string]bool{}
	for name := range dirCodes {
		all[name] = true
	}
	for name := range refCodes {
		all[name] = true
	}
	for _, use := range append(dirUsed, refUsed...) {
		if _, name, _ := strings.Cut(use, "→"); !all[name] {
			t.Errorf("a call %s uses a code that is not a declared constant", use)
		}
	}
	for _, l := range directory.Langs {
		for name, code := range dirCodes {
			key := "problem " + code
			if !hasMessage(l, key) {
				t.Errorf("%s (%q) has no message %q in %s", name, code, key, l)
			} else if n := strings.Count(translateRaw(l, key), "%s"); n != 1 {
				t.Errorf("%q in %s takes %d field names, want 1", key, l, n)
			}
		}
		for name, code := range refCodes {
			key := "refusal " + code
			if !hasMessage(l, key) {
				t.Errorf("%s (%q) has no message %q in %s", name, code, key, l)
			} else if strings.Contains(translateRaw(l, key), "%") {
				t.Errorf("%q in %s takes arguments; refusals read alone", key, l)
			}
		}
	}
}

// A slot that closes before it opens, a text in Dutch too long, a
// verbal consent without attestation: each reads as a sentence in the
// page's language naming the field as the form does, without the
// field's path or the English rule.
func TestProblemTexts(t *testing.T) {
	sv := &directory.Service{Name: directory.Text{directory.FR: "Permanence", directory.NL: strings.Repeat("x", 201)}, Status: directory.StatusActive,
		Schedule: directory.Schedule{Weekly: []directory.Slot{{Day: time.Monday, Opens: 9 * 60, Closes: 12 * 60}, {Day: time.Monday, Opens: 18 * 60, Closes: 9 * 60}}}}
	dirProblems := sv.Validate(directory.DefaultTaxonomy())
	refProblems, _ := directory.AsProblems(referral.Refused("resident", referral.CodeResidentShape, "resident must be a JSON object"))
	tests := []struct {
		lang     directory.Lang
		problems directory.Problems
		code     directory.Code
		want     string
	}{
		{directory.FR, dirProblems, directory.CodeClosesAfter, "Heure de fermeture (ligne 2) : l’heure de fermeture doit venir après l’heure d’ouverture ; corrigez l’une ou l’autre."},
		{directory.NL, dirProblems, directory.CodeClosesAfter, "Sluitingsuur (regel 2): het sluitingsuur moet na het openingsuur komen; verbeter het ene of het andere."},
		{directory.FR, dirProblems, directory.CodeTooLong, "Nom (en néerlandais) : le texte est trop long ; raccourcissez-le."},
		{directory.NL, refProblems, referral.CodeResidentShape, "De gegevens over de persoon konden niet gelezen worden: laad het formulier opnieuw en begin opnieuw."},
	}
	for _, tt := range tests {
		p := &pageData{Lang: tt.lang, missing: new([]string)}
		found := false
		for _, pr := range tt.problems {
			if pr.Code != tt.code {
				continue
			}
			found = true
			if got := p.problemText(pr); got != tt.want {
				t.Errorf("problemText(%s %s) in %s = %q, want %q", pr.Field, pr.Code, tt.lang, got, tt.want)
			}
		}
		if !found {
			t.Errorf("no %s problem among %v", tt.code, tt.problems)
		}
		if len(*p.missing) > 0 {
			t.Errorf("messages missing: %v", *p.missing)
		}
	}
}

// The verbal consent without attestation of issue 16 reads in French and
// Dutch, saying what to write where.
func TestAttestationRefusalText(t *testing.T) {
	var pr directory.Problem
	err := referral.Refused("consent.attestation", referral.CodeAttestation, "consent.attestation is required when consent was given verbally")
	ps, ok := directory.AsProblems(err)
	if !ok || len(ps) != 1 {
		t.Fatalf("Refused gives %v", err)
	}
	pr = ps[0]
	for lang, want := range map[directory.Lang]string{directory.FR: "écrivez votre attestation", directory.NL: "schrijf uw verklaring"} {
		p := &pageData{Lang: lang}
		if got := p.problemText(pr); !strings.Contains(got, want) || strings.Contains(got, "consent.") {
			t.Errorf("in %s: %q, want it to say %q", lang, got, want)
		}
	}
}

// fieldLabel names paths as the forms do.
func TestFieldLabel(t *testing.T) {
	p := &pageData{Lang: directory.FR}
	for path, want := range map[string]string{
		"schedules[0].closes_at":        "Heure de fermeture (ligne 1)",
		"translations.nl.name":          "Nom (en néerlandais)",
		"addresses[0].postal_code":      "Code postal",
		"phones[2].number":              "Téléphone (ligne 3)",
		"referral_policy.categories[1]": "Données demandées (ligne 2)",
		"categories[1]":                 "Thèmes (ligne 2)",
		"":                              "Un champ",
		"weird path!":                   "Un champ",
	} {
		if got := p.fieldLabel(path); got != want {
			t.Errorf("fieldLabel(%q) = %q, want %q", path, got, want)
		}
	}
}

// The audit log's details read as states, reasons and causes in the
// page's language, never as the codes stored.
func TestAuditDetail(t *testing.T) {
	for _, tt := range []struct {
		lang     directory.Lang
		in, want string
	}{
		{directory.FR, "received → accepted ", "reçue → acceptée"},
		{directory.FR, "accepted → rejected no-capacity", "acceptée → refusée (plus de place)"},
		{directory.NL, "→ cancelled", "→ geannuleerd"},
		{directory.FR, "retention", "délai de conservation écoulé"},
		{directory.NL, "at the recipient", "bij de partner"},
		{directory.FR, "requested", "envoyée"},
		{directory.FR, "<script> unknown", ""},
	} {
		p := &pageData{Lang: tt.lang}
		if got := auditDetail(p, tt.in); got != tt.want {
			t.Errorf("auditDetail(%q) in %s = %q, want %q", tt.in, tt.lang, got, tt.want)
		}
	}
}
