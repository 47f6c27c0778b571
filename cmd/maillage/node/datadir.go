package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Files of a data directory.
const (
	identityFile   = "maillage.json"
	keyFile        = "store.key"
	dbDir          = "db"
	legacyIndexDir = "index"           // the search index of earlier versions, removed at start
	indexSnapshot  = "search.snapshot" // the search index saved at a clean stop, read at the next start
	controlSock    = "control.sock"
)

// StoreDir is where a data directory keeps its store.
func StoreDir(dataDir string) string { return filepath.Join(dataDir, dbDir) }

// identityFormat is the version of maillage.json's layout.
const identityFormat = 1

// Identity is what maillage.json records: who this node is. It is public
// information; secrets live in the encrypted store.
type Identity struct {
	Format  int       `json:"format"`
	BaseURL string    `json:"base_url"`
	Handle  string    `json:"handle"`
	Created time.Time `json:"created"`
}

// ErrNotInitialized means the data directory holds no node yet.
var ErrNotInitialized = errors.New("data directory holds no Maillage node; run maillage init or open the setup page")

// State tells what a data directory holds.
type State int

// Data directory states.
const (
	Empty   State = iota // absent or empty: ready for init or restore
	Ours                 // a Maillage node
	Foreign              // something else: never touched
)

// Inspect tells what dir holds.
func Inspect(dir string) (State, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return Empty, nil
	}
	if err != nil {
		return Foreign, fmt.Errorf("read data directory %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return Empty, nil
	}
	if _, err := os.Stat(filepath.Join(dir, identityFile)); err == nil {
		return Ours, nil
	}
	return Foreign, nil
}

// IdentityOf returns who the node in dir is, from its maillage.json,
// without opening its store (which a running node holds locked).
func IdentityOf(dir string) (Identity, error) { return readIdentity(dir) }

func readIdentity(dir string) (Identity, error) {
	var id Identity
	b, err := os.ReadFile(filepath.Join(dir, identityFile))
	if errors.Is(err, os.ErrNotExist) {
		return id, ErrNotInitialized
	}
	if err != nil {
		return id, fmt.Errorf("read %s: %w", identityFile, err)
	}
	if err := json.Unmarshal(b, &id); err != nil {
		return id, fmt.Errorf("%s in %s is damaged: %w", identityFile, dir, err)
	}
	if id.Format != identityFormat {
		return id, fmt.Errorf("%s in %s has format %d; this binary reads format %d", identityFile, dir, id.Format, identityFormat)
	}
	return id, nil
}

// writeIdentity writes maillage.json atomically (temp file, fsync, rename).
func writeIdentity(dir string, id Identity) error {
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, identityFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", identityFile, err)
	}
	if _, err = f.Write(append(b, '\n')); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, identityFile))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", identityFile, err)
	}
	return nil
}
