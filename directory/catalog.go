package directory

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"
)

// Store is what the Catalog needs from persistence. Create fails with
// ErrConflict when the id is taken; reads, updates and deletes of an
// absent id fail with ErrNotFound. Every write is durable when it returns.
type Store interface {
	Organization(ctx context.Context) (*Organization, error)
	PutOrganization(ctx context.Context, o *Organization) error

	Service(ctx context.Context, id string) (*Service, error)
	// The writes of services record a, when not nil, in the same
	// transaction: the change then awaits its announcement to partners
	// until Announced (see Announcement).
	CreateService(ctx context.Context, s *Service, a *Announcement) error
	UpdateService(ctx context.Context, s *Service, a *Announcement) error
	DeleteService(ctx context.Context, id string, a *Announcement) error
	// Unannounced calls fn for every recorded announcement not yet
	// removed by Announced.
	Unannounced(ctx context.Context, fn func(Announcement) error) error
	// Announced removes the record of a, unless a later change of its
	// service replaced it.
	Announced(ctx context.Context, a Announcement) error
	// ForEachService calls fn for every service in id order until fn
	// returns an error, which it returns.
	ForEachService(ctx context.Context, fn func(*Service) error) error

	Location(ctx context.Context, id string) (*Location, error)
	CreateLocation(ctx context.Context, l *Location) error
	UpdateLocation(ctx context.Context, l *Location) error
	DeleteLocation(ctx context.Context, id string) error
	ForEachLocation(ctx context.Context, fn func(*Location) error) error
}

// Options configure a Catalog.
type Options struct {
	Taxonomy *Taxonomy
	Now      func() time.Time
	// ReviewAfter is how long a service goes unreviewed before it is
	// due for review (DefaultReviewAfter when not positive).
	ReviewAfter time.Duration
}

// Catalog applies changes to the node's own organization, services and
// locations, validating each one before it is stored.
type Catalog struct {
	st          Store
	tax         *Taxonomy
	now         func() time.Time
	reviewAfter time.Duration
	pub         Publisher
	// count is how many services the node has, once counted (-1 before):
	// the home page shows it on every visit, and counting reads the
	// store. Only the catalog adds and removes the node's services.
	count atomic.Int64
	locks [64]sync.Mutex // see lock
}

// SetPublisher sets who is told of changes to services. It is set once at
// start, before the node serves, as the publisher itself needs the catalog.
func (c *Catalog) SetPublisher(p Publisher) { c.pub = p }

// announcement is the record of a change of service id to announce.
func (c *Catalog) announcement(id string, ch Change) *Announcement {
	if c.pub == nil {
		return nil
	}
	return &Announcement{Activity: NewID(), Service: id, Change: ch}
}

// publish tells the publisher of a change recorded with a, and removes
// the record once the publisher has queued it durably.
func (c *Catalog) publish(ctx context.Context, a *Announcement, s *Service) error {
	if a == nil {
		return nil
	}
	if err := c.pub.ServiceChanged(ctx, *a, s); err != nil {
		return fmt.Errorf("directory: service %s saved but not announced to partners yet: %w", s.ID, err)
	}
	return c.st.Announced(ctx, *a)
}

// AnnouncePending announces again every change recorded and not yet
// announced: the node stopped (or its queue could not take it) between
// the write and its announcement. Each is announced with the service as
// it is now, under its first activity id, which partners take once.
func (c *Catalog) AnnouncePending(ctx context.Context) (int, error) {
	if c.pub == nil {
		return 0, nil
	}
	var pending []Announcement
	if err := c.st.Unannounced(ctx, func(a Announcement) error {
		pending = append(pending, a)
		return nil
	}); err != nil {
		return 0, err
	}
	for _, a := range pending {
		// A service has one record, its last change's, announced with the
		// service as it is now (gone, for a deletion).
		unlock := c.lock(a.Service)
		s, err := c.st.Service(ctx, a.Service)
		if errors.Is(err, ErrNotFound) {
			s, err, a.Change = &Service{ID: a.Service}, nil, Deleted
		}
		if err == nil {
			err = c.publish(ctx, &a, s)
		}
		unlock()
		if err != nil {
			return 0, err
		}
	}
	return len(pending), nil
}

