package store

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// A backup is Badger's backup stream, which carries every value in clear,
// wrapped in authenticated encryption under a key derived from the store
// key, so that a backup file is as safe to keep off the machine as the
// encrypted store itself:
//
//	magic   "MAILLAGE-BACKUP 1\n"
//	salt    16 random bytes
//	check   32 bytes
//	chunks  each: length (uint32, big endian) of the sealed chunk, then
//	        AES-256-GCM of up to 64 KiB of the Badger stream
//
// HKDF-SHA256(store key, salt, "maillage backup v1") gives 64 bytes: the
// first 32 are the AES key, the last 32 the check value, which tells a
// wrong store key at once instead of as a damaged first chunk. The salt
// makes the AES key unique to each backup, so the GCM nonce can be the
// chunk counter (4 zero bytes, then the counter as uint64 big endian): a
// reordered, dropped or repeated chunk fails to open. The additional data
// is one byte, 1 for the last chunk and 0 for the others, and the last
// chunk is always written (even empty): a file cut at a chunk boundary
// ends without it and is refused. GCM detects any altered byte.

const (
	backupMagic = "MAILLAGE-BACKUP 1\n"
	backupInfo  = "maillage backup v1"
	saltSize    = 16
	checkSize   = 32
	chunkSize   = 64 << 10
)

// ErrBadBackup reports a backup that is damaged, truncated or not one.
var ErrBadBackup = errors.New("store: not a valid Maillage backup")

// backupCipher derives the chunk cipher and the key-check value.
func backupCipher(key, salt []byte) (cipher.AEAD, []byte, error) {
	material, err := hkdf.Key(sha256.New, key, salt, backupInfo, 32+checkSize)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(material[:32])
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	return aead, material[32:], nil
}

func chunkNonce(counter uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], counter)
	return n
}

func chunkAD(last bool) []byte {
	if last {
		return []byte{1}
	}
	return []byte{0}
}

