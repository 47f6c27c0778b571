package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/web/notify"
)

// envPrefix prefixes the environment variables that set flags:
// --admin-email is MAILLAGE_ADMIN_EMAIL.
const envPrefix = "MAILLAGE_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyConfig fills the flags of fs that were not given on the command
// line, first from MAILLAGE_* environment variables, then from the config
// file (when the flag named "config" is set), so that the command line
// wins over the environment, which wins over the file. An unknown key in
// the file is an error; so is a MAILLAGE_* variable that no command knows.
func applyConfig(fs *flag.FlagSet, environ []string, known map[string]bool) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var unknownEnv []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(k, envPrefix)
		if !ok {
			continue
		}
		flagName := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if !known[flagName] {
			unknownEnv = append(unknownEnv, k)
			continue
		}
		if fs.Lookup(flagName) == nil || set[flagName] {
			continue
		}
		if err := fs.Set(flagName, v); err != nil {
			return fmt.Errorf("environment %s: %w", k, err)
		}
		set[flagName] = true
	}
	if len(unknownEnv) > 0 {
		sort.Strings(unknownEnv)
		msg := fmt.Sprintf("unknown environment variable(s) %s", strings.Join(unknownEnv, ", "))
		for _, k := range unknownEnv {
			// MAILLAGE_SMTP_PASSWORD: secrets are only read from files.
			if flagName := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, envPrefix), "_", "-")) + "-file"; known[flagName] {
				msg += fmt.Sprintf("; %s is not read, since anyone allowed to inspect the process can read the environment: write the secret to a file that only the node can read (chmod 600) and give its path in %s", k, envName(flagName))
			}
		}
		return fmt.Errorf("%s", msg)
	}

	cf := fs.Lookup("config")
	if cf == nil || cf.Value.String() == "" {
		return nil
	}
	return applyFile(fs, cf.Value.String(), set)
}

// applyFile reads a config file of "key = value" lines; # starts a comment.
// Keys are flag names; values may be quoted.
func applyFile(fs *flag.FlagSet, path string, set map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var problems []string
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			problems = append(problems, fmt.Sprintf("%s:%d: expected key = value", path, line))
			continue
		}
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		if k == "config" || fs.Lookup(k) == nil {
			problems = append(problems, fmt.Sprintf("%s:%d: unknown key %q", path, line, k))
			continue
		}
		if set[k] {
			continue
		}
		if err := fs.Set(k, v); err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %v", path, line, k, err))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("config file:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// mailSettings are serve's e-mail flags: the SMTP server, and the delays
// of the reminders it sends.
type mailSettings struct {
	url, from, passwordFile          *string
	reminder, expiryWarning, reviews *dayDuration
}

func mailFlags(fs *flag.FlagSet) mailSettings {
	m := mailSettings{
		url:           fs.String("smtp-url", "", "SMTP server the node sends e-mail through: smtp://[USER@]HOST[:PORT] (STARTTLS, required except to this machine; port 587 by default) or smtps://[USER@]HOST[:PORT] (TLS; 465); empty: no e-mail, notifications show in the app only"),
		from:          fs.String("mail-from", "", "sender of the node's e-mails, such as noreply@maison.example.be or \"Maison des Tilleuls <noreply@maison.example.be>\" (required with --smtp-url)"),
		passwordFile:  fs.String("smtp-password-file", "", "file holding the password of the SMTP user named in --smtp-url, readable by the node alone (chmod 600; a final line break is dropped)"),
		reminder:      &dayDuration{10 * day},
		expiryWarning: &dayDuration{3 * day},
		reviews:       &dayDuration{182 * day},
	}
	fs.Var(m.reminder, "referral-reminder-after", "how long a received referral may stay unanswered before the receiving team is reminded (days as 10d, or a duration)")
	fs.Var(m.expiryWarning, "referral-expiry-warning", "how long before an unanswered referral expires both sides are warned (days as 3d, or a duration)")
	fs.Var(m.reviews, "service-review-after", "how long after its last change the admins are asked to review a service (days as 182d, or a duration)")
	return m
}

// apply checks the settings and puts them in cfg, whose Retention is set.
// The SMTP server's settings are checked by building its mailer, so that a
// wrong URL, sender or password file stops the start rather than the
// first mail.
func (m mailSettings) apply(cfg *node.Config) error {
	expire := cfg.Retention.ExpireAfter
	switch {
	case m.reminder.d < time.Hour || m.reminder.d > 365*day:
		return usagef("--referral-reminder-after must be between 1h and 365d")
	case expire > 0 && m.reminder.d >= expire:
		return usagef("--referral-reminder-after (%s) must be shorter than --referral-expire-days (%s), or referrals expire before anyone is reminded", m.reminder, &dayDuration{expire})
	case m.expiryWarning.d < time.Hour || m.expiryWarning.d > 365*day:
		return usagef("--referral-expiry-warning must be between 1h and 365d")
	case expire > 0 && m.expiryWarning.d >= expire:
		return usagef("--referral-expiry-warning (%s) must be shorter than --referral-expire-days (%s)", m.expiryWarning, &dayDuration{expire})
	case m.reviews.d < day || m.reviews.d > 3650*day:
		return usagef("--service-review-after must be between 1d and 3650d")
	}
	cfg.ReminderAfter, cfg.ExpiryWarning, cfg.ReviewAfter = m.reminder.d, m.expiryWarning.d, m.reviews.d

	c := notify.SMTPConfig{URL: *m.url, From: *m.from, PasswordFile: *m.passwordFile}
	if c.URL == "" {
		if c.From != "" || c.PasswordFile != "" {
			return usagef("--mail-from and --smtp-password-file need --smtp-url, the server to send through; without it the node sends no e-mail")
		}
		return nil
	}
	if c.From == "" {
		return usagef("--mail-from is required with --smtp-url: the address the node's e-mails come from")
	}
	if _, err := notify.NewSMTP(c); err != nil {
		return usagef("%v", err)
	}
	cfg.SMTP = c
	return nil
}

const day = 24 * time.Hour

// dayDuration is a flag of a delay counted in days: 10d, or a Go
// duration (36h) for finer ones.
type dayDuration struct{ d time.Duration }

func (v *dayDuration) String() string {
	if v == nil {
		return ""
	}
	if v.d%day == 0 {
		return strconv.FormatInt(int64(v.d/day), 10) + "d"
	}
	return v.d.String()
}

func (v *dayDuration) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		k, err := strconv.Atoi(n)
		if err != nil || k < 0 || k > 100000 {
			return fmt.Errorf("%q is not a number of days such as 10d", s)
		}
		v.d = time.Duration(k) * day
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is neither days such as 10d nor a duration such as 36h", s)
	}
	v.d = d
	return nil
}

// Get lets the reference page call it a duration.
func (v *dayDuration) Get() any { return v.d }
