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
