package hsdsio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// row is one CSV row, or one row of the JSON form of a table, by column.
type row struct {
	where string
	line  int
	vals  map[string]string
	extra bool // more values than columns
}

func (r row) get(col string) string { return strings.TrimSpace(r.vals[col]) }

// csvFile reads a CSV file row by row. It skips a UTF-8 byte order mark,
// tells the delimiter from the header line (spreadsheets set to French or
// Dutch write ";"), refuses rows over MaxRecord and text that is not
// UTF-8, and skips empty rows.
type csvFile struct {
	name   string
	header []string // column names as written
	cols   []string // column names as keys (named by the caller's key func)
	r      *csv.Reader
	b      *budget
}

func openCSV(name string, r io.Reader, counted func(int64), key func(string) string) (*csvFile, error) {
	b := &budget{r: r, counted: counted}
	b.reset()
	br := bufio.NewReaderSize(b, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	first, _ := br.Peek(16 << 10) // short at the end of the file: fine
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(first)
	cr.FieldsPerRecord = -1
	f := &csvFile{name: name, r: cr, b: b}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s is empty: the first line names the columns", name)
	}
	if err != nil {
		return nil, f.readError(err)
	}
	for _, h := range header {
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("%s line 1 is not UTF-8 text: save the file as \"CSV UTF-8\"", name)
		}
		h = strings.TrimSpace(h)
		f.header = append(f.header, h)
		f.cols = append(f.cols, key(h))
	}
	return f, nil
}

// sniffDelimiter picks , ; or tab, whichever the first line has most of
// outside quotes.
func sniffDelimiter(data []byte) rune {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, c := range string(data) {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

func (f *csvFile) readError(err error) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, errTooLarge):
		line, _ := f.r.FieldPos(0)
		return tooLarge(fmt.Sprintf("%s after line %d", f.name, line))
	case errors.As(err, &pe):
		return fmt.Errorf("%s line %d: %v (a quote opened and not closed?)", f.name, pe.StartLine, pe.Err)
	}
	return fmt.Errorf("%s: %w", f.name, err)
}

// next returns the next row that is not empty, or io.EOF.
func (f *csvFile) next() (row, error) {
	for {
		f.b.reset()
		rec, err := f.r.Read()
		if err != nil {
			if err == io.EOF {
				return row{}, io.EOF
			}
			return row{}, f.readError(err)
		}
		line, _ := f.r.FieldPos(0)
		empty := true
		for _, v := range rec {
			if !utf8.ValidString(v) {
				return row{}, fmt.Errorf("%s line %d is not UTF-8 text: save the file as \"CSV UTF-8\"", f.name, line)
			}
			if strings.TrimSpace(v) != "" {
				empty = false
			}
		}
		if empty {
			continue
		}
		r := row{where: fmt.Sprintf("%s line %d", f.name, line), line: line, vals: make(map[string]string, len(rec))}
		for i, v := range rec {
			if i >= len(f.cols) {
				if strings.TrimSpace(v) != "" {
					r.extra = true
				}
				continue
			}
			if f.cols[i] != "" {
				r.vals[f.cols[i]] = v
			}
		}
		return r, nil
	}
}
