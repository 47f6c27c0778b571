package hsdsio

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maillage/maillage/directory"
)

// Reader is what an export reads of the node's catalog.
type Reader interface {
	Taxonomy() *directory.Taxonomy
	Organization(ctx context.Context) (*directory.Organization, error)
	ForEachService(ctx context.Context, fn func(*directory.Service) error) error
	ForEachLocation(ctx context.Context, fn func(*directory.Location) error) error
}

// Catalog is what an import needs of the node's catalog; *directory.Catalog
// has all of it.
type Catalog interface {
	Reader
	UpdateOrganization(ctx context.Context, o *directory.Organization) (*directory.Organization, error)
	Service(ctx context.Context, id string) (*directory.Service, error)
	CreateService(ctx context.Context, s *directory.Service) (*directory.Service, error)
	UpdateService(ctx context.Context, s *directory.Service) (*directory.Service, error)
	Location(ctx context.Context, id string) (*directory.Location, error)
	CreateLocation(ctx context.Context, l *directory.Location) (*directory.Location, error)
	UpdateLocation(ctx context.Context, l *directory.Location) (*directory.Location, error)
}

var _ Catalog = (*directory.Catalog)(nil)

// IDAdopter is a Catalog that can give the node's association another
// id. An import uses it while the node has no service yet, so that an
// association moved from one node (or system) to another keeps the HSDS
// id its services and partners know it by.
type IDAdopter interface {
	AdoptOrganizationID(ctx context.Context, id string) error
}

// Progress is told how far a long task has gone.
type Progress interface {
	SetTotal(n int64)
	Add(n int64)
	Done()
}

// Options configure an import.
type Options struct {
	// DryRun checks everything and writes nothing.
	DryRun bool
	// Strict writes nothing when any record has a problem; otherwise the
	// valid records are written and the others reported.
	Strict bool
	// Organization is the id (as the file writes it) of the association
	// whose records to import from a file that holds several.
	Organization string
	// Checking is told of the bytes read while the source is checked;
	// Writing of the records read while they are written.
	Checking, Writing Progress
}

// entry is what the check of a source keeps of one record: little for
// services (they are read again to be written), the record for
// locations and organizations (they are few, and written first).
type entry struct {
	ord     int
	kind    string
	where   string
	name    string
	id      string
	org     string
	doc     int
	sum     [32]byte
	rec     *Record // locations and organizations
	locs    []string
	refs    map[string]string // location id → as the source writes it
	fields  func(string) string
	refused bool
	skipped bool // of another organization
	used    bool // a location a service of the association names
	dup     bool // same as an earlier record
	action  string
}

type importer struct {
	cat    Catalog
	src    *Source
	opts   Options
	report *Report

	ords   int
	svcs   []*entry
	svcIDs map[string]*entry
	locs   map[string]*entry
	locOrd []*entry
	orgs   map[string]*entry
	orgOrd []*entry
	docOrg map[int]string
	orgIDs []string          // in the order met
	orgSrc map[string]string // node id → id as the file writes it
	assoc  string
}

// Import reads src into the catalog: the association's profile, its
// locations, its services. A record whose id is already on the node
// updates it (or is left alone when nothing changed); the others are
// created. It reads the source twice: once to check every record
// against the model and the others (the locations a service names), once
// to write. The report lists every record refused and why; an error
// means the source could not be read through, or the node could not be
// written.
func Import(ctx context.Context, cat Catalog, src *Source, opts Options) (*Report, error) {
	im := &importer{cat: cat, src: src, opts: opts, report: &Report{DryRun: opts.DryRun},
		svcIDs: map[string]*entry{}, locs: map[string]*entry{}, orgs: map[string]*entry{}, docOrg: map[int]string{}, orgSrc: map[string]string{}}
	if err := im.check(ctx); err != nil {
		return nil, err
	}
	if err := im.decide(ctx); err != nil {
		return nil, err
	}
	refused := im.report.Refused()
	switch {
	case opts.DryRun:
		if err := im.plan(ctx); err != nil {
			return nil, err
		}
	case opts.Strict && refused > 0:
		im.report.Strict = true
	default:
		if err := im.write(ctx); err != nil {
			return im.report, err
		}
	}
	im.report.sort()
	return im.report, nil
}

func (im *importer) problem(ord int, where, name, field, msg string) {
	im.report.Problems = append(im.report.Problems, Issue{ord: ord, Where: where, Record: name, Field: field, Message: msg})
}

func (im *importer) issues(ord int, rec *Record) {
	for _, p := range rec.Problems {
		im.problem(ord, rec.Where, rec.name(), rec.field(p.Field), p.Message)
	}
	if len(rec.Problems) > 0 {
		return
	}
	for _, p := range rec.Notes {
		im.report.Notes = append(im.report.Notes, Issue{ord: ord, Where: rec.Where, Record: rec.name(), Field: rec.field(p.Field), Message: p.Message})
	}
}

