package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"net/netip"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is how the node reaches its SMTP server.
type SMTPConfig struct {
	// URL is smtp://[user@]host[:port] (STARTTLS, required unless the
	// host is loopback) or smtps://[user@]host[:port] (TLS from the
	// start).
	URL string
	// From is the sender, an address or "Name <address>".
	From string
	// PasswordFile holds the SMTP password (never a flag value or an
	// environment variable, which the process list and /proc show).
	PasswordFile string
}

// How an SMTP connection is protected, as Security reports it.
const (
	SecurityTLS      = "tls"      // smtps://: TLS from the first byte
	SecuritySTARTTLS = "starttls" // smtp://: STARTTLS, or no mail at all
	SecurityNone     = "none"     // smtp:// to a loopback host: mail does not leave the machine
)

// smtpTimeout bounds each exchange with the server when the caller's
// context sets no shorter deadline.
const smtpTimeout = 30 * time.Second

// maxPasswordFile is the size above which a password file is surely
// something else.
const maxPasswordFile = 4096

// SMTP sends messages through an SMTP server, one connection a message:
// notifications are few, and a fresh connection never finds a stale one.
type SMTP struct {
	host      string
	port      int
	security  string
	user      string
	password  string
	from      *mail.Address
	msgDomain string // the right-hand side of Message-IDs
}

var _ Mailer = (*SMTP)(nil)

// NewSMTP checks c and returns the mailer it describes. It reads the
// password file but does not connect: a wrong password shows at the
// first message.
func NewSMTP(c SMTPConfig) (*SMTP, error) {
	s, err := parseSMTPURL(c.URL)
	if err != nil {
		return nil, err
	}
	if s.from, s.msgDomain, err = parseFrom(c.From); err != nil {
		return nil, err
	}
	switch {
	case s.user != "" && c.PasswordFile == "":
		return nil, fmt.Errorf("smtp: the URL names the user %q: give their password in a file (--smtp-password-file)", s.user)
	case s.user == "" && c.PasswordFile != "":
		return nil, errors.New("smtp: a password file is given but the URL names no user: write it smtp://USER@host")
	case c.PasswordFile != "":
		if s.password, err = readPasswordFile(c.PasswordFile); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// parseSMTPURL reads smtp://[user@]host[:port] or smtps://…. Its errors
// never repeat the URL, which may hold a password.
func parseSMTPURL(raw string) (*SMTP, error) {
	const forms = "smtp://[USER@]HOST[:PORT] (STARTTLS, port 587 by default) or smtps://[USER@]HOST[:PORT] (TLS, port 465)"
	if raw == "" {
		return nil, errors.New("smtp: no URL: give " + forms)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("smtp: the URL cannot be read: write it " + forms)
	}
	if _, set := u.User.Password(); set {
		return nil, errors.New("smtp: the URL holds a password: remove it and put the password in a file (--smtp-password-file), which only the node can read")
	}
	s := &SMTP{}
	switch u.Scheme {
	case "smtp":
		s.port = gomail.DefaultPortTLS
	case "smtps":
		s.port, s.security = gomail.DefaultPortSSL, SecurityTLS
	default:
		return nil, errors.New("smtp: the URL must be " + forms)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("smtp: the URL names no server: write it " + forms)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, errors.New("smtp: the URL has a path, a query or a fragment, which mean nothing here: write it " + forms)
	}
	s.host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("smtp: the port %q is not a number between 1 and 65535", p)
		}
		s.port = n
	}
	if s.security == "" {
		s.security = SecuritySTARTTLS
		if isLoopback(s.host) {
			s.security = SecurityNone
		}
	}
	if u.User != nil {
		if s.user = u.User.Username(); s.user == "" {
			return nil, errors.New("smtp: the URL has an empty user name before @: remove the @ or name the user")
		}
		if hasControl(s.user) {
			return nil, errors.New("smtp: the user name holds control characters")
		}
	}
	return s, nil
}

// isLoopback reports whether host is this machine: the only server mail
// may go to unencrypted, since it does not travel.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func parseFrom(from string) (*mail.Address, string, error) {
	if strings.TrimSpace(from) == "" {
		return nil, "", errors.New("smtp: no sender: give the address the mails come from (--mail-from), such as \"Maison des Tilleuls <noreply@tilleuls.example>\"")
	}
	if hasControl(from) {
		return nil, "", errors.New("smtp: the sender (--mail-from) holds control characters")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, "", fmt.Errorf("smtp: the sender %q (--mail-from) is not one e-mail address, such as noreply@tilleuls.example or \"Maison des Tilleuls <noreply@tilleuls.example>\": %v", from, err)
	}
	domain := a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	if !isPrintableASCII(domain) {
		domain = "maillage.invalid" // Message-IDs are ASCII; this one stays unique by its left-hand side
	}
	return a, domain, nil
}

