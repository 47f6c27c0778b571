package referral

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // image.DecodeConfig of JPEG documents
	_ "image/png"  // and of PNG ones
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// Documents are the files a referral carries when the resident's
// consent and the receiving service's policy both name the documents
// category: copies of a payslip, an identity card, a letter. The sending
// worker adds them to an open referral; each is sealed like the payload,
// with its name, to the recipient and to the sender itself, bound to the
// referral, both actors and the document's id. The sender keeps both
// copies; the recipient learns of each document by an Add activity (its
// id, the size and SHA-256 of the copy sealed to it) and fetches that
// copy with a signed GET, which only the referral's recipient is served
// (federation/PROTOCOL.md, "Documents"). Workers open them one by one,
// each opening in the audit log. They are erased with the referral's
// data.

// Limits of a referral's documents.
const (
	// MaxDocuments is how many files a referral carries at most.
	MaxDocuments = 5
	// MaxDocumentBytes bounds one file.
	MaxDocumentBytes = 4 << 20
	// MaxDocumentsBytes bounds a referral's documents together, counted
	// on their sealed copies (a file and about 1.2 KB).
	MaxDocumentsBytes = 10 << 20
	// MaxSealedDocument bounds one sealed document: the largest file,
	// its name and type, and the sealing's overhead.
	MaxSealedDocument = MaxDocumentBytes + 8<<10
	// MaxDocumentName bounds a file's name, in characters.
	MaxDocumentName = 120
)

// The types a document may have, checked on its content, never on its
// name or a declared type.
const (
	TypePDF  = "application/pdf"
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
)

// DocumentTypes lists the types a document may have.
var DocumentTypes = []string{TypePDF, TypeJPEG, TypePNG}

// Codes of the rules documents break (see refusal.go).
const (
	CodeDocNotConsented directory.Code = "documents_not_consented"
	CodeDocNotAsked     directory.Code = "documents_not_asked"
	CodeDocSenderOnly   directory.Code = "documents_sender_only"
	CodeDocClosed       directory.Code = "documents_closed"
	CodeDocNone         directory.Code = "documents_none"
	CodeDocEmpty        directory.Code = "document_empty"
	CodeDocType         directory.Code = "document_type"
	CodeDocTooLarge     directory.Code = "document_too_large"
	CodeDocTooMany      directory.Code = "documents_too_many"
	CodeDocTotal        directory.Code = "documents_total"
)

// Document is one file of a referral as the referral lists it: what the
// nodes need to move and check it, never its name or content.
type Document struct {
	// ID is the document's IRI on the sender's host: the referral's id,
	// "/documents/", a random id. The recipient fetches it there.
	ID string `json:"id"`
	// Number is its place among the referral's documents (1, 2, …),
	// given by the sender, never reused: both nodes call it "document
	// 2", whatever order the announcements arrive in.
	Number int `json:"number"`
	// Size and SHA256 (hex) are of the copy sealed to the recipient.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// The rest is this node's own: the type (known to the sender, and to
	// the recipient once it checked what it fetched), the SHA-256 of the
	// copy this node opens, when it was added, and whether this node
	// holds it (the recipient, once fetched).
	Type   string    `json:"type,omitempty"`
	Own    string    `json:"own_sha256,omitempty"`
	Added  time.Time `json:"added"`
	Stored bool      `json:"stored,omitempty"`
}

// File is a file as a worker gives it: its name, and bytes whose type is
// yet to be checked.
type File struct {
	Name string
	Data []byte
}

// DocumentFile is an opened document: its checked type, its cleaned
// name, its bytes.
type DocumentFile struct {
	Name string
	Type string
	Data []byte
}

// CheckFile checks that f is a PDF, JPEG or PNG file by its content, not
// empty nor larger than MaxDocumentBytes, and cleans its name. field
// names it in problems.
func CheckFile(field string, f File) (*DocumentFile, directory.Problems) {
	var p directory.Problems
	switch {
	case len(f.Data) == 0:
		p.Rule(field, CodeDocEmpty, "%s is empty", field)
		return nil, p
	case len(f.Data) > MaxDocumentBytes:
		p.Rule(field, CodeDocTooLarge, "%s is larger than %d MiB", field, MaxDocumentBytes>>20)
		return nil, p
	}
	typ := sniff(f.Data)
	if typ == "" {
		p.Rule(field, CodeDocType, "%s is not a PDF, JPEG or PNG file (checked on its content)", field)
		return nil, p
	}
	return &DocumentFile{Name: cleanName(f.Name, typ), Type: typ, Data: f.Data}, nil
}

