package federation

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-fed/httpsig"
)

// Fuzz targets of signed requests: a request signed by a real signer,
// then changed, and Signature headers written by a signer that holds keys
// on any host (a peer may own several, or a blocked host's).

const fuzzKeyID = them + "#main-key"

var fuzzSignedAt = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// oneKey knows the key of https://a.example/actor and no other.
type oneKey struct{ pub *rsa.PublicKey }

func (k oneKey) PublicKey(_ context.Context, keyID string, _ bool) (*PublicKey, error) {
	if keyID != fuzzKeyID {
		return nil, errors.New("no such key")
	}
	return &PublicKey{ID: keyID, Owner: them, Key: k.pub}, nil
}

// anyKey answers every key id with the same key, owned by the actor
// /actor of the key id's host.
type anyKey struct{ pub *rsa.PublicKey }

func (k anyKey) PublicKey(_ context.Context, keyID string, _ bool) (*PublicKey, error) {
	return &PublicKey{ID: keyID, Owner: "https://" + hostOf(keyID) + "/actor", Key: k.pub}, nil
}

// signedFollow is a Follow from https://a.example to https://b.example as
// a's node posts it, signed at fuzzSignedAt.
type signedFollow struct {
	method, target, host, date, digest string
	sig, body                          []byte
}

func newSignedFollow(tb testing.TB) signedFollow {
	body := []byte(follow(them, us, "https://a.example/activities/1"))
	req, err := http.NewRequest("POST", "https://b.example/inbox", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	s := &Signer{Key: fuzzKey(), KeyID: fuzzKeyID, Now: func() time.Time { return fuzzSignedAt }}
	if err := s.Sign(req, body); err != nil {
		tb.Fatal(err)
	}
	_, enc, ok := strings.Cut(req.Header.Get("Signature"), `signature="`)
	enc, _, _ = strings.Cut(enc, `"`)
	sig, err := base64.StdEncoding.DecodeString(enc)
	if !ok || err != nil {
		tb.Fatalf("signature header %q", req.Header.Get("Signature"))
	}
	return signedFollow{method: "POST", target: "/inbox", host: "b.example", date: req.Header.Get("Date"),
		digest: req.Header.Get("Digest"), sig: sig, body: body}
}

func follow(actor, object, id string) string {
	return `{"@context": "https://www.w3.org/ns/activitystreams", "id": "` + id + `", "type": "Follow", "actor": "` +
		actor + `", "object": "` + object + `"}`
}

// request is the request a server reads, from its parts.
func (s signedFollow) request() (*http.Request, error) {
	u, err := url.ParseRequestURI(s.target)
	if err != nil {
		return nil, err
	}
	r := &http.Request{Method: s.method, URL: u, RequestURI: s.target, Host: s.host, Header: http.Header{},
		Body: http.NoBody}
	r.Header.Set("Content-Type", ContentType)
	r.Header.Set("Date", s.date)
	r.Header.Set("Digest", s.digest)
	r.Header.Set("Signature", `keyId="`+fuzzKeyID+`",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="`+
		base64.StdEncoding.EncodeToString(s.sig)+`"`)
	return r, nil
}

// sameRequest reports whether got is the signed request, in what the
// signature covers: the method (the library lowercases it), the decoded
// path and query, and the host, date and digest up to surrounding spaces
// (HTTP header values have none), the signature bytes and the body.
func sameRequest(got, signed signedFollow, u *url.URL) bool {
	trim := strings.TrimSpace
	return strings.EqualFold(got.method, signed.method) && u.Path == signed.target && u.RawQuery == "" &&
		trim(got.host) == signed.host && trim(got.date) == signed.date && trim(got.digest) == signed.digest &&
		bytes.Equal(got.sig, signed.sig) && bytes.Equal(got.body, signed.body)
}

// FuzzVerify checks the verification of a signed request changed in
// every part the signature or the digest covers: it never panics, the
// request as signed verifies (with its owner), and a request with another
// method, path, host, date, digest, signature or body never does.
func FuzzVerify(f *testing.F) {
	signed := newSignedFollow(f)
	v := &Verifier{Keys: oneKey{&fuzzKey().PublicKey}, Window: time.Hour, Now: func() time.Time { return fuzzSignedAt.Add(time.Minute) }}
	add := func(change func(s *signedFollow)) {
		s := signed
		s.sig, s.body = bytes.Clone(signed.sig), bytes.Clone(signed.body)
		change(&s)
		f.Add(s.method, s.target, s.host, s.date, s.digest, s.sig, s.body)
	}
	add(func(s *signedFollow) {})
	add(func(s *signedFollow) { s.method = "GET" })
	add(func(s *signedFollow) { s.target = "/inbox?page=2" })
	add(func(s *signedFollow) { s.target = "/in%62ox" })
	add(func(s *signedFollow) { s.host = "B.example" })
	add(func(s *signedFollow) { s.date = fuzzSignedAt.Add(time.Second).Format(http.TimeFormat) })
	add(func(s *signedFollow) { s.digest = digestOf([]byte("{}")) })
	add(func(s *signedFollow) { s.digest = "SHA-512=x, " + s.digest })
	add(func(s *signedFollow) { s.sig[len(s.sig)-1] ^= 1 })
	add(func(s *signedFollow) { s.sig = s.sig[:len(s.sig)-1] })
	add(func(s *signedFollow) {
		s.body = []byte(follow(them, "https://c.example/actor", "https://a.example/activities/1"))
	})
	add(func(s *signedFollow) { s.body = append(s.body, ' ') })
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, method, target, host, date, digest string, sig, body []byte) {
		got := signedFollow{method, target, host, date, digest, sig, body}
		r, err := got.request()
		if err != nil {
			return // a server answers 400 to such a request line
		}
		key, err := v.Verify(ctx, r, body)
		if err != nil {
			if key != nil {
				t.Fatalf("refused with %v, yet returned a key", err)
			}
			if got.method == signed.method && got.target == signed.target && got.host == signed.host && got.date == signed.date &&
				got.digest == signed.digest && bytes.Equal(got.sig, signed.sig) && bytes.Equal(got.body, signed.body) {
				t.Fatalf("the request as signed does not verify: %v", err)
			}
			return
		}
		if !sameRequest(got, signed, r.URL) {
			t.Fatalf("a changed request verifies: %+v", got)
		}
		if key.Owner != them {
			t.Fatalf("verified with the key of %q", key.Owner)
		}
	})
}