// readPasswordFile reads a password kept like an ssh key: in a file that
// only its owner can read. Docker mounts secrets under /run/secrets with
// whatever mode the host gave them (compose cannot change it), so those
// are trusted to be closed on the host's side.
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("smtp: password file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("smtp: password file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("smtp: password file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 && !strings.HasPrefix(filepath.Clean(path), "/run/secrets/") {
		return "", fmt.Errorf("smtp: password file %s can be read by other users of the machine (mode %04o): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return "", fmt.Errorf("smtp: password file: %w", err)
	}
	if len(b) > maxPasswordFile {
		return "", fmt.Errorf("smtp: password file %s is larger than %d bytes: it must hold the password alone", path, maxPasswordFile)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	switch {
	case pw == "":
		return "", fmt.Errorf("smtp: password file %s is empty", path)
	case strings.ContainsAny(pw, "\r\n"):
		return "", fmt.Errorf("smtp: password file %s holds several lines: it must hold the password alone", path)
	}
	return pw, nil
}

// Host is the server as host:port, for the admin's pages.
func (s *SMTP) Host() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Security says how the connection is protected: SecurityTLS,
// SecuritySTARTTLS or SecurityNone.
func (s *SMTP) Security() string { return s.security }

// Send sends one message. Its errors name neither the recipient nor any
// other address, since the queue keeps them for the admin's page; those
// wrapping ErrPermanent are the server refusing the recipient or the
// message for good.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	to, err := recipient(m.To)
	if err != nil {
		return err
	}
	msg, err := s.compose(m, to)
	if err != nil {
		return err
	}
	// go-mail bounds each exchange with its timeout but reads the context
	// only while dialling, and leaves the connection open when the
	// greeting, STARTTLS or AUTH fails: the connection is kept here, to
	// be closed when ctx ends (a server that stalls midway) and in any
	// case on return.
	var raw net.Conn
	var stop func() bool
	defer func() {
		if raw != nil {
			stop()
			raw.Close()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := s.dial(dctx, network, addr)
		if err == nil {
			raw = conn
			stop = context.AfterFunc(ctx, func() { conn.Close() })
		}
		return conn, err
	}
	client, err := gomail.NewClient(s.host, s.options(dial)...)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Host(), err)
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return s.failure(ctx, err, to.Address)
	}
	// The message is delivered once the server took its data: a failing
	// QUIT must not make the queue send it twice, so its error is ignored.
	defer client.CloseWithSMTPClient(conn)
	if err := client.SendWithSMTPClient(conn, msg); err != nil {
		return s.failure(ctx, err, to.Address)
	}
	return nil
}

func (s *SMTP) options(dial gomail.DialContextFunc) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.port), gomail.WithTimeout(smtpTimeout), gomail.WithDialContextFunc(dial),
		gomail.WithoutRset(), // one message a connection: QUIT follows
	}
	switch s.security {
	case SecurityTLS:
		// The dial function does the TLS handshake; this keeps go-mail
		// from asking for STARTTLS on top of it.
		opts = append(opts, gomail.WithSSL())
	case SecuritySTARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		// A local relay that offers STARTTLS has a certificate for its
		// name, not for 127.0.0.1: asking for it would only fail.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithUsername(s.user), gomail.WithPassword(s.password))
		// PLAIN or LOGIN, which every server offers, only ever over TLS
		// (go-mail checks) except to this machine; other mechanisms
		// when the server offers neither.
		if s.security == SecurityNone {
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc))
		} else {
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
		}
	}
	return opts
}

func (s *SMTP) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	if s.security == SecurityTLS {
		td := &tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}}
		return td.DialContext(ctx, network, addr)
	}
	return d.DialContext(ctx, network, addr)
}

// recipient reads a message's single To address.
func recipient(to string) (*mail.Address, error) {
	if hasControl(to) {
		return nil, fmt.Errorf("smtp: the recipient's address holds control characters: %w", ErrPermanent)
	}
	a, err := mail.ParseAddress(to)
	if err != nil {
		return nil, fmt.Errorf("smtp: the recipient's address is not one valid e-mail address: %w", ErrPermanent)
	}
	return a, nil
}