// sniff returns the type of data, checked on its content: the signature
// of a PDF, JPEG or PNG file at its start, and what must follow it (a
// PDF's end-of-file mark near its end, an image's readable header).
// Anything else is "", whatever its name says.
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		tail := data[max(0, len(data)-1024):]
		if bytes.Contains(tail, []byte("%%EOF")) {
			return TypePDF
		}
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		if c, kind, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && kind == "png" && c.Width > 0 && c.Height > 0 {
			return TypePNG
		}
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		if c, kind, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && kind == "jpeg" && c.Width > 0 && c.Height > 0 {
			return TypeJPEG
		}
	}
	return ""
}

// extensions are the file name endings of each type, the usual first.
var extensions = map[string][]string{TypePDF: {".pdf"}, TypeJPEG: {".jpg", ".jpeg"}, TypePNG: {".png"}}

// cleanName makes a file name safe to keep and to offer for download:
// the last part of a path, without control, formatting (bidirectional
// overrides) or reserved characters, at most MaxDocumentName characters,
// ending as its type does ("document.pdf" when nothing is left).
func cleanName(name, typ string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(name, "") {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
		case strings.ContainsRune(`"*:<>?|;%`+"`", r):
			b.WriteRune('_')
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	base := strings.Trim(strings.Join(strings.Fields(b.String()), " "), ". ")
	exts := extensions[typ]
	for _, e := range exts {
		if len(base) > len(e) && strings.EqualFold(base[len(base)-len(e):], e) {
			base = strings.TrimRight(base[:len(base)-len(e)], ". ")
			break
		}
	}
	ext := exts[0]
	if rs := []rune(base); len(rs) > MaxDocumentName-len(ext) {
		base = strings.TrimRight(string(rs[:MaxDocumentName-len(ext)]), ". ")
	}
	if base == "" {
		base = "document"
	}
	return base + ext
}

// documentHeader is what is sealed with a document's bytes.
type documentHeader struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// encode is what is sealed of d: the length of its header (4 bytes, big
// endian), the header, the bytes.
func (d *DocumentFile) encode() []byte {
	h, _ := json.Marshal(documentHeader{Name: d.Name, Type: d.Type})
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(h)+len(d.Data)), uint32(len(h)))
	out = append(out, h...)
	return append(out, d.Data...)
}

// decodeDocument reads an opened document and checks it again: its type
// must be the one its content shows, its name clean.
func decodeDocument(pt []byte) (*DocumentFile, error) {
	bad := errors.New("referral: not a valid document")
	if len(pt) < 4 {
		return nil, bad
	}
	n := binary.BigEndian.Uint32(pt)
	if n > 4<<10 || int(n) > len(pt)-4 {
		return nil, bad
	}
	var h documentHeader
	if err := json.Unmarshal(pt[4:4+n], &h); err != nil {
		return nil, bad
	}
	data := pt[4+n:]
	if len(data) == 0 || len(data) > MaxDocumentBytes || sniff(data) != h.Type {
		return nil, bad
	}
	return &DocumentFile{Name: cleanName(h.Name, h.Type), Type: h.Type, Data: data}, nil
}

func sumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// documentsProblems says why documents cannot be added to r now: only
// its sender adds them, to a referral still open whose data is kept,
// when the resident's consent and the service's policy both name the
// documents category.
func documentsProblems(r *Referral, policy *directory.ReferralPolicy) directory.Problems {
	var p directory.Problems
	switch {
	case r.Side != Sender:
		p.Rule("documents", CodeDocSenderOnly, "only the node that sent the referral adds documents to it")
	case r.Erasure != nil || r.Sealed == nil || r.State.Terminal():
		p.Rule("documents", CodeDocClosed, "the referral is closed or its data erased: no document may be added")
	}
	if !slices.Contains(r.Consent.Categories, directory.DataDocuments) {
		p.Rule("documents", CodeDocNotConsented, "the resident's consent does not cover documents")
	}
	if policy == nil || !slices.Contains(policy.Categories, directory.DataDocuments) {
		p.Rule("documents", CodeDocNotAsked, "the service does not ask for documents")
	}
	return p
}

// DocumentsAllowed reports whether a worker may add documents to r now,
// given the service's policy.
func DocumentsAllowed(r *Referral, policy *directory.ReferralPolicy) bool {
	return len(documentsProblems(r, policy)) == 0 && len(r.Documents) < MaxDocuments
}

func documentsBytes(docs []Document) int64 {
	var n int64
	for _, d := range docs {
		n += d.Size
	}
	return n
}

