// Package federation carries Maillage over ActivityPub: the association
// actor, WebFinger and NodeInfo, HTTP signatures, the inbox and outbox,
// partnerships, directory replication, referrals between two nodes
// (referral.go: checked here, handed to a Referrals handler), the durable
// delivery queue and the one client that fetches from other servers. The wire contract, with
// example payloads, is PROTOCOL.md beside this file.
//
// The inbox path is verify → decode → check → apply once (inbox.go);
// converters between services and their ActivityStreams Note live in
// convert.go; what the package needs from persistence is the Store
// interface (store.go), implemented by package store.
//
// Imports: the standard library, directory, referral (its wire types and
// errors), referral/stats (the protected tables of shared statistics,
// stats.go), github.com/go-ap/activitypub,
// github.com/go-fed/httpsig, golang.org/x/time and the Prometheus client.
// It knows nothing of Badger; web drives it only through the small
// Network interface that web declares.
package federation
