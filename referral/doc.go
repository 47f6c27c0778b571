// Package referral owns consent-based referrals: consent records, the
// referral state machine (modelled on the FHIR SDOH referral Task), the
// sealing of residents' personal data to the recipient node (HPKE), its
// retention and erasure, and the audit log.
//
// consent.go holds consent records and the checks that gate a referral;
// payload.go the allow-list of resident data and its minimisation to the
// consented categories; seal.go sealing bound to the referral and both
// actors, with key rotation; state.go the state machine with its reason
// and outcome codes.
//
// The Service (referral.go, lifecycle.go) creates a referral on the
// sender's side (every check, sealing to the recipient and to itself),
// opens a referral's data for a worker with an audit line, and makes
// transitions by side; on the recipient's side Receive checks and records
// what arrives. Withdrawal erases on the sender and EraseRequested on the
// recipient; EraseOnRequest erases a closed referral's data early; Sweep
// expires unanswered referrals and erases closed ones' data after the
// retention delays; Remote and ErasureAcknowledged mirror what the other
// node reports.
//
// A referral's parts (parts.go) are sealed like the payload and erased
// with it: the files the sender attaches when consent and policy name
// documents (documents.go: type checked on content, limits, fetched by
// the recipient alone, each opening audited) and the thread of short
// messages between the two nodes' workers while it is open (thread.go:
// rate-limited, closed with the referral).
//
// Each change is one write of the Store: the referral, its audit lines,
// its consent or withdrawal, what the node's staff are to be told
// (Notices, notice.go: arrival, answers, reminders, withdrawal), and the
// message it owes the other node (Outbox). The caller queues that message and calls Delivered;
// Owing lists what a crash left unqueued. cmd/maillage/node wires the
// Store to the Badger store and the messages to federation.
//
// Subpackage stats (referral/stats) computes the admin's statistics from
// referral records: counts only, small numbers protected (k = 5).
//
// Imports: the standard library and directory (for service identity and
// data categories only). It knows nothing of HTTP, Badger or ActivityPub.
package referral
