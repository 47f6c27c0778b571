"""Runs the five queries of Maillage's search benchmark on the Xapian
database built by load.py, each doing what Maillage's Search does for a
page: the first 20 ranked results, the exact total, and facet counts
per category (top 100) and per organisation (top 50).

    python3 query.py DB_DIR totals             # total per query
    python3 query.py DB_DIR ids QUERY          # ids of every match of q1…q5
    python3 query.py DB_DIR time [QUERIES]     # latencies, after a warm-up pass
"""
import datetime
import math
import sys
import time
import zoneinfo

import xapian

from common import (BUCKET, CATEGORY, CLOSED_ON, LANGS, OPEN_ALL, OPEN_PART, OTHER_HOURS_ON, SLOT_ACTOR,
                    SLOT_CATS, SLOT_COORDS, SLOT_LAT, SLOT_LON, SLOT_SLOTS, STEMMERS, TEXT_PREFIX, ZONE, fold, metric,
                    stopper)

# The query mix of directory/search/bench_test.go, as in bench/postgres.
BRUSSELS = (50.8467, 4.3525)
ST_GILLES = (50.8261, 4.3456)  # the centre of postcode 1060 (directory/search/postcodes.go)
MONDAY = datetime.datetime(2026, 12, 21, 10, 30, tzinfo=datetime.timezone.utc)
MIX = [
    ("q1", "q=epicerie sociale", dict(text="epicerie sociale")),
    ("q2", "q=cours de francais&category=lecture-ecriture-calcul", dict(text="cours de francais", category="lecture-ecriture-calcul")),
    ("q3", "q=voedselpakket&near=50.8467,4.3525&radius_km=3", dict(text="voedselpakket", near=BRUSSELS, radius_km=3)),
    ("q4", "category=sante&open_at=2026-12-21T10:30:00Z", dict(category="sante", open_at=MONDAY)),
    ("q5", "postcode=1060&radius_km=2&sort=distance", dict(near=ST_GILLES, radius_km=2, sort="distance")),
]
PAGE = 20


