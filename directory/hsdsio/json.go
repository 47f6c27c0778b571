package hsdsio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/maillage/maillage/directory"
)

// budget is a reader that fails once more than a set number of bytes was
// read since the last reset, so that one oversized record cannot fill
// memory, and that reports every read (for progress).
type budget struct {
	r       io.Reader
	left    int64
	counted func(int64)
}

var errTooLarge = errors.New("record too large")

// readAhead is what a decoder may buffer beyond the record it reads.
const readAhead = 2 * MaxRecord

func (b *budget) reset() { b.left = MaxRecord + readAhead }

func (b *budget) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.counted != nil && n > 0 {
		b.counted(int64(n))
	}
	return n, err
}

// jsonReader reads HSDS JSON documents: a service, location or
// organization object, an organization with its services and locations,
// a Page ({"contents": […]}), an array of objects, or the tabular JSON of
// the HSDS examples ({"services.csv": [rows…], …}). Lists are read one
// item at a time.
type jsonReader struct {
	c    *converter
	emit func(*Record) error
	docs int // organization documents met so far
	// nesting counts the organizations with lists being read inside a
	// list: each is read again whole, so deep nesting costs its depth
	// times its size.
	nesting int
}

// maxNesting bounds nesting: HSDS puts organizations with their services
// in a Page, and nothing deeper.
const maxNesting = 4

// tooLarge is the error for a record over MaxRecord.
func tooLarge(where string) error {
	return fmt.Errorf("%s: record larger than %d MiB; an import reads one record at a time and refuses larger ones", cmpOr(where, "document"), MaxRecord>>20)
}

func syntaxError(where string, err error) error {
	if errors.Is(err, errTooLarge) {
		return tooLarge(where)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: the JSON ends too early", cmpOr(where, "document"))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: not valid JSON at byte %d: %v", cmpOr(where, "document"), se.Offset, se)
	}
	return fmt.Errorf("%s: %w", cmpOr(where, "document"), err)
}

// file reads one JSON document from r.
func (j *jsonReader) file(r io.Reader, counted func(int64)) error {
	b := &budget{r: bufio.NewReaderSize(r, 64<<10), counted: counted}
	b.reset()
	dec := json.NewDecoder(b)
	dec.UseNumber()
	if err := j.document(dec, b, ""); err != nil {
		return err
	}
	b.reset()
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("the file has data after its JSON document; if it holds one record a line, it is NDJSON: say --format ndjson")
	}
	return nil
}

// ndjson reads one record (or document) a line from r.
func (j *jsonReader) ndjson(r io.Reader, counted func(int64)) error {
	br := bufio.NewReaderSize(&budget{r: r, left: 1 << 62, counted: counted}, 64<<10)
	for line := 1; ; line++ {
		data, tooLong, err := readLine(br)
		if err != nil && err != io.EOF {
			return err
		}
		where := fmt.Sprintf("line %d", line)
		switch {
		case tooLong:
			if err := j.emit(&Record{Where: where, Problems: directory.Problems{{Message: fmt.Sprintf("is longer than %d MiB; not read", MaxRecord>>20)}}}); err != nil {
				return err
			}
		case len(bytes.TrimSpace(data)) > 0:
			if err := j.line(data, where); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads a line without its end; a line over MaxRecord is skipped
// to its end and reported as too long.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > MaxRecord+2 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), tooLong, err
	}
}

func (j *jsonReader) line(data []byte, where string) error {
	// A broken line spoils only itself: it is checked whole before any of
	// its records is emitted.
	if !json.Valid(data) {
		check := json.NewDecoder(bytes.NewReader(data))
		var v json.RawMessage
		if err := check.Decode(&v); err != nil {
			msg := strings.TrimPrefix(syntaxError("", err).Error(), "document: ")
			return j.emit(&Record{Where: where, Problems: directory.Problems{{Message: msg}}})
		}
		return j.emit(&Record{Where: where, Problems: directory.Problems{{Message: "has data after its JSON value; NDJSON holds one record a line"}}})
	}
	b := &budget{} // the line is in memory already: the budget only resets
	b.reset()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return j.document(dec, b, where)
}

// document reads the next JSON value of dec as an HSDS document.
func (j *jsonReader) document(dec *json.Decoder, b *budget, where string) error {
	b.reset()
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(where, err)
	}
	switch tok {
	case json.Delim('['):
		return j.list(dec, b, where, "", "", 0)
	case json.Delim('{'):
		return j.object(dec, b, where)
	}
	return fmt.Errorf("%s: an HSDS document is an object or an array of objects", cmpOr(where, "document"))
}

