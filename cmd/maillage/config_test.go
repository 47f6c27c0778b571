package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
