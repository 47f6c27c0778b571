package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/directory/search"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/store"
	"github.com/maillage/maillage/web/account"
)

const defaultListen = "127.0.0.1:8080"

func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "", "data directory of the node (required)")
}

func needData(dir string) error {
	if dir == "" {
		return usagef("--data is required (or MAILLAGE_DATA)")
	}
	return nil
}

func initCommand() command {
	return command{name: "init", summary: "create a node: keys, encrypted store, first admin", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := dataFlag(fs)
		url := fs.String("url", "", "public base URL of the node, e.g. https://maison.example.be")
		name := fs.String("name", "", "name of the association")
		handle := fs.String("handle", "", "short handle of the association's actor (a-z, 0-9, _)")
		email := fs.String("admin-email", "", "email of the first admin")
		password := fs.String("admin-password", "", "password of the first admin (asked if missing on a terminal; --admin-password-file keeps it out of the process list and shell history)")
		passwordFile := fs.String("admin-password-file", "", "file holding the first admin's password, instead of --admin-password (a final line break is dropped)")
		fs.String("config", "", "optional config file of key = value lines")
		return func(ctx context.Context, c *cli, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			if *passwordFile != "" {
				if *password != "" {
					return usagef("give --admin-password or --admin-password-file, not both")
				}
				pw, err := readSecretFile("admin-password-file", *passwordFile)
				if err != nil {
					return err
				}
				*password = pw
			}
			if err := c.ask([]prompt{
				{"data", "Data directory", data, false},
				{"url", "Public URL of the node", url, false},
				{"name", "Name of the association", name, false},
				{"handle", "Handle (a-z, 0-9, _)", handle, false},
				{"admin-email", "Admin email", email, false},
				{"admin-password", "Admin password (10+ characters)", password, true},
			}); err != nil {
				return err
			}
			err := node.Init(ctx, *data, node.InitParams{BaseURL: *url, Name: *name, Handle: *handle, AdminEmail: *email, AdminPassword: *password})
			if err != nil && *passwordFile != "" {
				err = renameField(err, "admin-password", "admin-password-file")
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Node created in %s.\nStart it with: maillage serve --data %s\nKeep a copy of %s/store.key in a safe place: backups cannot be read without it.\n", *data, *data, *data)
			return nil
		}
	}}
}

// prompt is a flag that may be asked for interactively.
type prompt struct {
	flag, label string
	value       *string
	secret      bool
}

