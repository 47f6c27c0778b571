// Package directory owns Maillage's model of who offers what: the
// association (Organization), its Services and Locations, opening
// Schedules, ServiceAreas, the shared FR/NL/EN Taxonomy, and the rules
// that make a record valid.
//
// The model is aligned with HSDS 3.0 (Open Referral). The JSON shape a
// client sends and receives is HSDS with a few namespaced Maillage
// extensions (translations, categories, audiences, referral policy);
// hsds.go turns the model into that shape and decode.go reads it back,
// reporting every problem at once.
//
// Catalog is the entry point for changes to the node's own records. It
// declares the Store it needs; package store implements it. A change of a
// service is written with its Announcement, which the Publisher (the
// federation) queues for partners; AnnouncePending sends at start what a
// crash left unannounced.
//
// Imports: the standard library and text libraries only. This package
// knows nothing of HTTP, Badger or ActivityPub.
package directory
