// Package account owns the node's staff accounts: users with the admin or
// worker role, password hashing (argon2id), login throttling, browser
// sessions and the JWT bearer tokens of the JSON API, and the single-use
// links sent by e-mail to reset a password or accept an invitation
// (reset.go, invite.go).
//
// It declares the Store it needs; package store implements it. It knows
// nothing of HTTP beyond what token and cookie values look like.
//
// Imports: the standard library, directory (for its error values),
// golang.org/x/crypto, golang.org/x/time and github.com/golang-jwt/jwt/v5.
package account
