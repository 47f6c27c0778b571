package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

// A referral's parts are written and erased in its own transaction: the
// largest sealed document (in the value log) comes back whole, survives a
// reopen and a backup and restore (sealed, as stored), a message recorded
// twice is kept once, and the erasure deletes the referral's parts and no
// other referral's.
func TestReferralParts(t *testing.T) {
	s, path, key := openTest(t, Options{})
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	big := bytes.Repeat([]byte("sealed-bytes-"), referral.MaxSealedDocument/13)
	ids := []string{"https://a.example/referrals/1", "https://a.example/referrals/10"} // one id a prefix of the other
	for i, id := range ids {
		r := &referral.Referral{ID: id, Side: referral.Sender, State: referral.Requested, Created: now, Updated: now}
		w := referral.Writes{Parts: referral.Parts{
			Blobs: []referral.Blob{{Referral: id, Document: id + "/documents/d", Copy: referral.CopyOwn, Sealed: big},
				{Referral: id, Document: id + "/documents/d", Copy: referral.CopyOut, Sealed: []byte{byte(i)}}},
			Messages: []referral.Message{{ID: "https://a.example/messages/m", Referral: id, Side: referral.Sender, At: now, Sealed: []byte("s1")}}}}
		if err := s.AddReferral(ctx, r, w); err != nil {
			t.Fatal(err)
		}
	}
	// The same message again, changed: kept as first recorded.
	if _, err := s.UpdateReferral(ctx, ids[0], func(*referral.Referral) (referral.Writes, error) {
		return referral.Writes{Parts: referral.Parts{Messages: []referral.Message{{ID: "https://a.example/messages/m", Referral: ids[0], Sealed: []byte("s2")}}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if msgs, err := s.Messages(ctx, ids[0]); err != nil || len(msgs) != 1 || string(msgs[0].Sealed) != "s1" {
		t.Fatalf("messages = %+v, %v", msgs, err)
	}
	s.Close()
	s, err := Open(path, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if b, err := s.Blob(ctx, ids[0], ids[0]+"/documents/d", referral.CopyOwn); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("the document after a reopen: %d bytes, %v", len(b), err)
	}
	var buf bytes.Buffer
	if err := s.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("sealed-bytes-")) {
		t.Error("the backup holds a document's bytes unencrypted")
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if err := Restore(dst, key, &buf, Options{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dst, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := r.Blob(ctx, ids[1], ids[1]+"/documents/d", referral.CopyOwn); err != nil || !bytes.Equal(b, big) {
		t.Errorf("the document after a restore: %d bytes, %v", len(b), err)
	}
	r.Close()

	// Erasing the first referral's parts leaves the second's.
	if _, err := s.UpdateReferral(ctx, ids[0], func(*referral.Referral) (referral.Writes, error) {
		return referral.Writes{Parts: referral.Parts{EraseOf: ids[0]}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []referral.Copy{referral.CopyOwn, referral.CopyOut} {
		if _, err := s.Blob(ctx, ids[0], ids[0]+"/documents/d", c); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("the erased referral's %s copy: %v", c, err)
		}
		if _, err := s.Blob(ctx, ids[1], ids[1]+"/documents/d", c); err != nil {
			t.Errorf("the other referral's %s copy: %v", c, err)
		}
	}
	if msgs, _ := s.Messages(ctx, ids[0]); len(msgs) != 0 {
		t.Errorf("the erased referral keeps %d messages", len(msgs))
	}
	if msgs, _ := s.Messages(ctx, ids[1]); len(msgs) != 1 {
		t.Errorf("the other referral keeps %d messages, want 1", len(msgs))
	}
}

// Five documents of about 60 KB, two sealed copies each, are more than
// Badger takes in one transaction beside their referral: the copies are
// written apart, then the referral, and come back whole. When the second
// run of the change refuses, or no longer writes a copy, nothing of the
// copies written apart is left.
func TestDocumentCopiesTooBigForOneTransaction(t *testing.T) {
	s, _, _ := openTest(t, Options{})
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const id = "https://a.example/referrals/1"
	if err := s.AddReferral(ctx, &referral.Referral{ID: id, Side: referral.Sender, State: referral.Requested, Created: now, Updated: now}, referral.Writes{}); err != nil {
		t.Fatal(err)
	}
	copies := func(n int, tag string) []referral.Blob {
		var out []referral.Blob
		for i := range n {
			for _, c := range []referral.Copy{referral.CopyOwn, referral.CopyOut} {
				sealed := bytes.Repeat([]byte{byte(i), c[0], tag[0]}, 63<<10/3) // under the value threshold
				out = append(out, referral.Blob{Referral: id, Document: fmt.Sprintf("%s/documents/%s%d", id, tag, i), Copy: c, Sealed: sealed})
			}
		}
		return out
	}
	held := func(bs []referral.Blob) int {
		n := 0
		for _, b := range bs {
			got, err := s.Blob(ctx, b.Referral, b.Document, b.Copy)
			if err == nil && bytes.Equal(got, b.Sealed) {
				n++
			} else if err != nil && !errors.Is(err, directory.ErrNotFound) {
				t.Fatal(err)
			}
		}
		return n
	}

	five := copies(5, "a")
	r, err := s.UpdateReferral(ctx, id, func(r *referral.Referral) (referral.Writes, error) {
		r.Updated = now.Add(time.Minute)
		return referral.Writes{Parts: referral.Parts{Blobs: five}}, nil
	})
	if err != nil {
		t.Fatalf("five documents of 63 KB: %v", err)
	}
	if !r.Updated.Equal(now.Add(time.Minute)) || held(five) != 10 {
		t.Fatalf("the referral (updated %v) and %d of 10 copies recorded", r.Updated, held(five))
	}

	// Refused on its second run (another change came in between).
	more := copies(5, "b")
	runs := 0
	_, err = s.UpdateReferral(ctx, id, func(r *referral.Referral) (referral.Writes, error) {
		if runs++; runs > 1 {
			return referral.Writes{}, referral.ErrTransition
		}
		return referral.Writes{Parts: referral.Parts{Blobs: more}}, nil
	})
	if !errors.Is(err, referral.ErrTransition) || held(more) != 0 {
		t.Fatalf("refused on its second run: err %v, %d copies left", err, held(more))
	}

	// Fewer copies on its second run: those it no longer writes go.
	runs = 0
	if _, err := s.UpdateReferral(ctx, id, func(r *referral.Referral) (referral.Writes, error) {
		if runs++; runs > 1 {
			return referral.Writes{Parts: referral.Parts{Blobs: more[:2]}}, nil
		}
		return referral.Writes{Parts: referral.Parts{Blobs: more}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := held(more); n != 2 || held(more[:2]) != 2 {
		t.Fatalf("%d copies held, want the 2 of the second run", n)
	}
	if held(five) != 10 {
		t.Error("the first documents were lost")
	}
}
