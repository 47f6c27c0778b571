package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/directory/hsdsio"
	"github.com/maillage/maillage/store"
)

// withStoppedNode opens the stopped node in dir for an offline command.
func withStoppedNode(dir, what string, fn func(*node.Node) error) error {
	if err := needData(dir); err != nil {
		return err
	}
	n, err := node.Open(node.Config{DataDir: dir})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("the node is running; stop it first (%s works on a stopped node)", what)
	}
	if err != nil {
		return err
	}
	defer n.Close()
	return fn(n)
}

// nodeCatalog is the node's catalog as an import needs it: it may give
// the association the id of the organization imported while the node has
// no services (hsdsio.IDAdopter).
type nodeCatalog struct {
	*directory.Catalog
	st *store.Store
}

func (c nodeCatalog) AdoptOrganizationID(ctx context.Context, id string) error {
	o, err := c.Catalog.Organization(ctx)
	if err != nil {
		return err
	}
	o.ID = id
	return c.st.PutOrganization(ctx, o)
}

// importOptions are the flags of import.
type importOptions struct {
	dryRun, strict bool
	format, org    string
	lang           string
}

func importCommand() command {
	return command{name: "import", args: "FILE",
		summary: "import services from HSDS JSON, NDJSON, HSDS CSV tables or the CSV template into a stopped node",
		define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
			data := dataFlag(fs)
			var o importOptions
			fs.BoolVar(&o.dryRun, "dry-run", false, "check the file and report every problem; write nothing")
			fs.BoolVar(&o.strict, "strict", false, "write nothing if any record has a problem (default: write the valid records, report the others)")
			fs.StringVar(&o.format, "format", "", "json, ndjson, tabular or template (default: told from the name: .json, .ndjson/.jsonl, a directory or datapackage.json, .csv)")
			fs.StringVar(&o.org, "organization", "", "id of the organization to import, when the file holds several")
			fs.StringVar(&o.lang, "text-language", "fr", "language of the text of records that do not say theirs (HSDS text_language): fr, nl or en")
			return func(ctx context.Context, c *cli, args []string) error {
				if len(args) != 1 {
					return usagef("give one FILE (or directory) to import")
				}
				return withStoppedNode(*data, "import", func(n *node.Node) error {
					return runImport(ctx, c, n, args[0], o)
				})
			}
		}}
}

func runImport(ctx context.Context, c *cli, n *node.Node, path string, o importOptions) error {
	lang, ok := directory.ParseLang(o.lang)
	if !ok || string(lang) != o.lang {
		return usagef("--text-language must be fr, nl or en")
	}
	format := hsdsio.Format(o.format)
	if format != hsdsio.FormatAuto && !slices.Contains(hsdsio.Formats, format) {
		return usagef("--format must be json, ndjson, tabular or template")
	}
	src, err := hsdsio.Open(path, hsdsio.ReadOptions{Format: format, Taxonomy: n.Catalog.Taxonomy(), Lang: lang, Now: c.clock()})
	if err != nil {
		return err
	}
	opts := hsdsio.Options{DryRun: o.dryRun, Strict: o.strict, Organization: o.org, Checking: c.progress("checking", countBytes)}
	if !o.dryRun {
		opts.Writing = c.progress("importing", countItems)
	}
	report, err := hsdsio.Import(ctx, nodeCatalog{n.Catalog, n.Store}, src, opts)
	if report != nil {
		if werr := report.WriteText(c.stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	if r := report.Refused(); r > 0 {
		return fmt.Errorf("%d record(s) refused, listed above", r)
	}
	return nil
}

func exportCommand() command {
	return command{name: "export", summary: "write the association, its locations and services as HSDS 3.0 JSON (node stopped)",
		define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
			data := dataFlag(fs)
			out := fs.String("out", "", "file to write (default: standard output)")
			format := fs.String("format", "json", "json (one HSDS organization document) or ndjson (one record a line, for large nodes)")
			lang := fs.String("lang", "fr", "language of the HSDS fields, the others going to translations: fr, nl or en")
			return func(ctx context.Context, c *cli, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				l, ok := directory.ParseLang(*lang)
				if !ok || string(l) != *lang {
					return usagef("--lang must be fr, nl or en")
				}
				f := hsdsio.Format(*format)
				if f != hsdsio.FormatJSON && f != hsdsio.FormatNDJSON {
					return usagef("--format must be json or ndjson")
				}
				return withStoppedNode(*data, "export", func(n *node.Node) error {
					return runExport(ctx, c, n, *out, hsdsio.ExportOptions{Format: f, Lang: l})
				})
			}
		}}
}

func runExport(ctx context.Context, c *cli, n *node.Node, out string, opts hsdsio.ExportOptions) error {
	opts.Progress = c.progress("exporting", countItems)
	var count int
	write := func(w io.Writer) error {
		var err error
		count, err = hsdsio.Export(ctx, n.Catalog, w, opts)
		return err
	}
	if out == "" || out == "-" {
		return write(c.stdout)
	}
	if err := writeFileAtomic(out, write); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "wrote %d service(s) to %s\n", count, strings.TrimSpace(out))
	return nil
}