// list reads the items of an array whose '[' was read; kind is what they
// are ("" to tell each by its fields).
func (j *jsonReader) list(dec *json.Decoder, b *budget, where, key, kind string, doc int) error {
	for i := 0; dec.More(); i++ {
		b.reset()
		var raw json.RawMessage
		itemWhere := at(where, fmt.Sprintf("%s[%d]", key, i))
		if err := dec.Decode(&raw); err != nil {
			return syntaxError(itemWhere, err)
		}
		if len(raw) > MaxRecord {
			return tooLarge(itemWhere)
		}
		if err := j.item(raw, itemWhere, kind, doc); err != nil {
			return err
		}
	}
	b.reset()
	if _, err := dec.Token(); err != nil {
		return syntaxError(where, err)
	}
	return nil
}

// object reads an object whose '{' was read: a Page, an organization
// with lists of services and locations (read one item at a time), the
// JSON form of tabular data, or one record.
func (j *jsonReader) object(dec *json.Decoder, b *budget, where string) error {
	header := map[string]json.RawMessage{}
	size, doc, page := 0, 0, false
	for dec.More() {
		b.reset()
		t, err := dec.Token()
		if err != nil {
			return syntaxError(where, err)
		}
		key, _ := t.(string)
		if len(header) == 0 && doc == 0 && !page && strings.HasSuffix(key, ".csv") {
			return j.tabular(dec, b, key, where)
		}
		if key == "contents" || key == "services" || key == "locations" {
			b.reset()
			t, err := dec.Token()
			if err != nil {
				return syntaxError(at(where, key), err)
			}
			if t == nil {
				continue // null: no items
			}
			if t != json.Delim('[') {
				return fmt.Errorf("%s: must be an array", at(where, key))
			}
			kind := ""
			if key == "contents" {
				page = true
			} else {
				if doc == 0 {
					j.docs++
					doc = j.docs
				}
				kind = strings.TrimSuffix(key, "s")
			}
			if err := j.list(dec, b, where, key, kind, doc); err != nil {
				return err
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxError(at(where, key), err)
		}
		if size += len(key) + len(raw); size > MaxRecord {
			return tooLarge(where)
		}
		header[key] = raw
	}
	b.reset()
	if _, err := dec.Token(); err != nil {
		return syntaxError(where, err)
	}
	switch {
	case page:
		return nil // the Page envelope says nothing to import
	case doc != 0:
		return j.organization(header, cmpOr(where, "organization"), doc)
	}
	return j.record(header, cmpOr(where, "document"), "", 0)
}

// item reads one item of a list.
func (j *jsonReader) item(raw json.RawMessage, where, kind string, doc int) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return j.emit(&Record{Kind: kind, Where: where, Problems: directory.Problems{{Message: "must be an object"}}})
	}
	if kind == "" && kindOf(m) == KindOrganization && (m["services"] != nil || m["locations"] != nil) {
		// An organization in a list may have services of its own.
		if j.nesting >= maxNesting {
			return j.emit(&Record{Kind: KindOrganization, Where: where, Problems: directory.Problems{{
				Message: fmt.Sprintf("is nested in more than %d lists of organizations; not read", maxNesting)}}})
		}
		j.nesting++
		defer func() { j.nesting-- }()
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		b := &budget{} // raw is in memory already: the budget only resets
		b.reset()
		if _, err := d.Token(); err != nil {
			return syntaxError(where, err)
		}
		return j.object(d, b, where)
	}
	return j.record(m, where, kind, doc)
}

