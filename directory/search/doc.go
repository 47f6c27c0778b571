// Package search is the directory's full-text and faceted search over the
// node's own services and its replica of partners' services: French,
// Dutch and English analysis (accent folding, elision, stemming), typo
// tolerance for words of five letters or more, categories that match
// across languages through the shared taxonomy, audience, language,
// referrals, distance from a point, and opening hours.
//
// The index is github.com/blevesearch/bleve/v2 (scorch) in a directory of
// its own; it is rebuilt from the store when the node starts and kept
// up to date on every change, so the store stays the only truth.
//
// Imports: the standard library, directory and bleve.
package search
