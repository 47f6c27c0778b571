package web

import (
	"net/http"

	"golang.org/x/text/language"

	"github.com/maillage/maillage/directory"
)

var langMatcher = language.NewMatcher([]language.Tag{language.French, language.Dutch, language.English})

// langCookie remembers a visitor's language choice.
const langCookie = "lang"

// requestLang chooses the language of an answer: the lang query
// parameter, then the language cookie, then Accept-Language; French when
// nothing matches.
func requestLang(r *http.Request) directory.Lang {
	if l, ok := directory.ParseLang(r.URL.Query().Get("lang")); ok {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := directory.ParseLang(c.Value); ok {
			return l
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return directory.FR
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return directory.FR
	}
	return directory.Langs[i]
}
