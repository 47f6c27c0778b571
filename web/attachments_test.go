package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/referral"
)

// samplePDF is a real one-page PDF whose text holds s.
func samplePDF(t testing.TB, s string) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.Cell(0, 10, "Attestation "+s)
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// samplePNG is a small PNG carrying s in a tEXt chunk.
func samplePNG(s string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range 16 {
		img.Set(i, 15-i, color.RGBA{30, 120, 60, 255})
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	raw := b.Bytes()
	chunk := append([]byte("tEXt"), append([]byte("Comment\x00"), s...)...)
	var c []byte
	c = binary.BigEndian.AppendUint32(c, uint32(len(chunk)-4))
	c = append(c, chunk...)
	c = binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(chunk))
	return append(append(append([]byte{}, raw[:33]...), c...), raw[33:]...)
}

// documentNodes starts two partner nodes, each with a worker: A,
// "Maison de quartier Midi"; B, "Maison de quartier Sud" ("Buurthuis
// Zuid"), with a housing service asking for identity, contact and
// documents; it returns them and the service's id.
func documentNodes(t *testing.T, opts nodetest.Options) (a, b *nodetest.Node, svc string) {
	t.Helper()
	if opts.Configure == nil {
		opts.Configure = func(c *node.Config) { c.TileURL = unreachableTiles }
	}
	nodes := nodetest.Start(t, 2, opts)
	a, b = nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	for _, call := range []struct {
		n          *nodetest.Node
		tok        string
		method     string
		path, body string
		want       int
	}{
		{a, ta, "PUT", "/api/v1/organization", `{"name": "Maison de quartier Midi", "email": "accueil@mq-midi.be"}`, 200},
		{a, ta, "POST", "/api/v1/users", `{"email": "sofia@mq-midi.be", "role": "worker", "password": "worker-password"}`, 201},
		{b, tb, "PUT", "/api/v1/organization", `{"name": "Maison de quartier Sud", "translations": {"nl": {"name": "Buurthuis Zuid"}}}`, 200},
		{b, tb, "POST", "/api/v1/users", `{"email": "jan@mq-sud.be", "role": "worker", "password": "worker-password"}`, 201},
	} {
		if r := call.n.Do(call.method, call.path, call.tok, call.body); r.Status != call.want {
			t.Fatalf("%s %s: %d %s", call.method, call.path, r.Status, r.Body)
		}
	}
	makePartners(t, a, b, ta, tb)
	r := b.Do("POST", "/api/v1/services", tb, `{"name": "Aide au logement", "status": "active", "categories": ["logement-hebergement"],
	  "translations": {"nl": {"name": "Woonhulp"}},
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact", "documents"]}}`)
	if r.Status != 201 {
		t.Fatalf("service: %d %s", r.Status, r.Body)
	}
	var s struct{ ID string }
	r.JSON(t, &s)
	waitUntil(t, "A replicates B's service", func() bool {
		_, err := a.Node().Store.PartnerService(context.Background(), b.URL+"/services/"+s.ID)
		return err == nil
	})
	return a, b, s.ID
}

