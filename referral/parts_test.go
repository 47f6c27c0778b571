package referral_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

const docMarker = "Zorglub-Fiche-de-paie-6630" // inside the files: must never show in clear

// pdfWith is a small PDF whose text holds s.
func pdfWith(s string) []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + s + "\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

// pdfSized is a PDF of about n bytes.
func pdfSized(n int) []byte {
	return pdfWith(strings.Repeat("x", n))
}

// pngWith is a 2×2 PNG carrying s in a tEXt chunk.
func pngWith(s string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{200, 30, 30, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	raw := b.Bytes()
	chunk := append([]byte("tEXt"), append([]byte("Comment\x00"), s...)...)
	var c []byte
	c = binary.BigEndian.AppendUint32(c, uint32(len(chunk)-4))
	c = append(c, chunk...)
	c = binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(chunk))
	// after the signature (8) and IHDR (8+13+4)
	at := 8 + 25
	return append(append(append([]byte{}, raw[:at]...), c...), raw[at:]...)
}

// docPair is a pair whose consent and service both name documents, and
// a referral from A received by B.
func docPair(t *testing.T) (*pair, *referral.Referral) {
	t.Helper()
	p := newPair(t)
	p.a.target.Policy.Categories = append(p.a.target.Policy.Categories, directory.DataDocuments)
	p.a.consent.Categories = []directory.DataCategory{directory.DataIdentity, directory.DataDocuments}
	p.a.resident = json.RawMessage(`{"name": "` + marker + `"}`)
	out, err := p.a.create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.bSvc.Receive(p.a.ctx, incoming(out), p.local); err != nil {
		t.Fatal(err)
	}
	return p, out
}