class Searcher:
    def __init__(self, dbdir):
        self.db = xapian.Database(dbdir)
        self.count = self.db.get_doccount()
        self.zone = zoneinfo.ZoneInfo(ZONE)
        self.metric = metric()
        # One query parser per language: its stemmer, its stop words,
        # its prefix, every word required.
        self.parsers = {}
        for lang in LANGS:
            qp = xapian.QueryParser()
            qp.set_database(self.db)
            qp.set_stemmer(xapian.Stem(STEMMERS[lang]))
            qp.set_stemming_strategy(xapian.QueryParser.STEM_ALL)
            qp.set_stopper(stopper(lang))
            qp.set_default_op(xapian.Query.OP_AND)
            qp.add_prefix("", TEXT_PREFIX[lang])
            self.parsers[lang] = qp

    def text_query(self, text):
        """Every word, in one of the languages (as bench/postgres does)."""
        text = fold(text)
        return xapian.Query(xapian.Query.OP_OR, [self.parsers[l].parse_query(text) for l in LANGS])

    def circle(self, centre, radius_km):
        """A bounding box on the lat and lon slots, then the exact great-circle
        distance (Xapian's LatLongDistancePostingSource, Maillage's radius)."""
        lat, lon = centre
        d_lat = radius_km / 111.2
        d_lon = radius_km / (111.32 * max(0.01, math.cos(math.radians(lat))))
        box = xapian.Query(xapian.Query.OP_AND, [
            xapian.Query(xapian.Query.OP_VALUE_RANGE, SLOT_LAT, xapian.sortable_serialise(lat - d_lat), xapian.sortable_serialise(lat + d_lat)),
            xapian.Query(xapian.Query.OP_VALUE_RANGE, SLOT_LON, xapian.sortable_serialise(lon - d_lon), xapian.sortable_serialise(lon + d_lon)),
        ])
        ps = xapian.LatLongDistancePostingSource(SLOT_COORDS, xapian.LatLongCoords(xapian.LatLongCoord(lat, lon)),
                                                 self.metric, radius_km * 1000)
        # Keep the source alive as long as the query (SWIG does not).
        self._keep = ps
        return xapian.Query(xapian.Query.OP_AND, [box, xapian.Query(ps)])

    def open_at(self, at):
        """Open at an instant: a whole half hour open, or a part of one
        (then checked exactly by OpenDecider); not closed that day."""
        local = at.astimezone(self.zone)
        day = local.isoweekday() % 7  # Go's time.Weekday: Sunday is 0
        minute = local.hour * 60 + local.minute
        bucket = "%d:%d" % (day, minute // BUCKET)
        q = xapian.Query(OPEN_ALL + bucket)
        decider = None
        if self.db.get_termfreq(OPEN_PART + bucket) > 0:
            q = xapian.Query(xapian.Query.OP_OR, q, xapian.Query(OPEN_PART + bucket))
            decider = OpenDecider(day, minute)
        date = local.strftime("%Y-%m-%d")
        if self.db.get_termfreq(OTHER_HOURS_ON + date) > 0:
            raise NotImplementedError("exceptions with other hours: bench-export writes none")
        return xapian.Query(xapian.Query.OP_AND_NOT, q, xapian.Query(CLOSED_ON + date)), decider

    def search(self, text=None, category=None, near=None, radius_km=0, open_at=None, sort=None, page=PAGE):
        """One page, as Maillage's Search: 20 hits, total, facets."""
        parts, filters, decider = [], [], None
        if text:
            parts.append(self.text_query(text))
        if category:
            filters.append(xapian.Query(CATEGORY + category))
        if near and radius_km:
            filters.append(self.circle(near, radius_km))
        if open_at:
            q, decider = self.open_at(open_at)
            filters.append(q)
        if parts:
            query = parts[0]
            if filters:
                query = xapian.Query(xapian.Query.OP_FILTER, query, xapian.Query(xapian.Query.OP_AND, filters))
        else:
            # No words: every match weighs 0, as in Maillage.
            query = xapian.Query(xapian.Query.OP_SCALE_WEIGHT, xapian.Query(xapian.Query.OP_AND, filters), 0)
        enq = xapian.Enquire(self.db)
        enq.set_query(query)
        if sort == "distance":
            keymaker = xapian.LatLongDistanceKeyMaker(SLOT_COORDS, xapian.LatLongCoords(xapian.LatLongCoord(*near)), self.metric)
            enq.set_sort_by_key_then_relevance(keymaker, False)
        orgs = xapian.ValueCountMatchSpy(SLOT_ACTOR)
        cats = xapian.ValueCountMatchSpy(SLOT_CATS)
        enq.add_matchspy(orgs)
        enq.add_matchspy(cats)
        # checkatleast = every document: the total is exact, and the
        # spies see every match, as Maillage's facets do.
        mset = enq.get_mset(0, page, self.count, None, decider)
        hits = [m.document.get_data() for m in mset]
        by_cat = {}
        for item in cats.values():
            for c in item.term.decode().split("|"):
                by_cat[c] = by_cat.get(c, 0) + item.termfreq
        top_cats = sorted(by_cat.items(), key=lambda kv: (-kv[1], kv[0]))[:100]
        top_orgs = [(i.term, i.termfreq) for i in orgs.top_values(50)]
        return mset.get_matches_estimated(), hits, top_cats, top_orgs, mset


class OpenDecider(xapian.MatchDecider):
    """The exact check of a service open during part of a half hour: one
    of its weekly slots holds the minute."""

    def __init__(self, day, minute):
        super().__init__()
        self.day, self.minute = day, minute

    def __call__(self, doc):
        for s in doc.get_value(SLOT_SLOTS).decode().split(";"):
            if s:
                d, o, c = map(int, s.split(","))
                if d == self.day and o <= self.minute < c:
                    return True
        return False


def pct(sorted_ns, p):
    return sorted_ns[int(p * (len(sorted_ns) - 1))] / 1e6


def main():
    s = Searcher(sys.argv[1])
    mode = sys.argv[2]
    if mode == "totals":
        for name, api, q in MIX:
            total, _, _, _, mset = s.search(**q)
            # With checkatleast = every document, the bounds meet.
            assert mset.get_matches_lower_bound() == mset.get_matches_upper_bound() == total
            print("%s\t%s\t%d" % (name, api, total))
    elif mode == "ids":
        want = sys.argv[3]
        for name, _, q in MIX:
            if name == want:
                _, _, _, _, mset = s.search(page=s.count, **q)  # every match, not a page
                for m in mset:
                    print(m.document.get_data().decode().split("\t")[0])
    elif mode == "time":
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
        for _, _, q in MIX:  # warm-up pass
            s.search(**q)
        lat = []
        by_query = [[] for _ in MIX]
        for i in range(n):
            q = MIX[i % len(MIX)][2]
            t0 = time.perf_counter_ns()
            s.search(**q)
            d = time.perf_counter_ns() - t0
            lat.append(d)
            by_query[i % len(MIX)].append(d)
        # Python's own share: the same loop around a search of nothing.
        empty = []
        nothing = xapian.Query.MatchNothing
        for _ in range(n):
            t0 = time.perf_counter_ns()
            enq = xapian.Enquire(s.db)
            enq.set_query(nothing)
            enq.get_mset(0, PAGE, s.count)
            empty.append(time.perf_counter_ns() - t0)
        lat.sort()
        empty.sort()
        for (name, _, _), ls in zip(MIX, by_query):
            ls.sort()
            print("%s p50 %.3f ms p99 %.3f ms" % (name, pct(ls, 0.5), pct(ls, 0.99)))
        print("empty-search p50 %.3f ms" % pct(empty, 0.5))
        print("%d queries: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms" % (n, pct(lat, 0.5), pct(lat, 0.95), pct(lat, 0.99)))


if __name__ == "__main__":
    main()
