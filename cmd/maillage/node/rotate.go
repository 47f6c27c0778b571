package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
	"github.com/maillage/maillage/store"
)

// secretSealingOld holds the sealing private keys replaced by rotations,
// newest last: referrals sealed to them stay readable.
const secretSealingOld = "sealing-hpke-old"

// oldSealingKeys returns the keys replaced by earlier rotations.
func oldSealingKeys(ctx context.Context, st *store.Store) ([][]byte, error) {
	raw, err := st.Secret(ctx, secretSealingOld)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var old [][]byte
	if err := json.Unmarshal(raw, &old); err != nil {
		return nil, fmt.Errorf("node: old sealing keys: %w", err)
	}
	return old, nil
}

// RotateSealingKey gives a stopped node a new sealing key pair. The actor
// publishes the new public key at the next start; the old private key is
// kept, so referrals already sealed to it (or sealed by partners that
// have not yet seen the new key) stay readable. It returns the new key's
// id.
func RotateSealingKey(ctx context.Context, dataDir string) (string, error) {
	n, err := Open(Config{DataDir: dataDir})
	if err != nil {
		return "", err
	}
	defer n.Close()
	current, err := n.Store.Secret(ctx, secretSealing)
	if err != nil {
		return "", fmt.Errorf("node: current sealing key: %w", err)
	}
	old, err := oldSealingKeys(ctx, n.Store)
	if err != nil {
		return "", err
	}
	next, err := referral.GenerateKey()
	if err != nil {
		return "", err
	}
	keys, err := referral.NewKeyring(next)
	if err != nil {
		return "", err
	}
	// The current key joins the old ones first: a crash between the two
	// writes leaves it listed twice, never lost.
	list, err := json.Marshal(append(old, current))
	if err != nil {
		return "", err
	}
	if err := n.Store.PutSecret(ctx, secretSealingOld, list); err != nil {
		return "", err
	}
	if err := n.Store.PutSecret(ctx, secretSealing, next); err != nil {
		return "", err
	}
	return referral.KeyID(keys.Public()), nil
}
