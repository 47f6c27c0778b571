// Package web is the node's HTTP surface for people and programs: the JSON
// API under /api/v1, the HSDS 3.0 read API under /hsds, the server-rendered
// pages, the first-run setup page, and the operational endpoints
// (/healthz, /readyz, /metrics).
//
// Pages (public.go, servicepage.go, worker.go, admin.go, network.go,
// stats.go) are html/template in templates/, in French, Dutch and English
// from the message catalogue in locales/ (i18n.go), with the anti-forgery
// tokens of csrf.go and the embedded, gzipped static files of static.go
// (the map library in static/vendor, unmodified, with its licences). The
// public pages a visitor without a session asks for are kept a few
// seconds while nothing they show has changed (pagecache.go).
//
// Handlers are thin: they parse, call the domain (directory, referral,
// web/account), and render. Every route is declared in routes.go; route
// variables are read through pathVar and URLs built through urlFor, so the
// router stays replaceable. errors.go is the one place errors become HTTP
// answers: the client gets a safe message, the log gets the cause.
//
// Imports: the standard library, the domain packages (directory/search for
// search, similar services and coverage), web/account, golang.org/x/text,
// federation's relation types (the partnership API drives federation
// through the small Network interface declared here), gorilla/mux and the
// Prometheus client. Never store: cmd/maillage wires the adapters in.
package web
