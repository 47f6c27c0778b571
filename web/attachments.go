package web

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/account"
)

// A referral's documents on its page and in the API: the sending worker
// adds files (PDF, JPEG, PNG, checked on their content by the referral
// package) to an open referral whose consent and service both name
// documents; any worker of either node downloads them one by one, each
// download in the audit log. Files are read from the request into memory
// only, never to a temporary file: the body is cut by a MaxBytesReader at
// maxUploadBody, and refused before a byte is read when it announces more.

// ReferralParts is what the pages need of the node for a referral's
// documents and thread; the node's Referrals implements it.
type ReferralParts interface {
	AddDocuments(ctx context.Context, id, worker string, files []referral.File) (*referral.Referral, error)
	OpenDocument(ctx context.Context, id, doc, worker string) (*referral.DocumentFile, error)
	// DocumentPolicy is the policy of the referral's service as its
	// node publishes it now (nil: unknown, or taking none).
	DocumentPolicy(ctx context.Context, r *referral.Referral) *directory.ReferralPolicy
	WriteMessage(ctx context.Context, id, worker, text string) (*referral.Referral, error)
	Thread(ctx context.Context, id, worker string) ([]referral.ThreadEntry, error)
}

// maxUploadBody bounds a request that adds documents: the files of a
// referral and the form around them.
const maxUploadBody = referral.MaxDocumentsBytes + 256<<10

// errNoParts answers a node that does not keep documents or threads.
var errNoParts = fmt.Errorf("referral documents and messages: %w", errNotReady)

func (s *Server) parts() (ReferralParts, error) {
	if p, ok := s.Referrals.(ReferralParts); ok {
		return p, nil
	}
	return nil, errNoParts
}

// partsForm is what a referral's page shows again after a refused
// document or message: the problems beside their form, and the message
// as typed.
type partsForm struct {
	DocProblems []string
	MsgProblems []string
	Text        string
}

type partsFormKey struct{}

func withPartsForm(r *http.Request, f partsForm) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), partsFormKey{}, f))
}

func partsFormOf(r *http.Request) partsForm {
	f, _ := r.Context().Value(partsFormKey{}).(partsForm)
	return f
}

// docsView is the documents section of a referral's page.
type docsView struct {
	Items   []docItem
	CanAdd  bool
	Accept  string // the input's accept list
	Limits  string // what may be added, in words
	Problem []string
}

type docItem struct {
	Key   string // the document's handle in this node's URLs
	Label string // "Document 1"
	Kind  string // PDF, JPEG, PNG
	Size  string
	Added string
	Ready bool // this node holds it (the recipient, once fetched)
}

// addParts fills the documents and thread sections of a referral's page
// (the thread opened for the worker, in the audit log).
func (s *Server) addParts(r *http.Request, p *pageData, ref *referral.Referral, d *referralPage) error {
	parts, err := s.parts()
	if err != nil || p.User == nil {
		return nil
	}
	form := partsFormOf(r)
	loc := brussels()
	docs := &docsView{Accept: strings.Join(referral.DocumentTypes, ","), Problem: form.DocProblems,
		Limits: p.T("documents limits", referral.MaxDocuments, referral.MaxDocumentBytes>>20, referral.MaxDocumentsBytes>>20)}
	for _, doc := range ref.Documents {
		it := docItem{Key: referral.Handle(doc.ID), Label: p.T("document n", doc.Number), Size: p.sizeText(doc.Size),
			Added: p.DateTime(doc.Added.In(loc)), Ready: doc.Stored}
		if doc.Type != "" {
			it.Kind = p.T("document type " + doc.Type)
		}
		docs.Items = append(docs.Items, it)
	}
	docs.CanAdd = ref.Side == referral.Sender && referral.DocumentsAllowed(ref, parts.DocumentPolicy(r.Context(), ref))
	if len(docs.Items) > 0 || docs.CanAdd || len(docs.Problem) > 0 {
		d.Documents = docs
	}
	th, err := s.threadView(r, p, ref, parts, form)
	if err != nil {
		return err
	}
	d.Thread = th
	return nil
}

