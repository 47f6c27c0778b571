package web

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// The one place where what the domain refuses (directory.Problems, with
// a field path and a rule code) becomes what a person reads: a sentence in
// the page's language that names the field as the form does and says what
// to do. The JSON API keeps the codes and the English text.

// problemText says what is wrong with one field, in the page's language.
// A referral's refusal reasons read alone ("refusal <code>"); the
// directory's rules name the field ("problem <code>", with its label).
func (p pageData) problemText(pr directory.Problem) string {
	if key := "refusal " + string(pr.Code); hasMessage(p.Lang, key) {
		return p.T(key)
	}
	key := "problem " + string(pr.Code)
	if !hasMessage(p.Lang, key) {
		key = "problem " + string(directory.CodeInvalid)
	}
	return p.T(key, p.fieldLabel(pr.Field))
}

// pathPart is one step of a problem's field path: a name and, for a list
// item, its index.
var pathPart = regexp.MustCompile(`^([a-z_0-9]+)(?:\[(\d+)\])?$`)

// fieldLabel names a field path ("schedules[1].closes_at",
// "translations.nl.name") the way the form does: "Closing time (row 2)",
// "Name (in Dutch)".
func (p pageData) fieldLabel(field string) string {
	lang := ""
	if rest, ok := strings.CutPrefix(field, "translations."); ok {
		if l, after, ok := strings.Cut(rest, "."); ok {
			lang, field = l, after
		}
	}
	var names []string
	item := -1
	for _, part := range strings.Split(field, ".") {
		m := pathPart.FindStringSubmatch(part)
		if m == nil {
			names = nil
			break
		}
		names = append(names, m[1])
		if m[2] != "" && m[1] != "addresses" { // a location has one address
			item, _ = strconv.Atoi(m[2])
		}
	}
	label := p.T("problem field unknown")
	if len(names) > 0 {
		// The whole path names a field more precisely than its last part
		// (a referral policy's categories are data, not themes).
		for _, key := range []string{"problem field " + strings.Join(names, "."), "problem field " + names[len(names)-1]} {
			if hasMessage(p.Lang, key) {
				label = p.T(key)
				break
			}
		}
	}
	if item >= 0 {
		label = p.T("problem item", label, item+1)
	}
	if key := "problem lang " + lang; lang != "" && hasMessage(p.Lang, key) {
		label = p.T("problem in lang", label, p.T(key))
	}
	return label
}

// formProblems splits an error from the domain into the lines a form shows
// (one per problem, in the page's language) and any other error.
func formProblems(p *pageData, err error) ([]string, error) {
	pr, ok := directory.AsProblems(err)
	if !ok {
		return nil, err
	}
	lines := make([]string, 0, len(pr))
	for _, x := range pr {
		lines = append(lines, p.problemText(x))
	}
	return lines, nil
}

// refusalText says why a referral was refused when the refusal carries
// no problem list, in the page's language.
func refusalText(p *pageData, err error) (string, bool) {
	switch {
	case errors.Is(err, referral.ErrRefused), errors.Is(err, referral.ErrResident), errors.Is(err, referral.ErrConsent):
		return p.T("refusal other"), true
	}
	return "", false
}
