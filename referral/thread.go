package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/maillage/maillage/directory"
)

// The thread of a referral: short messages between the workers of its
// two nodes while it is open. Each is sealed like the payload, to the
// other node and to the writer's own, bound to the referral, both
// actors and the message's id; it travels point to point in a Create
// activity; each node keeps its copy sealed to itself and erases it with
// the referral's data. Writing is in the audit log (who, when, never
// what), and so is each reading. A thread carries only what the
// resident consented to share: the form says so, the node cannot check.

// Limits of a thread.
const (
	// MaxMessageChars bounds a message, in characters.
	MaxMessageChars = 2000
	// MessagesPerHour is how many messages each side of a referral
	// writes in an hour at most.
	MessagesPerHour = 30
	// MaxMessages bounds a referral's thread, both sides together.
	MaxMessages = 500
)

// Codes of the rules messages break (see refusal.go).
const (
	CodeMessageEmpty directory.Code = "message_empty"
	CodeMessageLong  directory.Code = "message_too_long"
	CodeThreadClosed directory.Code = "thread_closed"
	CodeThreadFlood  directory.Code = "thread_flood"
	CodeThreadFull   directory.Code = "thread_full"
)

// Message is one message of a referral's thread as a node keeps it,
// sealed to itself.
type Message struct {
	ID       string    `json:"id"` // an IRI on the writer's host
	Referral string    `json:"referral"`
	Side     Side      `json:"side"`             // the writer's side of the referral
	Author   string    `json:"author,omitempty"` // the worker who wrote it, on the writer's node only
	At       time.Time `json:"at"`               // when written, on the writer's clock
	Received time.Time `json:"received,omitzero"`
	Sealed   Sealed    `json:"sealed"`
}

// OutMessage is a message this node wrote, sealed to the other node,
// until it is in the delivery queue.
type OutMessage struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Sealed Sealed    `json:"sealed"`
}

// IncomingMessage is a message as the other node sent it.
type IncomingMessage struct {
	ID       string
	Referral string
	At       time.Time
	Sealed   Sealed
}

// ThreadEntry is an opened message, for a worker.
type ThreadEntry struct {
	ID     string
	Side   Side // the writer's side
	Mine   bool // written on this node
	Author string
	At     time.Time
	Text   string
}

// threadMu serialises the writing and receipt of messages, so that the
// rate and size limits count every message before the next.
var threadMu sync.Mutex

// ThreadOpen reports whether messages may be written on r: it is open
// and its data kept.
func ThreadOpen(r *Referral) bool {
	return r.Erasure == nil && r.Sealed != nil && !r.State.Terminal()
}

// cleanMessage trims a message and checks it: text of 1 to
// MaxMessageChars characters, without control characters but line breaks
// and tabs (carriage returns dropped).
func cleanMessage(text string) (string, directory.Problems) {
	var p directory.Problems
	text = strings.ToValidUTF8(strings.ReplaceAll(text, "\r\n", "\n"), "")
	text = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != '\u200d') {
			return -1
		}
		return r
	}, text)
	text = strings.TrimSpace(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		p.Rule("message", CodeMessageEmpty, "the message is empty")
	case n > MaxMessageChars:
		p.Rule("message", CodeMessageLong, "a message holds at most %d characters", MaxMessageChars)
	}
	return text, p
}

type messageBody struct {
	Text string `json:"text"`
}

// WriteMessage records a message a worker of this node writes on a
// referral's thread: the referral must be open and its data kept, and
// its side within MessagesPerHour and the thread within MaxMessages. It
// is sealed to the other node (key: its sealing key) and to this one,
// and recorded with the referral, the audit line (who wrote, when) and
// the message owed to the other node, in one write.
func (s *Service) WriteMessage(ctx context.Context, id, worker, text string, key []byte) (*Referral, error) {
	now := s.Now()
	text, p := cleanMessage(text)
	if err := refuse(p); err != nil {
		return nil, err
	}
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ThreadOpen(r) {
		return nil, Refused("message", CodeThreadClosed, "the referral is closed: its thread takes no more messages")
	}
	if len(key) == 0 {
		return nil, Refused("service", CodeNoSealingKey, "the other node publishes no sealing key")
	}
	threadMu.Lock()
	defer threadMu.Unlock()
	msgs, err := s.Store.Messages(ctx, id)
	if err != nil {
		return nil, err
	}
	recent := 0
	for _, m := range msgs {
		if m.Side == r.Side && m.At.After(now.Add(-time.Hour)) {
			recent++
		}
	}
	switch {
	case recent >= MessagesPerHour:
		return nil, errors.Join(ErrFlood, Refused("message", CodeThreadFlood, fmt.Sprintf("at most %d messages an hour on a referral: wait a little", MessagesPerHour)))
	case len(msgs) >= MaxMessages:
		return nil, Refused("message", CodeThreadFull, fmt.Sprintf("a referral's thread holds at most %d messages", MaxMessages))
	}
	msgID := s.Base + "/messages/" + directory.NewID()
	pt, _ := json.Marshal(messageBody{Text: text})
	info := partBinding(r).partInfo("message", msgID)
	out, err := sealInfo(key, info, pt)
	if err != nil {
		return nil, err
	}
	own, err := sealInfo(s.Keys.Public(), info, pt)
	if err != nil {
		return nil, err
	}
	return s.Store.UpdateReferral(ctx, id, func(r *Referral) (Writes, error) {
		if !ThreadOpen(r) {
			return Writes{}, Refused("message", CodeThreadClosed, "the referral is closed: its thread takes no more messages")
		}
		r.owe().Messages = append(r.owe().Messages, OutMessage{ID: msgID, At: now, Sealed: out})
		m := Message{ID: msgID, Referral: id, Side: r.Side, Author: worker, At: now, Sealed: own}
		return Writes{Parts: Parts{Messages: []Message{m}}, Audit: []AuditEntry{entry(now, worker, "message written", id, "")}}, nil
	})
}

