"""Builds a Xapian database on disk from the CSV files of
`maillage bench-export` (services.csv, slots.csv, exceptions.csv).

    python3 load.py DATA_DIR DB_DIR
"""
import csv
import os
import sys
import time

import xapian

from common import (ACTOR, BUCKET, CATEGORY, CLOSED_ON, LANGS, OPEN_ALL, OPEN_PART, OTHER_HOURS_ON, SLOT_ACTOR,
                    SLOT_CATS, SLOT_COORDS, SLOT_LAT, SLOT_LON, SLOT_SLOTS, STEMMERS, TEXT_PREFIX, fold)

NAME_WEIGHT = 3  # wdf of a word of the name; a word of the description counts 1 (Maillage: 3 and 1)


def pg_array(v):
    """bench-export writes lists as {a,b}."""
    v = v.strip("{}")
    return v.split(",") if v else []


def main(data, dbdir):
    t0 = time.perf_counter()
    slots, exceptions = {}, {}
    with open(os.path.join(data, "slots.csv"), newline="") as f:
        for sid, day, opens, closes in csv.reader(f):
            slots.setdefault(sid, []).append((int(day), int(opens), int(closes)))
    with open(os.path.join(data, "exceptions.csv"), newline="") as f:
        for sid, date, closed in csv.reader(f):
            exceptions.setdefault(sid, []).append((date, closed == "true"))

    db = xapian.WritableDatabase(dbdir, xapian.DB_CREATE_OR_OVERWRITE)
    tgs = {}
    for lang in LANGS:
        tg = xapian.TermGenerator()
        tg.set_stemmer(xapian.Stem(STEMMERS[lang]))
        tg.set_stemming_strategy(xapian.TermGenerator.STEM_ALL)
        tgs[lang] = tg
    n = 0
    with open(os.path.join(data, "services.csv"), newline="") as f:
        for row in csv.reader(f):
            (sid, name_fr, name_nl, name_en, desc_fr, desc_nl, desc_en, actor, cats, _aud, _langs, _fee, _ref, _local,
             lat, lon) = row
            doc = xapian.Document()
            names = {"fr": name_fr, "nl": name_nl, "en": name_en}
            descs = {"fr": desc_fr, "nl": desc_nl, "en": desc_en}
            # Each language's texts with its own stemmer, under its own
            # prefix; names weigh more than descriptions.
            for lang in LANGS:
                tg = tgs[lang]
                tg.set_document(doc)
                tg.index_text(fold(names[lang]), NAME_WEIGHT, TEXT_PREFIX[lang])
                tg.increase_termpos()
                tg.index_text(fold(descs[lang]), 1, TEXT_PREFIX[lang])
            # Categories (bench-export has already added their parents)
            # and the association, as boolean terms and facet values.
            cats = pg_array(cats)
            for c in cats:
                doc.add_boolean_term(CATEGORY + c)
            doc.add_boolean_term(ACTOR + actor)
            doc.add_value(SLOT_ACTOR, actor)
            doc.add_value(SLOT_CATS, "|".join(sorted(cats)))
            # The point: for the distance posting source and key maker,
            # and lat/lon alone for the bounding box.
            lat, lon = float(lat), float(lon)
            doc.add_value(SLOT_COORDS, xapian.LatLongCoords(xapian.LatLongCoord(lat, lon)).serialise())
            doc.add_value(SLOT_LAT, xapian.sortable_serialise(lat))
            doc.add_value(SLOT_LON, xapian.sortable_serialise(lon))
            # Opening hours: a term per half hour of the week, telling a
            # whole half hour open from a part of one (checked exactly).
            weekly = slots.get(sid, [])
            for day, opens, closes in weekly:
                for m in range(opens - opens % BUCKET, closes, BUCKET):
                    whole = opens <= m and m + BUCKET <= closes
                    doc.add_boolean_term((OPEN_ALL if whole else OPEN_PART) + "%d:%d" % (day, m // BUCKET))
            doc.add_value(SLOT_SLOTS, ";".join("%d,%d,%d" % s for s in weekly))
            for date, closed in exceptions.get(sid, []):
                doc.add_boolean_term((CLOSED_ON if closed else OTHER_HOURS_ON) + date)
            doc.set_data(sid + "\t" + name_fr)
            doc.add_boolean_term("Q" + sid)
            db.add_document(doc)
            n += 1
    db.commit()
    db.close()
    print("loaded and indexed %d services in %.1f s" % (n, time.perf_counter() - t0))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
