package federation

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/referral"
)

// A referral's documents and thread (PROTOCOL.md, "Documents" and
// "Thread"). Both follow the referral's addressing rules (pointToPoint):
// to the other actor alone, to its own inbox, never forwarded.
//
// The inbox takes bodies of 1 MiB at most, so a document never rides in
// an activity: the sender announces it with Add{ReferralDocument} (its id,
// the size and SHA-256 of the copy sealed to the recipient) and the
// recipient fetches that copy with a signed GET of the document's id,
// which the sender serves to the referral's recipient alone (404 to
// anyone else, the same as for a document that does not exist). A
// thread message is small and travels whole, sealed, in
// Create{ReferralMessage}.

// Extension types of referral parts.
const (
	typeAdd              = "Add"
	typeReferralDocument = "ReferralDocument"
	typeReferralMessage  = "ReferralMessage"
)

// Limits of fetching a document.
const (
	documentTimeout = 2 * time.Minute // a 4 MiB copy over a slow line
	maxMessageBody  = 64 << 10        // a sealed message: 2,000 characters and the sealing
)

// ReferralDocument announces one document of a referral: where to fetch
// its copy sealed to the recipient (its id), and the size and SHA-256
// (hex) of that copy, checked on receipt.
type ReferralDocument struct {
	Type     asType `json:"type"`
	ID       string `json:"id"`
	Referral string `json:"referral"`
	Number   int    `json:"number"` // its place among the referral's documents, from 1
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
}

// ReferralMessage is one message of a referral's thread, sealed to the
// node it is sent to.
type ReferralMessage struct {
	Type         asType    `json:"type"`
	ID           string    `json:"id"`
	Referral     string    `json:"referral"`
	AttributedTo string    `json:"attributedTo"`
	To           iriList   `json:"to"`
	Published    time.Time `json:"published"`
	Sealed       []byte    `json:"sealed"` // base64 in JSON
}

// ReferralParts handles the documents and thread messages of referrals;
// cmd wires it with Referrals (the same value). A node whose Referrals
// does not implement it refuses them. Errors map as for Referrals, and
// also referral.ErrNotYet to 503 (the offer has not arrived: the sender
// tries again) and referral.ErrFlood to 429.
type ReferralParts interface {
	DocumentOffered(ctx context.Context, from string, d *ReferralDocument) error
	MessageReceived(ctx context.Context, from string, m *ReferralMessage) error
	// DocumentRequested returns the sealed copy of a document for
	// requester, the verified owner of the key that signed the request;
	// any error is answered 404.
	DocumentRequested(ctx context.Context, requester, referral, document string) ([]byte, error)
}

// onReferralPart handles Add{ReferralDocument} and
// Create{ReferralMessage}, addressed point to point (checked before).
func (f *Federator) onReferralPart(ctx context.Context, a *Activity, kind string) error {
	parts, ok := f.o.Referrals.(ReferralParts)
	if !ok {
		return refuse(http.StatusForbidden, "referral", errors.New("this node takes no referral documents or messages"))
	}
	switch kind {
	case typeReferralDocument:
		var d ReferralDocument
		if err := json.Unmarshal(a.Object, &d); err != nil {
			return refuse(http.StatusBadRequest, "payload", fmt.Errorf("referral document: %w", err))
		}
		sum, err := hex.DecodeString(d.SHA256)
		switch {
		case !validIRI(d.Referral) || hostOf(d.Referral) != hostOf(a.Actor):
			return refuse(http.StatusBadRequest, "payload", errors.New("referral document: must name one of the sender's referrals"))
		case !validIRI(d.ID) || !strings.HasPrefix(d.ID, d.Referral+"/documents/"):
			return refuse(http.StatusBadRequest, "payload", errors.New("referral document: id must be an IRI under its referral's /documents/"))
		case err != nil || len(sum) != 32 || d.Size <= 0 || d.Size > referral.MaxSealedDocument || d.Number < 1 || d.Number > referral.MaxDocuments:
			return refuse(http.StatusBadRequest, "payload", fmt.Errorf("referral document: needs a sha256 (hex), a number from 1 to %d and a size of 1 to %d bytes",
				referral.MaxDocuments, referral.MaxSealedDocument))
		}
		return referralError(parts.DocumentOffered(ctx, a.Actor, &d))
	default:
		var m ReferralMessage
		if len(a.Object) > maxMessageBody {
			return refuse(http.StatusBadRequest, "payload", errors.New("referral message: too large"))
		}
		if err := json.Unmarshal(a.Object, &m); err != nil {
			return refuse(http.StatusBadRequest, "payload", fmt.Errorf("referral message: %w", err))
		}
		var p []string
		if !validIRI(m.ID) || hostOf(m.ID) != hostOf(a.Actor) {
			p = append(p, "id must be an IRI on the writer's host")
		}
		if !validIRI(m.Referral) {
			p = append(p, "referral must be a referral's id")
		}
		if m.AttributedTo != a.Actor {
			p = append(p, "attributedTo must be the sending actor")
		}
		if len(m.To) != 1 || m.To[0] != f.actorID {
			p = append(p, "to must name this node alone")
		}
		if m.Published.IsZero() {
			p = append(p, "published is required")
		}
		if len(m.Sealed) == 0 {
			p = append(p, "sealed is required")
		}
		if len(p) > 0 {
			return refuse(http.StatusBadRequest, "payload", fmt.Errorf("referral message: %s", strings.Join(p, "; ")))
		}
		return referralError(parts.MessageReceived(ctx, a.Actor, &m))
	}
}

