package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/maillage/maillage/cmd/maillage/node"
	"github.com/maillage/maillage/directory"
)

// firstStart holds the flags with which serve creates the node in an empty
// data directory, for containers that cannot run `maillage init` first
// (no shell in the image, configuration by the environment).
type firstStart struct {
	url, name, handle, email, passwordFile *string
}

func firstStartFlags(fs *flag.FlagSet) firstStart {
	const create = ", to create the node in an empty data directory"
	return firstStart{
		url:          fs.String("url", "", "public base URL of the node, e.g. https://maison.example.be"+create+"; a node already set up refuses to start if it is not its URL"),
		name:         fs.String("name", "", "name of the association"+create+" (ignored afterwards: edit it in the admin pages)"),
		handle:       fs.String("handle", "", "short handle of the association's actor (a-z, 0-9, _)"+create+"; a node already set up refuses to start if it is not its handle"),
		email:        fs.String("admin-email", "", "email of the first admin"+create+" (ignored afterwards)"),
		passwordFile: fs.String("admin-password-file", "", "file holding the first admin's password, such as a Docker secret (a final line break is dropped)"+create+" (not read afterwards)"),
	}
}

type namedValue struct {
	name  string
	value *string
}

func (f firstStart) all() []namedValue {
	return []namedValue{{"url", f.url}, {"name", f.name}, {"handle", f.handle}, {"admin-email", f.email}, {"admin-password-file", f.passwordFile}}
}

// plan tells what serve does with these flags. In an empty data directory:
// the node to create when all are given, nil (the setup page) when none
// are, an error naming the missing ones otherwise. In a directory that
// holds a node: the URL and handle, when given, must be the node's, since
// they name it in the federation and cannot change; the other flags are
// returned as ignored, because the admin pages own what they set.
func (f firstStart) plan(environ []string, dir string) (create *node.InitParams, ignored []string, err error) {
	var given, missing []string
	for _, v := range f.all() {
		if *v.value != "" {
			given = append(given, "--"+v.name)
		} else {
			missing = append(missing, "--"+v.name)
		}
	}
	if len(given) == 0 {
		return nil, nil, nil
	}
	switch st, err := node.Inspect(dir); {
	case err != nil || st == node.Foreign:
		return nil, nil, err // Serve refuses a foreign directory with its own message
	case st == node.Ours:
		if err := f.checkIdentity(dir); err != nil {
			return nil, nil, err
		}
		for _, g := range given {
			if g != "--url" && g != "--handle" {
				ignored = append(ignored, g)
			}
		}
		return nil, ignored, nil
	}
	if len(missing) > 0 {
		return nil, nil, f.missingError(environ, dir, missing)
	}
	password, err := readSecretFile("admin-password-file", *f.passwordFile)
	if err != nil {
		return nil, nil, err
	}
	p := &node.InitParams{BaseURL: *f.url, Name: *f.name, Handle: *f.handle, AdminEmail: *f.email, AdminPassword: password}
	if pr := p.Validate(); len(pr) > 0 {
		return nil, nil, renameField(pr, "admin-password", "admin-password-file")
	}
	return p, nil, nil
}

func (f firstStart) missingError(environ []string, dir string, missing []string) error {
	env := make([]string, len(missing))
	for i, m := range missing {
		env[i] = envName(strings.TrimPrefix(m, "--"))
	}
	msg := fmt.Sprintf("to create the node in the empty data directory %s, serve also needs %s (%s); give none of --url, --name, --handle, --admin-email, --admin-password-file to use the setup page instead",
		dir, strings.Join(missing, ", "), strings.Join(env, ", "))
	if slices.Contains(missing, "--admin-password-file") && slices.ContainsFunc(environ, func(kv string) bool { return strings.HasPrefix(kv, envName("admin-password")+"=") }) {
		msg += "; serve does not read " + envName("admin-password") + ", which anyone allowed to inspect the container can read: write the password to a file (a Docker secret) and give its path"
	}
	return usagef("%s", msg)
}

func (f firstStart) checkIdentity(dir string) error {
	id, err := node.IdentityOf(dir)
	if err != nil {
		return err
	}
	where := filepath.Join(dir, "maillage.json")
	if *f.url != "" {
		u, err := node.NormalizeBaseURL(*f.url)
		if err != nil {
			return usagef("--url: %v", err)
		}
		if u != id.BaseURL {
			return usagef("--url %s differs from the node's URL %s (recorded in %s): a node's URL names it in the federation and cannot change; correct --url (%s) or leave it out",
				u, id.BaseURL, where, envName("url"))
		}
	}
	if *f.handle != "" && *f.handle != id.Handle {
		return usagef("--handle %s differs from the node's handle %s (recorded in %s): it names the association in the federation and cannot change; correct --handle (%s) or leave it out",
			*f.handle, id.Handle, where, envName("handle"))
	}
	return nil
}

// maxSecretFile bounds a password file: it holds one line.
const maxSecretFile = 4096

// readSecretFile reads a password from a file, such as a Docker secret,
// without the line break that echo or an editor leaves at its end. Errors
// name the file, never its content.
func readSecretFile(flagName, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flagName, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flagName, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("--%s: %s is larger than %d bytes; it must hold the password alone", flagName, path, maxSecretFile)
	}
	s := strings.TrimRight(string(b), "\r\n")
	switch {
	case s == "":
		return "", fmt.Errorf("--%s: %s is empty", flagName, path)
	case strings.ContainsAny(s, "\r\n"):
		return "", fmt.Errorf("--%s: %s holds several lines; it must hold the password alone", flagName, path)
	}
	return s, nil
}

// renameField gives the problems of one field another name, for a flag
// that supplies the value differently (a password read from a file).
func renameField(err error, from, to string) error {
	var pr directory.Problems
	if !errors.As(err, &pr) {
		return err
	}
	out := slices.Clone(pr)
	for i := range out {
		if out[i].Field == from {
			out[i].Field = to
		}
	}
	return out
}
