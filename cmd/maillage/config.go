package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
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
		return fmt.Errorf("unknown environment variable(s) %s", strings.Join(unknownEnv, ", "))
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
