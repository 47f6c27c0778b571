// Command maillage runs a Maillage node: one binary for setting up,
// serving, administering and backing up the node of an association.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // opening hours need Europe/Brussels even on a bare image

	"golang.org/x/term"

	"github.com/maillage/maillage/directory"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// cli is the program's contact with the outside world, replaceable in tests.
type cli struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
	// terminal reports whether stdin is an interactive terminal.
	terminal func() bool
	// readSecret reads a line from the terminal without echo.
	readSecret func() (string, error)
	// errTerminal reports whether stderr is a terminal (progress bars);
	// now is the clock of progress reports. Nil: no, and time.Now.
	errTerminal func() bool
	now         func() time.Time
}

func (c *cli) stderrTerminal() bool { return c.errTerminal != nil && c.errTerminal() }

func (c *cli) clock() func() time.Time {
	if c.now == nil {
		return time.Now
	}
	return c.now
}

// command is one subcommand. define declares its flags on fs and returns
// the function that runs it with the parsed flags and positional args.
type command struct {
	name    string
	args    string
	summary string
	define  func(fs *flag.FlagSet) func(ctx context.Context, c *cli, args []string) error
}

func commands() []command {
	return []command{
		initCommand(),
		serveCommand(),
		userCommand("add"), userCommand("list"), userCommand("disable"), userCommand("enable"), userCommand("delete"),
		backupCommand(),
		rotateSealingKeyCommand(),
		restoreCommand(),
		importCommand(),
		exportCommand(),
		demoCommand(),
		benchCommand(),
		benchSearchCommand(),
		benchExportCommand(),
		healthcheckCommand(),
		configReferenceCommand(),
		{name: "version", summary: "print the version", define: func(*flag.FlagSet) func(context.Context, *cli, []string) error {
			return func(_ context.Context, c *cli, _ []string) error {
				fmt.Fprintln(c.stdout, "maillage", version, runtime.Version())
				if w := goWarning(runtime.Version()); w != "" {
					fmt.Fprintln(c.stderr, "warning:", w)
				}
				return nil
			}
		}},
	}
}

func main() {
	c := &cli{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(),
		terminal:    func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		errTerminal: func() bool { return term.IsTerminal(int(os.Stderr.Fd())) },
		readSecret: func() (string, error) {
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			return string(b), err
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, c, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the command line and returns the process exit code:
// 0 on success, 2 on a usage error, 1 on any other failure.
func run(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(c.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name := args[0]
	args = args[1:]
	if name == "user" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			fmt.Fprintln(c.stderr, "maillage user: say add, list, disable or enable")
			return 2
		}
		name, args = "user "+args[0], args[1:]
	}
	for _, cmd := range commands() {
		if cmd.name != name {
			continue
		}
		fs := flag.NewFlagSet("maillage "+name, flag.ContinueOnError)
		fs.SetOutput(c.stderr)
		runCmd := cmd.define(fs)
		fs.Usage = func() {
			fmt.Fprintf(c.stderr, "Usage: maillage %s [flags] %s\n\n%s\n\nFlags (also MAILLAGE_<FLAG> environment variables):\n", name, cmd.args, cmd.summary)
			fs.PrintDefaults()
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if err := applyConfig(fs, c.environ, knownFlags()); err != nil {
			fmt.Fprintf(c.stderr, "maillage %s: %v\n", name, err)
			return 2
		}
		if err := runCmd(ctx, c, fs.Args()); err != nil {
			printError(c.stderr, name, err)
			var ue usageError
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
		return 0
	}
	fmt.Fprintf(c.stderr, "maillage: unknown command %q\n\n", name)
	usage(c.stderr)
	return 2
}

// usageError marks errors in how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func printError(w io.Writer, name string, err error) {
	if p, ok := directory.AsProblems(err); ok {
		fmt.Fprintf(w, "maillage %s: invalid input:\n", name)
		for _, pr := range p {
			fmt.Fprintf(w, "  --%s: %s\n", pr.Field, pr.Message)
		}
		return
	}
	fmt.Fprintf(w, "maillage %s: %v\n", name, err)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "maillage runs the node of an association in a Maillage network.")
	fmt.Fprintln(w, "\nUsage: maillage <command> [flags]\n\nCommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun 'maillage <command> --help' for the flags of a command.")
}

// knownFlags lists the flags of every command, so that a MAILLAGE_*
// variable meant for another command is not an error.
func knownFlags() map[string]bool {
	known := map[string]bool{}
	for _, cmd := range commands() {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.define(fs)
		fs.VisitAll(func(f *flag.Flag) { known[f.Name] = true })
	}
	return known
}
