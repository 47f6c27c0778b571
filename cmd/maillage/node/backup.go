package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/maillage/maillage/store"
)

// Backup writes an encrypted backup of the node in dir to w. If the node
// is running, the backup is taken online through its control socket;
// otherwise the store is opened directly. The backup is encrypted with the
// node's store key: keep a copy of store.key apart from the backups.
func Backup(ctx context.Context, dir string, w io.Writer) error {
	if _, err := readIdentity(dir); err != nil {
		return err
	}
	key, err := store.ReadKey(filepath.Join(dir, keyFile))
	if err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(dir, dbDir), key, store.Options{})
	if errors.Is(err, store.ErrLocked) {
		return backupOnline(ctx, dir, w)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Backup(ctx, w)
}

func backupOnline(ctx context.Context, dir string, w io.Writer) error {
	sock := filepath.Join(dir, controlSock)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://node/backup", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("the node is running but its control socket does not answer: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("online backup refused: %s", resp.Status)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// Restore creates the node in dir from a backup. dir must hold no store;
// the key is read from keyPath, or from dir's store.key when keyPath is
// empty, and copied into dir.
func Restore(ctx context.Context, dir, keyPath string, r io.Reader) (err error) {
	if keyPath == "" {
		keyPath = filepath.Join(dir, keyFile)
	}
	key, err := store.ReadKey(keyPath)
	if err != nil {
		return fmt.Errorf("restore needs the node's store key (--key): %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, dbDir)); err == nil {
		return fmt.Errorf("%s already holds a store; restore into a new directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, identityFile)); err == nil {
		return fmt.Errorf("%s already holds a node; restore into a new directory", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	createdKey := false
	defer func() {
		if err != nil {
			os.RemoveAll(filepath.Join(dir, dbDir))
			if createdKey {
				os.Remove(filepath.Join(dir, keyFile))
			}
		}
	}()
	dst := filepath.Join(dir, keyFile)
	if keyPath != dst {
		if err := copyKey(keyPath, dst); err != nil {
			return err
		}
		createdKey = true
	}
	if err := store.Restore(filepath.Join(dir, dbDir), key, r, store.Options{}); err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(dir, dbDir), key, store.Options{})
	if err != nil {
		return err
	}
	raw, err := st.Secret(ctx, secretIdentity)
	st.Close()
	if err != nil {
		return fmt.Errorf("backup holds no node identity: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(raw, &id); err != nil {
		return fmt.Errorf("backup's node identity is damaged: %w", err)
	}
	return writeIdentity(dir, id)
}

func copyKey(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("copy key: %w", err)
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
