package node

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/store"
	"github.com/maillage/maillage/web/account"
)

// Names of the node's secrets in the store.
const (
	secretActorKey = "actor-rsa"    // RSA-2048 PKCS#8 PEM: HTTP signatures
	secretTokenKey = "jwt-ed25519"  // Ed25519 seed: API tokens
	secretIdentity = "identity"     // copy of maillage.json, so a backup restores it
	secretSealing  = "sealing-hpke" // HPKE ML-KEM-768+X25519 private key: sealed referrals
)

// InitParams describe a new node.
type InitParams struct {
	BaseURL       string // public URL, e.g. https://maison.example.be
	Name          string // the association's name
	Handle        string // the actor's handle, e.g. maison
	AdminEmail    string
	AdminPassword string
	Now           func() time.Time
	Logger        *slog.Logger
	// Params override the argon2id costs (tests use cheap ones).
	Params account.Params
}

var handleRE = regexp.MustCompile(`^[a-z0-9_]{1,30}$`)

// Validate reports every problem with p at once.
func (p InitParams) Validate() directory.Problems {
	var pr directory.Problems
	if _, err := NormalizeBaseURL(p.BaseURL); err != nil {
		pr.Add("url", "%s", err)
	}
	if strings.TrimSpace(p.Name) == "" {
		pr.Add("name", "is required")
	} else if len(p.Name) > 200 {
		pr.Add("name", "is longer than 200 characters")
	}
	if !handleRE.MatchString(p.Handle) {
		pr.Add("handle", "must be 1 to 30 lower-case letters, digits or _")
	}
	if p.AdminEmail == "" {
		pr.Add("admin-email", "is required")
	}
	if len([]rune(p.AdminPassword)) < account.MinPasswordLen {
		pr.Add("admin-password", "must have at least %d characters", account.MinPasswordLen)
	}
	return pr
}

// NormalizeBaseURL checks that u is an absolute http(s) URL with no path,
// query or fragment, and returns it without a trailing slash.
func NormalizeBaseURL(u string) (string, error) {
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http or https URL", u)
	}
	if (pu.Path != "" && pu.Path != "/") || pu.RawQuery != "" || pu.Fragment != "" || pu.User != nil {
		return "", fmt.Errorf("%q must be only scheme and host, like https://maison.example.be", u)
	}
	return pu.Scheme + "://" + strings.ToLower(pu.Host), nil
}

// Init creates a node in dir, which must be absent or empty. On failure it
// removes everything it created, so a retry starts clean.
func Init(ctx context.Context, dir string, p InitParams) (err error) {
	if err := p.Validate().Err(); err != nil {
		return err
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	switch st, err := Inspect(dir); {
	case err != nil:
		return err
	case st == Ours:
		return fmt.Errorf("%s already holds a Maillage node", dir)
	case st == Foreign:
		return fmt.Errorf("%s is not empty and holds no Maillage node; choose an empty directory", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	defer func() {
		if err != nil {
			cleanDir(dir)
		}
	}()
	base, _ := NormalizeBaseURL(p.BaseURL)
	keyPath := filepath.Join(dir, keyFile)
	if err := store.GenerateKey(keyPath); err != nil {
		return err
	}
	key, err := store.ReadKey(keyPath)
	if err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(dir, dbDir), key, store.Options{Logger: p.Logger, Now: p.Now})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	id := Identity{Format: identityFormat, BaseURL: base, Handle: p.Handle, Created: p.Now().UTC()}
	if err := seed(ctx, st, id, p); err != nil {
		return err
	}
	return writeIdentity(dir, id)
}

func seed(ctx context.Context, st *store.Store, id Identity, p InitParams) error {
	org := &directory.Organization{ID: directory.NewID(), Name: directory.Text{directory.FR: strings.TrimSpace(p.Name)}, Updated: id.Created}
	if err := st.PutOrganization(ctx, org); err != nil {
		return err
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate actor key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		return err
	}
	if err := st.PutSecret(ctx, secretActorKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return err
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err := st.PutSecret(ctx, secretTokenKey, edKey.Seed()); err != nil {
		return err
	}
	if _, err := sealingKey(ctx, st); err != nil {
		return err
	}
	idJSON, err := json.Marshal(id)
	if err != nil {
		return err
	}
	if err := st.PutSecret(ctx, secretIdentity, idJSON); err != nil {
		return err
	}
	acc := account.New(st, account.Options{Params: p.Params, Now: p.Now})
	if _, err := acc.AddUser(ctx, p.AdminEmail, "", account.RoleAdmin, p.AdminPassword); err != nil {
		var pr directory.Problems
		if errors.As(err, &pr) {
			for i := range pr {
				pr[i].Field = "admin-" + pr[i].Field
			}
			return pr
		}
		return err
	}
	return nil
}

// cleanDir removes what Init created in dir, leaving dir itself.
func cleanDir(dir string) {
	for _, name := range []string{identityFile, identityFile + ".tmp", keyFile, dbDir, legacyIndexDir, indexSnapshot, indexSnapshot + ".tmp"} {
		os.RemoveAll(filepath.Join(dir, name))
	}
}

// sealingKey returns the node's HPKE key pair, creating it on first use.
func sealingKey(ctx context.Context, st *store.Store) (hpke.PrivateKey, error) {
	kem := hpke.MLKEM768X25519()
	raw, err := st.Secret(ctx, secretSealing)
	if errors.Is(err, directory.ErrNotFound) {
		k, err := kem.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("generate sealing key: %w", err)
		}
		b, err := k.Bytes()
		if err != nil {
			return nil, err
		}
		if err := st.PutSecret(ctx, secretSealing, b); err != nil {
			return nil, err
		}
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	return kem.NewPrivateKey(raw)
}
