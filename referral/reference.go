package referral

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/maillage/maillage/directory"
)

// A referral's short reference is what a resident reads out over the
// phone to the association that collected their consent: a few letters
// of the sending association and a number, "MQM-12". The handle in URLs
// (Handle) stays the long opaque one.

// referenceShape is what a reference from a peer may look like.
var referenceShape = regexp.MustCompile(`^[A-Z]{2,4}-[1-9][0-9]{0,8}$`)

// smallWords are left out of an association's initials.
var smallWords = map[string]bool{"de": true, "du": true, "des": true, "la": true, "le": true, "les": true, "l": true, "d": true,
	"et": true, "en": true, "van": true, "het": true, "der": true, "voor": true, "of": true, "the": true, "and": true,
	"asbl": true, "vzw": true, "aisbl": true, "ivzw": true}

// ReferencePrefix returns the letters that start the references of an
// association called name: the initials of its significant words (2 to
// 4), or the start of a single word; "REF" when the name has no letters.
func ReferencePrefix(name string) string {
	words := strings.FieldsFunc(directory.Fold(name), func(r rune) bool { return !unicode.IsLetter(r) || r > unicode.MaxASCII })
	var kept []string
	for _, w := range words {
		if !smallWords[w] {
			kept = append(kept, w)
		}
	}
	var b strings.Builder
	if len(kept) == 1 {
		b.WriteString(kept[0][:min(3, len(kept[0]))])
	}
	for i := 0; len(kept) > 1 && i < len(kept) && b.Len() < 4; i++ {
		b.WriteByte(kept[i][0])
	}
	if b.Len() < 2 {
		return "REF"
	}
	return strings.ToUpper(b.String())
}

// nextReference returns prefix and the lowest number above every
// reference this node has given, so that no two referrals share one
// whatever their prefix (the association may be renamed).
func (s *Service) nextReference(ctx context.Context, prefix string) (string, error) {
	last := 0
	err := s.Store.ForEachReferral(ctx, func(r *Referral) error {
		if r.Side != Sender {
			return nil
		}
		if _, num, ok := strings.Cut(r.Consent.Reference, "-"); ok {
			if n, err := strconv.Atoi(num); err == nil && n > last {
				last = n
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("referral: next reference: %w", err)
	}
	return fmt.Sprintf("%s-%d", prefix, last+1), nil
}

// Reference returns r's short reference; a referral made before
// references existed gets one from its handle, short enough to read out.
func (r *Referral) Reference() string {
	if r.Consent.Reference != "" {
		return r.Consent.Reference
	}
	return "REF-" + strings.ToUpper(Handle(r.ID)[:6])
}