// partError maps the refusals that only parts make; the rest as
// referralError.
func partError(err error) (error, bool) {
	switch {
	case errors.Is(err, referral.ErrNotYet):
		return refuse(http.StatusServiceUnavailable, "not yet", err), true
	case errors.Is(err, referral.ErrFlood):
		return refuse(http.StatusTooManyRequests, "rate", err), true
	}
	return nil, false
}

// SendReferralDocument announces a document to the referral's recipient.
func (f *Federator) SendReferralDocument(ctx context.Context, r *referral.Referral, d referral.Document) error {
	return f.sendTo(ctx, r.Recipient, typeAdd, ReferralDocument{Type: typeReferralDocument, ID: d.ID, Referral: r.ID, Number: d.Number, Size: d.Size, SHA256: d.SHA256})
}

// SendReferralMessage sends a thread message to the referral's other
// node.
func (f *Federator) SendReferralMessage(ctx context.Context, r *referral.Referral, m referral.OutMessage) error {
	to := r.Sender
	if r.Side == referral.Sender {
		to = r.Recipient
	}
	return f.sendTo(ctx, to, typeCreate, ReferralMessage{Type: typeReferralMessage, ID: m.ID, Referral: r.ID, AttributedTo: f.actorID,
		To: []string{to}, Published: m.At.UTC(), Sealed: m.Sealed})
}

// ErrDocumentGone reports a document its sender no longer serves (404,
// 410): erased, or never there.
var ErrDocumentGone = errors.New("federation: the sender does not serve the document")

// FetchReferralDocument fetches the sealed copy of a document from its
// sender with a signed GET: at most size bytes (as announced; a longer
// answer is refused), no redirect, within documentTimeout. A 404 or 410
// is ErrDocumentGone; any other failure may pass on a later try.
func (f *Federator) FetchReferralDocument(ctx context.Context, u string, size int64) ([]byte, error) {
	pu, err := url.Parse(u)
	if err != nil || !validIRI(u) {
		return nil, fmt.Errorf("federation: %q is not a document IRI", u)
	}
	if pu.Scheme == "http" && !f.client.allowPrivate {
		return nil, fmt.Errorf("federation: plain http refused for %s", pu.Host)
	}
	ctx, cancel := context.WithTimeout(ctx, documentTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/octet-stream")
	req.Header.Set("User-Agent", "Maillage/1 (+"+f.client.signer.KeyID+")")
	if err := f.client.signer.Sign(req, nil); err != nil {
		return nil, err
	}
	hc := *f.client.http // its transport and dial guard, a longer timeout, no redirect
	hc.Timeout = documentTimeout
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("federation: GET document from %s: %w", pu.Host, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, ErrDocumentGone
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, &StatusError{Code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, size+1))
	if err != nil {
		return nil, fmt.Errorf("federation: read document from %s: %w", pu.Host, err)
	}
	if int64(len(body)) != size {
		return nil, fmt.Errorf("federation: the document from %s has %d bytes, not the %d announced", pu.Host, len(body), size)
	}
	return body, nil
}

// serveReferralDocument serves the sealed copy of one of this node's
// referrals' documents to the referral's recipient, as the request's
// signature shows: the owner of the key that signed it. An unsigned
// request, a bad signature, a blocked host, another requester, an
// unknown or erased document: all are 404, alike.
func (f *Federator) serveReferralDocument(w http.ResponseWriter, r *http.Request) {
	notFound := func() { http.Error(w, "not found", http.StatusNotFound) }
	parts, ok := f.o.Referrals.(ReferralParts)
	host := hostOf(keyIDOf(r.Header.Get("Signature")))
	if !ok || host == "" || f.isBlocked(host) {
		notFound()
		return
	}
	if !f.limits.allow(host) {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "rate", http.StatusTooManyRequests)
		return
	}
	key, err := f.verifier.Verify(r.Context(), r, nil)
	if err != nil {
		notFound()
		return
	}
	ref := f.base + "/referrals/" + r.PathValue("id")
	doc := ref + "/documents/" + r.PathValue("doc")
	b, err := parts.DocumentRequested(r.Context(), key.Owner, ref, doc)
	if err != nil {
		notFound()
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// Spawn runs fn in a goroutine owned by Run, which waits for it on
// shutdown (ctx is then done); not at all when Run has not started or
// has stopped.
func (f *Federator) Spawn(fn func(ctx context.Context)) { f.spawn(fn) }
