// Package web is the node's HTTP surface for people and programs: the JSON
// API under /api/v1, the HSDS 3.0 read API under /hsds, the server-rendered
// pages, the first-run setup page, and the operational endpoints
// (/healthz, /readyz, /metrics).
//
// Handlers are thin: they parse, call the domain (directory, referral,
// web/account), and render. Every route is declared in routes.go; route
// variables are read through pathVar and URLs built through urlFor, so the
// router stays replaceable. errors.go is the one place errors become HTTP
// answers: the client gets a safe message, the log gets the cause.
//
// Imports: the standard library, the domain packages, web/account,
// federation's relation types (the partnership API drives federation
// through the small Network interface declared here), gorilla/mux and the
// Prometheus client. Never store: cmd/maillage wires the adapters in.
package web
