package hsdsio

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/maillage/maillage/directory"
)

// Namespace is the UUID namespace of the ids an import derives from
// source ids that are not UUIDs: the version 5 UUID of the name
// "maillage import" in the DNS namespace, so that any tool can compute
// them (Python: uuid.uuid5(uuid.NAMESPACE_DNS, "maillage import")).
const Namespace = "e687a476-54e8-5b7b-aa32-5a43d411889d"

// Kinds of records, as they are named in derived ids and reports.
const (
	KindService      = "service"
	KindLocation     = "location"
	KindOrganization = "organization"
)

// MapID returns the id a record gets on the node from the id its source
// gives it. A UUID is kept (in canonical lower case), so HSDS ids survive
// an export and an import unchanged; any other id becomes the version 5
// UUID of kind + ":" + id in Namespace: "42" in services.csv is always
// the same service, and never the same record as location "42".
// An empty id gives "".
func MapID(kind, id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	if l := strings.ToLower(id); directory.IsUUID(l) {
		return l
	}
	return uuid5(Namespace, kind+":"+id)
}

// uuid5 is RFC 9562's name-based UUID with SHA-1.
func uuid5(namespace, name string) string {
	ns, err := hex.DecodeString(strings.ReplaceAll(namespace, "-", ""))
	if err != nil || len(ns) != 16 {
		panic("hsdsio: bad UUID namespace " + namespace) // a constant: caught by tests
	}
	h := sha1.New()
	h.Write(ns)
	h.Write([]byte(name))
	sum := h.Sum(nil)
	var b [16]byte
	copy(b[:], sum)
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
