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
)

// A backup is Badger's backup stream (which holds plaintext values)
// encrypted with a key derived from the store key:
//
//	"MAILLAGE-BACKUP 1\n"
//	salt   16 bytes, random
//	check  32 bytes: HKDF output that tells a wrong key at once
//	chunks: length (4 bytes, big endian) then AES-256-GCM ciphertext of
//	        up to 64 KiB of plaintext; the nonce is the chunk's counter,
//	        and the additional data is one byte, 1 for the last chunk.
//
// The counter detects reordered or dropped chunks, the last-chunk flag a
// truncated file, and GCM any altered byte.

const (
	backupMagic = "MAILLAGE-BACKUP 1\n"
	chunkSize   = 64 << 10
)

// ErrBadBackup reports a backup that is damaged, truncated or not one.
var ErrBadBackup = errors.New("store: not a valid Maillage backup")

func backupKeys(key, salt []byte) (cipher.AEAD, []byte, error) {
	material, err := hkdf.Key(sha256.New, key, salt, "maillage backup v1", 64)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(material[:32])
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	return aead, material[32:], err
}

func nonce(counter uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], counter)
	return n
}

// chunkWriter encrypts what is written to it, chunk by chunk.
type chunkWriter struct {
	w       io.Writer
	aead    cipher.AEAD
	buf     []byte
	counter uint64
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(chunkSize-len(c.buf), len(p))
		c.buf = append(c.buf, p[:take]...)
		p = p[take:]
		if len(c.buf) == chunkSize {
			if err := c.flush(false); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush(last bool) error {
	ad := []byte{0}
	if last {
		ad[0] = 1
	}
	sealed := c.aead.Seal(nil, nonce(c.counter), c.buf, ad)
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

// Backup writes an encrypted backup of the whole store to w while the
// store stays open for reads and writes.
func (s *Store) Backup(ctx context.Context, w io.Writer) error {
	return writeBackup(ctx, w, s.key, func(cw io.Writer) error {
		_, err := s.db.Backup(cw, 0)
		return err
	})
}

func writeBackup(ctx context.Context, w io.Writer, key []byte, stream func(io.Writer) error) error {
	salt := make([]byte, 16)
	rand.Read(salt)
	aead, check, err := backupKeys(key, salt)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(backupMagic)
	bw.Write(salt)
	bw.Write(check)
	cw := &chunkWriter{w: bw, aead: aead, buf: make([]byte, 0, chunkSize)}
	if err := stream(cw); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := cw.flush(true); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// chunkReader decrypts a backup's chunks.
type chunkReader struct {
	r       io.Reader
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
		return fmt.Errorf("%w: truncated", ErrBadBackup)
	}
	size := binary.BigEndian.Uint32(l[:])
	if size > chunkSize+uint32(c.aead.Overhead()) {
		return fmt.Errorf("%w: chunk too large", ErrBadBackup)
	}
	sealed := make([]byte, size)
	if _, err := io.ReadFull(c.r, sealed); err != nil {
		return fmt.Errorf("%w: truncated", ErrBadBackup)
	}
	for _, last := range []byte{0, 1} {
		plain, err := c.aead.Open(nil, nonce(c.counter), sealed, []byte{last})
		if err == nil {
			c.counter++
			c.buf = plain
			c.done = last == 1
			if c.done {
				if n, _ := c.r.Read(make([]byte, 1)); n > 0 {
					return fmt.Errorf("%w: data after the last chunk", ErrBadBackup)
				}
			}
			return nil
		}
	}
	return fmt.Errorf("%w: chunk %d is damaged", ErrBadBackup, c.counter)
}

func openBackup(r io.Reader, key []byte) (io.Reader, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(backupMagic)+16+32)
	if _, err := io.ReadFull(br, head); err != nil || string(head[:len(backupMagic)]) != backupMagic {
		return nil, fmt.Errorf("%w: unknown format", ErrBadBackup)
	}
	salt := head[len(backupMagic) : len(backupMagic)+16]
	aead, check, err := backupKeys(key, salt)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(check, head[len(backupMagic)+16:]) != 1 {
		return nil, fmt.Errorf("%w: the backup was made with another store key", ErrWrongKey)
	}
	return &chunkReader{r: br, aead: aead}, nil
}

// Restore creates a new store at path from a backup made with key. path
// must not exist or be empty; on any failure nothing is left behind.
func Restore(path string, key []byte, r io.Reader, opts Options) (err error) {
	entries, rerr := os.ReadDir(path)
	if rerr == nil && len(entries) > 0 {
		return fmt.Errorf("store: restore: %s is not empty; restore into a new directory", path)
	}
	created := errors.Is(rerr, os.ErrNotExist)
	plain, err := openBackup(r, key)
	if err != nil {
		return err
	}
	if opts.Logger == nil {
		opts.Logger = slogDiscard()
	}
	db, err := openBadger(path, key, opts.Logger)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			if created {
				os.RemoveAll(path)
			} else {
				clearDir(path)
			}
		}
	}()
	if err := db.Load(plain, 64); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	// Load stops at the end of Badger's stream; make sure the encrypted
	// envelope was complete too.
	if _, err := io.Copy(io.Discard, plain); err != nil {
		return err
	}
	return nil
}

func clearDir(path string) {
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		os.RemoveAll(path + string(os.PathSeparator) + e.Name())
	}
}
