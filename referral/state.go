package referral

import (
	"errors"
	"fmt"
	"slices"
)

// State is where a referral stands, after the FHIR SDOH referral Task.
type State string

// States of a referral.
const (
	Draft      State = "draft"
	Requested  State = "requested"
	Received   State = "received"
	Accepted   State = "accepted"
	Rejected   State = "rejected"
	InProgress State = "in-progress"
	OnHold     State = "on-hold"
	Completed  State = "completed"
	Failed     State = "failed"
	Cancelled  State = "cancelled"
	Expired    State = "expired"
)

// States lists every state.
var States = []State{Draft, Requested, Received, Accepted, Rejected, InProgress, OnHold, Completed, Failed, Cancelled, Expired}

// Side is who makes a transition.
type Side string

// Sides of a referral.
const (
	Sender    Side = "sender"    // the referring node's workers
	Recipient Side = "recipient" // the receiving node's workers
	System    Side = "system"    // the nodes themselves: receipt, expiry, withdrawal
)

// Terminal reports whether no transition leaves s.
func (s State) Terminal() bool {
	switch s {
	case Rejected, Completed, Failed, Cancelled, Expired:
		return true
	}
	return false
}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States, s) }

type edge struct {
	from, to State
	by       Side
}

// transitions is the whole state machine: who may move a referral from
// where to where.
var transitions = func() map[edge]bool {
	m := map[edge]bool{}
	add := func(by Side, to State, from ...State) {
		for _, f := range from {
			m[edge{f, to, by}] = true
		}
	}
	add(Sender, Requested, Draft)
	add(System, Received, Requested) // the recipient's node has it
	add(Recipient, Accepted, Received)
	add(Recipient, Rejected, Received)
	add(Recipient, InProgress, Accepted, OnHold)
	add(Recipient, OnHold, InProgress)
	add(Recipient, Completed, InProgress, OnHold)
	add(Recipient, Failed, InProgress, OnHold)
	open := []State{Draft, Requested, Received, Accepted, InProgress, OnHold}
	add(Sender, Cancelled, open...)
	add(System, Cancelled, open...) // consent withdrawn
	add(System, Expired, Requested, Received)
	return m
}()

// ErrTransition reports a transition the state machine does not allow.
var ErrTransition = errors.New("referral: transition not allowed")

// CheckTransition returns nil if by may move a referral from from to to,
// and otherwise an error saying what is allowed.
func CheckTransition(from, to State, by Side) error {
	if !to.Valid() {
		return fmt.Errorf("%w: unknown state %q", ErrTransition, to)
	}
	if transitions[edge{from, to, by}] {
		return nil
	}
	if from.Terminal() {
		return fmt.Errorf("%w: the referral is %s, which is final", ErrTransition, from)
	}
	var allowed []string
	for e := range transitions {
		if e.from == from && e.by == by {
			allowed = append(allowed, string(e.to))
		}
	}
	slices.Sort(allowed)
	if len(allowed) == 0 {
		return fmt.Errorf("%w: the %s cannot change a referral that is %s", ErrTransition, by, from)
	}
	return fmt.Errorf("%w: the %s cannot move a referral from %s to %s (allowed: %v)", ErrTransition, by, from, to, allowed)
}

// Next lists the states by may move a referral to from from, in the
// order of States.
func Next(from State, by Side) []State {
	var out []State
	for _, to := range States {
		if transitions[edge{from, to, by}] {
			out = append(out, to)
		}
	}
	return out
}

// Reason codes: why a recipient rejects, and how a referral ends, after
// the lists of findhelp and DORA and mapped to FHIR SDOH Task statuses
// (cmd/maillage/docs/outcomes.md). Only these codes travel back to the
// sender, never notes; with ReferredElsewhere, a suggested service may
// travel too (Suggestion).
var (
	RejectReasons = []string{"not-eligible", "no-capacity", "out-of-area", "duplicate", "resident-declined", "resident-unreachable", ReferredElsewhere, "other"}
	Outcomes      = map[State][]string{
		Completed: {"service-provided", ReferredElsewhere},
		Failed:    {"resident-unreachable", "resident-declined", "not-eligible", "no-capacity", ReferredElsewhere, "other"},
	}
)

// ReferredElsewhere is the reason that may come with a suggested service.
const ReferredElsewhere = "referred-elsewhere"

// CheckReason checks the code that goes with a transition to to: required
// for rejected, completed and failed, and one of their codes; none for
// other states.
func CheckReason(to State, code string) error {
	var codes []string
	switch to {
	case Rejected:
		codes = RejectReasons
	case Completed, Failed:
		codes = Outcomes[to]
	default:
		if code != "" {
			return fmt.Errorf("%w: no reason goes with %s", ErrTransition, to)
		}
		return nil
	}
	if !slices.Contains(codes, code) {
		return fmt.Errorf("%w: %s needs a reason, one of %v", ErrTransition, to, codes)
	}
	return nil
}

// path returns the states a referral goes through from from to to by
// transitions of the given sides (to included, from excluded), or nil
// when to cannot be reached.
func path(from, to State, sides ...Side) []State {
	prev := map[State]State{from: ""}
	queue := []State{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s == to && s != from {
			var out []State
			for ; s != from; s = prev[s] {
				out = append([]State{s}, out...)
			}
			return out
		}
		for _, next := range States {
			if _, seen := prev[next]; seen {
				continue
			}
			for _, by := range sides {
				if transitions[edge{s, next, by}] {
					prev[next] = s
					queue = append(queue, next)
					break
				}
			}
		}
	}
	return nil
}
