// Package federation will carry Maillage over ActivityPub: the association
// actor, WebFinger and NodeInfo, HTTP signatures, inbox and outbox,
// partnerships, directory replication, the durable delivery queue and the
// dereferencer, and the mapping between domain types and ActivityStreams.
// The wire contract is written down in PROTOCOL.md as it is built.
//
// Until then it holds only this description; the node's RSA-2048 actor
// key is already created by init and kept in the encrypted store.
//
// Imports: the domain packages (directory, referral), the standard
// library, github.com/go-ap/activitypub and github.com/go-fed/httpsig.
package federation
