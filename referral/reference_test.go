package referral_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/maillage/maillage/directory"
	"github.com/maillage/maillage/referral"
)

func TestReferencePrefix(t *testing.T) {
	for name, want := range map[string]string{
		"Maison de quartier Midi":   "MQM",
		"Buurthuis Sint-Gillis vzw": "BSG",
		"Entraide":                  "ENT",
		"Le Pivot asbl":             "PIV",
		"Centre d’Action Sociale Globale Wolu 1070": "CASG",
		"":    "REF",
		"123": "REF",
	} {
		if got := referral.ReferencePrefix(name); got != want {
			t.Errorf("ReferencePrefix(%q) = %q, want %q", name, got, want)
		}
	}
}

// Referrals made at the same time get different short references, of
// the association's initials and a number, stored with the referral and
// in the summary that travels.
func TestReferencesAreUnique(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.svc.Create(f.ctx, f.target, referral.Request{Resident: f.resident, Consent: f.consent, Worker: "w1", Association: "Maison de quartier Midi"})
			if err != nil {
				t.Error(err)
				return
			}
			stored, err := f.st.Referral(f.ctx, r.ID)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ref := stored.Reference()
			if seen[ref] || !strings.HasPrefix(ref, "MQM-") || stored.Consent.Reference != ref {
				t.Errorf("reference %q (seen before: %v)", ref, seen[ref])
			}
			seen[ref] = true
		}()
	}
	wg.Wait()
	if !seen["MQM-1"] || !seen["MQM-8"] {
		t.Errorf("references %v, want MQM-1 to MQM-8", seen)
	}
}

// A peer's reference must be short and plain: anything else is refused
// with a reason, and nothing is recorded.
func TestReceiveChecksTheReference(t *testing.T) {
	for _, bad := range []string{strings.Repeat("A", 300), "<b>MQM</b>-1", "mqm-1"} {
		p := newPair(t)
		out, err := p.a.create()
		if err != nil {
			t.Fatal(err)
		}
		in := incoming(out)
		in.Consent.Reference = bad
		if _, err := p.bSvc.Receive(p.a.ctx, in, p.local); !errors.Is(err, referral.ErrRefused) || !strings.Contains(err.Error(), "reference") {
			t.Errorf("reference %.20q: err = %v, want a refusal naming the reference", bad, err)
		}
		if _, err := p.b.st.Referral(p.a.ctx, out.ID); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("reference %.20q: the referral was recorded (%v)", bad, err)
		}
	}
}

// Each refusal reason carries its field and a stable code, for the web to
// say it in the worker's language.
func TestRefusalCodes(t *testing.T) {
	f := newFixture(t)
	f.consent.Method = referral.VerbalAttested
	_, err := f.create()
	var refusal *referral.Refusal
	if !errors.As(err, &refusal) || !errors.Is(err, referral.ErrRefused) {
		t.Fatalf("err = %v, want a Refusal", err)
	}
	p, ok := directory.AsProblems(err)
	if !ok || len(p) != 1 || p[0].Code != referral.CodeAttestation || p[0].Field != "consent.attestation" {
		t.Errorf("problems = %+v, want one consent.attestation %s", p, referral.CodeAttestation)
	}
	if strings.Contains(err.Error(), marker) {
		t.Error("the refusal echoes the resident's data")
	}
}