// Documents in the referral package, over two real stores: checked by
// content, sealed to both nodes, announced, fetched by the recipient
// alone, opened (audited), and erased with the referral on both sides.
func TestDocumentsRoundTrip(t *testing.T) {
	p, out := docPair(t)
	ctx := p.a.ctx
	files := []referral.File{{Name: `C:\Users\sofia\Fiche de paie ` + docMarker + `.pdf`, Data: pdfWith(docMarker)}, {Name: "carte.PNG", Data: pngWith(docMarker)}}
	r, err := p.a.svc.AddDocuments(ctx, out.ID, "worker-1", files, p.a.theirs.Public(), p.a.target.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Documents) != 2 || len(r.Outbox.Documents) != 2 || r.Documents[0].Type != referral.TypePDF || r.Documents[1].Type != referral.TypePNG {
		t.Fatalf("documents = %+v, outbox %+v", r.Documents, r.Outbox)
	}
	// Nothing of the files in the referral record nor in what is owed.
	if b, _ := json.Marshal(r); bytes.Contains(b, []byte(docMarker)) || bytes.Contains(b, []byte("Fiche")) {
		t.Error("the referral record holds a file's content or name")
	}
	// B learns of them; a third node, or another referral's path, cannot.
	docs := r.Outbox.Documents
	if _, err := p.bSvc.DocumentsOffered(ctx, "https://c.example/actor", out.ID, docs, p.a.target.Policy); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("documents offered by a third node: %v", err)
	}
	bad := slices.Clone(docs)
	bad[0].ID = "https://a.example/referrals/other/documents/x"
	if _, err := p.bSvc.DocumentsOffered(ctx, out.Sender, out.ID, bad, p.a.target.Policy); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("a document outside its referral: %v", err)
	}
	if _, err := p.bSvc.DocumentsOffered(ctx, out.Sender, out.ID+"-unknown", docs, p.a.target.Policy); !errors.Is(err, referral.ErrNotYet) {
		t.Errorf("documents of a referral not received yet: %v", err)
	}
	for range 2 { // announced twice: taken once
		if _, err := p.bSvc.DocumentsOffered(ctx, out.Sender, out.ID, docs, p.a.target.Policy); err != nil {
			t.Fatal(err)
		}
	}
	pending, _ := p.bSvc.PendingDocuments(ctx)
	if len(pending) != 2 {
		t.Fatalf("B has %d documents to fetch, want 2", len(pending))
	}
	// A serves each copy to B alone.
	for _, d := range docs {
		if _, err := p.a.svc.OutgoingDocument(ctx, out.ID, d.ID, "https://c.example/actor"); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("A serves a document to a third node: %v", err)
		}
		sealed, err := p.a.svc.OutgoingDocument(ctx, out.ID, d.ID, out.Recipient)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte(docMarker)) {
			t.Error("the copy sent holds the file in clear")
		}
		// A copy altered on the way is dropped, not stored.
		if d.ID == docs[0].ID {
			torn := append([]byte{}, sealed[:len(sealed)-1]...)
			torn = append(torn, sealed[len(sealed)-1]^1)
			if err := p.bSvc.StoreDocument(ctx, out.ID, d.ID, torn); !errors.Is(err, referral.ErrDocument) {
				t.Errorf("an altered copy: %v", err)
			}
			if _, err := p.bSvc.DocumentsOffered(ctx, out.Sender, out.ID, docs[:1], p.a.target.Policy); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.bSvc.StoreDocument(ctx, out.ID, d.ID, sealed); err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range docs {
		f, err := p.bSvc.OpenDocument(ctx, out.ID, d.ID, "b-worker")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Data, files[i].Data) {
			t.Errorf("document %d opens to other bytes at B", i)
		}
		if want := []string{"Fiche de paie " + docMarker + ".pdf", "carte.png"}[i]; f.Name != want {
			t.Errorf("document %d is named %q at B, want %q", i, f.Name, want)
		}
	}
	if f, err := p.a.svc.OpenDocument(ctx, out.ID, r.Documents[1].ID, "worker-1"); err != nil || !bytes.Equal(f.Data, files[1].Data) {
		t.Errorf("A opens its own copy: %v", err)
	}
	var audit []string
	p.b.st.ForEachAudit(ctx, func(e *referral.AuditEntry) error {
		audit = append(audit, e.Who+" "+e.Action)
		if strings.Contains(e.Detail, docMarker) || strings.Contains(e.Detail, "Fiche") {
			t.Errorf("the audit line %+v names the file", e)
		}
		return nil
	})
	if !slices.Contains(audit, "b-worker document opened") || !slices.Contains(audit, "https://a.example/actor document received") {
		t.Errorf("B's audit log: %q", audit)
	}

	// Withdrawal: A erases both copies; B erases its own.
	if _, err := p.a.svc.Withdraw(ctx, out.ID, "worker-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.bSvc.EraseRequested(ctx, out.ID, out.Sender); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		for _, c := range []referral.Copy{referral.CopyOwn, referral.CopyOut} {
			if _, err := p.a.st.Blob(ctx, out.ID, d.ID, c); !errors.Is(err, directory.ErrNotFound) {
				t.Errorf("A still holds a %s copy: %v", c, err)
			}
		}
		if _, err := p.b.st.Blob(ctx, out.ID, d.ID, referral.CopyOwn); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("B still holds its copy: %v", err)
		}
		if _, err := p.a.svc.OutgoingDocument(ctx, out.ID, d.ID, out.Recipient); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("A serves an erased document: %v", err)
		}
	}
	if _, err := p.a.svc.AddDocuments(ctx, out.ID, "worker-1", files[:1], p.a.theirs.Public(), p.a.target.Policy); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("a document added after the withdrawal: %v", err)
	}
}

