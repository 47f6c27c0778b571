package federation_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/federation"
	"github.com/maillage/maillage/referral"
)

// testPDF is a real one-page PDF whose text (uncompressed) holds s.
func testPDF(t testing.TB, s string) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.Cell(0, 10, "Fiche de paie "+s)
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte(s)) {
		t.Fatal("the test PDF does not hold its marker in clear")
	}
	return b.Bytes()
}

// testPNG is a small PNG carrying s in a tEXt chunk.
func testPNG(s string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{20, 90, 200, 255})
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	raw := b.Bytes()
	chunk := append([]byte("tEXt"), append([]byte("Comment\x00"), s...)...)
	var c []byte
	c = binary.BigEndian.AppendUint32(c, uint32(len(chunk)-4))
	c = append(c, chunk...)
	c = binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(chunk))
	at := 8 + 25 // after the signature and IHDR
	return append(append(append([]byte{}, raw[:at]...), c...), raw[at:]...)
}

// filePart is one file of a multipart upload, with the type its sender
// declares (which the node ignores).
type filePart struct {
	name, declared string
	data           []byte
}

// upload posts files to a referral's documents through the API.
func upload(t testing.TB, n *nodetest.Node, token, handle string, files ...filePart) nodetest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f.name))
		h.Set("Content-Type", f.declared)
		w, _ := mw.CreatePart(h)
		w.Write(f.data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", n.URL+"/api/v1/referrals/"+handle+"/documents", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return nodetest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// documentsService creates on b a service asking for identity and
// documents, replicated on a; it returns its id.
func documentsService(t testing.TB, a, b *nodetest.Node) string {
	t.Helper()
	resp := b.Do("POST", "/api/v1/services", b.AdminToken(), `{"name": "Aide au logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "documents"]}}`)
	if resp.Status != 201 {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	eventually(t, "A has B's service", func() bool {
		_, err := a.Node().Store.PartnerService(context.Background(), b.URL+"/services/"+svc.ID)
		return err == nil
	})
	return svc.ID
}

// referWithDocuments refers a resident from a to b's service through
// the API, with a consent covering documents; it returns the referral's
// handle and id once b received it.
func referWithDocuments(t testing.TB, a, b *nodetest.Node, svc string, cats string) (handle, uri string) {
	t.Helper()
	given := a.Node().Referrals.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	resp := a.Do("POST", "/api/v1/referrals", a.AdminToken(), `{"service": "`+svc+`", "resident": {"name": "Résidente Test"},
	  "consent": {"method": "on-screen", "categories": [`+cats+`], "notice_version": "2026-11",
	  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
	if resp.Status != 201 {
		t.Fatalf("refer: %d %s", resp.Status, resp.Body)
	}
	var created struct{ ID, URI string }
	resp.JSON(t, &created)
	eventually(t, "B receives the referral", func() bool {
		r, err := b.Node().Store.Referral(context.Background(), created.URI)
		return err == nil && r.State == referral.Received
	})
	return created.ID, created.URI
}

type docView struct {
	ID     string
	Number int
	Type   string
	Size   int64
	Stored bool
}

func documentsOf(t testing.TB, n *nodetest.Node, token, handle string) []docView {
	t.Helper()
	var v struct{ Documents []docView }
	n.Do("GET", "/api/v1/referrals/"+handle, token, nil).JSON(t, &v)
	return v.Documents
}

// walkFor fails when any file of dir holds one of the needles.
func walkFor(t *testing.T, name, dir string, needles ...string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			raw, _ := os.ReadFile(path)
			for _, s := range needles {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("%s: %s holds %q in clear", name, path, s)
				}
			}
		}
		return nil
	})
}

// Documents between two real nodes (issue 19, point 5): a PDF and a PNG
// added at A reach B, which fetches each sealed copy with a signed GET,
// checks it and opens it for its worker (audited) to the same bytes;
// disguised, oversized and surplus files are refused with nothing
// stored; a third node, signed or not, gets 404 and nothing; the files'
// content and names never show in clear (answers, logs, stored records,
// raw data directories); a withdrawal erases them on both nodes.
func TestReferralDocumentsBetweenNodes(t *testing.T) {
	const marker = "Zorglub-Attachment-3391"
	const nameMarker = "Quibble-Filename-5127"
	logs := &logBuffer{}
	nodes := nodetest.Start(t, 3, nodetest.Options{Log: logs})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb, tc := a.AdminToken(), b.AdminToken(), c.AdminToken()
	partner(t, a, b, ta, tb)
	partner(t, a, c, ta, tc)
	partner(t, b, c, tb, tc)
	svc := documentsService(t, a, b)
	handle, uri := referWithDocuments(t, a, b, svc, `"identity", "documents"`)
	ctx := context.Background()

	pdf, img := testPDF(t, marker), testPNG(marker)
	resp := upload(t, a, ta, handle, filePart{nameMarker + " fiche.pdf", "application/pdf", pdf}, filePart{"carte-" + nameMarker + ".png", "image/png", img})
	if resp.Status != 201 {
		t.Fatalf("upload: %d %s", resp.Status, resp.Body)
	}
	var docs []docView
	eventually(t, "B fetches both documents", func() bool {
		docs = documentsOf(t, b, tb, handle)
		return len(docs) == 2 && docs[0].Stored && docs[1].Stored
	})
	for i, d := range documentsOf(t, a, ta, handle) {
		if d.Number != i+1 || docs[i].Number != i+1 || d.ID != docs[i].ID {
			t.Errorf("document %d is numbered %d at A and %d at B", i, d.Number, docs[i].Number)
		}
	}
	for i, want := range [][]byte{pdf, img} {
		res := b.Do("GET", "/api/v1/referrals/"+handle+"/documents/"+docs[i].ID, tb, nil)
		if res.Status != 200 || !bytes.Equal(res.Body, want) {
			t.Fatalf("B downloads document %d: %d, %d bytes, equal %v", i, res.Status, len(res.Body), bytes.Equal(res.Body, want))
		}
		h := res.Header
		if ct := []string{"application/pdf", "image/png"}[i]; h.Get("Content-Type") != ct || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("document %d answered with %v", i, h)
		}
		if !strings.Contains(h.Get("Content-Disposition"), nameMarker) {
			t.Errorf("document %d is not offered under its name: %s", i, h.Get("Content-Disposition"))
		}
	}
	// Audited on both nodes, without names or content.
	for _, x := range []struct {
		n       *nodetest.Node
		tok     string
		actions []string
	}{{a, ta, []string{`"action":"documents added"`, `"action":"document fetched"`}}, {b, tb, []string{`"action":"documents offered"`, `"action":"document received"`, `"action":"document opened"`}}} {
		audit := x.n.Do("GET", "/api/v1/audit", x.tok, nil).Body
		for _, want := range x.actions {
			if !bytes.Contains(audit, []byte(want)) {
				t.Errorf("%s's audit log lacks %s", x.n.Name, want)
			}
		}
		if bytes.Contains(audit, []byte(marker)) || bytes.Contains(audit, []byte(nameMarker)) {
			t.Errorf("%s's audit log names a file", x.n.Name)
		}
	}

	// Refused: disguised files, too large, too many; nothing stored.
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), bytes.Repeat([]byte{0}, 4096)...)
	html := []byte("<!DOCTYPE html><html><body><script>alert('" + marker + "')</script></body></html>")
	large := testPDF(t, strings.Repeat("x", 10)+marker)
	large = append(large[:len(large)-6], append(bytes.Repeat([]byte("%"), referral.MaxDocumentBytes), large[len(large)-6:]...)...)
	for _, tt := range []struct {
		name  string
		files []filePart
		code  string
	}{
		{"an .exe renamed .pdf", []filePart{{"fiche.pdf", "application/pdf", exe}}, "document_type"},
		{"HTML declared as a PNG", []filePart{{"photo.png", "image/png", html}}, "document_type"},
		{"a file over 4 MiB", []filePart{{"gros.pdf", "application/pdf", large}}, "document_too_large"},
		{"a sixth document", []filePart{{"a.pdf", "application/pdf", pdf}, {"b.pdf", "application/pdf", pdf}, {"c.pdf", "application/pdf", pdf}, {"d.pdf", "application/pdf", pdf}}, "documents_too_many"},
	} {
		res := upload(t, a, ta, handle, tt.files...)
		if res.Status != 400 || !bytes.Contains(res.Body, []byte(`"code":"`+tt.code+`"`)) {
			t.Errorf("%s: %d %s, want 400 with %s", tt.name, res.Status, res.Body, tt.code)
		}
		if bytes.Contains(res.Body, []byte(marker)) {
			t.Errorf("%s: the refusal echoes the file", tt.name)
		}
	}
	if n := len(documentsOf(t, a, ta, handle)); n != 2 {
		t.Errorf("after the refusals A holds %d documents, want 2", n)
	}

	// A third node, partner of both, signed: 404, and nothing. Unsigned: the same.
	ra, _ := a.Node().Store.Referral(ctx, uri)
	for _, d := range ra.Documents {
		if body, err := c.Node().Fed.FetchReferralDocument(ctx, d.ID, d.Size); !errors.Is(err, federation.ErrDocumentGone) || body != nil {
			t.Errorf("the third node fetched a document: %d bytes, %v", len(body), err)
		}
		res, err := http.Get(d.ID)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 404 || len(body) > 100 {
			t.Errorf("an unsigned GET of a document: %d, %d bytes", res.StatusCode, len(body))
		}
	}
	if res, _ := http.Get(a.URL + "/referrals/x/documents/y"); res.StatusCode != 404 {
		t.Errorf("an unknown document: %d", res.StatusCode)
	}

	// Stored sealed: the records and both copies on A, B's copy.
	rb, _ := b.Node().Store.Referral(ctx, uri)
	for _, rec := range []*referral.Referral{ra, rb} {
		if j, _ := json.Marshal(rec); bytes.Contains(j, []byte(marker)) || bytes.Contains(j, []byte(nameMarker)) {
			t.Error("a referral record holds a file's content or name")
		}
	}
	for _, d := range ra.Documents {
		for _, x := range []struct {
			n *nodetest.Node
			c referral.Copy
		}{{a, referral.CopyOwn}, {a, referral.CopyOut}, {b, referral.CopyOwn}} {
			blob, err := x.n.Node().Store.Blob(ctx, uri, d.ID, x.c)
			if err != nil || len(blob) < 1000 {
				t.Fatalf("%s's %s copy: %d bytes, %v", x.n.Name, x.c, len(blob), err)
			}
			if bytes.Contains(blob, []byte(marker)) || bytes.Contains(blob, []byte(nameMarker)) || bytes.Contains(blob, []byte("%PDF")) {
				t.Errorf("%s's %s copy is not sealed", x.n.Name, x.c)
			}
		}
	}
	scanAnswers(t, nodes, marker)
	scanAnswers(t, nodes, nameMarker)
	for _, nd := range nodes {
		walkFor(t, nd.Name, nd.Dir, marker, nameMarker)
	}

	// Withdrawal: both nodes erase the documents.
	if res := a.Do("POST", "/api/v1/referrals/"+handle+"/withdraw", ta, nil); res.Status != 200 {
		t.Fatalf("withdraw: %d %s", res.Status, res.Body)
	}
	eventually(t, "B erases", func() bool {
		r, err := b.Node().Store.Referral(ctx, uri)
		return err == nil && r.Erasure != nil && len(r.Documents) == 0
	})
	for _, d := range ra.Documents {
		for _, x := range []struct {
			n *nodetest.Node
			c referral.Copy
		}{{a, referral.CopyOwn}, {a, referral.CopyOut}, {b, referral.CopyOwn}} {
			if _, err := x.n.Node().Store.Blob(ctx, uri, d.ID, x.c); !errors.Is(err, directory.ErrNotFound) {
				t.Errorf("%s keeps its %s copy after the withdrawal: %v", x.n.Name, x.c, err)
			}
		}
		if res := a.Do("GET", "/api/v1/referrals/"+handle+"/documents/"+referral.Handle(d.ID), ta, nil); res.Status != 404 && res.Status != 410 {
			t.Errorf("A gives an erased document: %d", res.Status)
		}
	}
	if logs.count(marker) > 0 || logs.count(nameMarker) > 0 {
		t.Error("a file's content or name reached the logs")
	}
	for _, nd := range nodes {
		nd.Stop()
		walkFor(t, nd.Name, nd.Dir, marker, nameMarker)
	}
}

// endless is a body of n bytes made on the fly, counting what was read.
type endless struct {
	n, read int64
	head    []byte
}

func (e *endless) Read(p []byte) (int, error) {
	if e.read >= e.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n-e.read)
	for i := range k {
		off := e.read + i
		if off < int64(len(e.head)) {
			p[i] = e.head[off]
		} else {
			p[i] = 'A'
		}
	}
	atomic.AddInt64(&e.read, k)
	return int(k), nil
}

// A 2 GB upload is cut early: refused before a byte is read when it says
// its length, cut at the limit when it does not; nothing stored.
func TestReferralDocumentsHugeUpload(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	svc := documentsService(t, a, b)
	handle, _ := referWithDocuments(t, a, b, svc, `"identity", "documents"`)
	head := []byte("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n")
	for _, declared := range []bool{true, false} {
		body := &endless{n: 2 << 30, head: head}
		req, _ := http.NewRequest("POST", a.URL+"/api/v1/referrals/"+handle+"/documents", body)
		if declared {
			req.ContentLength = body.n
		} else {
			req.ContentLength = -1 // chunked
		}
		req.Header.Set("Content-Type", "multipart/form-data; boundary=XYZ")
		req.Header.Set("Authorization", "Bearer "+ta)
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		status := 0
		if err == nil {
			status = res.StatusCode
			res.Body.Close()
		}
		read := atomic.LoadInt64(&body.read)
		t.Logf("2 GB upload (length declared %v): status %d, err %v, %d MiB sent, %v", declared, status, err, read>>20, time.Since(start).Round(time.Millisecond))
		if err == nil && status != http.StatusRequestEntityTooLarge {
			t.Errorf("2 GB upload (length declared %v): %d, want 413", declared, status)
		}
		if read > 64<<20 {
			t.Errorf("2 GB upload (length declared %v): the client sent %d MiB before being cut", declared, read>>20)
		}
	}
	if n := len(documentsOf(t, a, ta, handle)); n != 0 {
		t.Errorf("A holds %d documents after the huge uploads", n)
	}
}

// Retention: the documents of a closed referral are erased on both nodes
// six months (180 days) after it closed, by the nodes' own sweep, on an
// injected clock.
func TestReferralDocumentsRetention(t *testing.T) {
	start := time.Now()
	nodes := nodetest.Start(t, 2, nodetest.Options{Clock: &start, Configure: func(c *node.Config) { c.SweepEvery = 200 * time.Millisecond }})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	svc := documentsService(t, a, b)
	handle, uri := referWithDocuments(t, a, b, svc, `"identity", "documents"`)
	ctx := context.Background()
	if res := upload(t, a, ta, handle, filePart{"fiche.pdf", "application/pdf", testPDF(t, "retention")}); res.Status != 201 {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	eventually(t, "B fetches the document", func() bool {
		d := documentsOf(t, b, tb, handle)
		return len(d) == 1 && d[0].Stored
	})
	if res := b.Do("POST", "/api/v1/referrals/"+handle+"/transition", tb, `{"to": "rejected", "reason": "no-capacity"}`); res.Status != 200 {
		t.Fatalf("reject: %d %s", res.Status, res.Body)
	}
	eventually(t, "A learns it was rejected", func() bool {
		r, err := a.Node().Store.Referral(ctx, uri)
		return err == nil && r.State == referral.Rejected
	})
	ra, _ := a.Node().Store.Referral(ctx, uri)
	doc := ra.Documents[0].ID
	// 179 days on: kept.
	for _, n := range nodes {
		n.Clock.Advance(179 * 24 * time.Hour)
	}
	time.Sleep(time.Second) // several sweeps
	for _, n := range nodes {
		if _, err := n.Node().Store.Blob(ctx, uri, doc, referral.CopyOwn); err != nil {
			t.Fatalf("%s erased the document before six months: %v", n.Name, err)
		}
	}
	// 181 days: erased on both, by the sweep.
	for _, n := range nodes {
		n.Clock.Advance(2 * 24 * time.Hour)
	}
	for _, n := range nodes {
		eventually(t, n.Name+" erases the closed referral's documents", func() bool {
			r, err := n.Node().Store.Referral(ctx, uri)
			_, berr := n.Node().Store.Blob(ctx, uri, doc, referral.CopyOwn)
			return err == nil && r.Erasure != nil && r.Erasure.Why == "retention" && errors.Is(berr, directory.ErrNotFound)
		})
	}
	if _, err := a.Node().Store.Blob(ctx, uri, doc, referral.CopyOut); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("A keeps the copy sealed to B: %v", err)
	}
}

// signedPost posts an activity to n's inbox, signed with from's key.
func signedPost(t *testing.T, from, to *nodetest.Node, activity any) int {
	t.Helper()
	body, _ := json.Marshal(activity)
	pemKey, err := from.Node().Store.Secret(context.Background(), "actor-rsa")
	if err != nil {
		t.Fatal(err)
	}
	key, err := federation.ParsePrivateKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", to.URL+"/inbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/activity+json")
	if err := (&federation.Signer{Key: key, KeyID: from.URL + "/actor#main-key", Now: from.Node().Referrals.Now}).Sign(req, body); err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

type threadMessage struct {
	Mine bool
	Text string
}

func threadOf(t testing.TB, n *nodetest.Node, token, handle string) []threadMessage {
	t.Helper()
	var v struct{ Messages []threadMessage }
	n.Do("GET", "/api/v1/referrals/"+handle+"/messages", token, nil).JSON(t, &v)
	return v.Messages
}

// The thread between the two workers of a referral, over real nodes
// (issue 19, point 6): a message written at A shows at B and the answer
// at A; each node keeps them sealed (the text is in no stored record, no
// log, no raw file); a third node's forged message is refused (403) and
// leaves nothing; a flood is cut at 30 an hour (429); a closed referral
// takes no message (409); a withdrawal erases the thread on both nodes.
func TestReferralThreadBetweenNodes(t *testing.T) {
	const marker = "Zorglub-Thread-2284"
	logs := &logBuffer{}
	nodes := nodetest.Start(t, 3, nodetest.Options{Log: logs})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ta, tb, tc := a.AdminToken(), b.AdminToken(), c.AdminToken()
	partner(t, a, b, ta, tb)
	partner(t, a, c, ta, tc)
	partner(t, b, c, tb, tc)
	svc := documentsService(t, a, b)
	handle, uri := referWithDocuments(t, a, b, svc, `"identity"`)
	ctx := context.Background()

	if res := a.Do("POST", "/api/v1/referrals/"+handle+"/messages", ta, `{"text": "Bonjour, la personne passera lundi (`+marker+`-A)."}`); res.Status != 201 {
		t.Fatalf("A writes: %d %s", res.Status, res.Body)
	}
	eventually(t, "B reads A's message", func() bool {
		m := threadOf(t, b, tb, handle)
		return len(m) == 1 && !m[0].Mine && strings.Contains(m[0].Text, marker+"-A")
	})
	if res := b.Do("POST", "/api/v1/referrals/"+handle+"/messages", tb, `{"text": "Bien reçu : rendez-vous à 10 h (`+marker+`-B)."}`); res.Status != 201 {
		t.Fatalf("B writes: %d %s", res.Status, res.Body)
	}
	eventually(t, "A reads B's answer", func() bool {
		m := threadOf(t, a, ta, handle)
		return len(m) == 2 && m[0].Mine && !m[1].Mine && strings.Contains(m[1].Text, marker+"-B")
	})
	for _, x := range []struct {
		n   *nodetest.Node
		tok string
	}{{a, ta}, {b, tb}} {
		audit := x.n.Do("GET", "/api/v1/audit", x.tok, nil).Body
		for _, want := range []string{`"action":"message written"`, `"action":"message received"`, `"action":"thread read"`} {
			if !bytes.Contains(audit, []byte(want)) {
				t.Errorf("%s's audit log lacks %s", x.n.Name, want)
			}
		}
		msgs, _ := x.n.Node().Store.Messages(ctx, uri)
		if j, _ := json.Marshal(msgs); len(msgs) != 2 || bytes.Contains(j, []byte(marker)) || bytes.Contains(audit, []byte(marker)) {
			t.Errorf("%s stores %d messages, or in clear", x.n.Name, len(msgs))
		}
	}

	// A third node, partner of both, forges a message into the thread:
	// under its own name, and under A's name with its own key.
	forged := func(actor string, n int) map[string]any {
		return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": fmt.Sprintf("%s/activities/forged-%d", c.URL, n),
			"type": "Create", "actor": actor, "to": []string{b.URL + "/actor"},
			"object": map[string]any{"type": "ReferralMessage", "id": fmt.Sprintf("%s/messages/forged-%d", c.URL, n), "referral": uri,
				"attributedTo": actor, "to": []string{b.URL + "/actor"}, "published": time.Now().UTC(), "sealed": []byte("AQID")}}
	}
	if code := signedPost(t, c, b, forged(c.URL+"/actor", 1)); code != http.StatusForbidden {
		t.Errorf("a third node's message: %d, want 403", code)
	}
	if code := signedPost(t, c, b, forged(a.URL+"/actor", 2)); code != http.StatusForbidden {
		t.Errorf("a third node's message in A's name: %d, want 403", code)
	}
	if m := threadOf(t, b, tb, handle); len(m) != 2 {
		t.Errorf("B's thread holds %d messages after the forgeries, want 2", len(m))
	}

	// Flood: 30 an hour from a side, then 429 in words.
	for i := 2; i <= referral.MessagesPerHour; i++ {
		if res := a.Do("POST", "/api/v1/referrals/"+handle+"/messages", ta, `{"text": "suite"}`); res.Status != 201 {
			t.Fatalf("message %d: %d %s", i, res.Status, res.Body)
		}
	}
	if res := a.Do("POST", "/api/v1/referrals/"+handle+"/messages", ta, `{"text": "une de trop"}`); res.Status != 429 || !bytes.Contains(res.Body, []byte("thread_flood")) {
		t.Errorf("the 31st message of the hour: %d %s", res.Status, res.Body)
	}
	eventually(t, "B has A's 30 messages", func() bool { return len(threadOf(t, b, tb, handle)) == referral.MessagesPerHour+1 })
	if logs.count(marker) > 0 {
		t.Error("a message reached the logs")
	}

	// Withdrawal: the thread is erased on both nodes.
	if res := a.Do("POST", "/api/v1/referrals/"+handle+"/withdraw", ta, nil); res.Status != 200 {
		t.Fatalf("withdraw: %d %s", res.Status, res.Body)
	}
	eventually(t, "B erases the thread", func() bool {
		msgs, _ := b.Node().Store.Messages(ctx, uri)
		r, _ := b.Node().Store.Referral(ctx, uri)
		return len(msgs) == 0 && r != nil && r.Erasure != nil
	})
	if msgs, _ := a.Node().Store.Messages(ctx, uri); len(msgs) != 0 {
		t.Errorf("A keeps %d messages after the withdrawal", len(msgs))
	}

	// A closed referral takes no message, from either side.
	handle2, uri2 := referWithDocuments(t, a, b, svc, `"identity"`)
	if res := b.Do("POST", "/api/v1/referrals/"+handle2+"/transition", tb, `{"to": "rejected", "reason": "no-capacity"}`); res.Status != 200 {
		t.Fatalf("reject: %d %s", res.Status, res.Body)
	}
	eventually(t, "A learns it was rejected", func() bool {
		r, err := a.Node().Store.Referral(ctx, uri2)
		return err == nil && r.State == referral.Rejected
	})
	for _, x := range []struct {
		n   *nodetest.Node
		tok string
	}{{a, ta}, {b, tb}} {
		if res := x.n.Do("POST", "/api/v1/referrals/"+handle2+"/messages", x.tok, `{"text": "encore un mot"}`); res.Status != 409 || !bytes.Contains(res.Body, []byte("thread_closed")) {
			t.Errorf("%s writes on a closed referral: %d %s", x.n.Name, res.Status, res.Body)
		}
	}
	for _, nd := range nodes {
		nd.Stop()
		walkFor(t, nd.Name, nd.Dir, marker)
	}
}

// The sender down when the recipient would fetch a document: the
// recipient keeps it to fetch (durably, in the referral) and gets it
// once the sender is back, with no worker doing anything.
func TestReferralDocumentsSenderDown(t *testing.T) {
	nodes := nodetest.Start(t, 2, nodetest.Options{Configure: func(c *node.Config) {
		c.SweepEvery, c.FirstRetry = 300*time.Millisecond, 300*time.Millisecond
	}})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	partner(t, a, b, ta, tb)
	svc := documentsService(t, a, b)
	handle, uri := referWithDocuments(t, a, b, svc, `"identity", "documents"`)
	ctx := context.Background()
	pdf := testPDF(t, "sender-down")
	b.Stop() // B misses the announcement for now
	if res := upload(t, a, ta, handle, filePart{"fiche.pdf", "application/pdf", pdf}); res.Status != 201 {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	ra, _ := a.Node().Store.Referral(ctx, uri)
	a.Stop()
	b.Restart()
	// The announcement as it would arrive, while A is down.
	policy := b.Node().DocumentPolicy(ctx, mustReferral(t, b, uri))
	if _, err := b.Node().Referrals.DocumentsOffered(ctx, a.URL+"/actor", uri, ra.Documents, policy); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // several sweeps, each failing to reach A
	if d := documentsOf(t, b, b.AdminToken(), handle); len(d) != 1 || d[0].Stored {
		t.Fatalf("while A is down B holds %+v, want the document pending", d)
	}
	a.Restart()
	eventually(t, "B fetches the document once A is back", func() bool {
		d := documentsOf(t, b, b.AdminToken(), handle)
		return len(d) == 1 && d[0].Stored
	})
	if res := b.Do("GET", "/api/v1/referrals/"+handle+"/documents/"+referral.Handle(ra.Documents[0].ID), b.AdminToken(), nil); res.Status != 200 || !bytes.Equal(res.Body, pdf) {
		t.Errorf("B's document: %d, equal %v", res.Status, bytes.Equal(res.Body, pdf))
	}
}

func mustReferral(t *testing.T, n *nodetest.Node, uri string) *referral.Referral {
	t.Helper()
	r, err := n.Node().Store.Referral(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