// ask fills empty values by asking on the terminal; without a terminal it
// names every missing flag at once.
func (c *cli) ask(ps []prompt) error {
	var missing []string
	for _, p := range ps {
		if *p.value == "" {
			missing = append(missing, "--"+p.flag)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !c.terminal() {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	in := bufio.NewReader(c.stdin)
	for _, p := range ps {
		if *p.value != "" {
			continue
		}
		fmt.Fprintf(c.stderr, "%s: ", p.label)
		var v string
		var err error
		if p.secret {
			v, err = c.readSecret()
			fmt.Fprintln(c.stderr)
		} else {
			v, err = in.ReadString('\n')
		}
		if err != nil && !(err == io.EOF && v != "") {
			return fmt.Errorf("read %s: %w", p.flag, err)
		}
		*p.value = strings.TrimSpace(v)
	}
	return nil
}

func serveCommand() command {
	return command{name: "serve", summary: "run the node; an empty data directory shows a setup page, or is set up from --url, --name, --handle, --admin-email and --admin-password-file", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := dataFlag(fs)
		first := firstStartFlags(fs)
		listen := fs.String("listen", defaultListen, "address to listen on")
		logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
		logFormat := fs.String("log-format", "text", "log format: text or json")
		tokenTTL := fs.Duration("token-ttl", 15*time.Minute, "lifetime of API tokens")
		blocklist := fs.String("blocklist", "", "comma-separated hosts whose activities are refused (added to the admin's blocklist)")
		allowPrivate := fs.Bool("allow-private-network", false, "let federation reach loopback and private addresses (closed networks and tests only)")
		tiles := fs.String("tile-url", defaultTiles, "map tile server of the pages, as a {z}/{x}/{y} URL template; \"none\": maps show markers only")
		indexSave := fs.Duration("index-save-every", 10*time.Minute, "how often the search index is written beside the store when it changed; a start after a crash loads it and applies only the changes since")
		proxies := fs.String("trusted-proxy", "", "comma-separated addresses or CIDR ranges of the reverse proxies in front of the node, e.g. 127.0.0.1,::1: from them the client's address is read from X-Forwarded-For, for the login throttle")
		expireDays := fs.Int("referral-expire-days", 30, "days after which a referral still unanswered expires and its resident's data is erased (1 to 365)")
		eraseDays := fs.Int("referral-erase-days", 180, "days after a referral closes (declined, completed, failed, cancelled) when its resident's data is erased (1 to 3650)")
		memLimit := fs.String("memory-limit", defaultMemoryLimit, "soft limit of the node's Go memory: the collector works harder near it instead of letting garbage double the heap; raised by itself when the node holds more than it allows; when not given and the node runs under a container's memory limit, lowered to leave 28 MiB beside it; 0 for the runtime's default; GOMEMLIMIT wins when set")
		mail := mailFlags(fs)
		fs.String("config", "", "optional config file of key = value lines")
		return func(ctx context.Context, c *cli, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			memBytes, err := parseMemoryLimit(*memLimit)
			if err != nil {
				return usagef("--memory-limit: %v", err)
			}
			trusted, err := parsePrefixes(*proxies)
			if err != nil {
				return usagef("--trusted-proxy: %v", err)
			}
			if *expireDays < 1 || *expireDays > 365 {
				return usagef("--referral-expire-days must be between 1 and 365")
			}
			if *eraseDays < 1 || *eraseDays > 3650 {
				return usagef("--referral-erase-days must be between 1 and 3650")
			}
			if err := checkTileURL(*tiles); err != nil {
				return err
			}
			cfg := node.Config{DataDir: *data, Version: version, TokenTTL: *tokenTTL, AllowPrivate: *allowPrivate, Blocklist: splitList(*blocklist),
				IndexSaveEvery: *indexSave, TileURL: tileURL(*tiles),
				Retention:      referral.Timing{ExpireAfter: days(*expireDays), EraseAfter: days(*eraseDays)},
				TrustedProxies: trusted}
			if err := mail.apply(&cfg); err != nil {
				return err
			}
			if *indexSave < time.Second || *indexSave > 24*time.Hour {
				return usagef("--index-save-every must be between 1s and 24h")
			}
			if err := needData(*data); err != nil {
				return err
			}
			logger, err := newLogger(c.stderr, *logLevel, *logFormat)
			if err != nil {
				return err
			}
			logBuild(logger)
			memBytes = containerSoftLimit(fs, memBytes, logger)
			defer startMemoryLimit(memBytes, c.environ, logger)()
			// The node opens later (or after the setup page): the
			// trim finds its search index once it is there.
			var index atomic.Pointer[search.Index]
			defer startIdleTrim(trimEvery, node.StoreDir(*data), func() {
				if x := index.Load(); x != nil {
					x.ReleaseCaches()
				}
			}, logger)()
			if *tokenTTL < time.Minute || *tokenTTL > 24*time.Hour {
				return usagef("--token-ttl must be between 1m and 24h")
			}
			create, ignored, err := first.plan(c.environ, *data)
			if err != nil {
				return err
			}
			if len(ignored) > 0 {
				logger.Info("node already set up: first-start settings ignored (the admin pages change them)", "ignored", strings.Join(ignored, ", "))
			}
			cfg.Logger = logger
			return node.Serve(ctx, node.ServeOptions{Config: cfg, Listen: *listen, Init: create,
				OnOpen: func(n *node.Node) { index.Store(n.Search) }})
		}
	}}
}

// parsePrefixes reads a comma-separated list of addresses and CIDR
// ranges.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(list) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR range", item)
		}
		out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	return out, nil
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format must be text or json")
}

// withAccounts opens the stopped node in dir for an account command.
func withAccounts(ctx context.Context, dir string, fn func(*account.Accounts) error) error {
	if err := needData(dir); err != nil {
		return err
	}
	n, err := node.Open(node.Config{DataDir: dir})
	if err == nil {
		defer n.Close()
		return fn(n.Accounts)
	}
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("the node is running; stop it first, or manage accounts in its admin pages or with POST /api/v1/users")
	}
	return err
}

