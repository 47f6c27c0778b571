package account

import (
	"strings"
	"testing"
	"time"
)

var cheap = Params{Time: 1, MemKiB: 64, Threads: 1}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct-horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash = %q, want an argon2id PHC string", h)
	}
	if h2, _ := HashPassword("correct-horse", cheap); h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		hash, password string
		want, wantErr  bool
	}{
		{h, "correct-horse", true, false},
		{h, "correct-horsf", false, false},
		{h, "", false, false},
		{"$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "x", false, true},
		{"plaintext", "plaintext", false, true},
		{"$argon2id$v=19$m=64,t=0,p=1$AAAA$AAAA", "x", false, true},
	}
	for _, tt := range tests {
		got, err := CheckPassword(tt.hash, tt.password)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("CheckPassword(%.20q, %q) = %v, %v; want %v, error %v", tt.hash, tt.password, got, err, tt.want, tt.wantErr)
		}
	}
	if DefaultParams.MemKiB < 19*1024 || DefaultParams.Time < 2 {
		t.Errorf("DefaultParams %+v are below the OWASP argon2id minimum", DefaultParams)
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	th := NewThrottle(3, time.Minute, func() time.Time { return now })
	for i := range 3 {
		if !th.Allowed("a") {
			t.Fatalf("attempt %d refused before the limit", i)
		}
		th.Fail("a")
		now = now.Add(10 * time.Second)
	}
	if th.Allowed("a") {
		t.Error("fourth attempt allowed after three failures")
	}
	if !th.Allowed("b") {
		t.Error("another key is throttled too")
	}
	if d := th.RetryAfter("a"); d != 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s (until the first failure leaves the window)", d)
	}
	now = now.Add(31 * time.Second)
	if !th.Allowed("a") {
		t.Error("still throttled after the oldest failure left the window")
	}
	th.Reset("a")
	if d := th.RetryAfter("a"); d != 0 {
		t.Errorf("RetryAfter after Reset = %v", d)
	}
}
