package store

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/maillage/maillage/referral"
)

// A referral's parts (referral/parts.go): the sealed copies of its
// documents and its thread messages, each under the referral's handle (a
// fixed-length hash of its id, so that no referral's prefix covers
// another's). They are written and erased in the referral's own
// transaction (writeWith): a document is whole or absent after a crash.
// Documents are kept as their sealed bytes, not JSON; above the value
// threshold they live in the value log, encrypted at rest like the rest.
//
// Their prefixes are kept here, beside their only code, rather than in
// keys.go.
const (
	pRefDocument = "ref-doc/" // ref-doc/{referral handle}/{document handle}/{own|out}
	pRefMessage  = "ref-msg/" // ref-msg/{referral handle}/{message handle}
)

func refDocumentKey(ref, doc string, c referral.Copy) []byte {
	return []byte(pRefDocument + referral.Handle(ref) + "/" + referral.Handle(doc) + "/" + string(c))
}

func refMessageKey(ref, msg string) []byte {
	return []byte(pRefMessage + referral.Handle(ref) + "/" + referral.Handle(msg))
}

// writeParts records or erases a referral's parts in txn.
func writeParts(txn *badger.Txn, p referral.Parts) error {
	if p.EraseOf != "" {
		for _, prefix := range []string{pRefDocument + referral.Handle(p.EraseOf) + "/", pRefMessage + referral.Handle(p.EraseOf) + "/"} {
			if err := deletePrefix(txn, []byte(prefix)); err != nil {
				return err
			}
		}
	}
	for _, b := range p.Blobs {
		if b.Referral == "" || b.Document == "" || len(b.Sealed) == 0 || (b.Copy != referral.CopyOwn && b.Copy != referral.CopyOut) {
			return fmt.Errorf("document copy without its referral, id, kind or bytes")
		}
		if err := txn.Set(refDocumentKey(b.Referral, b.Document, b.Copy), b.Sealed); err != nil {
			return err
		}
	}
	for i := range p.Messages {
		m := &p.Messages[i]
		if m.Referral == "" || m.ID == "" {
			return fmt.Errorf("message without its referral or id")
		}
		key := refMessageKey(m.Referral, m.ID)
		if ok, err := exists(txn, key); err != nil {
			return err
		} else if ok {
			continue // recorded before: kept as it is
		}
		if err := set(txn, key, m); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix deletes every key under prefix in txn.
func deletePrefix(txn *badger.Txn, prefix []byte) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	var keys [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	it.Close()
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Blob returns a sealed copy of a referral's document.
func (s *Store) Blob(ctx context.Context, ref, doc string, c referral.Copy) (referral.Sealed, error) {
	return s.readRaw("referral document", refDocumentKey(ref, doc, c))
}

// Messages returns a referral's thread messages, in key order.
func (s *Store) Messages(ctx context.Context, ref string) ([]referral.Message, error) {
	var out []referral.Message
	err := scan(ctx, s, pRefMessage+referral.Handle(ref)+"/", func(m *referral.Message) error {
		out = append(out, *m)
		return nil
	})
	return out, err
}

var _ referral.PartStore = (*Store)(nil)