// kindServiceAtLocation is an HSDS service_at_location document: a
// service with one of its locations.
const kindServiceAtLocation = "service_at_location"

// kindTaxonomy is an HSDS taxonomy or taxonomy term: not imported, as the
// network shares one taxonomy.
const kindTaxonomy = "taxonomy"

// kindOf tells a record by its fields: a service has a status (HSDS
// requires it, and nothing else has one), a location a location_type or
// a place, a service_at_location its service; an organization has an id
// or a name. Anything else is not a record ("").
func kindOf(m map[string]json.RawMessage) string {
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := m[k]; ok {
				return true
			}
		}
		return false
	}
	switch {
	case has("status"):
		return KindService
	case has("location_type", "latitude", "longitude", "addresses"):
		return KindLocation
	case has("service") && !has("name"):
		return kindServiceAtLocation
	case has("id", "name") && has("code", "parent_id", "taxonomy", "taxonomy_id", "term_uri", "version", "language") &&
		!has("services", "locations", "organization_identifiers", "website", "email", "legal_status"):
		return kindTaxonomy
	case has("id", "name"):
		return KindOrganization
	}
	return ""
}

// record converts one object.
func (j *jsonReader) record(m map[string]json.RawMessage, where, kind string, doc int) error {
	if kind == "" {
		kind = kindOf(m)
	}
	switch kind {
	case KindService:
		return j.service(m, where, doc)
	case KindLocation:
		return j.location(m, where, doc)
	case KindOrganization:
		return j.organization(m, where, doc)
	case kindServiceAtLocation:
		return j.serviceAtLocation(m, where, doc)
	case kindTaxonomy:
		return j.emit(&Record{Where: where, Problems: directory.Problems{{Message: "is a taxonomy or a taxonomy term: " +
			"the network shares one taxonomy, which an import does not change; services name its categories in attributes"}}})
	}
	return j.emit(&Record{Where: where, Problems: directory.Problems{{
		Message: "is not an HSDS service, location, service_at_location or organization (nor a list of them)"}}})
}

// serviceAtLocation reads an HSDS service_at_location document as its
// service, taking place at its location, with its schedules.
func (j *jsonReader) serviceAtLocation(m map[string]json.RawMessage, where string, doc int) error {
	var svc map[string]json.RawMessage
	if json.Unmarshal(m["service"], &svc) != nil || svc == nil {
		return j.emit(&Record{Kind: KindService, Where: at(where, "service"), Problems: directory.Problems{{Message: "must be an object"}}})
	}
	var sals []json.RawMessage
	json.Unmarshal(svc["service_at_locations"], &sals)
	link := map[string]json.RawMessage{}
	for _, k := range []string{"id", "location_id", "location", "schedules"} {
		if v, ok := m[k]; ok {
			link[k] = v
		}
	}
	b, _ := json.Marshal(link)
	svc["service_at_locations"], _ = json.Marshal(append(sals, b))
	return j.service(svc, at(where, "service"), doc)
}

// decodePart decodes raw into v leniently, naming problems under prefix.
func decodePart(raw json.RawMessage, v any, prefix string) directory.Problems {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return prefixed(prefix, directory.DecodeLenient(raw, v))
}

// rest encodes what is left of m once its parts were taken out.
func rest(m map[string]json.RawMessage) []byte {
	b, _ := json.Marshal(m) // raw messages from a decoder: always valid
	return b
}

func take(m map[string]json.RawMessage, key string) json.RawMessage {
	v := m[key]
	delete(m, key)
	return v
}

func peekID(raw json.RawMessage) string {
	var v struct {
		ID any `json:"id"`
	}
	json.Unmarshal(raw, &v)
	if v.ID == nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprint(v.ID))
}

type salJSON struct {
	ID         string          `json:"id"`
	LocationID string          `json:"location_id"`
	Location   json.RawMessage `json:"location"`
	Schedules  []scheduleIn    `json:"schedules"`
}

