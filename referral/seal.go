package referral

import (
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// The suite every node seals with: ML-KEM-768 + X25519 (a post-quantum
// hybrid), HKDF-SHA256, ChaCha20-Poly1305 (RFC 9180 with the hybrid KEM
// of draft-ietf-hpke-pq).
var (
	suiteKEM  = hpke.MLKEM768X25519()
	suiteKDF  = hpke.HKDFSHA256()
	suiteAEAD = hpke.ChaCha20Poly1305()
)

// ErrSeal reports a sealed payload that cannot be opened: tampered, made
// for another referral or other actors, or sealed to a key this node does
// not hold. It says nothing more, on purpose.
var ErrSeal = errors.New("referral: sealed payload cannot be opened")

// Sealed is a payload sealed to one node's key.
//
//	version  1 byte (1)
//	key id   8 bytes: the first bytes of SHA-256 of the recipient's public key
//	hpke     the encapsulated key, then the ciphertext
//
// The key id lets a node that rotated its sealing key pick the private key
// a payload was sealed to, so that old referrals stay readable.
type Sealed []byte

const (
	sealedVersion = 1
	keyIDSize     = 8
)

// KeyID identifies a sealing public key.
func KeyID(pub []byte) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:keyIDSize])
}

// Binding is what a sealed payload is bound to: opening it with anything
// else fails. The sender's own copy (sealed to itself) has the same
// binding as the one it sends.
type Binding struct {
	Referral  string // the referral's id (its ActivityPub id)
	Sender    string // the referring node's actor
	Recipient string // the receiving node's actor
}

// info encodes the binding as HPKE info: each field length-prefixed, so
// that no two bindings encode alike.
func (b Binding) info() []byte {
	out := []byte("maillage referral v1")
	for _, f := range []string{b.Referral, b.Sender, b.Recipient} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// partInfo encodes the binding of one part of a referral, a document or
// a thread message, as HPKE info: a label of its kind, then the
// referral, both actors and the part's own id, each length-prefixed. A
// part opens only for its referral, its two actors and its id; a
// document never opens as a message, nor a part as the payload.
func (b Binding) partInfo(kind, id string) []byte {
	out := []byte("maillage referral " + kind + " v1")
	for _, f := range []string{b.Referral, b.Sender, b.Recipient, id} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

func (b Binding) check() error {
	if b.Referral == "" || b.Sender == "" || b.Recipient == "" {
		return errors.New("referral: a sealed payload needs its referral and both actors")
	}
	return nil
}

// Seal seals plaintext to the public key pub (as published in an actor),
// bound to b.
func Seal(pub []byte, b Binding, plaintext []byte) (Sealed, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	return sealInfo(pub, b.info(), plaintext)
}

// sealInfo seals plaintext to pub under the HPKE info given: a
// referral's payload (Binding.info), or one of its documents or thread
// messages (Binding.partInfo).
func sealInfo(pub, info, plaintext []byte) (Sealed, error) {
	pk, err := suiteKEM.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("referral: recipient's sealing key: %w", err)
	}
	ct, err := hpke.Seal(pk, suiteKDF, suiteAEAD, info, plaintext)
	if err != nil {
		return nil, fmt.Errorf("referral: seal: %w", err)
	}
	id, _ := hex.DecodeString(KeyID(pub))
	out := make([]byte, 0, 1+keyIDSize+len(ct))
	out = append(out, sealedVersion)
	out = append(out, id...)
	return append(out, ct...), nil
}

// KeyID returns the id of the key s was sealed to.
func (s Sealed) KeyID() (string, error) {
	if len(s) < 1+keyIDSize || s[0] != sealedVersion {
		return "", ErrSeal
	}
	return hex.EncodeToString(s[1 : 1+keyIDSize]), nil
}

// Keyring holds a node's sealing private keys: the current one and those
// it had before, by key id.
type Keyring struct {
	current hpke.PrivateKey
	byID    map[string]hpke.PrivateKey
}

// NewKeyring returns a keyring from serialized private keys, the current
// one first.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{byID: map[string]hpke.PrivateKey{}}
	for i, raw := range append([][]byte{current}, old...) {
		priv, err := suiteKEM.NewPrivateKey(raw)
		if err != nil {
			return nil, fmt.Errorf("referral: sealing key %d: %w", i, err)
		}
		if i == 0 {
			k.current = priv
		}
		k.byID[KeyID(priv.PublicKey().Bytes())] = priv
	}
	return k, nil
}

// GenerateKey returns a new serialized sealing private key.
func GenerateKey() ([]byte, error) {
	priv, err := suiteKEM.GenerateKey()
	if err != nil {
		return nil, err
	}
	return priv.Bytes()
}

// Public returns the current public key, as an actor publishes it.
func (k *Keyring) Public() []byte { return k.current.PublicKey().Bytes() }

// Open opens s if it was sealed to one of the keyring's keys with binding b.
func (k *Keyring) Open(s Sealed, b Binding) ([]byte, error) {
	return k.openInfo(s, b.info())
}

// openInfo opens s if it was sealed to one of the keyring's keys under
// the HPKE info given.
func (k *Keyring) openInfo(s Sealed, info []byte) ([]byte, error) {
	id, err := s.KeyID()
	if err != nil {
		return nil, err
	}
	priv, ok := k.byID[id]
	if !ok {
		return nil, ErrSeal
	}
	pt, err := hpke.Open(priv, suiteKDF, suiteAEAD, info, s[1+keyIDSize:])
	if err != nil {
		return nil, ErrSeal
	}
	return pt, nil
}
