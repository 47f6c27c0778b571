package directory

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDefaultTaxonomy(t *testing.T) {
	tax := BaseTaxonomy()
	if got, want := len(tax.Categories), 16; got != want {
		t.Errorf("categories = %d, want %d", got, want)
	}
	if got, want := len(tax.Terms), 69; got != want {
		t.Errorf("terms = %d, want %d", got, want)
	}
	if got, want := len(tax.Audiences), 14; got != want {
		t.Errorf("audiences = %d, want %d", got, want)
	}
	if got, want := len(tax.Fees), 2; got != want {
		t.Errorf("fees = %d, want %d", got, want)
	}
	// Every term of the reference vocabulary is in, with its French label.
	raw, err := os.ReadFile("testdata/data-inclusion/data-inclusion-thematiques.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref []struct{ Value, Label string }
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	for _, r := range ref {
		term, ok := tax.Category(r.Value)
		if !ok {
			t.Errorf("term %q missing", r.Value)
			continue
		}
		if term.Labels[FR] != r.Label {
			t.Errorf("term %q French label = %q, want %q", r.Value, term.Labels[FR], r.Label)
		}
		if _, ok := tax.TermByID(term.ID()); !ok {
			t.Errorf("TermByID(%s) does not find %q", term.ID(), r.Value)
		}
	}
}

func TestTaxonomyExpandAddsParents(t *testing.T) {
	tax := DefaultTaxonomy()
	got := tax.Expand([]string{"sante--acces-aux-soins", "famille"})
	want := []string{"famille", "sante", "sante--acces-aux-soins"}
	if len(got) != len(want) {
		t.Fatalf("Expand = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Expand = %v, want %v", got, want)
		}
	}
}

func TestParseTaxonomyRefusesBrokenDocuments(t *testing.T) {
	tests := map[string]string{
		"missing label": `{"categories":[{"code":"a","labels":{"fr":"A","nl":"A"}}]}`,
		"orphan term":   `{"categories":[],"terms":[{"code":"a--b","parent":"a","labels":{"fr":"x","nl":"x","en":"x"}}]}`,
		"duplicate":     `{"categories":[{"code":"a","labels":{"fr":"A","nl":"A","en":"A"}},{"code":"a","labels":{"fr":"A","nl":"A","en":"A"}}]}`,
		"not json":      `{`,
	}
	for name, doc := range tests {
		if _, err := ParseTaxonomy([]byte(doc)); err == nil {
			t.Errorf("%s: ParseTaxonomy accepted a broken document", name)
		}
	}
}

func TestFold(t *testing.T) {
	if got := Fold("Épicerie SOCIALE à Forêt"); got != "epicerie sociale a foret" {
		t.Errorf("Fold = %q", got)
	}
}

