package referral

import (
	"bytes"
	"encoding/hex"
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

// FuzzOpen checks that Open never panics and opens only what was sealed
// here, with its binding: the seeds are payloads sealed to the current key
// and to a key the node had before rotating, an empty one, one for
// another binding and one for another node, each also with another
// version, another key id, cut at every part boundary (version, key id,
// encapsulated key, ciphertext, tag) and with a byte flipped in each part.
func FuzzOpen(f *testing.F) {
	oldRaw := mustKey(f)
	k, err := NewKeyring(mustKey(f), oldRaw)
	if err != nil {
		f.Fatal(err)
	}
	old, _ := NewKeyring(oldRaw)
	stranger, _ := NewKeyring(mustKey(f))
	bind := Binding{Referral: "https://a.example/referrals/1", Sender: "https://a.example/actor", Recipient: "https://b.example/actor"}
	type sealed struct {
		s    Sealed
		bind Binding
		pt   []byte
	}
	var opens []sealed // what k opens
	seal := func(pub []byte, b Binding, pt []byte, opensHere bool) Sealed {
		s, err := Seal(pub, b, pt)
		if err != nil {
			f.Fatal(err)
		}
		if opensHere {
			opens = append(opens, sealed{s, b, pt})
		}
		return s
	}
	good := seal(k.Public(), bind, []byte(`{"identity":{"name":"Résidente"}}`), true)
	seeds := []Sealed{
		good,
		seal(old.Public(), bind, []byte("before rotation"), true),
		seal(k.Public(), bind, nil, true),
		seal(k.Public(), Binding{bind.Referral + "2", bind.Sender, bind.Recipient}, []byte("another referral"), false),
		seal(stranger.Public(), bind, []byte("another node"), false),
	}
	const encSize = 1120 // ML-KEM-768+X25519 encapsulated key
	for _, s := range seeds {
		f.Add([]byte(s), bind.Referral, bind.Sender, bind.Recipient)
		for _, v := range []byte{0, 2, 255} {
			f.Add(append([]byte{v}, s[1:]...), bind.Referral, bind.Sender, bind.Recipient)
		}
		for _, n := range []int{0, 1, 1 + keyIDSize, 1 + keyIDSize + 1, 1 + keyIDSize + encSize - 1, 1 + keyIDSize + encSize,
			1 + keyIDSize + encSize + 1, len(s) - 16, len(s) - 1} {
			f.Add([]byte(s[:min(n, len(s))]), bind.Referral, bind.Sender, bind.Recipient)
		}
		for _, i := range []int{0, 1, keyIDSize, 1 + keyIDSize, keyIDSize + encSize, 1 + keyIDSize + encSize, len(s) - 17, len(s) - 1} {
			flipped := bytes.Clone(s)
			flipped[i] ^= 0x80
			f.Add([]byte(flipped), bind.Referral, bind.Sender, bind.Recipient)
		}
	}
	// Another key id: the old key's on a payload sealed to the new one.
	swapped := bytes.Clone(good)
	copy(swapped[1:1+keyIDSize], seeds[1][1:1+keyIDSize])
	f.Add([]byte(swapped), bind.Referral, bind.Sender, bind.Recipient)
	// Other bindings of the good payload.
	f.Add([]byte(good), bind.Referral, bind.Recipient, bind.Sender)
	f.Add([]byte(good), bind.Referral+"h", "ttps://a.example/actor", bind.Recipient)
	f.Add([]byte(good), "", "", "")
	f.Add([]byte{1}, "r", "a", "b")
	f.Add([]byte{}, "r", "a", "b")
	f.Fuzz(func(t *testing.T, b []byte, referral, sender, recipient string) {
		id, err := Sealed(b).KeyID()
		if (err == nil) != (len(b) >= 1+keyIDSize && b[0] == sealedVersion) || (err == nil && id != hex.EncodeToString(b[1:1+keyIDSize])) {
			t.Fatalf("KeyID of %x = %q, %v", b, id, err)
		}
		pt, err := k.Open(b, Binding{referral, sender, recipient})
		if err != nil {
			if !errors.Is(err, ErrSeal) || pt != nil {
				t.Fatalf("Open refused with %v and %q", err, pt)
			}
			return
		}
		for _, o := range opens {
			if bytes.Equal(b, o.s) && (Binding{referral, sender, recipient}) == o.bind && bytes.Equal(pt, o.pt) {
				return
			}
		}
		t.Fatalf("opened a payload that was not sealed here with this binding: %q", pt)
	})
}

func mustKey(f *testing.F) []byte {
	raw, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	return raw
}
