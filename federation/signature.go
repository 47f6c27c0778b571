package federation

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// Signature errors. All are answered 401 with no side effect.
var (
	ErrNoSignature  = errors.New("federation: request is not signed")
	ErrBadSignature = errors.New("federation: signature does not verify")
	ErrBadDigest    = errors.New("federation: digest does not match the body")
	ErrStaleDate    = errors.New("federation: date outside the accepted window")
	ErrWrongOwner   = errors.New("federation: signing key does not belong to the activity's actor")
)

// signedHeaders are signed on every request between nodes.
var signedHeaders = []string{httpsig.RequestTarget, "host", "date", "digest"}

// Signer signs outgoing requests with the node's actor key.
type Signer struct {
	Key   *rsa.PrivateKey
	KeyID string
	Now   func() time.Time
}

func digestOf(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// Sign adds Host, Date, Digest and Signature headers to req for body (nil
// for a GET, which is signed over the digest of an empty body).
func (s *Signer) Sign(req *http.Request, body []byte) error {
	// A signer fixes its parameters when made and is not safe for
	// concurrent use: make one per request.
	signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, signedHeaders, httpsig.Signature, 0)
	if err != nil {
		return fmt.Errorf("federation: signer: %w", err)
	}
	req.Header.Set("Host", req.URL.Host)
	req.Host = req.URL.Host
	req.Header.Set("Date", s.Now().UTC().Format(http.TimeFormat))
	if body == nil {
		body = []byte{}
	}
	// SignRequest sets Digest itself from body.
	if err := signer.SignRequest(s.Key, s.KeyID, req, body); err != nil {
		return fmt.Errorf("federation: sign: %w", err)
	}
	return nil
}

// PublicKey is a peer's key and the actor that owns it.
type PublicKey struct {
	ID    string
	Owner string
	Key   *rsa.PublicKey
}

// KeySource finds the public key named by a keyId; refresh asks it to
// fetch the key again rather than use a cached copy (the peer may have
// rotated its key).
type KeySource interface {
	PublicKey(ctx context.Context, keyID string, refresh bool) (*PublicKey, error)
}

// Verifier checks signed requests: the signature (draft-cavage, RSA-SHA256,
// hs2019 accepted), and what the library leaves out — the Digest against the
// body, the Date within Window, and, for the caller, the key's owner.
type Verifier struct {
	Keys   KeySource
	Window time.Duration
	Now    func() time.Time
}

// Verify returns the key that signed r, whose body is body. The caller
// must check that the key's Owner is the activity's actor.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (*PublicKey, error) {
	if r.Header.Get("Signature") == "" && r.Header.Get("Authorization") == "" {
		return nil, ErrNoSignature
	}
	if !signsRequired(r.Header.Get("Signature")) {
		return nil, fmt.Errorf("%w: must sign (request-target), host, date and digest", ErrBadSignature)
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return nil, fmt.Errorf("%w: no valid Date", ErrStaleDate)
	}
	if d := v.Now().Sub(date); d > v.Window || d < -v.Window {
		return nil, ErrStaleDate
	}
	if body == nil {
		body = []byte{}
	}
	want := digestOf(body)
	if got := r.Header.Get("Digest"); !digestMatches(got, want) {
		return nil, ErrBadDigest
	}
	// The library reads Host from the header map; Go moves it to r.Host.
	if r.Header.Get("Host") == "" {
		r.Header.Set("Host", r.Host)
	}
	verifier, err := httpsig.NewVerifier(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	keyID := verifier.KeyId()
	if _, err := url.Parse(keyID); err != nil || !strings.HasPrefix(keyID, "http") {
		return nil, fmt.Errorf("%w: keyId is not a URL", ErrBadSignature)
	}
	for _, refresh := range []bool{false, true} {
		key, err := v.Keys.PublicKey(ctx, keyID, refresh)
		if err != nil {
			return nil, fmt.Errorf("%w: key %s: %v", ErrBadSignature, keyID, err)
		}
		// The algorithm comes from the key, never from the request.
		if err := verifier.Verify(key.Key, httpsig.RSA_SHA256); err == nil {
			return key, nil
		}
	}
	return nil, ErrBadSignature
}

// signsRequired reports whether the Signature header's headers list covers
// what Maillage requires.
func signsRequired(sig string) bool {
	have := map[string]bool{}
	for _, h := range strings.Fields(strings.ToLower(signatureParam(sig, "headers"))) {
		have[h] = true
	}
	for _, h := range signedHeaders {
		if !have[h] {
			return false
		}
	}
	return true
}

// signatureParam reads a parameter of a Signature header exactly as
// go-fed/httpsig does: parts split at commas, the name before the first
// "=" as written (" headers" is not headers), the value without its
// quotes, and of a repeated name the last. Read any other way, one header
// could show the inbox's checks another keyId or headers list than the
// one the library verifies.
func signatureParam(sig, name string) string {
	var v string
	for _, part := range strings.Split(sig, ",") {
		if k, val, ok := strings.Cut(part, "="); ok && k == name {
			v = strings.Trim(val, `"`)
		}
	}
	return v
}

func digestMatches(header, want string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		algo, val, ok := strings.Cut(part, "=")
		if ok && strings.EqualFold(algo, "SHA-256") {
			return subtle.ConstantTimeCompare([]byte("SHA-256="+val), []byte(want)) == 1
		}
	}
	return false
}
