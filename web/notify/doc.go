// Package notify tells the node's staff what concerns them: a referral
// that arrives, a partner's answer, a referral left unanswered, a
// partnership request, a service to review. A change that owes an Event
// writes it in the same store transaction as itself; the Notifier then
// dispatches each event once to the people it concerns (a notification
// in their list in the app, and an e-mail now or in the daily digest, as
// each person chose), and sends queued e-mails with retries and backoff.
// Events, notifications and queued mails hold identifiers and codes
// only, never a resident's data: the text of a mail is rendered when it
// is sent (Renderer, in package web), in the recipient's language.
//
// smtp.go sends through an SMTP server (github.com/wneessen/go-mail).
//
// Imports: the standard library, web/account (staff accounts), go-mail
// and the Prometheus client.
package notify
