// Package store persists a node on Badger v4, encrypted at rest with the
// node's key. It is the only package that imports Badger.
//
// Records are JSON under prefixed keys built in keys.go; each exported
// method is one transaction. Writes are synced before they return, so
// what a user or a partner sent is durable once acknowledged. The schema
// version lives in the store and migrations run at Open. Backups are
// taken online and encrypted (backup.go).
//
// Imports: the standard library, Badger, and the domain types it stores
// (directory, web/account; later referral and federation).
package store
