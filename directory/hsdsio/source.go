package hsdsio

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
)

// Format is the shape of a source.
type Format string

// The formats a source may have.
const (
	FormatAuto     Format = ""         // told from the path
	FormatJSON     Format = "json"     // one HSDS document (.json)
	FormatNDJSON   Format = "ndjson"   // one record a line (.ndjson, .jsonl)
	FormatTabular  Format = "tabular"  // HSDS CSV tables: a directory, or its datapackage.json
	FormatTemplate Format = "template" // the simple CSV template (.csv)
)

// Formats lists the formats a user may name.
var Formats = []Format{FormatJSON, FormatNDJSON, FormatTabular, FormatTemplate}

// ReadOptions configure how a source is read.
type ReadOptions struct {
	Format   Format
	Taxonomy *directory.Taxonomy
	// Lang is the language of text in records that do not say theirs
	// (HSDS text_language); default French.
	Lang directory.Lang
	// Now dates weekly rules that start later; default time.Now.
	Now func() time.Time
}

// Source is a file or directory of HSDS data or of the CSV template.
type Source struct {
	path   string
	format Format
	tables *dirTables
	c      converter
}

// Open finds the format of path and checks that it can be read.
func Open(path string, opts ReadOptions) (*Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if opts.Taxonomy == nil {
		opts.Taxonomy = directory.DefaultTaxonomy()
	}
	if opts.Lang == "" {
		opts.Lang = directory.FR
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Source{path: path, format: opts.Format,
		c: converter{tax: opts.Taxonomy, lang: opts.Lang, today: opts.Now().Format(time.DateOnly)}}
	isPkg := !fi.IsDir() && strings.EqualFold(filepath.Base(path), "datapackage.json")
	if s.format == FormatAuto {
		switch ext := strings.ToLower(filepath.Ext(path)); {
		case fi.IsDir() || isPkg:
			s.format = FormatTabular
		case ext == ".ndjson" || ext == ".jsonl":
			s.format = FormatNDJSON
		case ext == ".json":
			s.format = FormatJSON
		case ext == ".csv":
			s.format = FormatTemplate
		default:
			return nil, fmt.Errorf("%s: cannot tell its format from its name; say --format %s", path, formatList())
		}
	}
	switch s.format {
	case FormatTabular:
		dir := path
		if !fi.IsDir() {
			if !isPkg {
				return nil, fmt.Errorf("%s: tabular data is a directory of CSV files, or its datapackage.json", path)
			}
			dir = filepath.Dir(path)
		}
		if s.tables, err = openDirTables(dir); err != nil {
			return nil, err
		}
	case FormatJSON, FormatNDJSON, FormatTemplate:
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory: only tabular data (--format tabular) is read from one", path)
		}
	default:
		return nil, fmt.Errorf("unknown format %q; say %s", s.format, formatList())
	}
	return s, nil
}

func formatList() string {
	var names []string
	for _, f := range Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// Format is the source's format.
func (s *Source) Format() Format { return s.format }

// Size is the number of bytes a reading goes through.
func (s *Source) Size() int64 {
	if s.tables != nil {
		return s.tables.size()
	}
	if fi, err := os.Stat(s.path); err == nil {
		return fi.Size()
	}
	return 0
}

// Read calls fn for every record of the source, in order; counted, when
// not nil, is told of every byte read. Records come one at a time, never
// the whole source at once, and a source can be read again. It stops at
// the first error fn returns, and on what makes the rest unreadable
// (broken JSON, a record over MaxRecord, text that is not UTF-8);
// problems of one record are in the record.
func (s *Source) Read(counted func(int64), fn func(*Record) error) error {
	if s.tables != nil {
		s.tables.counted = counted
		return (&tabularReader{c: &s.c, t: s.tables, emit: fn}).read()
	}
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	switch s.format {
	case FormatTemplate:
		return (&templateReader{c: &s.c, emit: fn}).read(filepath.Base(s.path), f, counted)
	case FormatNDJSON:
		return (&jsonReader{c: &s.c, emit: fn}).ndjson(f, counted)
	}
	return (&jsonReader{c: &s.c, emit: fn}).file(f, counted)
}