func (im *importer) sawOrg(id, source string) {
	if id == "" {
		return
	}
	if _, ok := im.orgSrc[id]; !ok {
		im.orgSrc[id] = source
		im.orgIDs = append(im.orgIDs, id)
	}
}

func sumOf(v any) [32]byte {
	b, _ := json.Marshal(v)
	return sha256.Sum256(b)
}

// check reads the source once, checking every record on its own.
func (im *importer) check(ctx context.Context) error {
	var counted func(int64)
	if p := im.opts.Checking; p != nil {
		p.SetTotal(im.src.Size())
		counted = p.Add
		defer p.Done()
	}
	return im.src.Read(counted, func(rec *Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		im.ords++
		e := &entry{ord: im.ords, kind: rec.Kind, where: rec.Where, name: rec.name(), org: rec.Org, doc: rec.Doc, fields: rec.fields,
			refused: len(rec.Problems) > 0}
		switch rec.Kind {
		case KindOrganization:
			e.id = rec.Organization.ID
			if rec.Doc != 0 && e.id != "" {
				im.docOrg[rec.Doc] = e.id
			}
			im.sawOrg(e.id, rec.SourceID)
			e.rec = rec
			e.sum = sumOf(rec.Organization)
			if im.dedup(e, rec, im.orgs, "organization") {
				im.orgOrd = append(im.orgOrd, e)
			}
		case KindLocation:
			e.id = rec.Location.ID
			e.rec = rec
			e.sum = sumOf(rec.Location)
			if im.dedup(e, rec, im.locs, "location") {
				im.locOrd = append(im.locOrd, e)
			}
		case KindService:
			s := rec.Service
			e.id, e.locs, e.refs = s.ID, s.Locations, rec.refs
			im.sawOrg(rec.Org, rec.orgSource)
			e.sum = sumOf(s)
			if im.dedupService(e, rec) {
				im.svcs = append(im.svcs, e)
			}
			if im.opts.DryRun && !e.refused && !e.dup {
				action, err := im.serviceAction(ctx, s)
				if err != nil {
					return err
				}
				e.action = action
			}
		default:
			e.kind = "record"
			e.refused = true
			im.issues(e.ord, rec)
			im.report.Unreadable++
		}
		return nil
	})
}

// dedup keeps the first of the records with one id; a later one that
// says the same is dropped, one that says otherwise refused. It reports
// whether e is new.
func (im *importer) dedup(e *entry, rec *Record, seen map[string]*entry, kind string) bool {
	first := seen[e.id]
	switch {
	case e.id == "" || first == nil:
		im.issues(e.ord, rec)
		if e.id != "" {
			seen[e.id] = e
		}
		return true
	case first.sum == e.sum:
		e.dup = true
		return false
	}
	im.issues(e.ord, rec)
	if !e.refused {
		e.refused = true
		im.problem(e.ord, e.where, e.name, "id", fmt.Sprintf("this %s is also at %s, with other content; the first is kept", kind, first.where))
	}
	im.count(e).Refused++
	return false
}

func (im *importer) dedupService(e *entry, rec *Record) bool {
	first := im.svcIDs[e.id]
	if e.id == "" || first == nil {
		im.issues(e.ord, rec)
		if e.id != "" {
			im.svcIDs[e.id] = e
		}
		return true
	}
	if first.sum == e.sum {
		e.dup = true
		return false
	}
	im.issues(e.ord, rec)
	if !e.refused {
		e.refused = true
		msg := fmt.Sprintf("this service is also at %s, with other content; the first is kept", first.where)
		if rec.idHint != "" {
			msg += " (" + rec.idHint + ")"
		}
		im.problem(e.ord, e.where, e.name, "id", msg)
	}
	im.report.Services.Refused++
	return false
}

func (im *importer) count(e *entry) *Counts {
	switch e.kind {
	case KindOrganization:
		return &im.report.Organizations
	case KindLocation:
		return &im.report.Locations
	}
	return &im.report.Services
}

