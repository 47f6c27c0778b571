package store

import (
	"fmt"
	"time"

	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/notify"
)

// Every key of the store is built here. Prefixes end with '/' so that a
// prefix scan of one kind never reaches another.

const (
	pService = "svc/"
	// pUnannounced holds a service's change not yet queued for partners.
	pUnannounced = "svc-unannounced/"
	pLocation    = "loc/"
	pUser        = "user/"
	pUserEmail   = "user-email/"
	pSession     = "sess/"
	// pAccountToken holds reset and invitation links, by token id.
	pAccountToken = "acct-token/"
	pSecret       = "secret/"

	pRelation       = "rel/"
	pRelationID     = "rel-id/"
	pPartnerService = "psvc/"
	pSeen           = "seen/"
	pDelivery       = "dlv/"
	pQueued         = "act/"
	pQueuedRefs     = "act-refs/"
	pBlock          = "block/"
	// pPartnerGone remembers, for a while, a partner's service deleted at
	// its source, so that an older copy arriving late is not kept.
	pPartnerGone = "psvc-gone/"

	pReferral   = "ref/"
	pRefHandle  = "ref-h/"
	pConsent    = "consent/"
	pWithdrawal = "consent-wd/"
	pAudit      = "audit/"

	pEvent        = "nev/"      // notification events not yet dispatched
	pEventSeen    = "nev-seen/" // events dispatched, so that one recorded again is ignored
	pNotification = "ntf/"      // each person's notifications, by time
	pDigest       = "ndig/"     // each person's events waiting for the daily digest
	pDigestTaken  = "ndig-taken/"
	pPrefs        = "nprefs/"
	pMail         = "mail/"        // mails to send, by next attempt
	pMailFailed   = "mail-failed/" // mails given up, by time

	pNeed         = "need/"
	pNeedNote     = "need-note/"
	pPartnerNeeds = "pneed/"
	pPartnerStats = "pstats/" // statistics partners share, by actor
	// pStatsMonth holds the node's own shared statistics of each complete
	// month, by YYYY-MM: computed once, then always sent as kept.
	pStatsMonth = "share-stats-month/"
)

var (
	keySchema       = []byte("meta/schema")
	keyLineage      = []byte("meta/lineage")
	keyOrganization = []byte("org")
	// keyShareStats holds the admin's choice to share the statistics.
	keyShareStats = []byte("setting/share-stats")
)

func serviceKey(id string) []byte      { return []byte(pService + id) }
func unannouncedKey(id string) []byte  { return []byte(pUnannounced + id) }
func locationKey(id string) []byte     { return []byte(pLocation + id) }
func userKey(id string) []byte         { return []byte(pUser + id) }
func userEmailKey(e string) []byte     { return []byte(pUserEmail + e) }
func sessionKey(hash string) []byte    { return []byte(pSession + hash) }
func accountTokenKey(id string) []byte { return []byte(pAccountToken + id) }
func secretKey(name string) []byte     { return []byte(pSecret + name) }

func relationKey(actor string) []byte     { return []byte(pRelation + actor) }
func relationIDKey(id string) []byte      { return []byte(pRelationID + id) }
func partnerServiceKey(uri string) []byte { return []byte(pPartnerService + uri) }
func partnerGoneKey(uri string) []byte    { return []byte(pPartnerGone + uri) }
func seenKey(hash string) []byte          { return []byte(pSeen + hash) }

// deliveryKey orders deliveries by their next attempt, so that finding
// the due ones reads only those.
func deliveryKey(d *federation.Delivery) []byte {
	return fmt.Appendf(nil, "%s%016x/%s", pDelivery, uint64(max(d.NextAt.UnixNano(), 0)), d.ID)
}

// dueBound is the first delivery key later than now.
func dueBound(now time.Time) []byte {
	return fmt.Appendf(nil, "%s%016x0", pDelivery, uint64(max(now.UnixNano(), 0)))
}
func blockKey(host string) []byte    { return []byte(pBlock + host) }
func queuedKey(id string) []byte     { return []byte(pQueued + id) }
func queuedRefsKey(id string) []byte { return []byte(pQueuedRefs + id) }

func referralKey(id string) []byte      { return []byte(pReferral + id) }
func referralHandleKey(h string) []byte { return []byte(pRefHandle + h) }
func consentKey(id string) []byte       { return []byte(pConsent + id) }

// withdrawalKey groups a consent's withdrawals and orders them in time.
func withdrawalKey(w *referral.Withdrawal) []byte {
	return fmt.Appendf(nil, "%s%s/%016x", pWithdrawal, w.Consent, uint64(max(w.At.UnixNano(), 0)))
}

// auditKey orders the log by time, then by seq, which grows with every
// entry (and across restarts): entries of the same instant keep the order
// they were written in.
func auditKey(e *referral.AuditEntry, seq uint64) []byte {
	return fmt.Appendf(nil, "%s%016x/%016x", pAudit, uint64(max(e.At.UnixNano(), 0)), seq)
}

func eventKey(id string) []byte     { return []byte(pEvent + id) }
func eventSeenKey(id string) []byte { return []byte(pEventSeen + id) }
func prefsKey(user string) []byte   { return []byte(pPrefs + user) }

// digestTakenKey marks the time up to which a person's queued digest took
// entries still to be removed (TakeDigest).
func digestTakenKey(user string) []byte { return []byte(pDigestTaken + user) }

func digestKey(user, event string) []byte {
	return []byte(pDigest + user + "/" + event)
}

// notificationKey orders a person's notifications by time.
func notificationKey(user string, at time.Time, event string) []byte {
	return fmt.Appendf(nil, "%s%s/%016x/%s", pNotification, user, uint64(max(at.UnixNano(), 0)), event)
}

// mailKey orders mails by their next attempt, like deliveries.
func mailKey(m *notify.Mail) []byte {
	return fmt.Appendf(nil, "%s%016x/%s", pMail, uint64(max(m.NextAt.UnixNano(), 0)), m.ID)
}

func mailFailedKey(m *notify.Mail) []byte {
	return fmt.Appendf(nil, "%s%016x/%s", pMailFailed, uint64(max(m.Failed.UnixNano(), 0)), m.ID)
}