// lock serialises the changes of one service with their announcements,
// so that partners are told of them in the order they were made.
func (c *Catalog) lock(id string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(id))
	m := &c.locks[h.Sum32()%uint32(len(c.locks))]
	m.Lock()
	return m.Unlock
}

// NewCatalog returns a Catalog over st.
func NewCatalog(st Store, opts Options) *Catalog {
	if opts.Taxonomy == nil {
		opts.Taxonomy = DefaultTaxonomy()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReviewAfter <= 0 {
		opts.ReviewAfter = DefaultReviewAfter
	}
	c := &Catalog{st: st, tax: opts.Taxonomy, now: opts.Now, reviewAfter: opts.ReviewAfter}
	c.count.Store(-1)
	return c
}

// ReviewAfter is how long a service goes unreviewed before it is due for
// review: its admins are reminded, partners see it marked.
func (c *Catalog) ReviewAfter() time.Duration { return c.reviewAfter }

// Taxonomy returns the vocabulary the catalog validates against.
func (c *Catalog) Taxonomy() *Taxonomy { return c.tax }

// Organization returns the node's association.
func (c *Catalog) Organization(ctx context.Context) (*Organization, error) {
	return c.st.Organization(ctx)
}

// UpdateOrganization validates and stores o, keeping its id.
func (c *Catalog) UpdateOrganization(ctx context.Context, o *Organization) (*Organization, error) {
	cur, err := c.st.Organization(ctx)
	if err != nil {
		return nil, err
	}
	o.ID = cur.ID
	if err := o.Validate().Err(); err != nil {
		return nil, err
	}
	o.Updated = c.now().UTC()
	if err := c.st.PutOrganization(ctx, o); err != nil {
		return nil, fmt.Errorf("directory: update organization: %w", err)
	}
	if op, ok := c.pub.(OrganizationPublisher); ok {
		if err := op.OrganizationChanged(ctx, o); err != nil {
			return o, fmt.Errorf("directory: organization saved but not announced to partners: %w", err)
		}
	}
	return o, nil
}

// Service returns the service with id.
func (c *Catalog) Service(ctx context.Context, id string) (*Service, error) {
	return c.st.Service(ctx, id)
}

// CreateService validates s, gives it an id when it has none, and stores it.
func (c *Catalog) CreateService(ctx context.Context, s *Service) (*Service, error) {
	if s.ID == "" {
		s.ID = NewID()
	}
	org, err := c.st.Organization(ctx)
	if err != nil {
		return nil, err
	}
	s.OrganizationID = org.ID
	now := c.now().UTC()
	if err := c.checkService(ctx, s, nil, now); err != nil {
		return nil, err
	}
	s.Created, s.Updated, s.Reviewed = now, now, now
	defer c.lock(s.ID)()
	a := c.announcement(s.ID, Created)
	if err := c.st.CreateService(ctx, s, a); err != nil {
		return nil, fmt.Errorf("directory: create service %s: %w", s.ID, err)
	}
	c.counted(1)
	return s, c.publish(ctx, a, s)
}

// UpdateService replaces the service s.ID with s.
func (c *Catalog) UpdateService(ctx context.Context, s *Service) (*Service, error) {
	defer c.lock(s.ID)()
	cur, err := c.st.Service(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	s.OrganizationID = cur.OrganizationID
	if s.Complements == nil {
		// Not in the HSDS documents the API takes: kept across updates.
		s.Complements = cur.Complements
	}
	if s.Capacity == nil {
		// Set on its own (SetCapacity), by workers: a document without
		// it keeps it.
		s.Capacity = cur.Capacity
	}
	now := c.now().UTC()
	if err := c.checkService(ctx, s, cur, now); err != nil {
		return nil, err
	}
	s.Created = cur.Created
	// An edit is a review: the admin saved the service as right.
	s.Reviewed = now
	s.Updated = nextVersion(cur.Updated, now)
	a := c.announcement(s.ID, Updated)
	if err := c.st.UpdateService(ctx, s, a); err != nil {
		return nil, fmt.Errorf("directory: update service %s: %w", s.ID, err)
	}
	return s, c.publish(ctx, a, s)
}

// DeleteService removes the service with id.
func (c *Catalog) DeleteService(ctx context.Context, id string) error {
	defer c.lock(id)()
	s, err := c.st.Service(ctx, id)
	if err != nil {
		return err
	}
	a := c.announcement(id, Deleted)
	if err := c.st.DeleteService(ctx, id, a); err != nil {
		return err
	}
	c.counted(-1)
	return c.publish(ctx, a, s)
}

// nextVersion is the Updated of a change made at now to a service whose
// last change was at last. Partners keep the version with the latest
// time: each change must be later than the one before, whatever the
// clock says.
func nextVersion(last, now time.Time) time.Time {
	if !now.After(last) {
		return last.Add(time.Nanosecond)
	}
	return now
}

// SetCapacity sets (nil: removes) the capacity of the service id, dated
// now, and tells the partners. The service's review date stays: saying
// how many places are free is not checking the whole service.
func (c *Catalog) SetCapacity(ctx context.Context, id string, capacity *Capacity) (*Service, error) {
	return c.change(ctx, id, func(s *Service, now time.Time) error {
		if capacity != nil {
			if p := ValidateCapacity(capacity, now); len(p) > 0 {
				return p
			}
			capacity.Updated = now
			if capacity.Unit == "" {
				capacity.Unit = UnitPlaces
			}
		}
		s.Capacity = capacity
		return nil
	})
}

// MarkReviewed records that the association checked the service id and
// found it right ("still correct"), and tells the partners.
func (c *Catalog) MarkReviewed(ctx context.Context, id string) (*Service, error) {
	return c.change(ctx, id, func(s *Service, now time.Time) error {
		s.Reviewed = now
		return nil
	})
}

// change applies edit to the stored service id, as a new version
// announced to partners.
func (c *Catalog) change(ctx context.Context, id string, edit func(s *Service, now time.Time) error) (*Service, error) {
	defer c.lock(id)()
	s, err := c.st.Service(ctx, id)
	if err != nil {
		return nil, err
	}
	now := c.now().UTC()
	if err := edit(s, now); err != nil {
		return nil, err
	}
	s.Updated = nextVersion(s.Updated, now)
	a := c.announcement(id, Updated)
	if err := c.st.UpdateService(ctx, s, a); err != nil {
		return nil, fmt.Errorf("directory: update service %s: %w", id, err)
	}
	return s, c.publish(ctx, a, s)
}

// checkService validates s, and what depends on the day it is saved:
// the dates of a capacity or of periods new since old (nil: none).
func (c *Catalog) checkService(ctx context.Context, s, old *Service, now time.Time) error {
	p := s.Validate(c.tax)
	var oldPeriods []Period
	var oldCapacity *Capacity
	if old != nil {
		oldPeriods, oldCapacity = old.Schedule.Periods, old.Capacity
	}
	checkPeriodDates(&p, s.Schedule.Periods, oldPeriods, now)
	if s.Capacity != nil {
		if s.Capacity.Same(oldCapacity) {
			s.Capacity.Updated = oldCapacity.Updated
		} else {
			s.Capacity.checkDates(&p, "service_capacity", now)
			s.Capacity.Updated = now
		}
	}
	for i, id := range s.Locations {
		if !IsUUID(id) {
			continue // already reported by Validate
		}
		if _, err := c.st.Location(ctx, id); err != nil {
			p.Rule(fmt.Sprintf("service_at_locations[%d].location_id", i), CodeUnknownLocation, "no location %s on this node", id)
		}
	}
	return p.Err()
}

// ServicesPage calls fn for the services at positions [offset,
// offset+limit) in id order: from the store's keys when it can read a
// page alone, else by reading them all.
func (c *Catalog) ServicesPage(ctx context.Context, offset, limit int, fn func(*Service) error) error {
	if sp, ok := c.st.(interface {
		ServicesPage(context.Context, int, int, func(*Service) error) error
	}); ok {
		return sp.ServicesPage(ctx, offset, limit, fn)
	}
	i := 0
	return c.st.ForEachService(ctx, func(s *Service) error {
		i++
		if i > offset && i <= offset+limit {
			return fn(s)
		}
		return nil
	})
}

// Location returns the location with id.
func (c *Catalog) Location(ctx context.Context, id string) (*Location, error) {
	return c.st.Location(ctx, id)
}

// CreateLocation validates l, gives it an id when it has none, and stores it.
func (c *Catalog) CreateLocation(ctx context.Context, l *Location) (*Location, error) {
	if l.ID == "" {
		l.ID = NewID()
	}
	if err := l.Validate().Err(); err != nil {
		return nil, err
	}
	l.Updated = c.now().UTC()
	if err := c.st.CreateLocation(ctx, l); err != nil {
		return nil, fmt.Errorf("directory: create location %s: %w", l.ID, err)
	}
	return l, nil
}

// UpdateLocation replaces the location l.ID with l.
func (c *Catalog) UpdateLocation(ctx context.Context, l *Location) (*Location, error) {
	if _, err := c.st.Location(ctx, l.ID); err != nil {
		return nil, err
	}
	if err := l.Validate().Err(); err != nil {
		return nil, err
	}
	l.Updated = c.now().UTC()
	if err := c.st.UpdateLocation(ctx, l); err != nil {
		return nil, fmt.Errorf("directory: update location %s: %w", l.ID, err)
	}
	return l, nil
}

// DeleteLocation removes the location with id, refusing while a service
// still takes place there.
func (c *Catalog) DeleteLocation(ctx context.Context, id string) error {
	if _, err := c.st.Location(ctx, id); err != nil {
		return err
	}
	var users []string
	err := c.st.ForEachService(ctx, func(s *Service) error {
		for _, l := range s.Locations {
			if l == id {
				users = append(users, s.ID)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("directory: location %s is used by %d service(s): %w", id, len(users), ErrConflict)
	}
	return c.st.DeleteLocation(ctx, id)
}

// CountServices returns how many services the node has: from the store's
// keys alone when it can count them (a page shows the number on every
// visit), else by reading them.
func (c *Catalog) CountServices(ctx context.Context) (int, error) {
	if n := c.count.Load(); n >= 0 {
		return int(n), nil
	}
	var n int
	var err error
	if sc, ok := c.st.(interface {
		CountServices(context.Context) (int, error)
	}); ok {
		n, err = sc.CountServices(ctx)
	} else {
		err = c.st.ForEachService(ctx, func(*Service) error { n++; return nil })
	}
	if err == nil {
		c.count.CompareAndSwap(-1, int64(n))
	}
	return n, err
}

// counted adds d to the count of services, once there is one.
func (c *Catalog) counted(d int64) {
	for {
		n := c.count.Load()
		if n < 0 || c.count.CompareAndSwap(n, n+d) {
			return
		}
	}
}

// ForEachService calls fn for every service of the node, in id order.
func (c *Catalog) ForEachService(ctx context.Context, fn func(*Service) error) error {
	return c.st.ForEachService(ctx, fn)
}

// ForEachLocation calls fn for every location of the node, in id order.
func (c *Catalog) ForEachLocation(ctx context.Context, fn func(*Location) error) error {
	return c.st.ForEachLocation(ctx, fn)
}

// Change says what happened to a service.
type Change int

// Changes announced to the Publisher.
const (
	Created Change = iota + 1
	Updated
	Deleted
)

// Announcement is a change of one of the node's services to tell the
// partners. It is recorded with the change, in the same write, and
// removed once the Publisher has queued it: a node killed in between
// announces it at its next start (AnnouncePending), so no change stored
// is kept from partners.
type Announcement struct {
	// Activity names the announcement, however many times it is sent:
	// partners apply an activity id once.
	Activity string `json:"activity"`
	Service  string `json:"service"`
	Change   Change `json:"change"`
}

// Publisher is told of every change to the node's own services, to tell
// the partners. It must record the announcement durably before returning.
// For a deletion, s may hold only the service's id.
type Publisher interface {
	ServiceChanged(ctx context.Context, a Announcement, s *Service) error
}

// OrganizationPublisher is a Publisher that is also told when the
// organization changes (its name, its enterprise number).
type OrganizationPublisher interface {
	OrganizationChanged(ctx context.Context, o *Organization) error
}