// decide settles what needs the whole source: which association the file
// is imported for, and whether the locations services name exist.
func (im *importer) decide(ctx context.Context) error {
	for _, id := range im.orgIDs {
		if e := im.orgs[id]; e != nil && im.orgSrc[id] == "" {
			im.orgSrc[id] = e.rec.SourceID
		}
	}
	names := func() string {
		var out []string
		for _, id := range im.orgIDs {
			out = append(out, cmpOr(im.orgSrc[id], id))
		}
		return strings.Join(out, ", ")
	}
	switch want := strings.TrimSpace(im.opts.Organization); {
	case want != "":
		im.assoc = MapID(KindOrganization, want)
		if !slices.Contains(im.orgIDs, im.assoc) {
			if len(im.orgIDs) == 0 {
				return fmt.Errorf("--organization %s: the file names no organization", want)
			}
			return fmt.Errorf("--organization %s: the file has no such organization; it has %s", want, names())
		}
	case len(im.orgIDs) > 1:
		return fmt.Errorf("the file holds %d organizations (%s), and a node holds the services of one association: choose it with --organization ID",
			len(im.orgIDs), names())
	case len(im.orgIDs) == 1:
		im.assoc = im.orgIDs[0]
	}
	other := func(org string) bool { return org != "" && im.assoc != "" && org != im.assoc }
	for _, e := range im.orgOrd {
		if other(e.id) {
			e.skipped = true
		}
	}
	onNode := map[string]bool{}
	for _, e := range im.svcs {
		if d := im.docOrg[e.doc]; e.doc != 0 && d != "" {
			if e.org != "" && e.org != d && !e.refused {
				e.refused = true
				im.problem(e.ord, e.where, e.name, e.field("organization_id"), "is not the organization the service is listed in")
			}
			e.org = d
		}
		if other(e.org) {
			e.skipped = true
			continue
		}
		for i, l := range e.locs {
			le := im.locs[l]
			field := e.field(fmt.Sprintf("service_at_locations[%d].location_id", i))
			src := cmpOr(e.refs[l], l)
			switch {
			case le != nil && le.refused:
				im.problem(e.ord, e.where, e.name, field, fmt.Sprintf("location %s is refused (see its problems at %s)", src, le.where))
				e.refused = true
			case le != nil:
				le.used = true
			default:
				ok, seen := onNode[l]
				if !seen {
					_, err := im.cat.Location(ctx, l)
					if err != nil && !errors.Is(err, directory.ErrNotFound) {
						return err
					}
					ok = err == nil
					onNode[l] = ok
				}
				if !ok {
					im.problem(e.ord, e.where, e.name, field, fmt.Sprintf("no location %s in the file or on this node", src))
					e.refused = true
				}
			}
		}
	}
	// A location of another organization is imported only when a service
	// of the association takes place there.
	for _, e := range im.locOrd {
		if e.org == "" {
			e.org = im.docOrg[e.doc]
		}
		e.skipped = other(e.org) && !e.used
	}
	for _, list := range [][]*entry{im.svcs, im.locOrd, im.orgOrd} {
		for _, e := range list {
			switch {
			case e.refused:
				im.count(e).Refused++
			case e.skipped:
				im.count(e).Skipped++
			}
		}
	}
	return nil
}

func (e *entry) field(f string) string {
	if e.fields != nil {
		return e.fields(f)
	}
	return f
}

// association is the file's record of the node's association, if any.
func (im *importer) association() *entry {
	e := im.orgs[im.assoc]
	if e == nil || e.refused || e.skipped {
		return nil
	}
	return e
}

// plan counts what a write would do, for a dry run.
func (im *importer) plan(ctx context.Context) error {
	if e := im.association(); e != nil {
		cur, err := im.cat.Organization(ctx)
		if err != nil {
			return err
		}
		im.tally(&im.report.Organizations, sameOrganization(e.rec.Organization, cur), false)
	}
	for _, e := range im.locOrd {
		if e.refused || e.skipped {
			continue
		}
		cur, err := im.cat.Location(ctx, e.id)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			return err
		}
		im.tally(&im.report.Locations, cur != nil && sameLocation(e.rec.Location, cur), cur == nil)
	}
	for _, e := range im.svcs {
		if e.refused || e.skipped {
			continue
		}
		switch e.action {
		case "created":
			im.report.Services.Created++
		case "updated":
			im.report.Services.Updated++
		default:
			im.report.Services.Unchanged++
		}
	}
	return nil
}

func (im *importer) tally(c *Counts, same, created bool) {
	switch {
	case created:
		c.Created++
	case same:
		c.Unchanged++
	default:
		c.Updated++
	}
}

func (im *importer) serviceAction(ctx context.Context, s *directory.Service) (string, error) {
	cur, err := im.cat.Service(ctx, s.ID)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return "created", nil
	case err != nil:
		return "", err
	case sameService(s, cur):
		return "unchanged", nil
	}
	return "updated", nil
}

func sameService(in, cur *directory.Service) bool {
	a := *in
	// The review date is the node's, not read from documents; a
	// document without a capacity keeps the one set, and the same
	// capacity keeps its date (Catalog.UpdateService).
	a.OrganizationID, a.Created, a.Updated, a.Reviewed = cur.OrganizationID, cur.Created, cur.Updated, cur.Reviewed
	if a.Complements == nil {
		a.Complements = cur.Complements
	}
	if a.Capacity == nil || a.Capacity.Same(cur.Capacity) {
		a.Capacity = cur.Capacity
	}
	return sumOf(&a) == sumOf(cur)
}

