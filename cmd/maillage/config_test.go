package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/web/notify"
)

func TestApplyConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "maillage.conf")
	os.WriteFile(file, []byte("# a comment\nlisten = \"127.0.0.1:9000\"\nlog-level = debug\ndata = /from/file\n"), 0o600)

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	data := fs.String("data", "", "")
	listen := fs.String("listen", "127.0.0.1:8080", "")
	level := fs.String("log-level", "info", "")
	fs.String("config", "", "")
	if err := fs.Parse([]string{"--config", file, "--data", "/from/flag"}); err != nil {
		t.Fatal(err)
	}
	env := []string{"MAILLAGE_LOG_LEVEL=warn", "HOME=/root", "MAILLAGE_LISTEN=127.0.0.1:7000"}
	known := map[string]bool{"data": true, "listen": true, "log-level": true, "config": true}
	if err := applyConfig(fs, env, known); err != nil {
		t.Fatal(err)
	}
	// flag > environment > file > default
	if *data != "/from/flag" || *listen != "127.0.0.1:7000" || *level != "warn" {
		t.Errorf("data=%q listen=%q log-level=%q", *data, *listen, *level)
	}
}

func TestApplyConfigRefusesUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.conf")
	os.WriteFile(file, []byte("listen = 127.0.0.1:1\nlisten_port = 80\nnot a pair\n"), 0o600)
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.String("listen", "", "")
		fs.String("config", "", "")
		return fs
	}
	known := map[string]bool{"listen": true, "config": true}

	fs := newFS()
	fs.Parse([]string{"--config", file})
	err := applyConfig(fs, nil, known)
	if err == nil || !strings.Contains(err.Error(), `unknown key "listen_port"`) || !strings.Contains(err.Error(), ":3: expected key = value") {
		t.Errorf("applyConfig(bad file) = %v, want both problems named with their lines", err)
	}

	fs = newFS()
	fs.Parse(nil)
	err = applyConfig(fs, []string{"MAILLAGE_LISTN=x"}, known)
	if err == nil || !strings.Contains(err.Error(), "MAILLAGE_LISTN") {
		t.Errorf("applyConfig(unknown env) = %v, want an error naming it", err)
	}
}

func TestConfigDayDuration(t *testing.T) {
	tests := []struct {
		in, want string // want: String() after Set, or "!" for an error
	}{
		{"10d", "10d"}, {"0d", "0d"}, {"182d", "182d"}, {"36h", "36h0m0s"}, {"48h", "2d"}, {"90m", "1h30m0s"},
		{"d", "!"}, {"-1d", "!"}, {"1.5d", "!"}, {"-3h", "!"}, {"ten days", "!"}, {"", "!"},
	}
	for _, tt := range tests {
		var v dayDuration
		err := v.Set(tt.in)
		got := v.String()
		if err != nil {
			got = "!"
		}
		if got != tt.want {
			t.Errorf("Set(%q): %q (%v), want %q", tt.in, got, err, tt.want)
		}
	}
}