// referenceCodes reads the codes of one data·inclusion vocabulary as
// published, so that a code missing from taxonomy.json is caught too.
func referenceCodes(t *testing.T, name string) []string {
	t.Helper()
	raw, err := os.ReadFile("testdata/data-inclusion/data-inclusion-" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var ref []struct{ Value string }
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range ref {
		codes = append(codes, r.Value)
	}
	return codes
}

func TestBrusselsProfileCoversEveryCode(t *testing.T) {
	p, err := ParseProfile(brusselsJSON)
	if err != nil {
		t.Fatal(err)
	}
	tax := DefaultTaxonomy()
	for _, tt := range []struct {
		vocabulary string
		entries    map[string]ProfileEntry
		find       func(string) (Term, bool)
	}{
		{"thematiques", p.Categories, tax.Category},
		{"publics", p.Audiences, tax.Audience},
		{"frais", p.Fees, tax.Fee},
	} {
		codes := referenceCodes(t, tt.vocabulary)
		if len(codes) < 2 {
			t.Fatalf("%s: %d codes read, the reference file did not parse", tt.vocabulary, len(codes))
		}
		for _, code := range codes {
			if _, ok := tt.entries[code]; !ok {
				t.Errorf("%s: %q is neither relabelled nor hidden in vocabulary-brussels.json", tt.vocabulary, code)
			}
			term, ok := tt.find(code)
			if !ok {
				t.Errorf("%s: %q is not in the node's vocabulary", tt.vocabulary, code)
				continue
			}
			if want := tt.entries[code].Labels; term.Labels[FR] != want[FR] || term.Labels[NL] != want[NL] || term.Labels[EN] != want[EN] {
				t.Errorf("%s: %q labelled %v, want the profile's %v", tt.vocabulary, code, term.Labels, want)
			}
		}
	}
	// The profile changes labels, never codes or their order.
	base := BaseTaxonomy()
	for _, pair := range [][2][]Term{{base.Categories, tax.Categories}, {base.Terms, tax.Terms}, {base.Audiences, tax.Audiences}, {base.Fees, tax.Fees}} {
		if got, want := codesOf(pair[1]), codesOf(pair[0]); !slices.Equal(got, want) {
			t.Errorf("codes with the profile = %v, want the base codes %v", got, want)
		}
	}
}

func codesOf(terms []Term) []string {
	var out []string
	for _, t := range terms {
		out = append(out, t.Code)
	}
	return out
}

// frenchOnly are notions of French administration that a Brussels
// resident does not know; none may be read on a page of a Brussels node.
var frenchOnly = regexp.MustCompile(`(?i)\b(QPV|FRR|ZRR|RSA|CAF|MDPH|SMIC)\b|France Travail|Pôle emploi|minimas? sociaux|départ[eé]ment|curatelle|en France\b`)

func TestBrusselsLabelsReadAsBrussels(t *testing.T) {
	tax := DefaultTaxonomy()
	all := slices.Concat(tax.Categories, tax.Terms, tax.Audiences, tax.Fees)
	if len(all) != 16+69+14+2 {
		t.Fatalf("%d terms, want every term of the vocabulary", len(all))
	}
	// Hidden labels are checked too: a partner's service may still show one.
	for _, term := range all {
		for _, l := range Langs {
			label := term.Labels[l]
			if strings.TrimSpace(label) == "" {
				t.Errorf("%q has no %s label", term.Code, l)
			}
			if m := frenchOnly.FindString(label); m != "" {
				t.Errorf("%q %s label %q says %q, a France-only notion", term.Code, l, label, m)
			}
		}
	}
	// What a Brussels social worker looks for is there, in each language.
	for _, tt := range []struct {
		code string
		lang Lang
		want string
	}{
		{"beneficiaires-des-minimas-sociaux", FR, "CPAS"},
		{"beneficiaires-des-minimas-sociaux", FR, "revenu d’intégration"},
		{"beneficiaires-des-minimas-sociaux", NL, "OCMW"},
		{"beneficiaires-des-minimas-sociaux", NL, "leefloon"},
		{"difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits", FR, "CPAS"},
		{"difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits", NL, "OCMW"},
		{"equipement-et-alimentation--alimentation", FR, "Aide alimentaire"},
		{"equipement-et-alimentation--alimentation", NL, "Voedselhulp"},
		{"equipement-et-alimentation", FR, "alimentaire"},
		{"equipement-et-alimentation", NL, "voedselhulp"},
	} {
		term, ok := tax.Category(tt.code)
		if !ok {
			term, ok = tax.Audience(tt.code)
		}
		if !ok || !strings.Contains(term.Labels[tt.lang], tt.want) {
			t.Errorf("%q %s label = %q, want it to say %q", tt.code, tt.lang, term.Labels[tt.lang], tt.want)
		}
	}
}

func TestThemesOfferFoodAidAndNoHiddenTerm(t *testing.T) {
	tax := DefaultTaxonomy()
	themes := tax.Themes()
	var food bool
	for _, th := range themes {
		if th.Hidden {
			t.Errorf("Themes() offers hidden %q", th.Code)
		}
		food = food || th.Code == "equipement-et-alimentation--alimentation"
	}
	if !food {
		t.Error("Themes() does not offer food aid on its own")
	}
	if got, want := len(themes), len(tax.Categories)+1; got != want {
		t.Errorf("Themes() = %d themes, want the %d top categories and food aid", got, want)
	}
	// The base vocabulary has no featured term: its themes are its top
	// categories, so the profile is what adds food aid.
	if got, want := len(BaseTaxonomy().Themes()), 16; got != want {
		t.Errorf("base Themes() = %d, want %d", got, want)
	}
}

func TestHiddenCodesStillValidateAndShow(t *testing.T) {
	tax := DefaultTaxonomy()
	hiddenTerm, hiddenAudience := "souvrir-a-linternational--sorganiser-suite-a-son-retour-en-france", "residents-qpv-frr"
	for _, code := range []string{hiddenTerm, "difficultes-administratives-ou-juridiques--beneficier-dune-mesure-daccompagnement-adapte"} {
		term, ok := tax.Category(code)
		if !ok || !term.Hidden || term.Labels[FR] == "" {
			t.Errorf("Category(%q) = %+v, %v; want a hidden term with a label", code, term, ok)
		}
	}
	if a, ok := tax.Audience(hiddenAudience); !ok || !a.Hidden || !tax.IsAudience(hiddenAudience) {
		t.Errorf("Audience(%q) = %+v, %v; want a hidden audience that still validates", hiddenAudience, a, ok)
	}
	// A partner's service filed under hidden codes, as it arrives: it
	// validates, keeps its codes through the wire form, and names them
	// with the Brussels label.
	s := &Service{
		ID: NewID(), OrganizationID: NewID(), Name: T(FR, "Retour au pays"), Status: StatusActive,
		Categories: []string{hiddenTerm}, Audiences: []string{hiddenAudience, "familles"},
	}
	if p := s.Validate(tax); len(p) > 0 {
		t.Fatalf("a service with hidden codes does not validate: %v", p)
	}
	wire := HSDSEncoder{Taxonomy: tax, Lang: NL}.Service(s, nil, nil)
	data, err := json.Marshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "Je opnieuw vestigen na een verblijf in het buitenland") {
		t.Errorf("the wire form does not name the hidden term with its Brussels label: %s", data)
	}
	back, err := DecodeService(data, tax)
	if err != nil {
		t.Fatalf("DecodeService: %v", err)
	}
	if !slices.Equal(back.Categories, s.Categories) || !slices.Equal(back.Audiences, s.Audiences) {
		t.Errorf("after the wire: categories %v audiences %v, want %v %v", back.Categories, back.Audiences, s.Categories, s.Audiences)
	}
	if p := back.Validate(tax); len(p) > 0 {
		t.Errorf("the decoded service does not validate: %v", p)
	}
}