// AddDocuments adds files to a referral sent from this node: each is
// checked (type by content, size, count, the referral's total), sealed
// with its name to the recipient's key and to this node's, and recorded
// whole with the referral, the audit line and the announcement owed to
// the recipient, in one write. Nothing is recorded when one file is
// refused: the Refusal lists every problem, naming files by position
// (documents[0]), never by name.
func (s *Service) AddDocuments(ctx context.Context, id, worker string, files []File, key []byte, policy *directory.ReferralPolicy) (*Referral, error) {
	now := s.Now()
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	p := documentsProblems(r, policy)
	if len(files) == 0 {
		p.Rule("documents", CodeDocNone, "no file given")
	}
	if len(r.Documents)+len(files) > MaxDocuments {
		p.Rule("documents", CodeDocTooMany, "a referral carries at most %d documents", MaxDocuments)
	}
	if len(key) == 0 && len(p) == 0 {
		p.Rule("service", CodeNoSealingKey, "the recipient publishes no sealing key")
	}
	checked := make([]*DocumentFile, 0, len(files))
	for i, f := range files {
		d, fp := CheckFile(fmt.Sprintf("documents[%d]", i), f)
		p = append(p, fp...)
		checked = append(checked, d)
	}
	if err := refuse(p); err != nil {
		return nil, err
	}
	bind := partBinding(r)
	var added []Document
	var blobs []Blob
	total := documentsBytes(r.Documents)
	for _, d := range checked {
		docID := r.ID + "/documents/" + directory.NewID()
		pt := d.encode()
		info := bind.partInfo("document", docID)
		out, err := sealInfo(key, info, pt)
		if err != nil {
			return nil, err
		}
		own, err := sealInfo(s.Keys.Public(), info, pt)
		if err != nil {
			return nil, err
		}
		total += int64(len(out))
		added = append(added, Document{ID: docID, Size: int64(len(out)), SHA256: sumHex(out), Type: d.Type, Own: sumHex(own), Added: now, Stored: true})
		blobs = append(blobs, Blob{Referral: r.ID, Document: docID, Copy: CopyOwn, Sealed: own}, Blob{Referral: r.ID, Document: docID, Copy: CopyOut, Sealed: out})
	}
	if total > MaxDocumentsBytes {
		return nil, Refused("documents", CodeDocTotal, fmt.Sprintf("a referral's documents weigh at most %d MiB together", MaxDocumentsBytes>>20))
	}
	return s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		// Again on the referral as it is now: a withdrawal or another
		// upload may have come in between.
		p := documentsProblems(r, policy)
		if len(r.Documents)+len(added) > MaxDocuments {
			p.Rule("documents", CodeDocTooMany, "a referral carries at most %d documents", MaxDocuments)
		} else if documentsBytes(r.Documents)+documentsBytes(added) > MaxDocumentsBytes {
			p.Rule("documents", CodeDocTotal, "a referral's documents weigh at most %d MiB together", MaxDocumentsBytes>>20)
		}
		if err := refuse(p); err != nil {
			return Writes{}, err
		}
		next := 1
		for _, d := range r.Documents {
			next = max(next, d.Number+1)
		}
		o := r.owe()
		for i, d := range added {
			d.Number = next + i
			r.Documents = append(r.Documents, d)
			o.Documents = append(o.Documents, Document{ID: d.ID, Number: d.Number, Size: d.Size, SHA256: d.SHA256, Added: d.Added})
		}
		r.Updated = now
		return Writes{Parts: Parts{Blobs: blobs}, Audit: []AuditEntry{entry(now, worker, "documents added", id, fmt.Sprint(len(added)))}}, nil
	})
}

