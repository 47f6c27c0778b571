package federation_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maillage/maillage/cmd/maillage/node/nodetest"
)

// syncBuffer collects the logs of every node, written from many
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// A full scenario at debug level — logins (one failed), tokens, a
// partnership, a referral opened, accepted and withdrawn, a backup — and
// no log line of either node holds a password, a token, a store key or
// anything of the resident.
func TestLogsHoldNoSecrets(t *testing.T) {
	const marker = "Quasimodo-Vermeer-7731"
	const email = "quasimodo.vermeer@example.org"
	logs := &syncBuffer{}
	nodes := nodetest.Start(t, 2, nodetest.Options{Log: logs})
	a, b := nodes[0], nodes[1]
	ta, tb := a.AdminToken(), b.AdminToken()
	if r := a.Do("POST", "/api/v1/token", "", map[string]string{"email": a.AdminEmail, "password": "wrong-Password-4412"}); r.Status != 401 {
		t.Errorf("a wrong password: %d", r.Status)
	}
	if r := a.Do("POST", "/api/v1/users", ta, `{"email": "worker@node1.test", "password": "worker-Secret-9981", "role": "worker"}`); r.Status != 201 {
		t.Fatalf("add worker: %d %s", r.Status, r.Body)
	}
	tw := a.Token("worker@node1.test", "worker-Secret-9981")
	partner(t, a, b, ta, tb)
	resp := b.Do("POST", "/api/v1/services", tb, `{"name": "Permanence logement", "status": "active",
	  "referral_policy": {"accepts": true, "from": "partners", "categories": ["identity", "contact"]}}`)
	var svc struct{ ID string }
	resp.JSON(t, &svc)
	eventually(t, "A has B's service", func() bool { return len(replica(t, a)) == 1 })
	given := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	resp = a.Do("POST", "/api/v1/referrals", tw, `{"service": "`+svc.ID+`", "resident": {"name": "`+marker+`", "email": "`+email+`"},
	  "consent": {"method": "on-screen", "categories": ["identity", "contact"], "notice_version": "2026-11",
	  "notice_hash": "`+strings.Repeat("ab", 32)+`", "notice_lang": "fr", "given_at": "`+given+`"}}`)
	if resp.Status != 201 {
		t.Fatalf("refer: %d %s", resp.Status, resp.Body)
	}
	var created struct{ ID string }
	resp.JSON(t, &created)
	var list struct {
		Total     int
		Referrals []struct{ ID string }
	}
	eventually(t, "B receives it", func() bool {
		b.Do("GET", "/api/v1/referrals?box=received", tb, nil).JSON(t, &list)
		return list.Total == 1
	})
	id := list.Referrals[0].ID
	if r := b.Do("GET", "/api/v1/referrals/"+id, tb, nil); r.Status != 200 || !bytes.Contains(r.Body, []byte(marker)) {
		t.Fatalf("B opens it: %d", r.Status)
	}
	b.Do("POST", "/api/v1/referrals/"+id+"/transition", tb, `{"to": "accepted"}`)
	if r := a.Do("POST", "/api/v1/referrals/"+created.ID+"/withdraw", tw, nil); r.Status != 200 {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	if r := a.Do("GET", "/api/v1/backup", ta, nil); r.Status != 200 {
		t.Fatalf("backup: %d", r.Status)
	}
	eventually(t, "B erased", func() bool {
		var l struct{ Total int }
		b.Do("GET", "/api/v1/referrals?box=received&state=cancelled", tb, nil).JSON(t, &l)
		return l.Total == 1
	})
	for _, n := range nodes {
		n.Stop()
	}

	out := logs.Bytes()
	if len(out) < 2000 {
		t.Fatalf("the logs hold %d bytes: the scan would check nothing", len(out))
	}
	secrets := map[string]string{
		"the resident's name": marker, "the resident's email": email,
		"A's admin password": a.AdminPassword, "B's admin password": b.AdminPassword,
		"the worker's password": "worker-Secret-9981", "a wrong password": "wrong-Password-4412",
		"A's admin token": ta, "B's admin token": tb, "the worker's token": tw,
	}
	for _, n := range nodes {
		key, err := os.ReadFile(filepath.Join(n.Dir, "store.key"))
		if err != nil {
			t.Fatal(err)
		}
		key = bytes.TrimSpace(key)
		secrets[n.Name+"'s store key"] = string(key)
		secrets[n.Name+"'s store key (hex)"] = hex.EncodeToString(key)
		secrets[n.Name+"'s store key (base64)"] = base64.StdEncoding.EncodeToString(key)
	}
	for what, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("%s is too short to search for", what)
		}
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("the logs hold %s", what)
		}
	}
	// The federation requests are in the request log, each with the
	// server that signed it, and without their bodies or signatures.
	inbox := regexp.MustCompile(`(?m)^.*route=federation-inbox status=202 .*peer=127\.0\.0\.\d+:\d+.*$`).FindAll(out, -1)
	if len(inbox) < 3 {
		t.Errorf("%d inbox requests logged, want the partnership's and the referral's", len(inbox))
	}
	if bytes.Contains(out, []byte(`(request-target)`)) || bytes.Contains(out, []byte("Permanence logement")) {
		t.Error("the logs hold a signature header or an activity's body")
	}
	// A token's signature alone would do harm too.
	for _, tok := range []string{ta, tb, tw} {
		if parts := strings.Split(tok, "."); len(parts) == 3 && bytes.Contains(out, []byte(parts[2])) {
			t.Error("the logs hold a token's signature")
		}
	}
}