// ReceiveMessage records a message the other node of a referral sent
// (from, as its signature verified): only the referral's other party
// writes in its thread (ErrRefused otherwise, and for a referral this
// node does not know, unless it is from's own and its offer is still on
// the way: ErrNotYet); the message must open with this node's key under
// its binding and be a valid message; a referral closed before the
// message was written, or erased, takes none (ErrTransition); a side
// beyond MessagesPerHour is ErrFlood. A message received before changes
// nothing.
func (s *Service) ReceiveMessage(ctx context.Context, from string, in IncomingMessage) error {
	now := s.Now()
	r, err := s.Store.Referral(ctx, in.Referral)
	if errors.Is(err, directory.ErrNotFound) {
		if onHostOf(in.Referral, from) {
			return fmt.Errorf("%w: a message about a referral whose offer has not arrived", ErrNotYet)
		}
		return fmt.Errorf("%w: only the other party of a referral writes in its thread", ErrRefused)
	}
	if err != nil {
		return err
	}
	var writer Side
	switch {
	case r.Side == Sender && from == r.Recipient:
		writer = Recipient
	case r.Side == Recipient && from == r.Sender:
		writer = Sender
	default:
		return fmt.Errorf("%w: only the other party of a referral writes in its thread", ErrRefused)
	}
	if !onHostOf(in.ID, from) || len(in.ID) > 2048 {
		return fmt.Errorf("%w: a message's id lives on its writer's host", ErrRefused)
	}
	if r.Erasure != nil || r.Sealed == nil {
		return fmt.Errorf("%w: the referral's data was erased", ErrTransition)
	}
	if r.State.Terminal() {
		closed := r.Updated
		if n := len(r.History); n > 0 {
			closed = r.History[n-1].At
		}
		if in.At.IsZero() || in.At.After(closed.Add(maxClockSkew)) {
			return fmt.Errorf("%w: the referral is %s: its thread takes no more messages", ErrTransition, r.State)
		}
	}
	pt, err := s.Keys.openInfo(in.Sealed, partBinding(r).partInfo("message", in.ID))
	if err != nil {
		return fmt.Errorf("%w: the message cannot be opened", ErrRefused)
	}
	var body messageBody
	if err := json.Unmarshal(pt, &body); err != nil {
		return fmt.Errorf("%w: not a valid message", ErrRefused)
	}
	if text, p := cleanMessage(body.Text); len(p) > 0 || text != body.Text {
		return fmt.Errorf("%w: not a valid message", ErrRefused)
	}
	at := in.At
	if at.IsZero() || at.After(now) {
		at = now
	}
	threadMu.Lock()
	defer threadMu.Unlock()
	msgs, err := s.Store.Messages(ctx, r.ID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(msgs, func(m Message) bool { return m.ID == in.ID }) {
		return nil // received before
	}
	written, arrived := 0, 0
	for _, m := range msgs {
		if m.Side != writer {
			continue
		}
		if !m.At.After(at) && m.At.After(at.Add(-time.Hour)) {
			written++
		}
		if m.Received.After(now.Add(-time.Hour)) {
			arrived++
		}
	}
	switch {
	case written >= MessagesPerHour || arrived >= 2*MessagesPerHour:
		return fmt.Errorf("%w: at most %d messages an hour from each side of a referral", ErrFlood, MessagesPerHour)
	case len(msgs) >= MaxMessages:
		return fmt.Errorf("%w: a referral's thread holds at most %d messages", ErrRefused, MaxMessages)
	}
	_, err = s.Store.UpdateReferral(ctx, r.ID, func(r *Referral) (Writes, error) {
		if r.Erasure != nil || r.Sealed == nil {
			return Writes{}, fmt.Errorf("%w: the referral's data was erased", ErrTransition)
		}
		m := Message{ID: in.ID, Referral: r.ID, Side: writer, At: at, Received: now, Sealed: in.Sealed}
		return Writes{Parts: Parts{Messages: []Message{m}}, Audit: []AuditEntry{entry(now, from, "message received", r.ID, "")},
			Notices: []Notice{r.notice(NoticeMessage, now, Handle(in.ID))}}, nil
	})
	return err
}

// Thread opens a referral's messages for an authorised worker of this
// node, oldest first, and records that they read them (who, when, which
// referral). None once the data is erased; no audit line when there is
// nothing to read.
func (s *Service) Thread(ctx context.Context, id, worker string) ([]ThreadEntry, error) {
	r, err := s.Store.Referral(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Erasure != nil {
		return nil, nil
	}
	msgs, err := s.Store.Messages(ctx, id)
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	bind := partBinding(r)
	out := make([]ThreadEntry, 0, len(msgs))
	for _, m := range msgs {
		pt, err := s.Keys.openInfo(m.Sealed, bind.partInfo("message", m.ID))
		if err != nil {
			return nil, err
		}
		var body messageBody
		if err := json.Unmarshal(pt, &body); err != nil {
			return nil, ErrSeal
		}
		out = append(out, ThreadEntry{ID: m.ID, Side: m.Side, Mine: m.Side == r.Side, Author: m.Author, At: m.At, Text: body.Text})
	}
	slices.SortStableFunc(out, func(a, b ThreadEntry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	e := entry(s.Now(), worker, "thread read", id, fmt.Sprint(len(out)))
	if err := s.Store.AppendAudit(ctx, &e); err != nil {
		return nil, err // no audit line, no messages
	}
	return out, nil
}
