// Package store persists a node on Badger v4, encrypted at rest with the
// node's 32-byte key file (key.go). It is the only package that imports
// Badger; the domain packages declare the Store interfaces they need and
// this package implements them (directory.Store, account.Store,
// federation.Store, referral.Store).
//
// Layout: records are JSON of the domain structs under prefixed keys, all
// built in keys.go; one file per kind of record (directory.go, account.go,
// secret.go, federation.go, referral.go) over the shared helpers of
// records.go. Each exported method is one transaction, retried when it
// loses a race so that callers see directory.ErrConflict or
// directory.ErrNotFound, never Badger's errors; ApplyPartnerService shares
// its transaction with concurrent inbox deliveries (group.go). Writes are
// fsynced before they return, so what a user or a partner sent is durable
// once acknowledged. Badger takes about 314 KB in one transaction
// (badger.go): the writes that grow with their input are written in
// chunks, each safe to stop after, as their doc says (a fan-out's
// deliveries, events, an event's people, digests, marking read, a
// person's backlog and sessions, document copies written apart). A
// partner's Delete is remembered a while (WithdrawPartnerService), so that
// an older version arriving late is not stored again.
//
// Open tunes Badger for a small machine (badger.go), refuses a wrong key,
// a directory in use or one holding something else, and brings the schema
// up to date (schema.go). Backups are taken online and encrypted; Restore
// only ever creates a new store (backup.go documents the format). Sidecar
// files beside the store (the search index snapshot) use the same
// encryption, stamped with the store's lineage (renewed by a restore) and
// the version they are complete up to; records written since are listed
// by version (ServicesSince, PartnerServicesSince); Writes counts the
// committed write transactions (web's page cache). Unmet needs are
// counted by theme and area, nothing else (needs.go); statistics shared
// with partners are kept as protected counts, our frozen months and each
// partner's newest report (stats.go).
//
// Imports: the standard library, Badger, and the domain types it stores
// (directory, web/account, web/notify, federation, referral). Notification
// events are written in the transaction of the change that owes them
// (notify.go): referral notices, partnership changes.
package store