func sameLocation(in, cur *directory.Location) bool {
	a := *in
	a.Updated = cur.Updated
	return sumOf(&a) == sumOf(cur)
}

func sameOrganization(in, cur *directory.Organization) bool {
	a := *in
	a.ID, a.Updated = cur.ID, cur.Updated
	return sumOf(&a) == sumOf(cur)
}

// refuse records a record the catalog refused while writing.
func (im *importer) refuse(e *entry, c *Counts, err error) error {
	p, ok := directory.AsProblems(err)
	if !ok {
		return fmt.Errorf("%s: %s: %w", e.where, e.name, err)
	}
	for _, pr := range p {
		im.problem(e.ord, e.where, e.name, e.field(pr.Field), pr.Message)
	}
	c.Refused++
	return nil
}

// write writes the association's profile, then its locations, then reads
// the source again for its services.
func (im *importer) write(ctx context.Context) error {
	if err := im.writeOrganization(ctx); err != nil {
		return err
	}
	for _, e := range im.locOrd {
		if e.refused || e.skipped {
			continue
		}
		if err := im.writeLocation(ctx, e); err != nil {
			return err
		}
	}
	p := im.opts.Writing
	if p != nil {
		p.SetTotal(int64(im.ords))
		defer p.Done()
	}
	ord, next := 0, 0
	return im.src.Read(nil, func(rec *Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ord++
		if p != nil {
			p.Add(1)
		}
		if rec.Kind != KindService {
			return nil
		}
		for next < len(im.svcs) && im.svcs[next].ord < ord {
			next++
		}
		if next == len(im.svcs) || im.svcs[next].ord != ord {
			return nil // a duplicate
		}
		e := im.svcs[next]
		if e.id != rec.Service.ID {
			return fmt.Errorf("%s: the file changed while it was imported; import it again", rec.Where)
		}
		if e.refused || e.skipped {
			return nil
		}
		return im.writeService(ctx, e, rec.Service)
	})
}

func (im *importer) writeOrganization(ctx context.Context) error {
	e := im.association()
	if e == nil {
		return nil
	}
	cur, err := im.cat.Organization(ctx)
	if err != nil {
		return err
	}
	o := e.rec.Organization
	if cur.ID != o.ID {
		adopter, ok := im.cat.(IDAdopter)
		empty, err := im.noServices(ctx)
		if err != nil {
			return err
		}
		if ok && empty {
			if err := adopter.AdoptOrganizationID(ctx, o.ID); err != nil {
				return err
			}
			im.report.Messages = append(im.report.Messages, fmt.Sprintf("the association now has the file's id %s (it had no services yet)", o.ID))
			cur.ID = o.ID
		} else {
			im.report.Messages = append(im.report.Messages, fmt.Sprintf("organization %s of the file is this node's association, which keeps its id %s", cmpOr(e.rec.SourceID, o.ID), cur.ID))
		}
	}
	if sameOrganization(o, cur) {
		im.report.Organizations.Unchanged++
		return nil
	}
	in := *o
	if _, err := im.cat.UpdateOrganization(ctx, &in); err != nil {
		return im.refuse(e, &im.report.Organizations, err)
	}
	im.report.Organizations.Updated++
	return nil
}

var errStop = errors.New("stop")

func (im *importer) noServices(ctx context.Context) (bool, error) {
	err := im.cat.ForEachService(ctx, func(*directory.Service) error { return errStop })
	if errors.Is(err, errStop) {
		return false, nil
	}
	return err == nil, err
}

func (im *importer) writeLocation(ctx context.Context, e *entry) error {
	l := *e.rec.Location
	cur, err := im.cat.Location(ctx, l.ID)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		if _, err := im.cat.CreateLocation(ctx, &l); err != nil {
			return im.refuse(e, &im.report.Locations, err)
		}
		im.report.Locations.Created++
	case err != nil:
		return err
	case sameLocation(&l, cur):
		im.report.Locations.Unchanged++
	default:
		if _, err := im.cat.UpdateLocation(ctx, &l); err != nil {
			return im.refuse(e, &im.report.Locations, err)
		}
		im.report.Locations.Updated++
	}
	return nil
}

func (im *importer) writeService(ctx context.Context, e *entry, s *directory.Service) error {
	cur, err := im.cat.Service(ctx, s.ID)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		if _, err := im.cat.CreateService(ctx, s); err != nil {
			// Refused by the catalog, or not stored, or stored and not
			// announced to partners: the last two stop the import.
			return im.refuse(e, &im.report.Services, err)
		}
		im.report.Services.Created++
	case err != nil:
		return err
	case sameService(s, cur):
		im.report.Services.Unchanged++
	default:
		if _, err := im.cat.UpdateService(ctx, s); err != nil {
			return im.refuse(e, &im.report.Services, err)
		}
		im.report.Services.Updated++
	}
	return nil
}
