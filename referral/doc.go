// Package referral owns consent-based referrals: consent records, the
// referral state machine (modelled on the FHIR SDOH referral Task), the
// sealing of residents' personal data to the recipient node (HPKE), its
// retention and erasure, and the audit log.
//
// Built so far: consent records and the checks that gate a referral
// (consent.go), the allow-list of resident data and minimisation to the
// consented categories (payload.go), sealing bound to the referral and
// both actors, with key rotation (seal.go), and the state machine with its
// reason and outcome codes (state.go); and the Service that creates a
// referral on the sender's side (every check, sealing to the recipient and
// to itself), opens a referral's data for a worker with an audit line, and
// makes transitions by side (referral.go); on the recipient's side,
// Receive checks and records what arrives; withdrawal erases on the
// sender, EraseRequested on the recipient; Sweep expires unanswered
// referrals and erases closed ones' data after the retention period
// (lifecycle.go), and Remote and ErasureAcknowledged mirror on the
// sender what the recipient reports. cmd wires the Store to the Badger
// store and the Service to federation (cmd/maillage/node/referrals.go),
// so a referral already makes the whole loop between real nodes. The
// retention timer, the HTTP API, the consent receipt and the audit export
// come next.
//
// Imports: the standard library and directory (for service identity and
// data categories only). It knows nothing of HTTP, Badger or ActivityPub.
package referral