// Backup writes an encrypted backup of the whole store to w. The store
// stays open for reads and writes meanwhile: the backup is a consistent
// snapshot of the moment it started. Cancelling ctx stops it.
func (s *Store) Backup(ctx context.Context, w io.Writer) error {
	err := writeBackup(ctx, w, s.key, backupMagic, func(cw io.Writer) error {
		_, err := s.db.Backup(cw, 0)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

func writeBackup(ctx context.Context, w io.Writer, key []byte, magic string, stream func(io.Writer) error) error {
	salt := make([]byte, saltSize)
	rand.Read(salt)
	aead, check, err := backupCipher(key, salt)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, chunkSize+1024)
	bw.WriteString(magic) // bufio keeps the first error for Flush
	bw.Write(salt)
	bw.Write(check)
	cw := &chunkWriter{w: bw, aead: aead, buf: make([]byte, 0, chunkSize), stop: ctx.Err}
	if err := stream(cw); err != nil {
		return err
	}
	if err := cw.seal(true); err != nil {
		return err
	}
	return bw.Flush()
}

// chunkWriter encrypts what is written to it, chunk by chunk.
type chunkWriter struct {
	w       io.Writer
	aead    cipher.AEAD
	buf     []byte
	counter uint64
	stop    func() error // non-nil error: abandon the backup
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	if err := c.stop(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		take := min(chunkSize-len(c.buf), len(p))
		c.buf = append(c.buf, p[:take]...)
		p = p[take:]
		if len(c.buf) == chunkSize {
			if err := c.seal(false); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) seal(last bool) error {
	sealed := c.aead.Seal(nil, chunkNonce(c.counter), c.buf, chunkAD(last))
	c.counter++
	c.buf = c.buf[:0]
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(sealed)))
	if _, err := c.w.Write(l[:]); err != nil {
		return err
	}
	_, err := c.w.Write(sealed)
	return err
}

// openBackup checks a backup's header and returns its decrypted stream.
// The same format, with another magic line, holds the store's sidecar
// files (sidecar.go).
func openBackup(r io.Reader, key []byte, magic string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, chunkSize+1024)
	head := make([]byte, len(magic)+saltSize+checkSize)
	if _, err := io.ReadFull(br, head); err != nil || string(head[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: unknown format (no %q header)", ErrBadBackup, magic[:len(magic)-1])
	}
	salt := head[len(magic) : len(magic)+saltSize]
	aead, check, err := backupCipher(key, salt)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(check, head[len(magic)+saltSize:]) != 1 {
		return nil, fmt.Errorf("%w: this backup was made with another store key (or its header is damaged)", ErrWrongKey)
	}
	return &chunkReader{r: br, aead: aead}, nil
}

// chunkReader decrypts a backup's chunks, failing with ErrBadBackup on
// any damage, and returns io.EOF only after the authenticated last chunk.
type chunkReader struct {
	r       *bufio.Reader
	aead    cipher.AEAD
	buf     []byte
	counter uint64
	done    bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

func (c *chunkReader) next() error {
	var l [4]byte
	if _, err := io.ReadFull(c.r, l[:]); err != nil {
		return fmt.Errorf("%w: truncated after chunk %d", ErrBadBackup, c.counter)
	}
	size := binary.BigEndian.Uint32(l[:])
	if size < uint32(c.aead.Overhead()) || size > chunkSize+uint32(c.aead.Overhead()) {
		return fmt.Errorf("%w: chunk %d has an impossible length", ErrBadBackup, c.counter)
	}
	sealed := make([]byte, size)
	if _, err := io.ReadFull(c.r, sealed); err != nil {
		return fmt.Errorf("%w: truncated in chunk %d", ErrBadBackup, c.counter)
	}
	for _, last := range []bool{false, true} {
		plain, err := c.aead.Open(nil, chunkNonce(c.counter), sealed, chunkAD(last))
		if err != nil {
			continue
		}
		c.counter++
		c.buf, c.done = plain, last
		if last {
			if _, err := c.r.Peek(1); err == nil {
				return fmt.Errorf("%w: data after the last chunk", ErrBadBackup)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: chunk %d is damaged or out of place", ErrBadBackup, c.counter)
}

// Restore creates a new store at path from a backup made with key. path
// must not exist (its parent must) or be an empty directory: a restore
// never merges into live data. On any failure, whatever Restore created
// is removed, so no half-restored store remains.
func Restore(path string, key []byte, r io.Reader, opts Options) (err error) {
	opts = opts.withDefaults()
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkMigrations(opts.migrations); err != nil {
		return err
	}
	existed, err := checkRestoreDir(path)
	if err != nil {
		return err
	}
	plain, err := openBackup(r, key, backupMagic)
	if err != nil {
		return err
	}
	if !existed {
		if err := os.Mkdir(path, 0o700); err != nil {
			return fmt.Errorf("store: restore: %w", err)
		}
	}
	defer func() {
		if err == nil {
			return
		}
		if existed {
			emptyDir(path)
		} else {
			os.RemoveAll(path)
		}
	}()
	return load(path, key, plain, opts)
}

// checkRestoreDir reports whether path exists, failing with ErrNotEmpty
// if it holds anything.
func checkRestoreDir(path string) (existed bool, err error) {
	entries, err := os.ReadDir(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: restore: %w", err)
	case len(entries) > 0:
		return true, fmt.Errorf("%w: %s; restore into a new or empty directory", ErrNotEmpty, path)
	}
	return true, nil
}

// load fills the new store at path from a decrypted backup stream and
// checks that the result is a store this binary can open.
func load(path string, key []byte, plain io.Reader, opts Options) (err error) {
	db, err := openBadger(path, key, opts.Logger)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: restore: %w", cerr)
		}
	}()
	if err := db.Load(plain, 64); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	// Load stops at the end of Badger's stream; the encrypted envelope
	// must end there too, with its authenticated last chunk.
	if _, err := io.Copy(io.Discard, plain); err != nil {
		return err
	}
	// A restored store is a new line of history: caches stamped by the
	// store it came from (sidecars) must not be taken for its own.
	if err := newLineage(db); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	var version int
	verr := db.View(func(txn *badger.Txn) error {
		var err error
		version, err = schemaVersion(txn)
		return err
	})
	switch latest := latestVersion(opts.migrations); {
	case verr != nil:
		return fmt.Errorf("store: restore: schema version: %w", verr)
	case version == 0:
		return fmt.Errorf("%w: it holds no schema version", ErrBadBackup)
	case version > latest:
		return fmt.Errorf("%w: the backup has schema version %d, this binary knows up to %d; restore with a newer Maillage", ErrNewerSchema, version, latest)
	}
	return nil
}

func emptyDir(path string) {
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(path, e.Name()))
	}
}
