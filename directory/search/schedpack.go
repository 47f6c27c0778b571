package search

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/maillage/maillage/directory"
)

// packedSchedule is a slot's schedule as a search with "open at" reads
// it: what decides whether the service is open, packed in a string. The
// schedules as Go values took 2.4 MB at 10,000 generated services (a
// slice per schedule, a map per note), the packed ones 0.5 MB.
//
// Most schedules are weekly hours only: a tag byte, then 4 bytes per
// slot (day, opening and closing minute). One with dated exceptions or
// periods is packed with them, without what people read (notes,
// messages), and unpacked when a search asks. Either keeps the hours as the
// check reads them (checkedHours).
type packedSchedule string

const (
	packedWeekly = 'w'
	packedDated  = 'd'
	// packedInline is how many weekly slots are read without allocating.
	packedInline = 32
)

// packSchedule packs s; the empty schedule packs to "".
func packSchedule(s directory.Schedule) packedSchedule {
	s = checkedHours(s)
	if len(s.Weekly) == 0 && len(s.Exceptions) == 0 && len(s.Periods) == 0 {
		return ""
	}
	if len(s.Exceptions) == 0 && len(s.Periods) == 0 {
		b := make([]byte, 1, 1+4*len(s.Weekly))
		b[0] = packedWeekly
		for _, sl := range s.Weekly {
			b = binary.LittleEndian.AppendUint32(b, packSlot(sl))
		}
		return packedSchedule(b)
	}
	return packDated(s)
}

// checkedHours returns s as the check reads it: a check asks about a
// minute of the day (0 to 1439), so an hour before midnight or after the
// next one answers as midnight does, and a slot on no weekday never
// answers. Validated schedules are unchanged.
func checkedHours(s directory.Schedule) directory.Schedule {
	day := func(c directory.Clock) directory.Clock { return min(max(c, 0), 24*60) }
	slots := func(in []directory.Slot) []directory.Slot {
		var out []directory.Slot
		for _, sl := range in {
			if sl.Day >= time.Sunday && sl.Day <= time.Saturday {
				out = append(out, directory.Slot{Day: sl.Day, Opens: day(sl.Opens), Closes: day(sl.Closes)})
			}
		}
		return out
	}
	c := directory.Schedule{Weekly: slots(s.Weekly)}
	for _, e := range s.Exceptions {
		e.Note, e.Hours = nil, slices.Clone(e.Hours)
		for i, h := range e.Hours {
			e.Hours[i] = directory.Span{Opens: day(h.Opens), Closes: day(h.Closes)}
		}
		c.Exceptions = append(c.Exceptions, e)
	}
	for _, p := range s.Periods {
		p.Message, p.Hours = nil, slots(p.Hours)
		c.Periods = append(c.Periods, p)
	}
	return c
}

// packSlot packs a checked slot in 25 bits: the day in 3, each minute
// in 11.
func packSlot(sl directory.Slot) uint32 {
	return uint32(sl.Day) | uint32(sl.Opens)<<3 | uint32(sl.Closes)<<14
}

func unpackSlot(v uint32) directory.Slot {
	return directory.Slot{Day: time.Weekday(v & 7), Opens: directory.Clock(v >> 3 & 2047), Closes: directory.Clock(v >> 14 & 2047)}
}

// packDated packs a checked schedule with dated changes: after the tag,
// the weekly slots, the exceptions and the periods, each a count then
// its items, in varints and length-prefixed dates.
func packDated(s directory.Schedule) packedSchedule {
	b := []byte{packedDated}
	slots := func(list []directory.Slot) {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, sl := range list {
			b = binary.AppendUvarint(b, uint64(packSlot(sl)))
		}
	}
	date := func(d string) {
		b = binary.AppendUvarint(b, uint64(len(d)))
		b = append(b, d...)
	}
	flag := func(v bool) {
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	slots(s.Weekly)
	b = binary.AppendUvarint(b, uint64(len(s.Exceptions)))
	for _, e := range s.Exceptions {
		date(e.Date)
		flag(e.Closed)
		b = binary.AppendUvarint(b, uint64(len(e.Hours)))
		for _, h := range e.Hours {
			b = binary.AppendUvarint(b, uint64(h.Opens)|uint64(h.Closes)<<11)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s.Periods)))
	for _, p := range s.Periods {
		date(p.From)
		date(p.To)
		flag(p.Closed)
		slots(p.Hours)
	}
	return packedSchedule(b)
}

