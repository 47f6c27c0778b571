package directory

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
)

// NewID returns a random (version 4) UUID from crypto/rand.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails, see crypto/rand.Read
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// DerivedID returns a stable UUID (version 8, from SHA-256) for the given
// parts. HSDS requires ids on sub-records such as phones and schedules;
// deriving them from the parent id and position keeps them stable from one
// export to the next without storing them.
func DerivedID(parts ...string) string {
	sum := sha256.Sum256([]byte("maillage\x00" + strings.Join(parts, "\x00")))
	var b [16]byte
	copy(b[:], sum[:16])
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// IsUUID reports whether s is a UUID in canonical lower-case form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
