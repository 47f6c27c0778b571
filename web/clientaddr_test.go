package web

import (
	"net/http"
	"net/netip"
	"testing"
)

// The client's address is the remote address, unless that is a trusted
// proxy: then the last address of X-Forwarded-For that is not a trusted
// proxy. What a client writes itself in the header is never believed.
func TestClientAddr(t *testing.T) {
	s := &Server{Deps: Deps{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8")}}}
	for _, tt := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct, no header", "198.51.100.7:4000", nil, "198.51.100.7"},
		{"direct, a header made up by the client", "198.51.100.7:4000", []string{"203.0.113.5"}, "198.51.100.7"},
		{"through the proxy", "127.0.0.1:5000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"through the proxy over IPv6", "[::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"the client's own header, then the proxy's hop", "127.0.0.1:5000", []string{"192.0.2.99, 203.0.113.5"}, "203.0.113.5"},
		{"two proxies", "127.0.0.1:5000", []string{"203.0.113.5, 10.1.2.3"}, "203.0.113.5"},
		{"header on several lines", "127.0.0.1:5000", []string{"192.0.2.99", "203.0.113.5"}, "203.0.113.5"},
		{"an IPv4 address written as IPv6", "127.0.0.1:5000", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{"malformed hop", "127.0.0.1:5000", []string{"203.0.113.5, not-an-address"}, "127.0.0.1"},
		{"the proxy without a header", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"only proxies", "127.0.0.1:5000", []string{"10.0.0.1"}, "127.0.0.1"},
	} {
		r, _ := http.NewRequest("POST", "/login", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientAddr(r); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	// Without trusted proxies, the header is never read.
	r, _ := http.NewRequest("POST", "/login", nil)
	r.RemoteAddr, r.Header["X-Forwarded-For"] = "127.0.0.1:5000", []string{"203.0.113.5"}
	if got := (&Server{}).clientAddr(r); got != "127.0.0.1" {
		t.Errorf("no trusted proxy: %q", got)
	}
}

// The setup page proposes https for a domain name alone (a TLS proxy in
// front), http for a node reached directly.
func TestSuggestedURL(t *testing.T) {
	for host, want := range map[string]string{
		"maison.example.be":      "https://maison.example.be",
		"127.0.0.1:8080":         "http://127.0.0.1:8080",
		"[::1]:8080":             "http://[::1]:8080",
		"localhost":              "http://localhost",
		"maison.example.be:8081": "http://maison.example.be:8081",
		"192.0.2.10":             "http://192.0.2.10",
	} {
		r, _ := http.NewRequest("GET", "/setup", nil)
		r.Host = host
		if got := suggestedURL(r); got != want {
			t.Errorf("%s: %s, want %s", host, got, want)
		}
	}
}
