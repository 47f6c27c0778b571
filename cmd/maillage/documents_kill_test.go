package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/referral"
)

// Kills around a referral's documents (issue 19, point 5): SIGKILL of
// the sender while it stores uploaded files, and of the recipient while
// it fetches them. After every restart a document is whole or absent
// (each one given opens to the bytes uploaded, its digest checked), an
// upload the API acknowledged is never lost, and the recipient ends up
// with every document through the durable mechanisms (the queue, and
// the fetch at start).

// bigPDF is a PDF of about n bytes, distinct for each seed.
func bigPDF(seed, n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%%PDF-1.4\n%% document %d\n", seed)
	line := strings.Repeat(fmt.Sprintf("%06d", seed), 16) + "\n"
	for b.Len() < n {
		b.WriteString("% " + line)
	}
	b.WriteString("trailer << >>\n%%EOF\n")
	return b.Bytes()
}

// multipartFiles is a multipart body with the files as "file" fields.
func multipartFiles(files ...[]byte) (string, []byte) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i, f := range files {
		w, _ := mw.CreateFormFile("file", fmt.Sprintf("piece-%d.pdf", i+1))
		w.Write(f)
	}
	mw.Close()
	return mw.FormDataContentType(), body.Bytes()
}

// postFiles uploads files to a referral of the node at addr; code is -1
// when the node died under the request.
func postFiles(addr, token, handle string, files ...[]byte) int {
	ct, body := multipartFiles(files...)
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/referrals/"+handle+"/documents", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

type killDoc struct {
	ID     string
	Number int
	Stored bool
}

func referralDocs(t *testing.T, get func(path string) (int, []byte), handle string) []killDoc {
	t.Helper()
	code, body := get("/api/v1/referrals/" + handle)
	if code != 200 {
		t.Fatalf("referral %s: %d %s", handle, code, body)
	}
	var v struct{ Documents []killDoc }
	json.Unmarshal(body, &v)
	return v.Documents
}

// referFrom creates a referral through the API of the node behind do.
func referFrom(t *testing.T, do func(method, path, body string) (int, []byte), svc string) string {
	t.Helper()
	given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	code, body := do("POST", "/api/v1/referrals", `{"service": "`+svc+`", "resident": {"name": "Résidente"},
	  "consent": {"method": "on-screen", "categories": ["identity", "documents"], "notice_version": "2026-11",
	  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
	if code != 201 {
		t.Fatalf("refer: %d %s", code, body)
	}
	var ref struct{ ID string }
	json.Unmarshal(body, &ref)
	return ref.ID
}

func TestKillsDuringDocumentUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("kills of real processes")
	}
	b := nodetest.Start(t, 1, nodetest.Options{})[0]
	tb := b.AdminToken()
	a := newProcessNode(t, "sender")
	a.follows(t, b)
	r := b.Do("POST", "/api/v1/services", tb, `{"name": "Aide au logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "documents"]}}`)
	var svc struct{ ID string }
	r.JSON(t, &svc)
	waitFor(t, "A replicates B's service", 15*time.Second, func() bool {
		_, body := a.do(t, "GET", "/api/v1/network/services", "")
		return strings.Contains(string(body), svc.ID)
	})
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 19))
	const runs = 5
	type round struct {
		handle string
		files  [][]byte
	}
	var rounds []round
	acked, torn, lost := 0, 0, 0
	for i := range runs {
		handle := referFrom(t, func(m, p, body string) (int, []byte) { return a.do(t, m, p, body) }, svc.ID)
		files := [][]byte{bigPDF(2*i, 3<<20), bigPDF(2*i+1, 2<<20)}
		rounds = append(rounds, round{handle, files})
		// Upload two files, kill the sender at a random moment of it.
		code := make(chan int, 1)
		go func() { code <- postFiles(a.addr, a.token, handle, files...) }()
		time.Sleep(time.Duration(rng.Int64N(int64(150 * time.Millisecond))))
		a.kill()
		got := <-code
		a.start(t)
		docs := referralDocs(t, func(p string) (int, []byte) { return a.do(t, "GET", p, "") }, handle)
		switch {
		case got == 201:
			acked++
			if len(docs) != 2 {
				lost++
				t.Errorf("kill %d: the upload was acknowledged, the sender holds %d documents", i, len(docs))
			}
		case len(docs) != 0 && len(docs) != 2:
			torn++
			t.Errorf("kill %d: the sender holds %d of the 2 documents of one upload", i, len(docs))
		case len(docs) == 0:
			// The worker sends them again.
			if code := postFiles(a.addr, a.token, handle, files...); code != 201 {
				t.Fatalf("upload again after the restart: %d", code)
			}
		}
	}
	t.Logf("%d kills, %d uploads acknowledged before the kill, %d torn, %d lost", runs, acked, torn, lost)
	// Every document opens at A to its bytes; B fetches every one and
	// opens it to the same bytes.
	for _, rd := range rounds {
		docs := referralDocs(t, func(p string) (int, []byte) { return a.do(t, "GET", p, "") }, rd.handle)
		for i, d := range docs {
			if code, body := a.do(t, "GET", "/api/v1/referrals/"+rd.handle+"/documents/"+d.ID, ""); code != 200 || !bytes.Equal(body, rd.files[i]) {
				t.Errorf("A's document %d of %s: %d, %d bytes, not the file uploaded", d.Number, rd.handle, code, len(body))
			}
		}
	}
	for _, rd := range rounds {
		waitFor(t, "B fetches the documents", 120*time.Second, func() bool {
			docs := referralDocs(t, func(p string) (int, []byte) { r := b.Do("GET", p, tb, nil); return r.Status, r.Body }, rd.handle)
			return len(docs) == 2 && docs[0].Stored && docs[1].Stored
		})
		docs := referralDocs(t, func(p string) (int, []byte) { r := b.Do("GET", p, tb, nil); return r.Status, r.Body }, rd.handle)
		for i, d := range docs {
			if res := b.Do("GET", "/api/v1/referrals/"+rd.handle+"/documents/"+d.ID, tb, nil); res.Status != 200 || !bytes.Equal(res.Body, rd.files[i]) {
				t.Errorf("B's document %d of %s: %d, not the file uploaded", d.Number, rd.handle, res.Status)
			}
		}
	}
	a.s.stop(t)
}

// follow makes the in-process node a follow the process node p, which
// accepts: a then replicates p's services.
func follow(t *testing.T, a *nodetest.Node, p *processNode) {
	t.Helper()
	if r := a.Do("POST", "/api/v1/partners", a.AdminToken(), fmt.Sprintf(`{"actor": "@%s@%s"}`, p.handle, p.addr)); r.Status != 202 {
		t.Fatalf("partner request: %d %s", r.Status, r.Body)
	}
	var id string
	waitFor(t, p.handle+" sees the request", 15*time.Second, func() bool {
		var rels struct {
			Partners []struct{ ID, Actor, State string }
		}
		_, body := p.do(t, "GET", "/api/v1/partners", "")
		json.Unmarshal(body, &rels)
		for _, r := range rels.Partners {
			if r.Actor == a.URL+"/actor" && r.State == "pending" {
				id = r.ID
			}
		}
		return id != ""
	})
	if code, body := p.do(t, "POST", "/api/v1/partners/"+id+"/accept", ""); code != 200 {
		t.Fatalf("accept: %d %s", code, body)
	}
}

func TestKillsDuringDocumentFetch(t *testing.T) {
	if testing.Short() {
		t.Skip("kills of real processes")
	}
	// A answers slowly (each read of a request waits), so that B's
	// fetches last long enough to be killed in the middle.
	a := nodetest.Start(t, 1, nodetest.Options{Latency: 150 * time.Millisecond})[0]
	ta := a.AdminToken()
	b := newProcessNode(t, "recipient")
	code, body := b.do(t, "POST", "/api/v1/services", `{"name": "Aide au logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "documents"]}}`)
	if code != 201 {
		t.Fatalf("service: %d %s", code, body)
	}
	var svc struct{ ID string }
	json.Unmarshal(body, &svc)
	follow(t, a, b)
	waitFor(t, "A replicates B's service", 15*time.Second, func() bool {
		return strings.Contains(string(a.Do("GET", "/api/v1/network/services", "", nil).Body), svc.ID)
	})
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 23))
	const runs = 6
	type round struct {
		handle string
		files  [][]byte
	}
	var rounds []round
	for i := range runs {
		handle := referFrom(t, func(m, p, body string) (int, []byte) { r := a.Do(m, p, ta, body); return r.Status, r.Body }, svc.ID)
		waitFor(t, "B receives the referral", 30*time.Second, func() bool {
			code, _ := b.do(t, "GET", "/api/v1/referrals/"+handle, "")
			return code == 200
		})
		files := [][]byte{bigPDF(100+3*i, 3<<20), bigPDF(101+3*i, 3<<20), bigPDF(102+3*i, 3<<20)}
		rounds = append(rounds, round{handle, files})
		// Added at A directly (its HTTP is slow on purpose).
		ref, err := a.Node().ReferralByHandle(context.Background(), handle)
		if err != nil {
			t.Fatal(err)
		}
		var in []referral.File
		for j, f := range files {
			in = append(in, referral.File{Name: fmt.Sprintf("piece-%d.pdf", j+1), Data: f})
		}
		if _, err := a.Node().AddDocuments(context.Background(), ref.ID, "worker", in); err != nil {
			t.Fatal(err)
		}
		// B fetches them at once: kill it at a random moment of that.
		time.Sleep(time.Duration(rng.Int64N(int64(900 * time.Millisecond))))
		b.kill()
		b.start(t)
		// Right after the restart, what B holds is whole.
		docs := referralDocs(t, func(p string) (int, []byte) { return b.do(t, "GET", p, "") }, handle)
		for _, d := range docs {
			if !d.Stored {
				continue
			}
			if code, body := b.do(t, "GET", "/api/v1/referrals/"+handle+"/documents/"+d.ID, ""); code != 200 || !bytes.Equal(body, files[d.Number-1]) {
				t.Errorf("kill %d: B's document %d is not whole (%d, %d bytes)", i, d.Number, code, len(body))
			}
		}
		t.Logf("kill %d: B held %d announced, %d fetched", i, len(docs), countStored(docs))
	}
	for _, rd := range rounds {
		waitFor(t, "B fetches every document", 120*time.Second, func() bool {
			docs := referralDocs(t, func(p string) (int, []byte) { return b.do(t, "GET", p, "") }, rd.handle)
			return len(docs) == 3 && countStored(docs) == 3
		})
		for _, d := range referralDocs(t, func(p string) (int, []byte) { return b.do(t, "GET", p, "") }, rd.handle) {
			if code, body := b.do(t, "GET", "/api/v1/referrals/"+rd.handle+"/documents/"+d.ID, ""); code != 200 || !bytes.Equal(body, rd.files[d.Number-1]) {
				t.Errorf("B's document %d of %s: %d, not the file uploaded", d.Number, rd.handle, code)
			}
		}
	}
	// A served each copy it was asked for: more copies than documents
	// means fetches the kills cut short and B asked for again.
	served := bytes.Count(a.Do("GET", "/api/v1/audit", ta, nil).Body, []byte(`"action":"document fetched"`))
	t.Logf("A served %d copies for %d documents", served, 3*runs)
	b.s.stop(t)
}

func countStored(docs []killDoc) int {
	n := 0
	for _, d := range docs {
		if d.Stored {
			n++
		}
	}
	return n
}