// sizeText writes a size in kilobytes or megabytes, as the page's
// language does.
func (p pageData) sizeText(n int64) string {
	if n < 1<<20 {
		return p.T("size kb", p.Num(max(1, int((n+512)>>10))))
	}
	return p.T("size mb", p.Num(float64(n)/(1<<20)))
}

// uploaded is a request's files, read by readUpload.
type uploaded struct {
	files    []referral.File
	token    string
	tooLarge bool // the body is larger than maxUploadBody
}

// errNotForm reports a request that is not a file upload form.
var errNotForm = errors.New("not a multipart form")

// readUpload reads a multipart form's token and files ("file" fields)
// into memory, each file cut one byte past MaxDocumentBytes (so that the
// referral package says it is too large), the whole body cut at
// maxUploadBody. The form's token must come before any file. An empty
// file field (no file chosen) is skipped.
func readUpload(w http.ResponseWriter, r *http.Request) (*uploaded, error) {
	up := &uploaded{}
	if r.ContentLength > maxUploadBody {
		up.tooLarge = true // not a byte read
		return up, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errNotForm
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return up, nil
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			up.tooLarge = true
			return up, nil
		}
		if err != nil {
			return nil, errNotForm
		}
		name, file := part.FormName(), part.FileName()
		switch {
		case name == "csrf" && file == "":
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return up.failed(err)
			}
			up.token = string(b)
		case name == "file" && up.token == "":
			return nil, errNotForm // a file before the form's token
		case name == "file":
			data, err := io.ReadAll(io.LimitReader(part, referral.MaxDocumentBytes+1))
			if err != nil {
				return up.failed(err)
			}
			if _, err := io.Copy(io.Discard, part); err != nil {
				return up.failed(err)
			}
			if file == "" && len(data) == 0 {
				continue // no file chosen
			}
			up.files = append(up.files, referral.File{Name: file, Data: data})
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return up.failed(err)
			}
		}
		part.Close()
	}
}

func (up *uploaded) failed(err error) (*uploaded, error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		up.tooLarge = true
		up.files = nil
		return up, nil
	}
	return nil, errNotForm
}

// csrfMatches checks a form token read from a body the page handler
// parsed itself (a file upload, which csrfValid does not read).
func (s *Server) csrfMatches(r *http.Request, token string) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && token != "" && hmac.Equal([]byte(token), []byte(s.csrfSign(c.Value)))
}

type uploadKey struct{}

// withUpload reads a file upload before h, checking its form token: the
// route is served by tokenPage, whose CSRF check cannot read a
// multipart body. A form without its token is refused (403) as any
// other page's; a body too large is answered by h with the referral's
// page, nothing stored.
func (s *Server) withUpload(h pageHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, p *pageData) (string, int, error) {
		up, err := readUpload(w, r)
		if err == nil && !up.tooLarge && !s.csrfMatches(r, up.token) {
			err = errNotForm
		}
		if err != nil {
			p.Title, p.Error = p.T("error title"), p.T("form expired")
			return "error", http.StatusForbidden, nil
		}
		if up.tooLarge {
			// Whatever the connection still carries is not read.
			w.Header().Set("Connection", "close")
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), uploadKey{}, up)), p)
	}
}

// addDocuments adds the uploaded files to the referral and shows its
// page again; refused files come back as problems in the worker's
// language, nothing stored.
func (s *Server) addDocuments(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	parts, err := s.parts()
	if err != nil {
		return "", 0, err
	}
	up, _ := r.Context().Value(uploadKey{}).(*uploaded)
	if up == nil {
		return "", 0, errNotForm
	}
	if up.tooLarge {
		r = withPartsForm(r, partsForm{DocProblems: []string{p.T("documents upload too large", referral.MaxDocumentsBytes>>20)}})
		return s.showReferral(r, p, ref, nil, http.StatusRequestEntityTooLarge)
	}
	if _, err := parts.AddDocuments(r.Context(), ref.ID, p.User.ID, up.files); err != nil {
		lines, rest := formProblems(p, err)
		if rest != nil {
			return "", 0, rest
		}
		r = withPartsForm(r, partsForm{DocProblems: lines})
		if ref2, err := s.Referrals.ReferralByHandle(r.Context(), referral.Handle(ref.ID)); err == nil {
			ref = ref2
		}
		return s.showReferral(r, p, ref, nil, http.StatusBadRequest)
	}
	http.Redirect(w, r, "/referrals/"+url.PathEscape(referral.Handle(ref.ID))+"#documents", http.StatusSeeOther)
	return "", 0, nil
}

