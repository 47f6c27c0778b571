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
// Three parts of a service tell partners whether they can count on it
// now, and travel with it: its Capacity (places free, full, a waiting
// list, nobody new until a day; HSDS 3.1 service_capacity), its dated
// Periods (closed, other hours, a message; applied by OpenAt from the
// day, without anyone doing anything), and when it was last Reviewed
// (HSDS assured_date). Catalog.SetCapacity and MarkReviewed change them
// alone; rules that depend on the day they are set (a date to come, not
// too far) are checked there and in the catalogue's writes, not in
// Validate, which a partner's copy must pass whenever it is read.
//
// Imports: the standard library and text libraries only. This package
// knows nothing of HTTP, Badger or ActivityPub.
package directory
