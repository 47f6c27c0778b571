package federation

import (
	"errors"
	"net/url"
	"strings"
)

// maxJSONDepth bounds the nesting of documents read from peers.
const maxJSONDepth = 32

var errTooDeep = errors.New("federation: JSON nested too deeply")

// checkDepth refuses JSON nested deeper than max. It only counts
// brackets outside strings, in one pass without allocating; the decoding
// that always follows reports any other syntax error.
func checkDepth(data []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return errTooDeep
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// validIRI reports whether s is an absolute http(s) IRI without
// characters that would break out of a JSON string or an HTML attribute
// if re-emitted.
func validIRI(s string) bool {
	if len(s) > 2048 || strings.ContainsAny(s, "\"'<>\\ \t\r\n{}|^`") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}
