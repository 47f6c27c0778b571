package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// mailpitInstall is how to get the Mailpit the tests are written against.
const mailpitInstall = "go install github.com/axllent/mailpit@v1.33.1"

// Mailpit is a real Mailpit server on loopback: an SMTP server that keeps
// every message it receives, and an HTTP API to read them. By default it
// takes any user name and password, or none, without TLS.
type Mailpit struct {
	SMTPAddr string // 127.0.0.1:PORT
	HTTPURL  string // http://127.0.0.1:PORT, the API and web UI
	Dir      string // its database and log

	bin  string
	args []string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  *os.File
}

// MailpitMessage is a message as Mailpit's list shows it.
type MailpitMessage struct {
	ID        string // Mailpit's id, for Message and Raw
	MessageID string // the Message-ID header, without <>
	From      MailpitAddress
	To        []MailpitAddress
	Cc        []MailpitAddress
	Bcc       []MailpitAddress // envelope recipients not in To or Cc
	Subject   string
	Username  string // the SMTP user that sent it, if any
}

// MailpitAddress is a name and an address.
type MailpitAddress struct {
	Name    string
	Address string
}

// MailpitFull is one message as Mailpit reads it, headers decoded.
type MailpitFull struct {
	MailpitMessage
	Text        string
	HTML        string
	Headers     map[string][]string // canonical names (Message-Id, List-Unsubscribe-Post)
	Attachments []MailpitAttachment
}

// MailpitAttachment is an attached file.
type MailpitAttachment struct {
	FileName    string
	ContentType string
	Size        int
}

// StartMailpit starts Mailpit on free loopback ports, with a database in
// a temporary directory, and stops it when the test ends. Extra flags are
// added to its command line, such as --smtp-allowed-recipients=REGEXP
// (other recipients get a 550) or --smtp-auth-file=FILE (which then
// replaces the default of taking any password). The binary is $MAILPIT,
// else mailpit on PATH, else in $(go env GOPATH)/bin; without it the test
// is skipped, or fails when CI is set.
func StartMailpit(t testing.TB, extra ...string) *Mailpit {
	t.Helper()
	bin, err := mailpitBinary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but Mailpit is missing (%v): %s", err, mailpitInstall)
		}
		t.Skipf("skipped: Mailpit is missing (%v): %s", err, mailpitInstall)
	}
	m := &Mailpit{Dir: t.TempDir(), bin: bin}
	smtpPort, httpPort := freePort(t), freePort(t)
	for httpPort == smtpPort {
		httpPort = freePort(t)
	}
	m.SMTPAddr = fmt.Sprintf("127.0.0.1:%d", smtpPort)
	m.HTTPURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	m.args = []string{
		"--smtp", m.SMTPAddr, "--listen", strings.TrimPrefix(m.HTTPURL, "http://"),
		"--database", filepath.Join(m.Dir, "mailpit.db"),
		"--smtp-auth-allow-insecure", "--smtp-disable-rdns", "--disable-version-check",
		"--enable-chaos", "--max", "0", "--quiet",
	}
	if !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--smtp-auth-file") }) {
		m.args = append(m.args, "--smtp-auth-accept-any")
	}
	m.args = append(m.args, extra...)
	t.Cleanup(func() { m.stop() })
	m.Start(t)
	return m
}