func userCommand(verb string) command {
	cmd := command{name: "user " + verb}
	switch verb {
	case "add":
		cmd.summary = "add a staff account"
		cmd.define = func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
			data := dataFlag(fs)
			email := fs.String("email", "", "email of the user")
			name := fs.String("name", "", "display name")
			role := fs.String("role", "worker", "role: worker or admin")
			password := fs.String("password", "", "password (asked if missing on a terminal)")
			return func(ctx context.Context, c *cli, args []string) error {
				if err := c.ask([]prompt{{"email", "Email", email, false}, {"password", "Password (10+ characters)", password, true}}); err != nil {
					return err
				}
				return withAccounts(ctx, *data, func(a *account.Accounts) error {
					u, err := a.AddUser(ctx, *email, *name, account.Role(*role), *password)
					if err != nil {
						return err
					}
					fmt.Fprintf(c.stdout, "added %s (%s)\n", u.Email, u.Role)
					return nil
				})
			}
		}
	case "list":
		cmd.summary = "list staff accounts"
		cmd.define = func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
			data := dataFlag(fs)
			return func(ctx context.Context, c *cli, args []string) error {
				return withAccounts(ctx, *data, func(a *account.Accounts) error {
					users, err := a.Users(ctx)
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "EMAIL\tROLE\tSTATUS\tCREATED")
					for _, u := range users {
						status := "active"
						if u.Disabled {
							status = "disabled"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Role, status, u.Created.Format(time.DateOnly))
					}
					return tw.Flush()
				})
			}
		}
	case "disable", "enable", "delete":
		cmd.summary = verb + " a staff account (disabling revokes its tokens and sessions at once)"
		if verb == "delete" {
			cmd.summary = "delete a disabled staff account: its email, name and password are erased; the audit log keeps its id"
		}
		cmd.define = func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
			data := dataFlag(fs)
			email := fs.String("email", "", "email of the user")
			return func(ctx context.Context, c *cli, args []string) error {
				if *email == "" {
					return usagef("--email is required")
				}
				return withAccounts(ctx, *data, func(a *account.Accounts) error {
					var u *account.User
					var err error
					if verb == "delete" {
						if u, err = a.UserByEmail(ctx, *email); err == nil {
							err = a.DeleteUser(ctx, u.ID, "")
						}
					} else {
						u, err = a.SetDisabled(ctx, *email, verb == "disable")
					}
					if err != nil {
						return err
					}
					fmt.Fprintf(c.stdout, "%sd %s\n", verb, u.Email)
					return nil
				})
			}
		}
	}
	return cmd
}

func backupCommand() command {
	return command{name: "backup", args: "FILE", summary: "write an encrypted backup of the node (online if it is running); FILE - is stdout", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := dataFlag(fs)
		return func(ctx context.Context, c *cli, args []string) error {
			if err := needData(*data); err != nil {
				return err
			}
			if len(args) != 1 {
				return usagef("give one backup FILE")
			}
			p := c.progress("backup", countBytes)
			backup := func(w io.Writer) error {
				err := node.Backup(ctx, *data, progressWriter{w, p})
				if err == nil {
					p.Done()
				}
				return err
			}
			if args[0] == "-" {
				return backup(c.stdout)
			}
			return writeFileAtomic(args[0], backup)
		}
	}}
}

func rotateSealingKeyCommand() command {
	return command{name: "rotate-sealing-key", summary: "give a stopped node a new key for sealed referrals (old ones stay readable)", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := dataFlag(fs)
		return func(ctx context.Context, c *cli, args []string) error {
			if err := needData(*data); err != nil {
				return err
			}
			id, err := node.RotateSealingKey(ctx, *data)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "new sealing key %s; partners see it in the actor at the next start\n", id)
			return nil
		}
	}}
}

func restoreCommand() command {
	return command{name: "restore", args: "FILE", summary: "create a node in an empty data directory from a backup", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		data := dataFlag(fs)
		key := fs.String("key", "", "the node's store.key (default: the one already in --data)")
		return func(ctx context.Context, c *cli, args []string) error {
			if err := needData(*data); err != nil {
				return err
			}
			if len(args) != 1 {
				return usagef("give one backup FILE")
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			p := c.progress("restore", countBytes)
			if st, err := f.Stat(); err == nil {
				p.SetTotal(st.Size())
			}
			if err := node.Restore(ctx, *data, *key, progressReader{f, p}); err != nil {
				return err
			}
			p.Done()
			fmt.Fprintf(c.stdout, "restored into %s\n", *data)
			return nil
		}
	}}
}

// writeFileAtomic writes a new file through a temporary one, so a failed
// backup never leaves a truncated file under the final name.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func healthcheckCommand() command {
	return command{name: "healthcheck", summary: "exit 0 if the node listening on --listen answers /healthz (for container health checks)", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		listen := fs.String("listen", defaultListen, "address the node listens on")
		return func(ctx context.Context, c *cli, args []string) error {
			host, port, err := net.SplitHostPort(*listen)
			if err != nil {
				return usagef("--listen: %v", err)
			}
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "GET", "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthz answered %s", resp.Status)
			}
			return nil
		}
	}}
}

// splitList reads a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// defaultTiles is OpenStreetMap's standard tile server: fine for a small
// association's traffic under its usage policy; a busier node sets its
// own (or "none").
const defaultTiles = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

func tileURL(v string) string {
	if v == "none" {
		return ""
	}
	return v
}

func checkTileURL(v string) error {
	if v == "none" || v == "" {
		return nil
	}
	u, err := url.Parse(strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "").Replace(v))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.Contains(v, "{z}") {
		return usagef("--tile-url must be an http(s) URL template with {z}, {x} and {y}, or \"none\"")
	}
	return nil
}
