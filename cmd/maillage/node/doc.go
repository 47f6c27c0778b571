// Package node wires a Maillage node together: the data directory, the
// encrypted store, the node's keys, the domain services and the HTTP
// handler. cmd/maillage calls it, and so do tests that need whole nodes
// (see nodetest).
//
// A data directory holds:
//
//	maillage.json  identity of the node (base URL, handle); written last by Init
//	store.key      the store's 32-byte encryption key, mode 0600
//	db/            the Badger store, encrypted with store.key
//	index/         the search index of public service data, rebuilt from db at start
//	control.sock   while serving: local control socket (online backup), mode 0600
//
// Imports: everything; it is the composition root.
package node
