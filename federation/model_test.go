package federation

import "testing"

// A person is never a partner, whatever the two follows say: only two
// associations are.
func TestRelationState(t *testing.T) {
	for _, tt := range []struct {
		kind, ours, theirs, want string
	}{
		{KindAssociation, StateAccepted, StateAccepted, "partner"},
		{KindSubscriber, StateAccepted, StateAccepted, "subscriber"},
		{KindSubscriber, StateNone, StateAccepted, "subscriber"},
		{KindAssociation, StateNone, StateAccepted, "follower"},
		{KindAssociation, StateNone, StateRequested, "pending"},
		{KindAssociation, StateRequested, StateNone, "requested"},
		{KindAssociation, StateAccepted, StateNone, "following"},
		{KindAssociation, StateRejected, StateNone, "rejected"},
		{KindSubscriber, StateNone, StateNone, "none"},
	} {
		r := Relation{Kind: tt.kind, Ours: tt.ours, Theirs: tt.theirs}
		if got := r.State(); got != tt.want {
			t.Errorf("State(%s, ours %q, theirs %q) = %q, want %q", tt.kind, tt.ours, tt.theirs, got, tt.want)
		}
	}
}