// FuzzSignatureParams checks that the inbox reads a Signature header as
// the signature library does, whatever a signer that holds keys on any
// host writes around it: when a request verifies, the signer signed
// (request-target), host, date and digest, so that a body changed after
// signing is refused; and the keyId whose host the inbox checks against
// its blocklist and rate limits is the one whose key verified.
func FuzzSignatureParams(f *testing.F) {
	f.Add("(request-target) host date digest", "", "", false)
	f.Add("(request-target) host date digest", "", `,foo="bar"`, true)
	f.Add("(request-target) host date", "", "", true)
	f.Add("date", "", `,headers="(request-target) host date digest"`, true)
	f.Add("Date Digest Host (Request-Target)", "", "", false)
	// The inbox read a Signature header otherwise than the library: the
	// first keyId (the library takes the last), and " headers" after a
	// space (the library ignores it).
	f.Add("(request-target) host date digest", `keyId="https://good.example/actor#main-key",`, "", false)
	f.Add("date", "", `, headers="(request-target) host date digest"`, true)
	v := &Verifier{Keys: anyKey{&fuzzKey().PublicKey}, Window: time.Hour, Now: func() time.Time { return fuzzSignedAt.Add(time.Minute) }}
	body := []byte(follow(them, us, "https://a.example/activities/1"))
	other := []byte(follow(them, "https://c.example/actor", "https://a.example/activities/1"))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, headers, prefix, suffix string, tamper bool) {
		signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256,
			strings.Split(headers, " "), httpsig.Signature, 0)
		if err != nil {
			return
		}
		r, err := http.NewRequest("POST", "https://b.example/inbox", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Host", r.URL.Host)
		r.Header.Set("Date", fuzzSignedAt.Format(http.TimeFormat))
		if err := signer.SignRequest(fuzzKey(), fuzzKeyID, r, body); err != nil {
			return // a header it names is not in the request
		}
		sigHeader := prefix + r.Header.Get("Signature") + suffix
		r.Header.Set("Signature", sigHeader)
		got := body
		if tamper {
			got = other
			r.Header.Set("Digest", digestOf(other))
		}
		key, err := v.Verify(ctx, r, got)
		if err != nil {
			return
		}
		signedList := strings.Fields(strings.ToLower(headers))
		for _, h := range signedHeaders {
			if !slices.Contains(signedList, h) {
				t.Fatalf("verified a signature over %q only (header %q)", headers, sigHeader)
			}
		}
		if tamper {
			t.Fatalf("verified a body changed after signing (header %q)", sigHeader)
		}
		if checked := hostOf(keyIDOf(sigHeader)); checked != hostOf(key.ID) {
			t.Fatalf("the inbox checks host %q, the key that verified is %q (header %q)", checked, key.ID, sigHeader)
		}
	})
}
