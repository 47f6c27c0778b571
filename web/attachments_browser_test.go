package web_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// allowDownloads makes the browser save downloads in dir and returns a
// function that waits for the next one: the file's bytes and the name
// the server suggested.
func allowDownloads(t *testing.T, ctx context.Context, dir string) func(what string) ([]byte, string) {
	t.Helper()
	var mu sync.Mutex
	names := map[string]string{} // guid → suggested name
	done := map[string]bool{}
	must(t, "listen to downloads", chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *cdpbrowser.EventDownloadWillBegin:
			names[e.GUID] = e.SuggestedFilename
		case *cdpbrowser.EventDownloadProgress:
			if e.State == cdpbrowser.DownloadProgressStateCompleted {
				done[e.GUID] = true
			}
		}
	}))
	on := true
	do(t, ctx, "allow downloads", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &on})
		return err
	}))
	seen := map[string]bool{}
	return func(what string) ([]byte, string) {
		t.Helper()
		var guid string
		waitUntil(t, what, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for g := range done {
				if !seen[g] {
					guid = g
					return true
				}
			}
			return false
		})
		seen[guid] = true
		b, err := os.ReadFile(filepath.Join(dir, guid))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		mu.Lock()
		defer mu.Unlock()
		return b, names[guid]
	}
}

