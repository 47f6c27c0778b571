package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// KeyPool hands out one distinct RSA-2048 actor key per node. Making one
// takes about 36 ms here, 36 s of processor time for 1,000 nodes, so keys
// are kept in a file between runs (by default in the user's cache
// directory): the simulation measures the network, not key generation.
type KeyPool struct {
	path string
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

// DefaultKeyFile is where keys are kept unless SIM_KEYS names
// another file ("" if there is no cache directory).
func DefaultKeyFile() string {
	if p := os.Getenv("SIM_KEYS"); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "maillage", "sim-keys.pem")
}

// NewKeyPool reads the keys kept in path ("" keeps none).
func NewKeyPool(path string) *KeyPool {
	p := &KeyPool{path: path}
	if path == "" {
		return p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return p
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			break
		}
		p.keys = append(p.keys, k)
	}
	return p
}

// Ensure makes keys until the pool holds n, on every processor, and keeps
// them in the pool's file.
func (p *KeyPool) Ensure(n int, workers int) error {
	p.mu.Lock()
	missing := n - len(p.keys)
	p.mu.Unlock()
	if missing <= 0 {
		return nil
	}
	out := make([]*rsa.PrivateKey, missing)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < missing; i += workers {
				k, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					errs <- err
					return
				}
				out[i] = k
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	p.mu.Lock()
	p.keys = append(p.keys, out...)
	p.mu.Unlock()
	if p.path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil {
		return nil // no cache: the keys stay in memory
	}
	f, err := os.OpenFile(p.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil
	}
	defer f.Close()
	for _, k := range out {
		pem.Encode(f, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}
	return nil
}

// Key returns the i-th key, making it if the pool is short.
func (p *KeyPool) Key(i int) (*rsa.PrivateKey, error) {
	if err := p.Ensure(i+1, 1); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if i >= len(p.keys) {
		return nil, fmt.Errorf("sim: no key %d", i)
	}
	return p.keys[i], nil
}
