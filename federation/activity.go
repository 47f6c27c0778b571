package federation

import (
	"encoding/json"
	"errors"
	"fmt"

	vocab "github.com/go-ap/activitypub"
)

// Activity is the envelope of every activity Maillage sends and reads.
// Objects stay raw until the handler of the activity's type reads them:
// go-ap/activitypub drops extension properties (such as the HSDS record),
// so it checks types and envelopes while the objects are read here.
type Activity struct {
	Context   any             `json:"@context,omitempty"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Object    json.RawMessage `json:"object,omitempty"`
	Target    string          `json:"target,omitempty"`
	To        []string        `json:"to,omitempty"`
	Cc        []string        `json:"cc,omitempty"`
	Published string          `json:"published,omitempty"`
}

// UnmarshalJSON reads an activity in any of the shapes ActivityStreams
// allows: to and cc as one IRI or a list, actor as an IRI or an embedded
// actor, type as a list, object as one value or a list of one. An object
// of several values is refused: no handler applies part of an activity.
func (a *Activity) UnmarshalJSON(data []byte) error {
	var w struct {
		Context   any             `json:"@context"`
		ID        oneIRI          `json:"id"`
		Type      asType          `json:"type"`
		Actor     oneIRI          `json:"actor"`
		Object    json.RawMessage `json:"object"`
		Target    oneIRI          `json:"target"`
		To        iriList         `json:"to"`
		Cc        iriList         `json:"cc"`
		Published oneString       `json:"published"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	obj, err := singleObject(w.Object)
	if err != nil {
		return err
	}
	*a = Activity{Context: w.Context, ID: string(w.ID), Type: string(w.Type), Actor: string(w.Actor), Object: obj,
		Target: string(w.Target), To: w.To, Cc: w.Cc, Published: string(w.Published)}
	return nil
}

// errNotActivity is returned for a document that is no activity.
var errNotActivity = errors.New("federation: not an activity")

// parseActivity reads an activity from a peer: one decoding of the
// envelope, whose type must be an ActivityStreams activity type (the
// vocabulary of go-ap/activitypub). go-ap's own decoder is not used here:
// it drops extension properties, may return nil without an error, and
// costs several times more on the inbox's hot path.
func parseActivity(data []byte) (*Activity, error) {
	if err := checkDepth(data, maxJSONDepth); err != nil {
		return nil, err
	}
	var a Activity
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotActivity, err)
	}
	t := vocab.ActivityVocabularyType(a.Type)
	if !vocab.ActivityTypes.Contains(t) && !vocab.IntransitiveActivityTypes.Contains(t) {
		return nil, fmt.Errorf("%w: type %q", errNotActivity, a.Type)
	}
	if a.ID == "" || a.Actor == "" || !validIRI(a.ID) || !validIRI(a.Actor) {
		return nil, fmt.Errorf("%w: needs id, type and actor", errNotActivity)
	}
	return &a, nil
}

// idOf returns the id of a raw object or IRI (of the only entry of a
// list of one).
func idOf(raw json.RawMessage) string {
	one, err := singleObject(raw)
	if err != nil {
		return ""
	}
	return refOf(one)
}

// typeOf returns the type of a raw object, "" for an IRI.
func typeOf(raw json.RawMessage) string {
	var o struct {
		Type asType `json:"type"`
	}
	if one, err := singleObject(raw); err == nil && json.Unmarshal(one, &o) == nil {
		return string(o.Type)
	}
	return ""
}

// Activity types Maillage handles, from the ActivityStreams vocabulary.
var (
	typeFollow = string(vocab.FollowType)
	typeAccept = string(vocab.AcceptType)
	typeReject = string(vocab.RejectType)
	typeUndo   = string(vocab.UndoType)
	typeCreate = string(vocab.CreateType)
	typeUpdate = string(vocab.UpdateType)
	typeDelete = string(vocab.DeleteType)
	typePage   = string(vocab.PageType)
	typeNote   = string(vocab.NoteType)
)

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("federation: encode: " + err.Error())
	}
	return b
}