// unpackDated reads what packDated wrote; ok is false for anything else.
func unpackDated(p string) (s directory.Schedule, ok bool) {
	bad := false
	num := func(limit uint64) int {
		v, n := binary.Uvarint([]byte(p[:min(len(p), binary.MaxVarintLen64)]))
		if n <= 0 || v > limit {
			bad = true
			return 0
		}
		p = p[n:]
		return int(v)
	}
	count := func() int { return num(uint64(len(p))) } // each item takes a byte at least
	date := func() string {
		n := count()
		if bad || n > len(p) {
			bad = true
			return ""
		}
		d := p[:n]
		p = p[n:]
		return d
	}
	flag := func() bool {
		if bad || len(p) == 0 || p[0] > 1 {
			bad = true
			return false
		}
		v := p[0] == 1
		p = p[1:]
		return v
	}
	slots := func() []directory.Slot {
		n := count()
		var out []directory.Slot
		for i := 0; i < n && !bad; i++ {
			out = append(out, unpackSlot(uint32(num(1<<25-1))))
		}
		return out
	}
	s.Weekly = slots()
	for i, n := 0, count(); i < n && !bad; i++ {
		e := directory.Exception{Date: date(), Closed: flag()}
		for j, m := 0, count(); j < m && !bad; j++ {
			v := num(1<<22 - 1)
			e.Hours = append(e.Hours, directory.Span{Opens: directory.Clock(v & 2047), Closes: directory.Clock(v >> 11)})
		}
		s.Exceptions = append(s.Exceptions, e)
	}
	for i, n := 0, count(); i < n && !bad; i++ {
		s.Periods = append(s.Periods, directory.Period{From: date(), To: date(), Closed: flag(), Hours: slots()})
	}
	return s, !bad && len(p) == 0
}

// schedule returns the schedule p packs (without its notes and messages).
func (p packedSchedule) schedule() directory.Schedule {
	var s directory.Schedule
	if len(p) == 0 {
		return s
	}
	switch p[0] {
	case packedWeekly:
		s.Weekly = p.weekly(nil)
	case packedDated:
		// Written by packDated, or read from an authenticated snapshot
		// and checked (valid).
		s, _ = unpackDated(string(p[1:]))
	}
	return s
}

// weekly appends the weekly slots of a packedWeekly schedule to dst.
func (p packedSchedule) weekly(dst []directory.Slot) []directory.Slot {
	for i := 1; i+4 <= len(p); i += 4 {
		dst = append(dst, unpackSlot(uint32(p[i])|uint32(p[i+1])<<8|uint32(p[i+2])<<16|uint32(p[i+3])<<24))
	}
	return dst
}

// openOn is directory.Schedule.OpenOn on the packed schedule.
func (p packedSchedule) openOn(date string, day time.Weekday, min directory.Clock) bool {
	if len(p) > 0 && p[0] == packedWeekly && (len(p)-1)/4 <= packedInline {
		var slots [packedInline]directory.Slot
		return directory.Schedule{Weekly: p.weekly(slots[:0])}.OpenOn(date, day, min)
	}
	return p.schedule().OpenOn(date, day, min)
}

// valid reports whether p is a packed schedule (for snapshots).
func (p packedSchedule) valid() bool {
	if len(p) == 0 {
		return true
	}
	switch p[0] {
	case packedWeekly:
		return (len(p)-1)%4 == 0
	case packedDated:
		_, ok := unpackDated(string(p[1:]))
		return ok
	}
	return false
}