// referAPI refers a resident from a to svc through the API with the
// consent categories given, and waits until b has it; it returns the
// referral's handle.
func referAPI(t *testing.T, a, b *nodetest.Node, svc, cats string) string {
	t.Helper()
	given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	r := a.Do("POST", "/api/v1/referrals", a.AdminToken(), `{"service": "`+svc+`", "resident": {"name": "Amina Testmarker"},
	  "consent": {"method": "on-screen", "categories": [`+cats+`], "notice_version": "2026-11",
	  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
	if r.Status != 201 {
		t.Fatalf("refer: %d %s", r.Status, r.Body)
	}
	var created struct{ ID string }
	r.JSON(t, &created)
	waitUntil(t, "B receives the referral", func() bool {
		return b.Do("GET", "/api/v1/referrals/"+created.ID, b.AdminToken(), nil).Status == 200
	})
	return created.ID
}

// session is a browser-like HTTP client logged in at a node, in a
// language.
type session struct {
	t    *testing.T
	c    *http.Client
	base string
	lang string
}

var tokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func logIn(t *testing.T, n *nodetest.Node, email, password, lang string) *session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &session{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, base: n.URL, lang: lang}
	tok := s.token("/login")
	res := s.post("/login", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"csrf": {tok}, "email": {email}, "password": {password}}.Encode()), -1)
	if res.status != http.StatusSeeOther {
		t.Fatalf("log in at %s: %d", n.Name, res.status)
	}
	return s
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (s *session) do(req *http.Request) answer {
	s.t.Helper()
	req.Header.Set("Accept-Language", s.lang)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := s.c.Do(req)
	if err != nil {
		return answer{status: -1, body: []byte(err.Error())}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

func (s *session) get(path string) answer {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	return s.do(req)
}

func (s *session) post(path, contentType string, body io.Reader, length int64) answer {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.base+path, body)
	req.Header.Set("Content-Type", contentType)
	if length >= 0 {
		req.ContentLength = length
	}
	return s.do(req)
}

func (s *session) token(path string) string {
	s.t.Helper()
	a := s.get(path)
	m := tokenRE.FindSubmatch(a.body)
	if m == nil {
		s.t.Fatalf("%s has no form token (%d)", path, a.status)
	}
	return html.UnescapeString(string(m[1]))
}

// form posts fields with the page's form token.
func (s *session) form(page, action string, fields url.Values) answer {
	s.t.Helper()
	v := url.Values{"csrf": {s.token(page)}}
	for k, x := range fields {
		v[k] = x
	}
	return s.post(action, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), -1)
}

// uploadForm is the page's multipart form: the token, then the files.
func uploadForm(token string, files ...[2]string) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if token != "" {
		mw.WriteField("csrf", token)
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f[0]))
		h.Set("Content-Type", "image/png") // what the sender says counts for nothing
		w, _ := mw.CreatePart(h)
		w.Write([]byte(f[1]))
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// pageText is an HTML answer's text, tags stripped.
func pageText(b []byte) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(string(b), " "))
}

// endlessBody is n bytes made on the fly, after a head, counting what
// was read.
type endlessBody struct {
	n, read int64
	head    []byte
}

func (e *endlessBody) Read(p []byte) (int, error) {
	if e.read >= e.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n-e.read)
	for i := range k {
		if off := e.read + i; off < int64(len(e.head)) {
			p[i] = e.head[off]
		} else {
			p[i] = 'A'
		}
	}
	atomic.AddInt64(&e.read, k)
	return int(k), nil
}

// Bad input on the referral page, in French and Dutch: a disguised file,
// a 2 GB upload (announced, and not), a form without its token, a
// message flood and a message on a closed referral are refused with a
// clear message in the worker's language, and nothing is stored; then
// a good PDF goes through, B downloads it as an attachment.
func TestReferralPageBadInput(t *testing.T) {
	a, b, svc := documentNodes(t, nodetest.Options{})
	for _, run := range []struct {
		lang                                        string
		disguised, huge, flood, closed, expired, ok string
	}{
		{"fr", "n’est ni un PDF, ni une image JPEG ou PNG", "L’envoi est trop lourd", "Trop de messages : au plus 30 par heure", "L’orientation est clôturée : on ne peut plus y écrire", "Ce formulaire a expiré", "Document 1"},
		{"nl", "is geen PDF-, JPEG- of PNG-bestand", "De upload is te groot", "Te veel berichten: hoogstens 30 per uur", "De doorverwijzing is afgesloten: er kunnen geen berichten meer bij", "Dit formulier is verlopen", "Document 1"},
	} {
		handle := referAPI(t, a, b, svc, `"identity", "documents"`)
		page := "/referrals/" + handle
		s := logIn(t, a, "sofia@mq-midi.be", "worker-password", run.lang)
		docs := func() int {
			var v struct{ Documents []struct{} }
			a.Do("GET", "/api/v1/referrals/"+handle, a.AdminToken(), nil).JSON(t, &v)
			return len(v.Documents)
		}

		// A Windows program named like a PDF; an HTML page named like a PNG.
		for _, f := range [][2]string{{"fiche.pdf", "MZ\x90\x00\x03\x00\x00\x00" + strings.Repeat("\x00", 600)}, {"photo.png", "<!DOCTYPE html><script>alert(1)</script>"}} {
			ct, body := uploadForm(s.token(page), f)
			res := s.post(page+"/documents", ct, bytes.NewReader(body), int64(len(body)))
			if txt := pageText(res.body); res.status != 400 || !strings.Contains(txt, run.disguised) || strings.Contains(txt, "document_type") {
				t.Errorf("%s: %s answered %d: %.300q", run.lang, f[0], res.status, txt)
			}
		}
		// 2 GB, announced then chunked: cut, in words.
		for _, declared := range []bool{true, false} {
			ct, head := uploadForm(s.token(page), [2]string{"enorme.pdf", "%PDF-1.4\n"})
			head = head[:bytes.Index(head, []byte("%PDF-1.4\n"))+9] // the token and the file's start; the rest never ends
			body := &endlessBody{n: 2 << 30, head: head}
			length := int64(-1)
			if declared {
				length = body.n
			}
			res := s.post(page+"/documents", ct, body, length)
			read := atomic.LoadInt64(&body.read)
			if res.status != -1 && (res.status != 413 || !strings.Contains(pageText(res.body), run.huge)) {
				t.Errorf("%s: 2 GB (declared %v) answered %d: %.300q", run.lang, declared, res.status, pageText(res.body))
			}
			if read > 64<<20 {
				t.Errorf("%s: 2 GB (declared %v): %d MiB sent before the cut", run.lang, declared, read>>20)
			}
			t.Logf("%s: 2 GB upload (declared %v): %d, %d MiB sent", run.lang, declared, res.status, read>>20)
		}
		// No form token: refused before anything is read.
		ct, body := uploadForm("", [2]string{"fiche.pdf", string(samplePDF(t, "x"))})
		if res := s.post(page+"/documents", ct, bytes.NewReader(body), int64(len(body))); res.status != 403 {
			t.Errorf("%s: an upload without the form's token: %d", run.lang, res.status)
		} else if run.expired != "" && !strings.Contains(pageText(res.body), run.expired) {
			t.Errorf("%s: the refusal without token reads %.200q", run.lang, pageText(res.body))
		}
		if n := docs(); n != 0 {
			t.Fatalf("%s: %d documents stored after the refusals", run.lang, n)
		}

		// A good PDF goes through, and B's worker downloads it.
		pdf := samplePDF(t, "ok-"+run.lang)
		ct, body = uploadForm(s.token(page), [2]string{"Attestation CPAS.pdf", string(pdf)})
		if res := s.post(page+"/documents", ct, bytes.NewReader(body), int64(len(body))); res.status != 303 {
			t.Fatalf("%s: a good PDF: %d %.300q", run.lang, res.status, pageText(res.body))
		}
		sb := logIn(t, b, "jan@mq-sud.be", "worker-password", run.lang)
		var key string
		waitUntil(t, "B shows the document ready", func() bool {
			m := regexp.MustCompile(`action="/referrals/[0-9a-f]+/files/([0-9a-f]+)"`).FindSubmatch(sb.get(page).body)
			if m != nil {
				key = string(m[1])
			}
			return m != nil
		})
		if txt := pageText(sb.get(page).body); !strings.Contains(txt, run.ok) || !strings.Contains(txt, "PDF") {
			t.Errorf("%s: B's page lists %.400q", run.lang, txt)
		}
		res := sb.form(page, page+"/files/"+key, nil)
		if res.status != 200 || !bytes.Equal(res.body, pdf) || res.header.Get("Content-Type") != "application/pdf" ||
			res.header.Get("Content-Disposition") != `attachment; filename="Attestation CPAS.pdf"` || res.header.Get("X-Content-Type-Options") != "nosniff" ||
			res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: B's download: %d, %d bytes, %v", run.lang, res.status, len(res.body), res.header)
		}

		// A flood of messages: 30 go, the 31st is refused in words, its
		// text kept in the form.
		for i := range referral.MessagesPerHour {
			if res := s.form(page, page+"/messages", url.Values{"text": {fmt.Sprintf("Message %d", i+1)}}); res.status != 303 {
				t.Fatalf("%s: message %d: %d %.300q", run.lang, i+1, res.status, pageText(res.body))
			}
		}
		res = s.form(page, page+"/messages", url.Values{"text": {"Un de trop"}})
		if txt := pageText(res.body); res.status != 429 || !strings.Contains(txt, run.flood) || !strings.Contains(string(res.body), ">Un de trop</textarea>") {
			t.Errorf("%s: the 31st message: %d %.300q", run.lang, res.status, txt)
		}
		// Closed: the thread takes no more.
		if r := b.Do("POST", "/api/v1/referrals/"+handle+"/transition", b.AdminToken(), `{"to": "rejected", "reason": "no-capacity"}`); r.Status != 200 {
			t.Fatalf("reject: %d %s", r.Status, r.Body)
		}
		waitUntil(t, "A learns it was rejected", func() bool {
			var v struct{ State string }
			a.Do("GET", "/api/v1/referrals/"+handle, a.AdminToken(), nil).JSON(t, &v)
			return v.State == "rejected"
		})
		res = s.form(page, page+"/messages", url.Values{"text": {"Encore un mot"}})
		if txt := pageText(res.body); res.status != 400 || !strings.Contains(txt, run.closed) {
			t.Errorf("%s: a message on a closed referral: %d %.300q", run.lang, res.status, txt)
		}
		var v struct{ Messages []struct{} }
		a.Do("GET", "/api/v1/referrals/"+handle+"/messages", a.AdminToken(), nil).JSON(t, &v)
		if len(v.Messages) != referral.MessagesPerHour {
			t.Errorf("%s: A holds %d messages, want %d", run.lang, len(v.Messages), referral.MessagesPerHour)
		}
	}
}

// Five scanned pages of about 62 KB, the most a referral carries, sent in
// one upload: they were more than the store wrote in one transaction
// (each kept twice, sealed), and the worker got an error. They go
// through, and B receives the five.
func TestFiveMidSizeDocumentsAtOnce(t *testing.T) {
	a, b, svc := documentNodes(t, nodetest.Options{})
	handle := referAPI(t, a, b, svc, `"identity", "documents"`)
	page := "/referrals/" + handle
	s := logIn(t, a, "sofia@mq-midi.be", "worker-password", "fr")
	base := len(samplePDF(t, ""))
	var files [][2]string
	for i := range 5 {
		// Sealed, each copy is the file and about 1.2 KB: under 64 KiB.
		pdf := samplePDF(t, fmt.Sprint(i)+strings.Repeat("x", 62<<10-base-1))
		files = append(files, [2]string{fmt.Sprintf("page-%d.pdf", i+1), string(pdf)})
	}
	ct, body := uploadForm(s.token(page), files...)
	if res := s.post(page+"/documents", ct, bytes.NewReader(body), int64(len(body))); res.status != 303 {
		t.Fatalf("five documents of %d bytes: %d %.300q", len(files[0][1]), res.status, pageText(res.body))
	}
	count := func(n *nodetest.Node) int {
		var v struct{ Documents []struct{} }
		n.Do("GET", "/api/v1/referrals/"+handle, n.AdminToken(), nil).JSON(t, &v)
		return len(v.Documents)
	}
	if n := count(a); n != 5 {
		t.Fatalf("A records %d documents, want 5", n)
	}
	waitUntil(t, "B holds the five documents", func() bool {
		txt := pageText(logIn(t, b, "jan@mq-sud.be", "worker-password", "fr").get(page).body)
		return strings.Contains(txt, "Document 5")
	})
}
