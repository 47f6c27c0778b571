// Package referral owns consent-based referrals: consent records, the
// referral state machine (modelled on the FHIR SDOH referral Task), the
// sealing of residents' personal data to the recipient node (HPKE), its
// retention and erasure, and the audit log.
//
// Built so far: consent records and the checks that gate a referral
// (consent.go), the allow-list of resident data and minimisation to the
// consented categories (payload.go), sealing bound to the referral and
// both actors, with key rotation (seal.go), and the state machine with its
// reason and outcome codes (state.go). Storage, the federation protocol,
// withdrawal with erasure, retention and the audit log come next.
//
// Imports: the standard library and directory (for service identity and
// data categories only). It knows nothing of HTTP, Badger or ActivityPub.
package referral