// documentAt finds the referral's document whose handle is in the path.
func documentAt(r *http.Request, ref *referral.Referral) (string, error) {
	key := pathVar(r, "doc")
	for _, d := range ref.Documents {
		if referral.Handle(d.ID) == key {
			return d.ID, nil
		}
	}
	return "", fmt.Errorf("document: %w", directory.ErrNotFound)
}

// downloadDocument gives a worker one document, as an attachment (a
// POST: the opening is in the audit log).
func (s *Server) downloadDocument(w http.ResponseWriter, r *http.Request, p *pageData, ref *referral.Referral) (string, int, error) {
	parts, err := s.parts()
	if err != nil {
		return "", 0, err
	}
	doc, err := documentAt(r, ref)
	if err != nil {
		return "", 0, err
	}
	f, err := parts.OpenDocument(r.Context(), ref.ID, doc, p.User.ID)
	if err != nil {
		return "", 0, err
	}
	writeDocument(w, f)
	return "", 0, nil
}

// writeDocument answers with a document to save, never to show in the
// browser: its checked type, no sniffing, no caching, its name.
func writeDocument(w http.ResponseWriter, f *referral.DocumentFile) {
	h := w.Header()
	h.Set("Content-Type", f.Type)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", fmt.Sprint(len(f.Data)))
	w.Write(f.Data)
}

// The JSON API of documents.

type documentView struct {
	ID     string    `json:"id"`     // its handle in this node's URLs
	Number int       `json:"number"` // "document 2" on both nodes
	Type   string    `json:"type,omitempty"`
	Size   int64     `json:"size"`
	Added  time.Time `json:"added"`
	Stored bool      `json:"stored"` // this node holds it
}

func viewDocuments(docs []referral.Document) []documentView {
	out := []documentView{}
	for _, d := range docs {
		out = append(out, documentView{ID: referral.Handle(d.ID), Number: d.Number, Type: d.Type, Size: d.Size, Added: d.Added, Stored: d.Stored})
	}
	return out
}

// apiAddDocuments adds files (multipart/form-data, "file" fields, no
// form token: the bearer token is the proof) to a referral sent from
// this node.
func (s *Server) apiAddDocuments(w http.ResponseWriter, r *http.Request, u *account.User) error {
	parts, err := s.parts()
	if err != nil {
		return err
	}
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	if r.ContentLength > maxUploadBody {
		w.Header().Set("Connection", "close")
		return fmt.Errorf("%w: a request adds at most %d MiB of documents", errTooLarge, referral.MaxDocumentsBytes>>20)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return errMediaType
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return errMediaType
	}
	var files []referral.File
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read the form: %w", err)
		}
		if part.FormName() != "file" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return err
			}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, referral.MaxDocumentBytes+1))
		if err == nil {
			_, err = io.Copy(io.Discard, part)
		}
		if err != nil {
			return fmt.Errorf("read the form: %w", err)
		}
		files = append(files, referral.File{Name: part.FileName(), Data: data})
	}
	if ref, err = parts.AddDocuments(r.Context(), ref.ID, u.ID, files); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"documents": viewDocuments(ref.Documents)})
	return nil
}

// apiDocument gives one document (audited), as an attachment.
func (s *Server) apiDocument(w http.ResponseWriter, r *http.Request, u *account.User) error {
	parts, err := s.parts()
	if err != nil {
		return err
	}
	ref, err := s.referralAt(r)
	if err != nil {
		return err
	}
	doc, err := documentAt(r, ref)
	if err != nil {
		return err
	}
	f, err := parts.OpenDocument(r.Context(), ref.ID, doc, u.ID)
	if err != nil {
		return err
	}
	writeDocument(w, f)
	return nil
}