// writeMode writes a file with exactly the given permissions.
func writeMode(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	writeFile(t, path, content)
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigMailFlags(t *testing.T) {
	dir := t.TempDir()
	pw := writeMode(t, filepath.Join(dir, "smtp-password"), "s3cret\n", 0o600)
	open := writeMode(t, filepath.Join(dir, "smtp-password-open"), "s3cret\n", 0o644)
	const from = "--mail-from=Maison <noreply@maison.example.be>"
	tests := []struct {
		name string
		args []string
		err  string // part of the error; "" when valid
		want node.Config
	}{
		{"no e-mail", nil, "", node.Config{ReminderAfter: 10 * day, ExpiryWarning: 3 * day, ReviewAfter: 182 * day}},
		{"e-mail on", []string{"--smtp-url=smtp://noreply%40maison.example.be@smtp.example.net", from, "--smtp-password-file=" + pw}, "",
			node.Config{ReminderAfter: 10 * day, ExpiryWarning: 3 * day, ReviewAfter: 182 * day,
				SMTP: notify.SMTPConfig{URL: "smtp://noreply%40maison.example.be@smtp.example.net", From: "Maison <noreply@maison.example.be>", PasswordFile: pw}}},
		{"delays", []string{"--referral-reminder-after=5d", "--referral-expiry-warning=36h", "--service-review-after=365d"}, "",
			node.Config{ReminderAfter: 5 * day, ExpiryWarning: 36 * time.Hour, ReviewAfter: 365 * day}},

		{"sender missing", []string{"--smtp-url=smtp://smtp.example.net"}, "--mail-from is required", node.Config{}},
		{"sender without server", []string{from}, "need --smtp-url", node.Config{}},
		{"password file without server", []string{"--smtp-password-file=" + pw}, "need --smtp-url", node.Config{}},
		{"bad scheme", []string{"--smtp-url=http://smtp.example.net", from}, "smtps://", node.Config{}},
		{"password in the URL", []string{"--smtp-url=smtp://bob:hunter2@smtp.example.net", from}, "--smtp-password-file", node.Config{}},
		{"bad sender", []string{"--smtp-url=smtp://smtp.example.net", "--mail-from=Maison"}, "not one e-mail address", node.Config{}},
		{"password file open", []string{"--smtp-url=smtp://bob@smtp.example.net", from, "--smtp-password-file=" + open}, "chmod 600", node.Config{}},
		{"reminder after expiry", []string{"--referral-reminder-after=30d"}, "shorter than --referral-expire-days (30d)", node.Config{}},
		{"warning after expiry", []string{"--referral-expiry-warning=31d"}, "--referral-expiry-warning (31d) must be shorter", node.Config{}},
		{"reminder too soon", []string{"--referral-reminder-after=10m"}, "between 1h and 365d", node.Config{}},
		{"review too soon", []string{"--service-review-after=12h"}, "between 1d and 3650d", node.Config{}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		m := mailFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		cfg := node.Config{Retention: referral.Timing{ExpireAfter: 30 * day}}
		err := m.apply(&cfg)
		if tt.err != "" {
			var ue usageError
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.As(err, &ue) {
				t.Errorf("%s: apply = %v, want a usage error with %q", tt.name, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s: the error repeats the password: %v", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: apply = %v", tt.name, err)
			continue
		}
		if cfg.SMTP != tt.want.SMTP || cfg.ReminderAfter != tt.want.ReminderAfter || cfg.ExpiryWarning != tt.want.ExpiryWarning || cfg.ReviewAfter != tt.want.ReviewAfter {
			t.Errorf("%s: SMTP %+v, delays %v %v %v; want %+v, %v %v %v", tt.name, cfg.SMTP, cfg.ReminderAfter, cfg.ExpiryWarning, cfg.ReviewAfter,
				tt.want.SMTP, tt.want.ReminderAfter, tt.want.ExpiryWarning, tt.want.ReviewAfter)
		}
	}
}

// The e-mail flags come from the environment like the others; the
// password never does, and the refusal says where it goes.
func TestConfigMailEnvironment(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	m := mailFlags(fs)
	fs.Parse(nil)
	env := []string{"MAILLAGE_SMTP_URL=smtps://smtp.example.net", "MAILLAGE_MAIL_FROM=noreply@maison.example.be", "MAILLAGE_REFERRAL_REMINDER_AFTER=7d"}
	if err := applyConfig(fs, env, knownFlags()); err != nil {
		t.Fatal(err)
	}
	if *m.url != "smtps://smtp.example.net" || *m.from != "noreply@maison.example.be" || m.reminder.d != 7*day {
		t.Errorf("from the environment: url %q, from %q, reminder %v", *m.url, *m.from, m.reminder.d)
	}

	err := applyConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"MAILLAGE_SMTP_PASSWORD=hunter2"}, knownFlags())
	if err == nil || !strings.Contains(err.Error(), "MAILLAGE_SMTP_PASSWORD_FILE") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("applyConfig(MAILLAGE_SMTP_PASSWORD) = %v, want a refusal naming MAILLAGE_SMTP_PASSWORD_FILE", err)
	}
}

// serve checks the e-mail settings before anything starts.
func TestConfigServeRefusesBadSMTP(t *testing.T) {
	var stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, terminal: func() bool { return false }}
	code := run(context.Background(), c, []string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0",
		"--smtp-url", "smtp://bob:hunter2@smtp.example.net", "--mail-from", "noreply@maison.example.be"})
	if code != 2 || !strings.Contains(stderr.String(), "--smtp-password-file") || strings.Contains(stderr.String(), "hunter2") {
		t.Errorf("serve with a password in --smtp-url: exit %d, %q; want 2 and where the password goes", code, stderr.String())
	}
}