// Files refused, each for its reason, and nothing stored.
func TestDocumentRefusals(t *testing.T) {
	exe := append([]byte("MZ\x90\x00\x03"), bytes.Repeat([]byte{0}, 200)...)
	html := []byte("<!doctype html><script>alert(1)</script>")
	big := pdfSized(referral.MaxDocumentBytes)
	tests := []struct {
		name   string
		files  []referral.File
		change func(p *pair)
		code   directory.Code
	}{
		{"an .exe renamed .pdf", []referral.File{{Name: "fiche.pdf", Data: exe}}, nil, referral.CodeDocType},
		{"HTML named .png", []referral.File{{Name: "photo.png", Data: html}}, nil, referral.CodeDocType},
		{"a PDF cut short", []referral.File{{Name: "a.pdf", Data: pdfWith("x")[:30]}}, nil, referral.CodeDocType},
		{"a PNG header alone", []referral.File{{Name: "a.png", Data: []byte("\x89PNG\r\n\x1a\nrest")}}, nil, referral.CodeDocType},
		{"too large", []referral.File{{Name: "a.pdf", Data: big}}, nil, referral.CodeDocTooLarge},
		{"empty", []referral.File{{Name: "a.pdf"}}, nil, referral.CodeDocEmpty},
		{"none", nil, nil, referral.CodeDocNone},
		{"too many", slices.Repeat([]referral.File{{Name: "a.pdf", Data: pdfWith("x")}}, referral.MaxDocuments+1), nil, referral.CodeDocTooMany},
		{"too heavy together", slices.Repeat([]referral.File{{Name: "a.pdf", Data: pdfSized(3 << 20)}}, 4), nil, referral.CodeDocTotal},
		{"consent without documents", []referral.File{{Name: "a.pdf", Data: pdfWith("x")}}, func(p *pair) {
			p.a.consent.Categories = []directory.DataCategory{directory.DataIdentity}
		}, referral.CodeDocNotConsented},
		{"service asking none", []referral.File{{Name: "a.pdf", Data: pdfWith("x")}}, func(p *pair) {
			p.a.target.Policy.Categories = slices.DeleteFunc(p.a.target.Policy.Categories, func(c directory.DataCategory) bool { return c == directory.DataDocuments })
		}, referral.CodeDocNotAsked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t)
			p.a.target.Policy.Categories = append(p.a.target.Policy.Categories, directory.DataDocuments)
			p.a.consent.Categories = []directory.DataCategory{directory.DataIdentity, directory.DataDocuments}
			p.a.resident = json.RawMessage(`{"name": "` + marker + `"}`)
			if tt.change != nil {
				tt.change(p)
			}
			out, err := p.a.create()
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.a.svc.AddDocuments(p.a.ctx, out.ID, "w", tt.files, p.a.theirs.Public(), p.a.target.Policy)
			pr, _ := directory.AsProblems(err)
			if !errors.Is(err, referral.ErrRefused) || !slices.ContainsFunc(pr, func(x directory.Problem) bool { return x.Code == tt.code }) {
				t.Fatalf("err = %v, want the code %s", err, tt.code)
			}
			got, _ := p.a.st.Referral(p.a.ctx, out.ID)
			if len(got.Documents) != 0 || !got.Outbox.Empty() && len(got.Outbox.Documents) != 0 {
				t.Errorf("a refused upload left %d documents", len(got.Documents))
			}
		})
	}
	// Only the sender adds documents; none once the referral is closed.
	p, out := docPair(t)
	if _, err := p.bSvc.AddDocuments(p.a.ctx, out.ID, "b", []referral.File{{Name: "a.pdf", Data: pdfWith("x")}}, p.a.theirs.Public(), p.a.target.Policy); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("the recipient adds a document: %v", err)
	}
	if _, err := p.bSvc.Transition(p.a.ctx, out.ID, referral.Rejected, referral.Recipient, "b", "no-capacity"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.svc.Remote(p.a.ctx, out.ID, out.Recipient, referral.Rejected, "no-capacity"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.svc.AddDocuments(p.a.ctx, out.ID, "w", []referral.File{{Name: "a.pdf", Data: pdfWith("x")}}, p.a.theirs.Public(), p.a.target.Policy); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("a document on a closed referral: %v", err)
	}
}

// File names are kept safe: no path, no control or bidirectional
// characters, bounded, ending as their type.
func TestDocumentNames(t *testing.T) {
	p, out := docPair(t)
	long := strings.Repeat("é", 300)
	files := []referral.File{
		{Name: "../../etc/passwd", Data: pdfWith("a")},
		{Name: "facture\u202Egnp.exe", Data: pngWith("b")},
		{Name: long + ".pdf", Data: pdfWith("c")},
		{Name: " . ", Data: pdfWith("d")},
		{Name: "scan\"; name=x.jpeg", Data: pdfWith("e")},
	}
	r, err := p.a.svc.AddDocuments(p.a.ctx, out.ID, "w", files, p.a.theirs.Public(), p.a.target.Policy)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"passwd.pdf", "facturegnp.exe.png", strings.Repeat("é", referral.MaxDocumentName-4) + ".pdf", "document.pdf", "scan__ name=x.jpeg.pdf"}
	for i, d := range r.Documents {
		f, err := p.a.svc.OpenDocument(p.a.ctx, out.ID, d.ID, "w")
		if err != nil {
			t.Fatal(err)
		}
		if f.Name != want[i] {
			t.Errorf("%q is kept as %q, want %q", files[i].Name, f.Name, want[i])
		}
	}
}

