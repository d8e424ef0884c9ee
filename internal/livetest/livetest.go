package livetest

import (
	"net/url"
	"os"
	"testing"
)

// EnvVar is the environment variable that names the live Asterisk.
const EnvVar = "AMIHTTP_TEST_URL"

// A Target is the live Asterisk's HTTP manager.
type Target struct {
	Base     string // scheme and host, such as "http://127.0.0.1:8088"
	Username string
	Password string
}

// URL returns the Target in the client's URL form,
// "http://user:password@host:port/", the form httpami.ParseURL and the
// command line's --url take; query, if not empty, is appended after "?".
func (t Target) URL(query string) string {
	u, _ := url.Parse(t.Base + "/") // Get made Base from a parsed URL
	u.User = url.UserPassword(t.Username, t.Password)
	u.RawQuery = query
	return u.String()
}

// Get returns the Target that EnvVar names, skips tb if it is not set, and
// fails it if it is not of the form http://user:password@host:port/.
// Until tb ends, no test of another process gets the live Asterisk.
func Get(tb testing.TB) Target {
	tb.Helper()
	raw := os.Getenv(EnvVar)
	if raw == "" {
		tb.Skip(EnvVar + " is not set: no live Asterisk")
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Host == "" {
		tb.Fatal(EnvVar + " must be http://user:password@host:port/")
	}
	pass, _ := u.User.Password()
	hold(tb)
	return Target{Base: u.Scheme + "://" + u.Host, Username: u.User.Username(), Password: pass}
}
