package referral

import (
	"bytes"
	"errors"
	"testing"
)

func keyring(t *testing.T, old ...[]byte) (*Keyring, []byte) {
	t.Helper()
	raw, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKeyring(raw, old...)
	if err != nil {
		t.Fatal(err)
	}
	return k, raw
}

func TestSealOpensOnlyForItsRecipientAndBinding(t *testing.T) {
	b, _ := keyring(t)
	other, _ := keyring(t)
	bind := Binding{Referral: "https://a.example/referrals/1", Sender: "https://a.example/actor", Recipient: "https://b.example/actor"}
	msg := []byte(`{"identity":{"name":"Résidente"}}`)
	s, err := Seal(b.Public(), bind, msg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s, msg[10:20]) {
		t.Fatal("plaintext visible in the sealed payload")
	}
	got, err := b.Open(s, bind)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Another node's key, another referral, swapped or other actors, a
	// flipped byte anywhere, a cut payload: all refused the same way.
	bad := map[string]func() ([]byte, error){
		"other node": func() ([]byte, error) { return other.Open(s, bind) },
		"other referral": func() ([]byte, error) {
			return b.Open(s, Binding{"https://a.example/referrals/2", bind.Sender, bind.Recipient})
		},
		"swapped actors": func() ([]byte, error) {
			return b.Open(s, Binding{bind.Referral, bind.Recipient, bind.Sender})
		},
		"fields shifted": func() ([]byte, error) {
			return b.Open(s, Binding{bind.Referral + "h", "ttps://a.example/actor", bind.Recipient})
		},
		"truncated": func() ([]byte, error) { return b.Open(s[:len(s)-1], bind) },
		"empty":     func() ([]byte, error) { return b.Open(nil, bind) },
	}
	for _, i := range []int{0, 1, 5, 9, 100, len(s) / 2, len(s) - 1} {
		flipped := bytes.Clone(s)
		flipped[i] ^= 1
		bad["flipped byte"] = func() ([]byte, error) { return b.Open(flipped, bind) }
		for name, open := range bad {
			if pt, err := open(); !errors.Is(err, ErrSeal) || pt != nil {
				t.Errorf("%s (byte %d): %q, %v", name, i, pt, err)
			}
		}
	}
	if _, err := Seal(b.Public(), Binding{Referral: "x"}, msg); err == nil {
		t.Error("sealed without both actors")
	}
	if _, err := Seal([]byte("not a key"), bind, msg); err == nil {
		t.Error("sealed to a malformed key")
	}
}

// After a key rotation the node still opens what was sealed to its old
// key, and seals new payloads with the new one.
func TestKeyRotationKeepsOldPayloadsReadable(t *testing.T) {
	old, oldRaw := keyring(t)
	bind := Binding{Referral: "r", Sender: "a", Recipient: "b"}
	s, err := Seal(old.Public(), bind, []byte("before"))
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := keyring(t, oldRaw)
	if bytes.Equal(rotated.Public(), old.Public()) {
		t.Fatal("rotation kept the public key")
	}
	if got, err := rotated.Open(s, bind); err != nil || string(got) != "before" {
		t.Errorf("old payload after rotation: %q, %v", got, err)
	}
	s2, _ := Seal(rotated.Public(), bind, []byte("after"))
	if _, err := old.Open(s2, bind); !errors.Is(err, ErrSeal) {
		t.Error("the old key opens a payload sealed to the new one")
	}
}

func FuzzOpen(f *testing.F) {
	k, err := NewKeyring(mustKey(f))
	if err != nil {
		f.Fatal(err)
	}
	bind := Binding{Referral: "r", Sender: "a", Recipient: "b"}
	good, _ := Seal(k.Public(), bind, []byte("payload"))
	f.Add([]byte(good))
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := k.Open(b, bind)
		if err == nil && !bytes.Equal(b, good) {
			t.Fatalf("opened a payload that was not sealed here: %q", pt)
		}
	})
}

func mustKey(f *testing.F) []byte {
	raw, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	return raw
}
