package hsdsio

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/maillage/maillage/directory"
)

// ExportOptions configure an export.
type ExportOptions struct {
	// Format is FormatJSON (the default: one HSDS organization document
	// with its locations and services) or FormatNDJSON (the organization,
	// then each location, then each service, one a line).
	Format Format
	// Lang is the language written in the HSDS fields, where a record
	// has it; the other languages go to translations (default French).
	Lang directory.Lang
	// Progress, when not nil, is told of every service written.
	Progress Progress
}

// Export writes the node's association, its locations and its services
// as HSDS 3.0 with the Maillage extensions, in id order, so that the same
// data always gives the same bytes, and Import reads it back into the
// same records. It returns the number of services written.
func Export(ctx context.Context, cat Reader, w io.Writer, opts ExportOptions) (int, error) {
	if opts.Lang == "" {
		opts.Lang = directory.FR
	}
	if opts.Format == FormatAuto {
		opts.Format = FormatJSON
	}
	if opts.Format != FormatJSON && opts.Format != FormatNDJSON {
		return 0, fmt.Errorf("export: format %q: say json or ndjson", opts.Format)
	}
	org, err := cat.Organization(ctx)
	if err != nil {
		return 0, err
	}
	enc := directory.HSDSEncoder{Taxonomy: cat.Taxonomy(), Lang: opts.Lang}
	bw := bufio.NewWriterSize(w, 64<<10)
	x := &exporter{w: bw, ndjson: opts.Format == FormatNDJSON}
	if p := opts.Progress; p != nil {
		defer p.Done()
	}
	x.header(enc.Organization(org))
	x.open("locations")
	err = cat.ForEachLocation(ctx, func(l *directory.Location) error {
		x.item(enc.Location(l))
		return x.err
	})
	if err != nil {
		return 0, err
	}
	x.close()
	x.open("services")
	n := 0
	err = cat.ForEachService(ctx, func(s *directory.Service) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		x.item(enc.Service(s, nil, nil))
		n++
		if opts.Progress != nil {
			opts.Progress.Add(1)
		}
		return x.err
	})
	if err != nil {
		return n, err
	}
	x.close()
	x.end()
	if x.err != nil {
		return n, x.err
	}
	return n, bw.Flush()
}

// exporter writes one indented JSON document item by item, or NDJSON.
type exporter struct {
	w      *bufio.Writer
	ndjson bool
	items  int
	err    error
}

func (x *exporter) write(b []byte) {
	if x.err == nil {
		_, x.err = x.w.Write(b)
	}
}

func (x *exporter) marshal(v any, prefix string) []byte {
	var b []byte
	var err error
	if x.ndjson {
		b, err = json.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, prefix, "  ")
	}
	if err != nil && x.err == nil {
		x.err = err
	}
	return b
}

// header writes the organization without its closing brace.
func (x *exporter) header(o directory.HSDSOrganization) {
	b := x.marshal(o, "")
	if x.ndjson {
		x.write(append(b, '\n'))
		return
	}
	x.write(b[:len(b)-2]) // "\n}"
}

func (x *exporter) open(key string) {
	x.items = 0
	if !x.ndjson {
		x.write([]byte(",\n  \"" + key + "\": ["))
	}
}

func (x *exporter) item(v any) {
	b := x.marshal(v, "    ")
	switch {
	case x.ndjson:
		x.write(append(b, '\n'))
	case x.items == 0:
		x.write(append([]byte("\n    "), b...))
	default:
		x.write(append([]byte(",\n    "), b...))
	}
	x.items++
}

func (x *exporter) close() {
	switch {
	case x.ndjson:
	case x.items == 0:
		x.write([]byte("]"))
	default:
		x.write([]byte("\n  ]"))
	}
}

func (x *exporter) end() {
	if !x.ndjson {
		x.write([]byte("\n}\n"))
	}
}