// mailpitBinary finds the mailpit command.
func mailpitBinary() (string, error) {
	if p := os.Getenv("MAILPIT"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("MAILPIT=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("not on PATH, and go env GOPATH failed: %w", err)
	}
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
		p := filepath.Join(dir, "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("neither $MAILPIT, nor on PATH, nor in $(go env GOPATH)/bin")
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailpit: find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// SMTPURL is the URL a node is given to send through this Mailpit.
func (m *Mailpit) SMTPURL() string { return "smtp://" + m.SMTPAddr }

// Start starts Mailpit again after Stop, on the same ports and with the
// same messages, and waits until it answers.
func (m *Mailpit) Start(t testing.TB) {
	t.Helper()
	if m.cmd != nil {
		t.Fatal("mailpit: Start: already running")
	}
	log, err := os.OpenFile(filepath.Join(m.Dir, "log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	cmd := exec.Command(m.bin, m.args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("mailpit: start %s: %v", m.bin, err)
	}
	m.cmd, m.log, m.done = cmd, log, make(chan struct{})
	go func() { cmd.Wait(); close(m.done) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-m.done:
			m.stop()
			t.Fatalf("mailpit: exited at start:\n%s", m.Log())
		default:
		}
		if m.ready() {
			return
		}
		if time.Now().After(deadline) {
			m.stop()
			t.Fatalf("mailpit: not ready after 20 s:\n%s", m.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ready reports whether both the API and the SMTP port answer.
func (m *Mailpit) ready() bool {
	resp, err := http.Get(m.HTTPURL + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", m.SMTPAddr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Stop stops Mailpit, keeping its messages and ports for Start: for tests
// of a server that is down, then back.
func (m *Mailpit) Stop(t testing.TB) {
	t.Helper()
	if m.cmd == nil {
		t.Fatal("mailpit: Stop: not running")
	}
	m.stop()
}

func (m *Mailpit) stop() {
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(os.Interrupt)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		m.cmd.Process.Kill()
		<-m.done
	}
	m.log.Close()
	m.cmd, m.log = nil, nil
}

// Log returns what Mailpit wrote so far.
func (m *Mailpit) Log() string {
	b, _ := os.ReadFile(filepath.Join(m.Dir, "log"))
	return string(b)
}

// Messages returns every message received, newest first.
func (m *Mailpit) Messages(t testing.TB) []MailpitMessage {
	t.Helper()
	var list struct{ Messages []MailpitMessage }
	m.call(t, "GET", "/api/v1/messages?limit=100000", nil, &list)
	return list.Messages
}

// Message returns one message with its bodies, headers and attachments.
func (m *Mailpit) Message(t testing.TB, id string) MailpitFull {
	t.Helper()
	var full MailpitFull
	m.call(t, "GET", "/api/v1/message/"+id, nil, &full)
	m.call(t, "GET", "/api/v1/message/"+id+"/headers", nil, &full.Headers)
	return full
}

// Raw returns a message's source as received.
func (m *Mailpit) Raw(t testing.TB, id string) string {
	t.Helper()
	var raw bytes.Buffer
	m.call(t, "GET", "/api/v1/message/"+id+"/raw", nil, &raw)
	return raw.String()
}

// WaitFor waits until at least n messages arrived, and returns them all;
// it fails the test after timeout.
func (m *Mailpit) WaitFor(t testing.TB, n int, timeout time.Duration) []MailpitMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := m.Messages(t)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d messages after %v, want %d", len(got), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DeleteAll deletes every message.
func (m *Mailpit) DeleteAll(t testing.TB) {
	t.Helper()
	m.call(t, "DELETE", "/api/v1/messages", nil, nil)
}

// SetChaos makes Mailpit answer code to a share of the SMTP commands of
// one kind, "Sender" (MAIL FROM), "Recipient" (RCPT TO) or
// "Authentication" (AUTH): percent 100 for all, 0 to stop.
func (m *Mailpit) SetChaos(t testing.TB, kind string, code, percent int) {
	t.Helper()
	body := map[string]any{kind: map[string]int{"ErrorCode": code, "Probability": percent}}
	m.call(t, "PUT", "/api/v1/chaos", body, nil)
}

// call sends a request to the API, with in (when not nil) as JSON, and
// decodes the reply as JSON into out, or copies it when out is a
// *bytes.Buffer.
func (m *Mailpit) call(t testing.TB, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, m.HTTPURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("mailpit: %s %s: read: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit: %s %s: %s: %s", method, path, resp.Status, b)
	}
	switch o := out.(type) {
	case nil:
	case *bytes.Buffer:
		o.Write(b)
	default:
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("mailpit: %s %s: decode %s: %v", method, path, b, err)
		}
	}
}
