package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.key")
	if err := GenerateKey(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %v, want 0600", got)
	}
	first, _ := os.ReadFile(path)
	if err := GenerateKey(path); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("GenerateKey(existing) = %v, want a refusal", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, first) {
		t.Error("GenerateKey changed an existing key file")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	GenerateKey(other)
	if second, _ := os.ReadFile(other); bytes.Equal(second, first) {
		t.Error("two generated keys are equal")
	}
}

func TestReadKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte{7}, size), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode) // WriteFile's mode passes through the umask
		return p
	}
	tests := []struct {
		name    string
		path    string
		wantErr string // "" for success
	}{
		{"good", write("good.key", KeySize, 0o600), ""},
		{"owner read-only", write("ro.key", KeySize, 0o400), ""},
		{"missing", filepath.Join(dir, "none.key"), "is missing"},
		{"short", write("short.key", 3, 0o600), "has 3 bytes, want 32"},
		{"long", write("long.key", 64, 0o600), "has 64 bytes, want 32"},
		{"group readable", write("group.key", KeySize, 0o640), "chmod 600"},
		{"world readable", write("world.key", KeySize, 0o604), "chmod 600"},
		{"directory", dir, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ReadKey(tt.path)
			if tt.wantErr == "" {
				if err != nil || len(key) != KeySize {
					t.Errorf("ReadKey = %d bytes, %v; want %d bytes, nil", len(key), err, KeySize)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ReadKey = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
