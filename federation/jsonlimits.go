package federation

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
)

// maxJSONDepth bounds the nesting of documents read from peers.
const maxJSONDepth = 32

var errTooDeep = errors.New("federation: JSON nested too deeply")

// checkDepth refuses JSON nested deeper than max, without building it.
func checkDepth(data []byte, max int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errors.New("federation: invalid JSON")
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
				if depth > max {
					return errTooDeep
				}
			default:
				depth--
			}
		}
	}
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