// DocumentsOffered records on the recipient's node the documents the
// sender from announces for one of its referrals, to be fetched (see
// PendingDocuments). Only the referral's sender announces them, for a
// referral still open here whose consent and service (policy, this
// node's) name documents, within the limits; an id outside the
// referral's documents, or a size or digest out of shape, is refused.
// A document announced again changes nothing. A referral not received
// yet is ErrNotYet: the sender tries again later.
func (s *Service) DocumentsOffered(ctx context.Context, from, id string, docs []Document, policy *directory.ReferralPolicy) (*Referral, error) {
	now := s.Now()
	if _, err := s.Store.Referral(ctx, id); errors.Is(err, directory.ErrNotFound) {
		if onHostOf(id, from) {
			return nil, fmt.Errorf("%w: documents of a referral whose offer has not arrived", ErrNotYet)
		}
		return nil, fmt.Errorf("%w: documents of an unknown referral", ErrRefused)
	} else if err != nil {
		return nil, err
	}
	return s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		switch {
		case r.Side != Recipient || r.Sender != from:
			return Writes{}, fmt.Errorf("%w: only the sender of a referral adds documents to it", ErrRefused)
		case r.Erasure != nil || r.Sealed == nil:
			return Writes{}, fmt.Errorf("%w: the referral's data was erased", ErrTransition)
		case r.State.Terminal():
			return Writes{}, fmt.Errorf("%w: the referral is %s", ErrTransition, r.State)
		case !slices.Contains(r.Consent.Categories, directory.DataDocuments):
			return Writes{}, fmt.Errorf("%w: the consent does not cover documents", ErrRefused)
		case policy == nil || !slices.Contains(policy.Categories, directory.DataDocuments):
			return Writes{}, fmt.Errorf("%w: the service does not ask for documents", ErrRefused)
		}
		var fresh []Document
		for _, d := range docs {
			rest, ok := strings.CutPrefix(d.ID, r.ID+"/documents/")
			sum, err := hex.DecodeString(d.SHA256)
			if !ok || rest == "" || strings.ContainsAny(rest, "/?#") || len(d.ID) > 2048 || err != nil || len(sum) != sha256.Size ||
				d.Size <= 0 || d.Size > MaxSealedDocument || d.Number < 1 || d.Number > MaxDocuments {
				return Writes{}, fmt.Errorf("%w: a document needs an id under its referral's, a number from 1 to %d, a size of at most %d bytes and a SHA-256",
					ErrRefused, MaxDocuments, MaxSealedDocument)
			}
			if i := slices.IndexFunc(r.Documents, func(x Document) bool { return x.ID == d.ID }); i >= 0 {
				if r.Documents[i].Size != d.Size || r.Documents[i].SHA256 != d.SHA256 || r.Documents[i].Number != d.Number {
					return Writes{}, fmt.Errorf("%w: a document announced again differently", ErrRefused)
				}
				continue
			}
			if slices.ContainsFunc(append(r.Documents, fresh...), func(x Document) bool { return x.Number == d.Number }) {
				return Writes{}, fmt.Errorf("%w: two documents numbered %d", ErrRefused, d.Number)
			}
			fresh = append(fresh, Document{ID: d.ID, Number: d.Number, Size: d.Size, SHA256: strings.ToLower(d.SHA256), Added: now})
		}
		if len(fresh) == 0 {
			return Writes{}, nil
		}
		if len(r.Documents)+len(fresh) > MaxDocuments || documentsBytes(r.Documents)+documentsBytes(fresh) > MaxDocumentsBytes {
			return Writes{}, fmt.Errorf("%w: a referral carries at most %d documents of %d MiB together", ErrRefused, MaxDocuments, MaxDocumentsBytes>>20)
		}
		r.Documents = append(r.Documents, fresh...)
		slices.SortStableFunc(r.Documents, func(a, b Document) int { return a.Number - b.Number })
		r.Updated = now
		return Writes{Audit: []AuditEntry{entry(now, from, "documents offered", id, fmt.Sprint(len(fresh)))}}, nil
	})
}

// PendingDocument is a document this node is to fetch from a referral's
// sender.
type PendingDocument struct {
	Referral string
	Sender   string
	Document Document
}

// PendingDocuments lists the documents of received referrals not fetched
// yet (only of referrals whose data is kept).
func (s *Service) PendingDocuments(ctx context.Context) ([]PendingDocument, error) {
	var out []PendingDocument
	err := s.Store.ForEachReferral(ctx, func(r *Referral) error {
		if r.Side != Recipient || r.Erasure != nil {
			return nil
		}
		for _, d := range r.Documents {
			if !d.Stored {
				out = append(out, PendingDocument{Referral: r.ID, Sender: r.Sender, Document: d})
			}
		}
		return nil
	})
	return out, err
}

// ErrDocument reports a fetched document that is not the one announced
// (size, digest), does not open under its binding, or is not a valid
// PDF, JPEG or PNG file: it is dropped, not fetched again.
var ErrDocument = errors.New("referral: the document fetched is not the one announced")

