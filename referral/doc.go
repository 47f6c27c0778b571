// Package referral will own consent-based referrals: consent records, the
// referral state machine (modelled on the FHIR SDOH referral Task), the
// sealing of residents' personal data to the recipient node (HPKE), its
// retention and erasure, and the audit log.
//
// Until then it holds only this description.
//
// Imports: the standard library and directory (for service identity only).
// It knows nothing of HTTP, Badger or ActivityPub.
package referral