// service converts a service object, emitting first the locations and the
// organization embedded in it.
func (j *jsonReader) service(m map[string]json.RawMessage, where string, doc int) error {
	in := &serviceIn{}
	orgRaw := take(m, "organization")
	p := decodePart(take(m, "schedules"), &in.schedules, "schedules")
	p = append(p, decodePart(take(m, "attributes"), &in.attributes, "attributes")...)
	p = append(p, decodePart(take(m, "service_areas"), &in.areas, "service_areas")...)
	p = append(p, decodePart(take(m, "languages"), &in.languages, "languages")...)
	var sals []salJSON
	p = append(p, decodePart(take(m, "service_at_locations"), &sals, "service_at_locations")...)
	p = append(p, directory.DecodeLenient(rest(m), &in.w)...)
	var salScheds []scheduleIn
	var salPaths []string
	for i, sal := range sals {
		id := sal.LocationID
		if len(sal.Location) > 0 && string(sal.Location) != "null" {
			embedded := peekID(sal.Location)
			if id == "" {
				id = embedded
			} else if embedded != "" && embedded != id {
				p.Add(fmt.Sprintf("service_at_locations[%d].location.id", i), "differs from location_id %q", id)
			}
			if err := j.locationRaw(sal.Location, at(where, fmt.Sprintf("service_at_locations[%d].location", i)), doc); err != nil {
				return err
			}
		}
		if id == "" {
			p.Add(fmt.Sprintf("service_at_locations[%d].location_id", i), "is required")
			continue
		}
		in.locations = append(in.locations, id)
		for k, s := range sal.Schedules {
			salScheds = append(salScheds, s)
			salPaths = append(salPaths, fmt.Sprintf("service_at_locations[%d].schedules[%d]", i, k))
		}
	}
	if len(in.schedules) == 0 && len(salScheds) > 0 {
		// Hours given only per location are the service's hours.
		in.schedules, in.schedPaths = dedupSchedules(salScheds, salPaths)
	}
	if len(orgRaw) > 0 && string(orgRaw) != "null" {
		orgID := peekID(orgRaw)
		if in.w.OrganizationID == "" {
			in.w.OrganizationID = orgID
		} else if orgID != "" && orgID != in.w.OrganizationID {
			p.Add("organization.id", "differs from organization_id %q", in.w.OrganizationID)
		}
		var om map[string]json.RawMessage
		if json.Unmarshal(orgRaw, &om) != nil || om == nil {
			p.Add("organization", "must be an object")
		} else if err := j.organization(om, at(where, "organization"), 0); err != nil {
			return err
		}
	}
	in.problems = p
	rec := &Record{Where: where, Doc: doc}
	j.c.service(in, rec)
	return j.emit(rec)
}

// dedupSchedules drops schedules repeated with the same id.
func dedupSchedules(s []scheduleIn, paths []string) ([]scheduleIn, []string) {
	seen := map[string]bool{}
	var out []scheduleIn
	var outPaths []string
	for i, x := range s {
		if x.ID != "" && seen[x.ID] {
			continue
		}
		seen[x.ID] = true
		out = append(out, x)
		outPaths = append(outPaths, paths[i])
	}
	return out, outPaths
}

func (j *jsonReader) locationRaw(raw json.RawMessage, where string, doc int) error {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return j.emit(&Record{Kind: KindLocation, Where: where, Problems: directory.Problems{{Message: "must be an object"}}})
	}
	return j.location(m, where, doc)
}

func (j *jsonReader) location(m map[string]json.RawMessage, where string, doc int) error {
	in := &locationIn{}
	p := decodePart(take(m, "addresses"), &in.addresses, "addresses")
	p = append(p, directory.DecodeLenient(rest(m), &in.w)...)
	in.problems = p
	rec := &Record{Where: where, Doc: doc}
	j.c.location(in, rec)
	return j.emit(rec)
}

func (j *jsonReader) organization(m map[string]json.RawMessage, where string, doc int) error {
	in := &organizationIn{}
	delete(m, "services")
	delete(m, "locations")
	in.problems = directory.DecodeLenient(rest(m), &in.w)
	rec := &Record{Where: where, Doc: doc}
	j.c.organization(in, rec)
	return j.emit(rec)
}
