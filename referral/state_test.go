package referral

import (
	"errors"
	"slices"
	"testing"
)

func TestStateMachine(t *testing.T) {
	allowed := []struct {
		from, to State
		by       Side
	}{
		{Draft, Requested, Sender}, {Requested, Received, System}, {Received, Accepted, Recipient},
		{Received, Rejected, Recipient}, {Accepted, InProgress, Recipient}, {InProgress, OnHold, Recipient},
		{OnHold, InProgress, Recipient}, {InProgress, Completed, Recipient}, {OnHold, Failed, Recipient},
		{Accepted, Cancelled, Sender}, {OnHold, Cancelled, System}, {Requested, Expired, System}, {Received, Expired, System},
	}
	for _, a := range allowed {
		if err := CheckTransition(a.from, a.to, a.by); err != nil {
			t.Errorf("%s → %s by %s refused: %v", a.from, a.to, a.by, err)
		}
	}
	// Every other combination of the listed kinds is refused; a few that
	// matter are named.
	for _, bad := range []struct {
		from, to State
		by       Side
	}{
		{Received, Accepted, Sender},       // only the recipient accepts
		{Draft, Requested, Recipient},      // only the sender sends
		{InProgress, Cancelled, Recipient}, // the recipient rejects or fails, it does not cancel
		{Requested, Accepted, Recipient},   // received first
		{Completed, InProgress, Recipient},
		{Cancelled, Requested, Sender},
		{Accepted, Expired, System}, // an answered referral does not expire
		{Draft, "lost", Sender},
	} {
		err := CheckTransition(bad.from, bad.to, bad.by)
		if !errors.Is(err, ErrTransition) {
			t.Errorf("%s → %s by %s: err = %v, want ErrTransition", bad.from, bad.to, bad.by, err)
		}
	}
	for _, from := range States {
		for _, to := range States {
			for _, by := range []Side{Sender, Recipient, System} {
				err := CheckTransition(from, to, by)
				if (err == nil) != transitions[edge{from, to, by}] {
					t.Errorf("%s → %s by %s: %v disagrees with the table", from, to, by, err)
				}
				if from.Terminal() && err == nil {
					t.Errorf("%s is final but %s → %s by %s passes", from, from, to, by)
				}
			}
		}
	}
}

func TestReasons(t *testing.T) {
	for _, tt := range []struct {
		to   State
		code string
		ok   bool
	}{
		{Rejected, "no-capacity", true}, {Rejected, "", false}, {Rejected, "service-provided", false},
		{Completed, "service-provided", true}, {Failed, "resident-unreachable", true}, {Failed, "", false},
		{Accepted, "", true}, {Accepted, "no-capacity", false},
	} {
		if err := CheckReason(tt.to, tt.code); (err == nil) != tt.ok {
			t.Errorf("CheckReason(%s, %q) = %v", tt.to, tt.code, err)
		}
	}
}

func TestNext(t *testing.T) {
	for _, c := range []struct {
		from State
		by   Side
		want []State
	}{
		{Received, Recipient, []State{Accepted, Rejected}},
		{Accepted, Recipient, []State{InProgress}},
		{InProgress, Recipient, []State{OnHold, Completed, Failed}},
		{Received, Sender, []State{Cancelled}},
		{Completed, Sender, nil},
	} {
		if got := Next(c.from, c.by); !slices.Equal(got, c.want) {
			t.Errorf("Next(%s, %s) = %v, want %v", c.from, c.by, got, c.want)
		}
		for _, to := range Next(c.from, c.by) {
			if err := CheckTransition(c.from, to, c.by); err != nil {
				t.Errorf("Next offers %s→%s, which CheckTransition refuses: %v", c.from, to, err)
			}
		}
	}
}
