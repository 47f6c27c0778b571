package federation

import (
	"time"

	"github.com/maillage/maillage/directory"
)

// ContentType is the media type of ActivityStreams documents Maillage sends.
const ContentType = "application/activity+json"

// Public is the ActivityStreams public collection.
const Public = "https://www.w3.org/ns/activitystreams#Public"

// Namespace is the JSON-LD namespace of Maillage's extension terms.
const Namespace = "https://w3id.org/maillage/ns#"

// Side states of a relation: what one side has asked of the other.
const (
	StateNone      = ""          // no follow this way
	StateRequested = "requested" // Follow sent, not answered
	StateAccepted  = "accepted"  // Follow accepted
	StateRejected  = "rejected"  // Follow rejected
)

// Kinds of remote actors.
const (
	KindAssociation = "association" // a Maillage node (Organization)
	KindSubscriber  = "subscriber"  // a plain fediverse account following us
)

// Relation is what this node and one remote actor are to each other. A
// partnership is a mutual follow: both sides accepted.
type Relation struct {
	ID    string `json:"id"`
	Actor string `json:"actor"`
	Name  string `json:"name"`
	// Names is the name in each language the actor gives (nameMap);
	// relations stored before it have none and show Name.
	Names  directory.Text `json:"names,omitempty"`
	Handle string         `json:"handle,omitempty"`
	// Identifiers are the legal identifiers its actor states (BCE/KBO).
	Identifiers []directory.Identifier `json:"identifiers,omitempty"`
	Kind        string                 `json:"kind"`
	Inbox       string                 `json:"inbox"`
	SharedInbox string                 `json:"shared_inbox,omitempty"`
	Outbox      string                 `json:"outbox,omitempty"`
	Following   string                 `json:"following,omitempty"`
	Ours        string                 `json:"ours"`   // our follow of them
	Theirs      string                 `json:"theirs"` // their follow of us (requested = awaiting our approval)
	OurFollowID string                 `json:"our_follow_id,omitempty"`
	TheirFollow string                 `json:"their_follow_id,omitempty"`
	Updated     time.Time              `json:"updated"`
	// EndedAt is set when the partnership ended; the partner's replicated
	// services are removed a grace period later.
	EndedAt time.Time `json:"ended_at,omitzero"`
	// BackfilledAt is when a copy of their services from their outbox
	// last completed since our follow was accepted; zero while one is
	// owed (syncPartner).
	BackfilledAt time.Time `json:"backfilled_at,omitzero"`
}

// State summarises the relation for people: partner when both follows
// between two associations are accepted, subscriber for a person
// following us, pending when their follow awaits our approval, requested when
// ours awaits theirs, following/follower for one-way relations.
func (r *Relation) State() string {
	switch {
	case r.Ours == StateAccepted && r.Theirs == StateAccepted && r.Kind == KindAssociation:
		return "partner"
	case r.Kind == KindSubscriber && r.Theirs == StateAccepted:
		// A person is never a partner, whatever was asked of them.
		return "subscriber"
	case r.Theirs == StateRequested:
		return "pending"
	case r.Ours == StateRequested:
		return "requested"
	case r.Ours == StateAccepted:
		return "following"
	case r.Theirs == StateAccepted:
		if r.Kind == KindSubscriber {
			return "subscriber"
		}
		return "follower"
	case r.Ours == StateRejected:
		return "rejected"
	}
	return "none"
}

// NameIn returns the actor's name in lang, else its main name.
func (r *Relation) NameIn(lang directory.Lang) string {
	if v := r.Names[lang]; v != "" {
		return v
	}
	return r.Name
}

// IsPartner reports whether both sides follow each other.
func (r *Relation) IsPartner() bool { return r.State() == "partner" }

// Delivery is one activity waiting to reach one inbox. The activity is
// stored once for all its deliveries.
type Delivery struct {
	ID         string    `json:"id"`
	Inbox      string    `json:"inbox"`
	ActivityID string    `json:"activity_id"`
	Attempts   int       `json:"attempts"`
	First      time.Time `json:"first"`
	NextAt     time.Time `json:"next_at"`
}
