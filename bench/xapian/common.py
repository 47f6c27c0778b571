"""What load.py and query.py share: text folding, stop words, the
Earth radius, and the layout of the Xapian documents (prefixes, slots).
"""
import unicodedata

import xapian

# directory.EarthRadius (directory/model.go), in metres.
EARTH_RADIUS_M = 6371008.8

# Time zone of opening hours, as Maillage's index uses by default.
ZONE = "Europe/Brussels"

# Width of the opening-hour buckets, in minutes (Maillage uses 30 too).
BUCKET = 30

LANGS = ("fr", "nl", "en")
STEMMERS = {"fr": "french", "nl": "dutch", "en": "english"}

# Term prefixes: one per language for the stemmed words of the texts,
# then the boolean terms.
TEXT_PREFIX = {"fr": "XF", "nl": "XN", "en": "XE"}
CATEGORY = "XC"  # + category code (its parents too)
ACTOR = "XO"  # + the providing association's actor
OPEN_ALL = "XW"  # + day:bucket, open during the whole half hour
OPEN_PART = "XP"  # + day:bucket, open during part of it
CLOSED_ON = "XX"  # + YYYY-MM-DD, an exception that closes the day
OTHER_HOURS_ON = "XY"  # + YYYY-MM-DD, an exception with other hours

# Value slots.
SLOT_ACTOR = 0  # for the organisation facet
SLOT_CATS = 1  # the categories joined by "|", for the category facet
SLOT_COORDS = 2  # xapian.LatLongCoords, serialised
SLOT_LAT = 3  # sortable_serialise(lat), for the bounding box
SLOT_LON = 4  # sortable_serialise(lon)
SLOT_SLOTS = 5  # the weekly slots as "day,opens,closes;…", for exact checks

# Stop words: the common function words of each language, left out of
# queries as Maillage leaves its analysers' stop words out (they are not
# required to match). Short lists, written for this benchmark.
STOP = {
    "fr": "a au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me meme mes moi mon ne nos "
          "notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l m n s t y",
    "nl": "de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem dan zou of wat mijn "
          "men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb hoe heeft hebben deze u want nog zal me zij "
          "nu ge geen omdat iets worden toch al waren veel meer doen toen moet ben zonder kan hun dus alles onder ja eens hier wie "
          "werd altijd doch wordt wezen kunnen ons zelf tegen na reeds wil kon niets uw iemand geweest andere",
    "en": "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to "
          "was will with",
}


def fold(text):
    """Lower case, accents removed: what directory.Fold does to the
    letters of these texts. French elisions (l', d') become separate
    words, as Maillage's tokenizer splits them."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return text.replace("'", " ").replace("\u2019", " ")


def stopper(lang):
    s = xapian.SimpleStopper()
    for w in STOP[lang].split():
        s.add(w)
    return s


def metric():
    return xapian.GreatCircleMetric(EARTH_RADIUS_M)