// compose builds the e-mail of m. Every text that lands in a header has
// its control characters removed, so that none starts a header of its
// own; go-mail encodes what remains.
func (s *SMTP) compose(m *Message, to *mail.Address) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(&mail.Address{Name: headerText(to.Name), Address: to.Address})
	msg.Subject(headerText(m.Subject))
	msg.SetMessageIDWithValue(messageIDLocal(m.ID) + "@" + s.msgDomain)
	msg.SetDateWithValue(time.Now())
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	// Outlook's out-of-office replies would go to the sender's mailbox.
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	if m.Unsubscribe != "" {
		u, err := headerURL(m.Unsubscribe)
		if err != nil {
			return nil, err
		}
		msg.SetListUnsubscribe(u) // RFC 8058: one click, by POST
		msg.SetListUnsubscribePost()
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	for _, a := range m.Attachments {
		name := headerText(a.Name)
		if name == "" {
			name = "attachment"
		}
		err := msg.AttachReader(name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(contentType(a.ContentType))))
		if err != nil {
			return nil, fmt.Errorf("smtp: attach %s: %w", name, err)
		}
	}
	return msg, nil
}

// headerText removes what must not be in a header: control characters
// (CR and LF above all) become spaces, runs of spaces one.
func headerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// headerURL checks an unsubscribe link, which go-mail writes as is.
func headerURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("smtp: the unsubscribe link is not an http(s) URL: %w", ErrPermanent)
	}
	out := u.String()
	if !isPrintableASCII(out) || strings.ContainsAny(out, " <>\"") {
		return "", fmt.Errorf("smtp: the unsubscribe link holds characters a header cannot: %w", ErrPermanent)
	}
	return out, nil
}

// contentType returns an attachment's media type in canonical form, or
// application/octet-stream when it is not one.
func contentType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	delete(params, "name") // go-mail adds the file's
	if out := mime.FormatMediaType(mt, params); out != "" {
		return out
	}
	return mt
}

// messageIDLocal maps a message's id to the left-hand side of its
// Message-ID, the same each time so a mail sent again can be recognised:
// letters, digits, - and _ stay, any other byte becomes =XX (its hex),
// so that two ids never share a Message-ID. An id that would make a very
// long one is hashed; an empty one gets a random value.
func messageIDLocal(id string) string {
	if id == "" {
		return "r" + rand.Text()
	}
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	if b.Len() > 200 {
		sum := sha256.Sum256([]byte(id))
		return "h" + hex.EncodeToString(sum[:])
	}
	return b.String()
}

// failure turns a sending error into one fit for the admin's page: no
// address in it, ErrPermanent when the server refused the recipient or
// the message for good (a 5xx answer to RCPT TO or to the data). Other
// 5xx answers speak of the node's own settings, the same for every mail:
// to the greeting, AUTH or MAIL FROM, and those of class 5.7 (security
// or policy, such as "relay access denied"). Those are retried, so that
// mail waits while the admin fixes the settings.
func (s *SMTP) failure(ctx context.Context, err error, to string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("smtp %s: %w", s.Host(), ctx.Err())
	}
	text := err.Error()
	for _, tail := range []string{", affected recipient(s): ", ", affected message ID: "} {
		if i := strings.Index(text, tail); i >= 0 {
			text = text[:i]
		}
	}
	text = scrubAddresses(text, to)
	const settings = " (the server refuses the node's settings: check the user, the password and the sender)"
	var se *gomail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se) && se.ErrorCode() >= 500:
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			if !strings.HasPrefix(se.EnhancedStatusCode(), "5.7.") {
				return fmt.Errorf("smtp %s: %s: %w", s.Host(), text, ErrPermanent)
			}
		}
		text += settings
	case errors.As(err, &te) && te.Code >= 500:
		text += settings
	case s.security == SecuritySTARTTLS && strings.Contains(text, "does not support STARTTLS"):
		text = "the server does not offer STARTTLS, and mail is never sent unencrypted: use smtps:// if it speaks TLS from the start (port 465), or another server"
	}
	return fmt.Errorf("smtp %s: %s", s.Host(), text)
}

var addressLike = regexp.MustCompile(`[^\s<>()\[\],;:"']+@[^\s<>()\[\],;:"']+`)

// scrubAddresses replaces the recipient's address by "the recipient" and
// any other address by "an address".
func scrubAddresses(text, to string) string {
	if to != "" {
		text = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(to)).ReplaceAllLiteralString(text, "the recipient")
	}
	return addressLike.ReplaceAllLiteralString(text, "an address")
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