// The referral's documents and thread in the browser (issue 19, points 5
// and 6), in French and Dutch, at phone and desktop widths: Sofia at A
// refers a resident whose consent covers copies of her documents,
// attaches a PDF and a PNG on the referral's page and writes to the
// partner; Jan at B sees the documents arrive, downloads the PDF (the
// same bytes, under its name), reads the message and answers; Sofia
// reads the answer. Pages fit the width, pass axe, speak the worker's
// language, and show no id or actor URL.
func TestBrowserDocumentsAndThread(t *testing.T) {
	a, b, svc := documentNodes(t, nodetest.Options{})
	axe := axeSource(t)
	dir := t.TempDir()
	pdf, img := samplePDF(t, "Sofia-test"), samplePNG("Sofia-test")
	pdfPath, pngPath := filepath.Join(dir, "Attestation CPAS.pdf"), filepath.Join(dir, "carte-identite.png")
	os.WriteFile(pdfPath, pdf, 0o644)
	os.WriteFile(pngPath, img, 0o644)
	runs := []struct {
		lang                                       string
		attach, docsTitle, threadTitle, doc1, doc2 string
		partnerAtA, partnerAtB, us, service        string
	}{
		{"fr", "copies de ses documents", "Documents", "Messages avec le partenaire", "Document 1 · PDF", "Document 2 · image PNG",
			"Maison de quartier Sud", "Maison de quartier Midi", "(vous)", "Aide au logement"},
		{"nl", "kopieën van haar documenten", "Documenten", "Berichten met de partner", "Document 1 · PDF", "Document 2 · PNG-afbeelding",
			"Buurthuis Zuid", "Maison de quartier Midi", "(u)", "Woonhulp"},
	}
	for _, run := range runs {
		ctxA, ctxB := browser(t, run.lang), browser(t, run.lang)
		login(t, ctxA, a, "sofia@mq-midi.be", "worker-password")
		login(t, ctxB, b, "jan@mq-sud.be", "worker-password")
		download := allowDownloads(t, ctxB, t.TempDir())
		foreign := foreignFragments(t, run.lang)
		for _, width := range []int64{360, 1280} {
			where := fmt.Sprintf("%s-%d", run.lang, width)
			// The form: the service asks for documents; the resident agrees
			// to share copies.
			do(t, ctxA, where+": open the form", chromedp.EmulateViewport(width, 800),
				chromedp.Navigate(a.URL+"/refer?service="+b.URL+"/services/"+svc), chromedp.WaitVisible(chromedp.CSS("form.refer")))
			if got := text(t, ctxA, `label:has(#attach-documents)`); !strings.Contains(got, run.attach) {
				t.Errorf("%s: the documents' agreement reads %q", where, got)
			}
			do(t, ctxA, where+": fill and send", chromedp.SendKeys(chromedp.CSS("#f-name"), "Amina Testmarker"),
				chromedp.Click(chromedp.CSS("#attach-documents")), chromedp.Click(chromedp.CSS(`[name=agreed]`)))
			checkAccessibility(t, ctxA, axe, "refer form with documents "+where)
			screenshot(t, ctxA, "documents-refer-"+where)
			do(t, ctxA, where+": send", chromedp.Click(chromedp.CSS("#send")), chromedp.WaitVisible(chromedp.CSS("#documents-form")))
			page := get(t, ctxA, "address", chromedp.Location())

			// Attach a PDF and a PNG.
			do(t, ctxA, where+": attach", chromedp.SetUploadFiles(chromedp.CSS("#document-files"), []string{pdfPath, pngPath}),
				chromedp.Click(chromedp.CSS("#documents-add")), chromedp.WaitVisible(chromedp.CSS("#documents-list")))
			items := get(t, ctxA, "documents", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#documents-list li")].map(li => li.innerText)`))
			if len(items) != 2 || !strings.Contains(items[0], run.doc1) || !strings.Contains(items[1], run.doc2) {
				t.Errorf("%s: A lists the documents as %q", where, items)
			}
			// A message to the partner, once the page the upload led to
			// is whole: a click on a page still loading can miss.
			waitUntil(t, where+": the page after the upload, whole", func() bool {
				return get(t, ctxA, "ready state", chromedp.Evaluate[bool](`document.readyState === "complete"`))
			})
			do(t, ctxA, where+": write", chromedp.SendKeys(chromedp.CSS("#message"), "Bonjour Jan,\nelle passera lundi à 10 h."),
				chromedp.Click(chromedp.CSS("#message-send")), chromedp.WaitVisible(chromedp.CSS("#thread-list")))
			if h := text(t, ctxA, "h2#thread"); h != run.threadTitle {
				t.Errorf("%s: the thread's title reads %q", where, h)
			}
			if sw := get(t, ctxA, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
				t.Errorf("%s: the sender's referral page is %.0f px wide", where, sw)
			}
			checkAccessibility(t, ctxA, axe, "referral with documents at A "+where)
			checkLanguage(t, ctxA, run.lang, "referral at A "+where, foreign, run.partnerAtA, run.service, "Maison de quartier Midi", "Amina Testmarker", "Bonjour Jan", "elle passera lundi à 10 h.")
			screenshot(t, ctxA, "documents-sender-"+where)

			// At B: the documents arrive, the PDF downloads whole.
			pathB := b.URL + page[len(a.URL):]
			waitUntil(t, where+": B has both documents", func() bool {
				do(t, ctxB, where+": B's page", chromedp.EmulateViewport(width, 800), chromedp.Navigate(pathB), chromedp.WaitVisible(chromedp.CSS("#documents")))
				return get(t, ctxB, "download buttons", chromedp.Evaluate[float64](`document.querySelectorAll("button.download").length`)) == 2
			})
			itemsB := get(t, ctxB, "documents", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#documents-list li")].map(li => li.innerText)`))
			if len(itemsB) != 2 || !strings.Contains(itemsB[0], run.doc1) || !strings.Contains(itemsB[1], run.doc2) {
				t.Errorf("%s: B lists the documents as %q, want them numbered as at A", where, itemsB)
			}
			do(t, ctxB, where+": download the PDF", chromedp.Click(chromedp.CSS("#documents-list li:first-child button.download")))
			got, name := download(where + ": the PDF downloaded")
			if !bytes.Equal(got, pdf) || name != "Attestation CPAS.pdf" {
				t.Errorf("%s: B downloaded %d bytes named %q (equal %v)", where, len(got), name, bytes.Equal(got, pdf))
			}
			msgs := get(t, ctxB, "thread", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#thread-list li")].map(li => li.innerText)`))
			if len(msgs) != 1 || !strings.Contains(msgs[0], "elle passera lundi à 10 h.") || !strings.Contains(msgs[0], run.partnerAtB) {
				t.Errorf("%s: B's thread reads %q", where, msgs)
			}
			if hint := text(t, ctxB, "#message-hint"); hint == "" {
				t.Errorf("%s: the message form says nothing of consent", where)
			}
			do(t, ctxB, where+": answer", chromedp.SendKeys(chromedp.CSS("#message"), "Merci Sofia, c'est noté."),
				chromedp.Click(chromedp.CSS("#message-send")), chromedp.WaitVisible(chromedp.CSS("#thread-list li:nth-child(2)")))
			if sw := get(t, ctxB, where+" width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); sw > float64(width) {
				t.Errorf("%s: the recipient's referral page is %.0f px wide", where, sw)
			}
			checkAccessibility(t, ctxB, axe, "referral with documents at B "+where)
			checkLanguage(t, ctxB, run.lang, "referral at B "+where, foreign, run.partnerAtB, run.service, "Maison de quartier Sud", "Buurthuis Zuid", "Bonjour Jan", "elle passera lundi à 10 h.", "Merci Sofia, c'est noté.")
			screenshot(t, ctxB, "documents-recipient-"+where)

			// At A: the answer, under the partner's name.
			waitUntil(t, where+": A reads the answer", func() bool {
				do(t, ctxA, where+": reload", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#thread-list")))
				msgs = get(t, ctxA, "thread", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#thread-list li")].map(li => li.innerText)`))
				return len(msgs) == 2
			})
			if !strings.Contains(msgs[0], run.us) || !strings.Contains(msgs[1], run.partnerAtA) || !strings.Contains(msgs[1], "Merci Sofia") {
				t.Errorf("%s: A's thread reads %q", where, msgs)
			}
			do(t, ctxA, where+": scroll to the thread", chromedp.ScrollIntoView(chromedp.CSS("#thread")))
			time.Sleep(100 * time.Millisecond)
			screenshot(t, ctxA, "documents-thread-"+where)
		}
	}
}
