package store

import (
	"context"
	"errors"
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

// writeParts records or erases a referral's parts in txn, but for the
// document copies written apart before it (withCopiesApart), by key.
func writeParts(txn *badger.Txn, p referral.Parts, apart map[string]bool) error {
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
		key := refDocumentKey(b.Referral, b.Document, b.Copy)
		if apart[string(key)] {
			continue
		}
		if err := txn.Set(key, b.Sealed); err != nil {
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

// withCopiesApart runs write in one transaction. Document copies under the
// value threshold count in full in a transaction, and Badger takes about
// 314 KB in one (600 KB with the 4 MB memtables it had): five documents
// of 60 KB, two copies each, did not fit beside their referral. When Badger refuses the transaction as too big,
// the copies write returned are written first, a few per transaction,
// and write runs again without them (apart names their keys). Until then
// nothing refers to them: a crash in between leaves copies no referral
// lists, sealed, erased with the referral's data; when the second run
// fails, or no longer returns them, they are deleted.
func (s *Store) withCopiesApart(write func(txn *badger.Txn, apart map[string]bool) ([]referral.Blob, error)) error {
	var blobs []referral.Blob
	err := s.update(func(txn *badger.Txn) error {
		var err error
		blobs, err = write(txn, nil)
		return err
	})
	if !errors.Is(err, badger.ErrTxnTooBig) || len(blobs) == 0 {
		return err
	}
	apart := map[string]bool{}
	err = nil
	for start := 0; start < len(blobs) && err == nil; start += copiesPerTxn {
		chunk := blobs[start:min(len(blobs), start+copiesPerTxn)]
		err = s.update(func(txn *badger.Txn) error {
			return writeParts(txn, referral.Parts{Blobs: chunk}, nil)
		})
		for _, b := range chunk {
			if err == nil {
				apart[string(refDocumentKey(b.Referral, b.Document, b.Copy))] = true
			}
		}
	}
	var kept []referral.Blob
	if err == nil {
		err = s.update(func(txn *badger.Txn) error {
			var err error
			kept, err = write(txn, apart)
			return err
		})
	}
	if err == nil {
		for _, b := range kept {
			delete(apart, string(refDocumentKey(b.Referral, b.Document, b.Copy)))
		}
	}
	if len(apart) > 0 { // copies nothing refers to: a few small deletions
		derr := s.update(func(txn *badger.Txn) error {
			for k := range apart {
				if err := txn.Delete([]byte(k)); err != nil {
					return err
				}
			}
			return nil
		})
		if derr != nil {
			s.log.Warn("store: document copies written apart were not removed; the referral's erasure removes them", "err", derr)
		}
	}
	return err
}

// copiesPerTxn bounds the document copies withCopiesApart writes in one
// transaction: four copies under the value threshold take at most 256 KB.
const copiesPerTxn = 4

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