// The thread in the referral package: sealed both ways, read (audited),
// taken once, refused from a third party, flood-limited, closed with the
// referral, erased with its data.
func TestThread(t *testing.T) {
	p, out := docPair(t)
	ctx := p.a.ctx
	const msg = "Bonjour, " + docMarker + " arrive lundi.\nMerci"
	r, err := p.a.svc.WriteMessage(ctx, out.ID, "worker-1", "  "+msg+"\r\n", p.a.theirs.Public())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Outbox.Messages) != 1 {
		t.Fatalf("owed: %+v", r.Outbox)
	}
	m := r.Outbox.Messages[0]
	if b, _ := json.Marshal(r); bytes.Contains(b, []byte(docMarker)) {
		t.Error("the referral record holds the message in clear")
	}
	in := referral.IncomingMessage{ID: m.ID, Referral: out.ID, At: m.At, Sealed: m.Sealed}
	if err := p.bSvc.ReceiveMessage(ctx, "https://c.example/actor", in); !errors.Is(err, referral.ErrRefused) {
		t.Errorf("a message from a third node: %v", err)
	}
	for range 2 {
		if err := p.bSvc.ReceiveMessage(ctx, out.Sender, in); err != nil {
			t.Fatal(err)
		}
	}
	th, err := p.bSvc.Thread(ctx, out.ID, "b-worker")
	if err != nil || len(th) != 1 || th[0].Text != msg || th[0].Mine || th[0].Side != referral.Sender {
		t.Fatalf("B reads %+v, %v", th, err)
	}
	// B's staff are told once that A wrote, with nothing of what.
	evs, err := p.b.st.PendingEvents(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	told := 0
	for _, ev := range evs {
		if ev.Kind == "referral-message" && ev.Referral == out.ID {
			told++
		}
		if b, _ := json.Marshal(ev); bytes.Contains(b, []byte(docMarker)) {
			t.Error("a notification event holds the message")
		}
	}
	if told != 1 {
		t.Errorf("%d message events at B, want 1 (the message came twice)", told)
	}
	stored, _ := p.b.st.Messages(ctx, out.ID)
	if b, _ := json.Marshal(stored); bytes.Contains(b, []byte(docMarker)) {
		t.Error("B stores the message in clear")
	}
	// A's own copy reads at A.
	if th, err := p.a.svc.Thread(ctx, out.ID, "worker-1"); err != nil || len(th) != 1 || !th[0].Mine || th[0].Author != "worker-1" {
		t.Fatalf("A reads %+v, %v", th, err)
	}
	// Rate: 30 an hour on a side (the clock stands still here).
	for i := 1; i < referral.MessagesPerHour; i++ {
		if _, err := p.a.svc.WriteMessage(ctx, out.ID, "worker-1", "suite", p.a.theirs.Public()); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	_, err = p.a.svc.WriteMessage(ctx, out.ID, "worker-1", "une de trop", p.a.theirs.Public())
	if pr, _ := directory.AsProblems(err); !errors.Is(err, referral.ErrFlood) || len(pr) != 1 || pr[0].Code != referral.CodeThreadFlood {
		t.Errorf("the 31st message of the hour: %v", err)
	}
	for _, text := range []string{"", " \n ", strings.Repeat("a", referral.MaxMessageChars+1)} {
		if _, err := p.bSvc.WriteMessage(ctx, out.ID, "b", text, p.a.svc.Keys.Public()); !errors.Is(err, referral.ErrRefused) {
			t.Errorf("a message of %d characters: %v", len(text), err)
		}
	}
	// The other side has its own count.
	if _, err := p.bSvc.WriteMessage(ctx, out.ID, "b", "Reçu, merci.", p.a.svc.Keys.Public()); err != nil {
		t.Fatal(err)
	}
	// Closed: no more messages, either side; one written before the
	// close still arrives.
	late, _ := p.bSvc.Store.Referral(ctx, out.ID)
	lateMsg := late.Outbox.Messages[0]
	if _, err := p.bSvc.Transition(ctx, out.ID, referral.Rejected, referral.Recipient, "b", "no-capacity"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.a.svc.Remote(ctx, out.ID, out.Recipient, referral.Rejected, "no-capacity"); err != nil {
		t.Fatal(err)
	}
	if err := p.a.svc.ReceiveMessage(ctx, out.Recipient, referral.IncomingMessage{ID: lateMsg.ID, Referral: out.ID, At: lateMsg.At, Sealed: lateMsg.Sealed}); err != nil {
		t.Errorf("a message written before the close: %v", err)
	}
	for _, side := range []*referral.Service{p.a.svc, p.bSvc} {
		_, err := side.WriteMessage(ctx, out.ID, "w", "encore un mot", p.a.theirs.Public())
		if pr, _ := directory.AsProblems(err); len(pr) != 1 || pr[0].Code != referral.CodeThreadClosed {
			t.Errorf("a message on a closed referral: %v", err)
		}
	}
	p.a.svc.Now = func() time.Time { return t0.Add(time.Hour) }
	forged, _ := referral.Seal(p.a.svc.Keys.Public(), referral.Binding{Referral: out.ID, Sender: out.Sender, Recipient: out.Recipient}, []byte(`{"text":"x"}`))
	if err := p.a.svc.ReceiveMessage(ctx, out.Recipient, referral.IncomingMessage{ID: "https://b.example/messages/after", Referral: out.ID, At: t0.Add(time.Hour), Sealed: forged}); !errors.Is(err, referral.ErrTransition) {
		t.Errorf("a message written after the close: %v", err)
	}
	// Erased with the data.
	if _, err := p.a.svc.EraseOnRequest(ctx, out.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := p.a.st.Messages(ctx, out.ID); len(msgs) != 0 {
		t.Errorf("A keeps %d messages after erasure", len(msgs))
	}
	if th, err := p.a.svc.Thread(ctx, out.ID, "w"); err != nil || len(th) != 0 {
		t.Errorf("A's thread after erasure: %v, %v", th, err)
	}
}

// A partner that writes past the rate (its node not limiting it) is cut
// on arrival: messages are counted by when they were written (30 in an
// hour) and by when they arrived (60 in an hour); the other node is to
// try again later (ErrFlood), nothing is recorded.
func TestThreadFloodFromPartner(t *testing.T) {
	p, out := docPair(t)
	ctx := p.a.ctx
	var sent []referral.OutMessage
	write := func(at time.Time, n int) {
		p.a.svc.Now = func() time.Time { return at }
		for range n {
			r, err := p.a.svc.WriteMessage(ctx, out.ID, "w", "message", p.a.theirs.Public())
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, r.Outbox.Messages[len(r.Outbox.Messages)-1])
		}
	}
	write(t0, 30)
	write(t0.Add(61*time.Minute), 30)
	write(t0.Add(122*time.Minute), 1)
	receive := func(m referral.OutMessage) error {
		return p.bSvc.ReceiveMessage(ctx, out.Sender, referral.IncomingMessage{ID: m.ID, Referral: out.ID, At: m.At, Sealed: m.Sealed})
	}
	// B's clock stands at t0 + 3 h: all 61 arrive within its hour.
	p.bSvc.Now = func() time.Time { return t0.Add(3 * time.Hour) }
	for i, m := range sent[:60] {
		if err := receive(m); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if err := receive(sent[60]); !errors.Is(err, referral.ErrFlood) {
		t.Errorf("the 61st message within an hour of arrival: %v", err)
	}
	// Thirty written in one hour: a 31st of that hour is refused too.
	forgedAt := referral.IncomingMessage{ID: sent[60].ID, Referral: out.ID, At: t0.Add(30 * time.Minute), Sealed: sent[60].Sealed}
	p.bSvc.Now = func() time.Time { return t0.Add(6 * time.Hour) }
	if err := p.bSvc.ReceiveMessage(ctx, out.Sender, forgedAt); !errors.Is(err, referral.ErrFlood) {
		t.Errorf("a 31st message dated within the first hour: %v", err)
	}
	if msgs, _ := p.b.st.Messages(ctx, out.ID); len(msgs) != 60 {
		t.Errorf("B recorded %d messages, want 60", len(msgs))
	}
}
