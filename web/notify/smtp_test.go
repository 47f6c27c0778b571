package notify_test

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
	"github.com/maillage/maillage/web/notify"
)

const testFrom = "Maison des Tilleuls <noreply@tilleuls.example>"

// newTestSMTP returns a mailer sending to a Mailpit, with no user.
func newTestSMTP(t *testing.T, mp *nodetest.Mailpit) *notify.SMTP {
	t.Helper()
	s, err := notify.NewSMTP(notify.SMTPConfig{URL: mp.SMTPURL(), From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func send(t *testing.T, s *notify.SMTP, m *notify.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Send(ctx, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

// only waits for the one message Mailpit should hold and reads it.
func only(t *testing.T, mp *nodetest.Mailpit) nodetest.MailpitFull {
	t.Helper()
	got := mp.WaitFor(t, 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("Mailpit holds %d messages, want 1", len(got))
	}
	return mp.Message(t, got[0].ID)
}

func writePassword(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func TestSMTPConfig(t *testing.T) {
	good := writePassword(t, "s3cret\n", 0o600)
	open := writePassword(t, "s3cret\n", 0o640)
	empty := writePassword(t, "\n", 0o600)
	twoLines := writePassword(t, "s3cret\nmore\n", 0o600)
	tests := []struct {
		name     string
		c        notify.SMTPConfig
		host     string // Host(), when valid
		security string
		err      string // part of the error, when not
	}{
		{"starttls by default", notify.SMTPConfig{URL: "smtp://mail.example.org", From: "noreply@example.org"},
			"mail.example.org:587", notify.SecuritySTARTTLS, ""},
		{"port given", notify.SMTPConfig{URL: "smtp://mail.example.org:2525", From: "noreply@example.org"},
			"mail.example.org:2525", notify.SecuritySTARTTLS, ""},
		{"smtps", notify.SMTPConfig{URL: "smtps://mail.example.org", From: "noreply@example.org"},
			"mail.example.org:465", notify.SecurityTLS, ""},
		{"smtps to loopback stays TLS", notify.SMTPConfig{URL: "smtps://127.0.0.1:1465", From: "noreply@example.org"},
			"127.0.0.1:1465", notify.SecurityTLS, ""},
		{"localhost", notify.SMTPConfig{URL: "smtp://localhost:1025", From: "noreply@example.org"},
			"localhost:1025", notify.SecurityNone, ""},
		{"127.0.0.0/8", notify.SMTPConfig{URL: "smtp://127.0.0.53:25", From: "noreply@example.org"},
			"127.0.0.53:25", notify.SecurityNone, ""},
		{"::1", notify.SMTPConfig{URL: "smtp://[::1]:25", From: "noreply@example.org"},
			"[::1]:25", notify.SecurityNone, ""},
		{"private network needs STARTTLS", notify.SMTPConfig{URL: "smtp://192.168.1.10", From: "noreply@example.org"},
			"192.168.1.10:587", notify.SecuritySTARTTLS, ""},
		{"a name that ends like localhost", notify.SMTPConfig{URL: "smtp://localhost.example.org", From: "noreply@example.org"},
			"localhost.example.org:587", notify.SecuritySTARTTLS, ""},
		{"user and password file", notify.SMTPConfig{URL: "smtp://noreply%40tilleuls.example@mail.example.org", From: testFrom, PasswordFile: good},
			"mail.example.org:587", notify.SecuritySTARTTLS, ""},

		{"no URL", notify.SMTPConfig{From: "noreply@example.org"}, "", "", "no URL"},
		{"other scheme", notify.SMTPConfig{URL: "https://mail.example.org", From: "noreply@example.org"}, "", "", "smtps://"},
		{"no scheme", notify.SMTPConfig{URL: "mail.example.org:587", From: "noreply@example.org"}, "", "", "must be smtp://"},
		{"password in the URL", notify.SMTPConfig{URL: "smtp://bob:hunter2@mail.example.org", From: "noreply@example.org"}, "", "", "--smtp-password-file"},
		{"path", notify.SMTPConfig{URL: "smtp://mail.example.org/inbox", From: "noreply@example.org"}, "", "", "path"},
		{"query", notify.SMTPConfig{URL: "smtp://mail.example.org?tls=off", From: "noreply@example.org"}, "", "", "query"},
		{"no host", notify.SMTPConfig{URL: "smtp://:587", From: "noreply@example.org"}, "", "", "names no server"},
		{"bad port", notify.SMTPConfig{URL: "smtp://mail.example.org:99999", From: "noreply@example.org"}, "", "", "port"},
		{"no sender", notify.SMTPConfig{URL: "smtp://mail.example.org"}, "", "", "--mail-from"},
		{"bad sender", notify.SMTPConfig{URL: "smtp://mail.example.org", From: "Tilleuls"}, "", "", "not one e-mail address"},
		{"two senders", notify.SMTPConfig{URL: "smtp://mail.example.org", From: "a@example.org, b@example.org"}, "", "", "not one e-mail address"},
		{"sender with a line break", notify.SMTPConfig{URL: "smtp://mail.example.org", From: "a@example.org\r\nBcc: b@example.org"}, "", "", "control characters"},
		{"user without password file", notify.SMTPConfig{URL: "smtp://bob@mail.example.org", From: "noreply@example.org"}, "", "", "--smtp-password-file"},
		{"password file without user", notify.SMTPConfig{URL: "smtp://mail.example.org", From: "noreply@example.org", PasswordFile: good}, "", "", "names no user"},
		{"password file missing", notify.SMTPConfig{URL: "smtp://bob@mail.example.org", From: "noreply@example.org", PasswordFile: good + ".missing"}, "", "", "no such file"},
		{"password file open to others", notify.SMTPConfig{URL: "smtp://bob@mail.example.org", From: "noreply@example.org", PasswordFile: open}, "", "", "chmod 600 " + open},
		{"password file empty", notify.SMTPConfig{URL: "smtp://bob@mail.example.org", From: "noreply@example.org", PasswordFile: empty}, "", "", "is empty"},
		{"password file of two lines", notify.SMTPConfig{URL: "smtp://bob@mail.example.org", From: "noreply@example.org", PasswordFile: twoLines}, "", "", "several lines"},
	}
	for _, tt := range tests {
		s, err := notify.NewSMTP(tt.c)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: NewSMTP(%q) = %v, want an error with %q", tt.name, tt.c.URL, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s: the error repeats the password: %v", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: NewSMTP(%q) = %v", tt.name, tt.c.URL, err)
			continue
		}
		if got := s.Host(); got != tt.host {
			t.Errorf("%s: Host() = %q, want %q", tt.name, got, tt.host)
		}
		if got := s.Security(); got != tt.security {
			t.Errorf("%s: Security() = %q, want %q", tt.name, got, tt.security)
		}
	}
}

// Text and HTML arrive as two alternatives of one message, in UTF-8, with
// the headers of an automatic mail and no unsubscribe headers unless set.
func TestSMTPSendMultipart(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	s := newTestSMTP(t, mp)
	const subject = "Orientation reçue — l’accueil de Noël"
	const text = "Bonjour,\n\nUne orientation est arrivée pour « Aide alimentaire ». Citroën, été, l’équipe.\n"
	const html = "<p>Bonjour,</p><p>Une orientation est arrivée pour « Aide alimentaire ». Citroën, été, l’équipe.</p>"
	send(t, s, &notify.Message{ID: "ev1/u1", To: "Zoë Lefèvre <zoe@tilleuls.example>", Subject: subject, Text: text, HTML: html})

	m := only(t, mp)
	if m.Subject != subject {
		t.Errorf("Subject = %q, want %q", m.Subject, subject)
	}
	if got := strings.ReplaceAll(m.Text, "\r\n", "\n"); strings.TrimSpace(got) != strings.TrimSpace(text) {
		t.Errorf("Text = %q, want %q", m.Text, text)
	}
	if !strings.Contains(m.HTML, html) {
		t.Errorf("HTML = %q, want it to hold %q", m.HTML, html)
	}
	if m.From.Address != "noreply@tilleuls.example" || m.From.Name != "Maison des Tilleuls" {
		t.Errorf("From = %+v", m.From)
	}
	if len(m.To) != 1 || m.To[0].Address != "zoe@tilleuls.example" || m.To[0].Name != "Zoë Lefèvre" {
		t.Errorf("To = %+v, want Zoë Lefèvre <zoe@tilleuls.example>", m.To)
	}
	for name, want := range map[string]string{"Auto-Submitted": "auto-generated", "Mime-Version": "1.0"} {
		if got := m.Headers[name]; len(got) != 1 || got[0] != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if len(m.Headers["Date"]) != 1 {
		t.Errorf("no Date header: %v", m.Headers)
	}
	for _, h := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "User-Agent", "X-Mailer"} {
		if v, ok := m.Headers[h]; ok {
			t.Errorf("header %s = %q, want none", h, v)
		}
	}
	raw := mp.Raw(t, mp.Messages(t)[0].ID)
	for _, want := range []string{"multipart/alternative", "text/plain; charset=UTF-8", "text/html; charset=UTF-8"} {
		if !strings.Contains(raw, want) {
			t.Errorf("the source lacks %q:\n%s", want, raw)
		}
	}
}

func TestSMTPUnsubscribeHeaders(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	s := newTestSMTP(t, mp)
	const link = "https://tilleuls.example/unsubscribe?u=u1&t=received&k=abc"
	send(t, s, &notify.Message{ID: "ev2/u1", To: "zoe@tilleuls.example", Subject: "s", Text: "t", HTML: "<p>t</p>", Unsubscribe: link})
	m := only(t, mp)
	if got := m.Headers["List-Unsubscribe"]; len(got) != 1 || got[0] != "<"+link+">" {
		t.Errorf("List-Unsubscribe = %q, want <%s>", got, link)
	}
	if got := m.Headers["List-Unsubscribe-Post"]; len(got) != 1 || got[0] != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q, want List-Unsubscribe=One-Click", got)
	}

	err := s.Send(context.Background(), &notify.Message{ID: "ev3/u1", To: "zoe@tilleuls.example", Subject: "s", Text: "t",
		Unsubscribe: "https://tilleuls.example/u\r\nBcc: evil@example.org"})
	if !errors.Is(err, notify.ErrPermanent) {
		t.Errorf("Send(link with a line break) = %v, want ErrPermanent", err)
	}
}

// The same message id gives the same Message-ID, in a form any server
// takes; different ids give different ones.
func TestSMTPMessageIDStable(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	s := newTestSMTP(t, mp)
	for _, id := range []string{"ev1/u:1", "ev1/u:1", "ev1:u/1", "digest/u1/20260102T08"} {
		send(t, s, &notify.Message{ID: id, To: "zoe@tilleuls.example", Subject: id, Text: "t"})
	}
	ids := map[string]string{}
	for _, m := range mp.WaitFor(t, 4, 10*time.Second) {
		if prev, ok := ids[m.Subject]; ok && prev != m.MessageID {
			t.Errorf("id %q: Message-IDs %q and %q, want the same", m.Subject, prev, m.MessageID)
		}
		ids[m.Subject] = m.MessageID
	}
	want := map[string]string{
		"ev1/u:1":               "ev1=2Fu=3A1@tilleuls.example",
		"ev1:u/1":               "ev1=3Au=2F1@tilleuls.example",
		"digest/u1/20260102T08": "digest=2Fu1=2F20260102T08@tilleuls.example",
	}
	for id, w := range want {
		if ids[id] != w {
			t.Errorf("id %q: Message-ID %q, want %q", id, ids[id], w)
		}
	}
}

func TestSMTPAttachment(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	s := newTestSMTP(t, mp)
	pdf := []byte("%PDF-1.4\n% reçu de consentement\n%%EOF\n")
	send(t, s, &notify.Message{ID: "receipt/r1", To: "resident@example.org", Subject: "Votre reçu", Text: "Voici votre reçu.", HTML: "<p>Voici votre reçu.</p>",
		Attachments: []notify.Attachment{{Name: "reçu-consentement.pdf", ContentType: "application/pdf", Data: pdf}}})
	m := only(t, mp)
	if len(m.Attachments) != 1 {
		t.Fatalf("Attachments = %+v, want one", m.Attachments)
	}
	a := m.Attachments[0]
	if a.FileName != "reçu-consentement.pdf" || a.ContentType != "application/pdf" || a.Size != len(pdf) {
		t.Errorf("attachment = %+v, want reçu-consentement.pdf, application/pdf, %d bytes", a, len(pdf))
	}
	if !strings.Contains(m.Text, "Voici votre reçu.") || !strings.Contains(m.HTML, "<p>Voici votre reçu.</p>") {
		t.Errorf("bodies beside the attachment: text %q, HTML %q", m.Text, m.HTML)
	}
}

// Line breaks in what goes into headers never start a header of their own.
func TestSMTPHeaderInjection(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	s := newTestSMTP(t, mp)
	send(t, s, &notify.Message{ID: "ev/inject\r\nBcc: evil@example.org", To: "zoe@tilleuls.example",
		Subject: "Hello\r\nBcc: evil@example.org", Text: "t", HTML: "<p>t</p>",
		Attachments: []notify.Attachment{{Name: "a\r\nBcc: evil@example.org\r\n.pdf", ContentType: "application/pdf\r\nBcc: evil@example.org", Data: []byte("x")}}})
	m := only(t, mp)
	if len(m.To) != 1 || len(m.Cc) != 0 || len(m.Bcc) != 0 {
		t.Errorf("recipients: To %v, Cc %v, Bcc %v; want zoe alone", m.To, m.Cc, m.Bcc)
	}
	if _, ok := m.Headers["Bcc"]; ok {
		t.Errorf("a Bcc header came through: %v", m.Headers["Bcc"])
	}
	if m.Subject != "Hello Bcc: evil@example.org" {
		t.Errorf("Subject = %q, want the line break turned into a space", m.Subject)
	}
	raw := mp.Raw(t, mp.Messages(t)[0].ID)
	for _, line := range strings.Split(raw, "\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") {
			t.Errorf("the source has a line %q:\n%s", line, raw)
		}
	}

	for _, to := range []string{"zoe@tilleuls.example\r\nBcc: evil@example.org", "zoe@tilleuls.example, evil@example.org", "zoe"} {
		err := s.Send(context.Background(), &notify.Message{ID: "ev/x", To: to, Subject: "s", Text: "t"})
		if !errors.Is(err, notify.ErrPermanent) || strings.Contains(err.Error(), "zoe") {
			t.Errorf("Send(To %q) = %v, want ErrPermanent without the address", to, err)
		}
	}
	if n := len(mp.Messages(t)); n != 1 {
		t.Errorf("Mailpit holds %d messages, want the first alone", n)
	}
}

// checkErr checks that a sending error is permanent or not, as wanted,
// and names no address.
func checkErr(t *testing.T, what string, err error, permanent bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: Send succeeded", what)
	}
	if errors.Is(err, notify.ErrPermanent) != permanent {
		t.Errorf("%s: Send = %v; permanent: %v, want %v", what, err, !permanent, permanent)
	}
	if strings.Contains(err.Error(), "@") {
		t.Errorf("%s: the error names an address: %v", what, err)
	}
}

func TestSMTPRefusedRecipient(t *testing.T) {
	mp := nodetest.StartMailpit(t, `--smtp-allowed-recipients=@tilleuls\.example$`)
	s := newTestSMTP(t, mp)
	err := s.Send(context.Background(), &notify.Message{ID: "ev/1", To: "Nobody <nobody@elsewhere.example>", Subject: "s", Text: "t"})
	checkErr(t, "refused recipient", err, true)
	if !strings.Contains(err.Error(), "550") {
		t.Errorf("the error does not give the server's answer: %v", err)
	}
	t.Logf("refused recipient: %v", err)
	send(t, s, &notify.Message{ID: "ev/2", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
}

// A 4xx answer is worth trying again later.
func TestSMTPTemporaryFailure(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	s := newTestSMTP(t, mp)
	mp.SetChaos(t, "Recipient", 451, 100)
	err := s.Send(context.Background(), &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	checkErr(t, "451 to RCPT TO", err, false)
	mp.SetChaos(t, "Recipient", 451, 0)
	send(t, s, &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
}

// A server that is down is retried, and takes the mail once back up.
func TestSMTPServerDownThenUp(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	s := newTestSMTP(t, mp)
	mp.Stop(t)
	err := s.Send(context.Background(), &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	checkErr(t, "server down", err, false)
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("Send to a server down = %v, want connection refused", err)
	}
	mp.Start(t)
	send(t, s, &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	only(t, mp)
}

func TestSMTPConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := notify.NewSMTP(notify.SMTPConfig{URL: "smtp://" + addr, From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	checkErr(t, "connection refused", err, false)
}

// A server that accepts the connection and then says nothing is left
// when the context ends, not after go-mail's own timeouts.
func TestSMTPContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the test ends
		}
	}()
	s, err := notify.NewSMTP(notify.SMTPConfig{URL: "smtp://" + ln.Addr().String(), From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, notify.ErrPermanent) {
		t.Errorf("Send to a silent server = %v, want the context's deadline, not permanent", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v after a deadline of 300ms", d)
	}
}

// A user and a password file log in; a wrong password is an error that
// names neither the password nor an address, and is retried (the admin
// fixes it, the mail waits).
func TestSMTPAuth(t *testing.T) {
	users := filepath.Join(t.TempDir(), "mailpit-users")
	if err := os.WriteFile(users, []byte("noreply@tilleuls.example:correct-horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := nodetest.StartMailpit(t, "--smtp-auth-file="+users)
	url := "smtp://noreply%40tilleuls.example@" + strings.TrimPrefix(mp.SMTPURL(), "smtp://")

	s, err := notify.NewSMTP(notify.SMTPConfig{URL: url, From: testFrom, PasswordFile: writePassword(t, "correct-horse\n", 0o600)})
	if err != nil {
		t.Fatal(err)
	}
	send(t, s, &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	if m := only(t, mp); m.Username != "noreply@tilleuls.example" {
		t.Errorf("Mailpit saw the user %q, want noreply@tilleuls.example", m.Username)
	}

	wrong, err := notify.NewSMTP(notify.SMTPConfig{URL: url, From: testFrom, PasswordFile: writePassword(t, "battery-staple", 0o600)})
	if err != nil {
		t.Fatal(err)
	}
	err = wrong.Send(context.Background(), &notify.Message{ID: "ev/2", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	checkErr(t, "wrong password", err, false)
	if err != nil && strings.Contains(err.Error(), "battery") {
		t.Errorf("the error names the password: %v", err)
	}
	t.Logf("wrong password: %v", err)
}

// A server named otherwise than by a loopback address needs STARTTLS,
// even when the name leads to this machine. Mailpit offers none here.
func TestSMTPStartTLSRequired(t *testing.T) {
	mp := nodetest.StartMailpit(t)
	host, err := os.Hostname()
	if err != nil || strings.EqualFold(host, "localhost") {
		t.Skip("skipped: this machine's name is localhost or unknown")
	}
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 || addrs[0] != "127.0.0.1" {
		t.Skipf("skipped: this machine's name %q does not lead to 127.0.0.1 (%v, %v)", host, addrs, err)
	}
	_, port, _ := net.SplitHostPort(mp.SMTPAddr)
	s, err := notify.NewSMTP(notify.SMTPConfig{URL: "smtp://" + net.JoinHostPort(host, port), From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	checkErr(t, "no STARTTLS", err, false)
	if err != nil && !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send without STARTTLS = %v, want it to say so", err)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Errorf("Mailpit got %d messages in the clear", n)
	}
}

// A message the server refuses for good, here for its size, is not
// tried again.
func TestSMTPMessageRefused(t *testing.T) {
	mp := nodetest.StartMailpit(t, "--max-message-size=1")
	s := newTestSMTP(t, mp)
	big := make([]byte, 2<<20)
	err := s.Send(context.Background(), &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t",
		Attachments: []notify.Attachment{{Name: "big.bin", ContentType: "application/octet-stream", Data: big}}})
	checkErr(t, "message too large", err, true)
	t.Logf("message too large: %v", err)
}

// fakeSMTP is a server that misbehaves on purpose: it refuses every
// recipient with reply, and echoes the address as servers do.
func fakeSMTP(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				tp := textproto.NewConn(c)
				tp.PrintfLine("220 fake ESMTP")
				for {
					line, err := tp.ReadLine()
					if err != nil {
						return
					}
					verb, arg, _ := strings.Cut(line, " ")
					switch strings.ToUpper(verb) {
					case "EHLO":
						tp.PrintfLine("250-fake\r\n250 ENHANCEDSTATUSCODES")
					case "RCPT":
						tp.PrintfLine("%s %s", reply, strings.TrimPrefix(arg, "TO:"))
					case "QUIT":
						tp.PrintfLine("221 2.0.0 Bye")
						return
					default:
						tp.PrintfLine("250 2.0.0 Ok")
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// A refusal of class 5.7 (security or policy) speaks of the node's
// settings, the same for every mail: it is retried, and the address the
// server repeats is not in the error.
func TestSMTPRelayDenied(t *testing.T) {
	addr := fakeSMTP(t, "554 5.7.1 Relay access denied for")
	s, err := notify.NewSMTP(notify.SMTPConfig{URL: "smtp://" + addr, From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), &notify.Message{ID: "ev/1", To: "Zoé@Tilleuls.example", Subject: "s", Text: "t"})
	checkErr(t, "relay denied", err, false)
	if err != nil && (!strings.Contains(err.Error(), "the recipient") || !strings.Contains(err.Error(), "settings")) {
		t.Errorf("relay denied: %v; want the recipient named so, and a word on the settings", err)
	}
	t.Logf("relay denied: %v", err)

	addr = fakeSMTP(t, "550 5.1.1 No such user")
	s, err = notify.NewSMTP(notify.SMTPConfig{URL: "smtp://" + addr, From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), &notify.Message{ID: "ev/1", To: "zoe@tilleuls.example", Subject: "s", Text: "t"})
	checkErr(t, "no such user", err, true)
	if err != nil && (!strings.Contains(err.Error(), "the recipient") || strings.Contains(strings.ToLower(err.Error()), "zoe")) {
		t.Errorf("no such user: %v; want the recipient named so", err)
	}
}