func TestProfileRefusesForgottenAndBrokenEntries(t *testing.T) {
	base, err := ParseTaxonomy([]byte(`{"categories":[{"code":"a","labels":{"fr":"A","nl":"A","en":"A"}}],
	  "terms":[{"code":"a--b","parent":"a","labels":{"fr":"B","nl":"B","en":"B"}}],
	  "audiences":[{"code":"x","labels":{"fr":"X","nl":"X","en":"X"}}],"fees":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	const ok = `"labels":{"fr":"L","nl":"L","en":"L"}`
	tests := map[string]string{
		"forgotten term":     `{"categories":{"a":{` + ok + `}},"audiences":{"x":{` + ok + `}}}`,
		"forgotten audience": `{"categories":{"a":{` + ok + `},"a--b":{` + ok + `}},"audiences":{}}`,
		"unknown code":       `{"categories":{"a":{` + ok + `},"a--b":{` + ok + `},"z":{` + ok + `}},"audiences":{"x":{` + ok + `}}}`,
		"empty Dutch label":  `{"categories":{"a":{` + ok + `},"a--b":{"labels":{"fr":"L","nl":" ","en":"L"}}},"audiences":{"x":{` + ok + `}}}`,
		"hidden, no reason":  `{"categories":{"a":{` + ok + `},"a--b":{` + ok + `,"hidden":true}},"audiences":{"x":{` + ok + `}}}`,
		"hidden top":         `{"categories":{"a":{` + ok + `,"hidden":true,"why":"w"},"a--b":{` + ok + `}},"audiences":{"x":{` + ok + `}}}`,
		"featured hidden":    `{"categories":{"a":{` + ok + `},"a--b":{` + ok + `,"hidden":true,"featured":true,"why":"w"}},"audiences":{"x":{` + ok + `}}}`,
		"featured audience":  `{"categories":{"a":{` + ok + `},"a--b":{` + ok + `}},"audiences":{"x":{` + ok + `,"featured":true}}}`,
		"misspelt field":     `{"categories":{"a":{` + ok + `},"a--b":{` + ok + `,"hiden":true}},"audiences":{"x":{` + ok + `}}}`,
		"bad postcode":       `{"categories":{"a":{` + ok + `},"a--b":{` + ok + `}},"audiences":{"x":{` + ok + `}},"communes":[{"code":"c",` + ok + `,"postcodes":["10OO"]}]}`,
		"shared postcode":    `{"categories":{"a":{` + ok + `},"a--b":{` + ok + `}},"audiences":{"x":{` + ok + `}},"communes":[{"code":"c",` + ok + `,"postcodes":["1000"]},{"code":"d",` + ok + `,"postcodes":["1000"]}]}`,
	}
	for name, doc := range tests {
		p, err := ParseProfile([]byte(doc))
		if err == nil {
			_, err = base.WithProfile(p)
		}
		if err == nil {
			t.Errorf("%s: the profile was accepted", name)
		}
	}
	// The same document, whole, is accepted: the cases above fail for
	// their one defect.
	p, err := ParseProfile([]byte(`{"categories":{"a":{` + ok + `},"a--b":{` + ok + `,"hidden":true,"why":"w"}},"audiences":{"x":{` + ok + `}},"communes":[{"code":"c",` + ok + `,"postcodes":["1000"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := base.WithProfile(p)
	if err != nil {
		t.Fatalf("a sound profile was refused: %v", err)
	}
	if b, _ := got.Category("a--b"); !b.Hidden || b.Labels[NL] != "L" {
		t.Errorf("a--b = %+v, want hidden and relabelled", b)
	}
	if b, _ := base.Category("a--b"); b.Hidden || b.Labels[NL] != "B" {
		t.Errorf("WithProfile changed the base taxonomy: a--b = %+v", b)
	}
}

func TestDemoDataUsesNoHiddenCode(t *testing.T) {
	tax := DefaultTaxonomy()
	quoted := regexp.MustCompile(`"([a-z0-9-]+)"`)
	for _, file := range []string{"../cmd/maillage/demodata.go", "sample/sample.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var codes int
		for _, m := range quoted.FindAllStringSubmatch(string(src), -1) {
			term, ok := tax.Category(m[1])
			if !ok {
				term, ok = tax.Audience(m[1])
			}
			if !ok {
				continue
			}
			codes++
			if term.Hidden {
				t.Errorf("%s uses hidden code %q", file, m[1])
			}
		}
		if codes < 5 {
			t.Errorf("%s: only %d vocabulary codes found; the test no longer reads its data", file, codes)
		}
	}
}

func TestBrusselsCommunes(t *testing.T) {
	tax := DefaultTaxonomy()
	if got, want := len(tax.Communes), 19; got != want {
		t.Errorf("%d communes, want Brussels' %d", got, want)
	}
	// Every postcode of the Region's neighbourhoods belongs to a commune.
	for _, pc := range []string{"1000", "1020", "1030", "1040", "1050", "1060", "1070", "1080", "1081", "1082", "1083",
		"1090", "1120", "1130", "1140", "1150", "1160", "1170", "1180", "1190", "1200", "1210"} {
		if _, ok := tax.CommuneOf(pc); !ok {
			t.Errorf("postcode %s has no commune", pc)
		}
	}
	for _, tt := range []struct{ postcode, fr, nl string }{
		{"1030", "Schaerbeek", "Schaarbeek"},
		{"1120", "Bruxelles-Ville", "Brussel-Stad"},
		{"1080", "Molenbeek-Saint-Jean", "Sint-Jans-Molenbeek"},
	} {
		c, ok := tax.CommuneOf(tt.postcode)
		if !ok || c.Labels[FR] != tt.fr || c.Labels[NL] != tt.nl {
			t.Errorf("CommuneOf(%s) = %+v, want %s / %s", tt.postcode, c, tt.fr, tt.nl)
		}
	}
	if _, ok := tax.CommuneOf("4000"); ok {
		t.Error("CommuneOf(4000) found a Brussels commune for Liège")
	}
}

func TestRelabelledTermsKeepTheirBaseNames(t *testing.T) {
	food, _ := DefaultTaxonomy().Category("equipement-et-alimentation--alimentation")
	names := food.Names()
	for _, want := range []string{"Aide alimentaire", "Voedselhulp", "Food aid", "Alimentation"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, want %q among them", names, want)
		}
	}
	if base, _ := BaseTaxonomy().Category("equipement-et-alimentation--alimentation"); base.Base != nil || len(base.Names()) != 3 {
		t.Errorf("the base term has names %v and base labels %v, want its three labels only", base.Names(), base.Base)
	}
}