// StoreDocument records on the recipient's node the sealed copy of a
// document fetched from the sender, once it checked that its size and
// SHA-256 are the ones announced, that it opens with this node's key
// under the document's binding and holds a valid file. The copy is
// recorded whole with the referral, in one write; a document stored
// before, or no longer listed (erased meanwhile), changes nothing. A
// copy that fails the checks is dropped from the referral and reported
// as ErrDocument.
func (s *Service) StoreDocument(ctx context.Context, id, docID string, sealed []byte) error {
	now := s.Now()
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(r.Documents, func(d Document) bool { return d.ID == docID })
	if r.Side != Recipient || r.Erasure != nil || i < 0 || r.Documents[i].Stored {
		return nil
	}
	d := r.Documents[i]
	var f *DocumentFile
	if int64(len(sealed)) == d.Size && sumHex(sealed) == d.SHA256 {
		if pt, err := s.Keys.openInfo(sealed, partBinding(r).partInfo("document", docID)); err == nil {
			f, _ = decodeDocument(pt)
		}
	}
	if f == nil {
		if err := s.DropDocument(ctx, id, docID, "invalid"); err != nil {
			return err
		}
		return ErrDocument
	}
	_, err = s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		i := slices.IndexFunc(r.Documents, func(x Document) bool { return x.ID == docID })
		if r.Erasure != nil || i < 0 || r.Documents[i].Stored {
			return Writes{}, nil
		}
		x := &r.Documents[i]
		x.Stored, x.Type, x.Own = true, f.Type, x.SHA256
		return Writes{Parts: Parts{Blobs: []Blob{{Referral: id, Document: docID, Copy: CopyOwn, Sealed: sealed}}},
			Audit:   []AuditEntry{entry(now, r.Sender, "document received", id, "")},
			Notices: []Notice{r.notice(NoticeMessage, now, Handle(docID))}}, nil
	})
	return err
}

// DropDocument removes a document not fetched from a received referral:
// the sender no longer has it, or sent another (why, for the audit).
func (s *Service) DropDocument(ctx context.Context, id, docID, why string) error {
	now := s.Now()
	_, err := s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		i := slices.IndexFunc(r.Documents, func(x Document) bool { return x.ID == docID })
		if r.Side != Recipient || i < 0 || r.Documents[i].Stored {
			return Writes{}, nil
		}
		r.Documents = slices.Delete(r.Documents, i, i+1)
		return Writes{Audit: []AuditEntry{entry(now, "system", "document dropped", id, why)}}, nil
	})
	return err
}

// OutgoingDocument returns, on the sender's node, the copy of a document
// sealed to the recipient, for the recipient alone (requester, as its
// signature verified): anything else, an erased referral or an unknown
// document, is directory.ErrNotFound, the same for all. The copy given
// is checked against its digest and the fetch is in the audit log.
func (s *Service) OutgoingDocument(ctx context.Context, id, docID, requester string) (Sealed, error) {
	notFound := fmt.Errorf("referral document: %w", directory.ErrNotFound)
	r, err := s.Store.Referral(ctx, id)
	if err != nil || r.Side != Sender || r.Recipient != requester || r.Erasure != nil {
		return nil, notFound
	}
	i := slices.IndexFunc(r.Documents, func(d Document) bool { return d.ID == docID })
	if i < 0 {
		return nil, notFound
	}
	b, err := s.Store.Blob(ctx, id, docID, CopyOut)
	if err != nil || sumHex(b) != r.Documents[i].SHA256 {
		return nil, notFound
	}
	e := entry(s.Now(), requester, "document fetched", id, "")
	if err := s.Store.AppendAudit(ctx, &e); err != nil {
		return nil, err
	}
	return b, nil
}

// OpenDocument opens one of a referral's documents for an authorised
// worker of this node, and records that they saw it (who, when, which
// referral; never the file's name or content). A copy whose digest is
// not the one recorded is refused (ErrSeal): a document is whole or
// not given.
func (s *Service) OpenDocument(ctx context.Context, id, docID, worker string) (*DocumentFile, error) {
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Erasure != nil || r.Sealed == nil {
		return nil, ErrErased
	}
	i := slices.IndexFunc(r.Documents, func(d Document) bool { return d.ID == docID })
	if i < 0 || !r.Documents[i].Stored {
		return nil, fmt.Errorf("referral document: %w", directory.ErrNotFound)
	}
	b, err := s.Store.Blob(ctx, id, docID, CopyOwn)
	if err != nil {
		return nil, err
	}
	if sumHex(b) != r.Documents[i].Own {
		return nil, ErrSeal
	}
	pt, err := s.Keys.openInfo(b, partBinding(r).partInfo("document", docID))
	if err != nil {
		return nil, err
	}
	f, err := decodeDocument(pt)
	if err != nil {
		return nil, ErrSeal
	}
	e := entry(s.Now(), worker, "document opened", id, "")
	if err := s.Store.AppendAudit(ctx, &e); err != nil {
		return nil, err // no audit line, no document
	}
	return f, nil
}
