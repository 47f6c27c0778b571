package store

// Every key of the store is built here. Prefixes end with '/' so that a
// prefix scan of one kind never reaches another.

const (
	pService   = "svc/"
	pLocation  = "loc/"
	pUser      = "user/"
	pUserEmail = "user-email/"
	pSession   = "sess/"
	pSecret    = "secret/"

	pRelation       = "rel/"
	pRelationID     = "rel-id/"
	pPartnerService = "psvc/"
	pSeen           = "seen/"
	pDelivery       = "dlv/"
	pQueued         = "act/"
	pQueuedRefs     = "act-refs/"
	pBlock          = "block/"
)

var (
	keySchema       = []byte("meta/schema")
	keyOrganization = []byte("org")
)

func serviceKey(id string) []byte   { return []byte(pService + id) }
func locationKey(id string) []byte  { return []byte(pLocation + id) }
func userKey(id string) []byte      { return []byte(pUser + id) }
func userEmailKey(e string) []byte  { return []byte(pUserEmail + e) }
func sessionKey(hash string) []byte { return []byte(pSession + hash) }
func secretKey(name string) []byte  { return []byte(pSecret + name) }

func relationKey(actor string) []byte     { return []byte(pRelation + actor) }
func relationIDKey(id string) []byte      { return []byte(pRelationID + id) }
func partnerServiceKey(uri string) []byte { return []byte(pPartnerService + uri) }
func seenKey(hash string) []byte          { return []byte(pSeen + hash) }
func deliveryKey(id string) []byte        { return []byte(pDelivery + id) }
func blockKey(host string) []byte         { return []byte(pBlock + host) }
func queuedKey(id string) []byte          { return []byte(pQueued + id) }
func queuedRefsKey(id string) []byte      { return []byte(pQueuedRefs + id) }
