// Package search is the directory's full-text and faceted search over the
// node's own services and its replica of partners' services: French,
// Dutch and English analysis (accent folding, elision, stemming), typo
// tolerance for words of five letters or more, categories that match
// across languages through the shared taxonomy, audience, language,
// referrals, distance from a point, and opening hours.
//
// The index is an inverted index in memory (index.go says why it is not
// bleve's), with posting lists as compressed bitmaps
// (github.com/RoaringBitmap/roaring/v2) and bleve's language analysers.
// The node loads it at start from the snapshot it writes periodically and
// at every stop (snapshot.go), bringing it up to date with the store's
// changes since, or builds it from the store; it is kept up to date on
// every change, so the store stays the only truth. Once a snapshot is
// written, the services' summaries are kept as JSON compressed with S2
// and a dictionary of their layout and vocabulary (summarydict.go), and
// decoded when a result needs them (index.go, summaryOf). "Open at"
// reads packed schedules (schedpack.go).
//
// Beside search: similar services with reasons, for the editor's warning
// and the API (similar.go), and the network's coverage by theme and
// postcode area with likely duplicate clusters (coverage.go).
//
// Imports: the standard library, directory, roaring, bleve's analysis
// packages and klauspost/compress/s2.
package search
