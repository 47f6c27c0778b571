package main

import (
	goversion "go/version"
	"log/slog"
	"runtime"
)

// recommendedGo is the Go release CI and the Docker image build with. The
// standard library of earlier releases has known vulnerabilities on paths
// the node calls (net/http, crypto/tls, crypto/x509, html/template: the
// README says which); a node built with one still runs, and says so.
const recommendedGo = "go1.27.3"

// goWarning returns what to tell the admin about the Go release the binary
// was built with, "" when it is recommendedGo or later. A development
// build ("devel …") is not judged.
func goWarning(built string) string {
	if !goversion.IsValid(built) || goversion.Compare(built, recommendedGo) >= 0 {
		return ""
	}
	return "built with " + built + ", older than " + recommendedGo + ": its standard library has known vulnerabilities " +
		"on paths the node calls; rebuild with GOTOOLCHAIN=" + recommendedGo + " (see the README)"
}

// logBuild writes, once at start, the version and the Go release, and the
// warning when that release is too old.
func logBuild(logger *slog.Logger) {
	logger.Info("maillage", "version", version, "go", runtime.Version())
	if w := goWarning(runtime.Version()); w != "" {
		logger.Warn(w)
	}
}
