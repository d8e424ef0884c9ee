// Package pbx gives the examples their Asterisk: the one AMIHTTP_URL names,
// or, when it is unset, a fake Asterisk HTTP manager (httpamitest) started
// in the process, so that every example runs out of the box.
package pbx

import (
	"log/slog"
	"os"
	"strings"

	"github.com/amihttp/amihttp/httpami/httpamitest"
)

// EnvURL is the environment variable naming a real Asterisk, in the
// client's URL form: http://user:secret@host:8088/?auth=digest.
const EnvURL = "AMIHTTP_URL"

// URL returns the manager URL of the PBX to use and a function that
// releases it. With AMIHTTP_URL set it returns that URL and a no-op;
// otherwise it starts a fake Asterisk with the user hello (secret world,
// every class) and returns its URL with the credentials and query given
// (such as "auth=digest", or ""), and the fake's Close.
func URL(query string, logger *slog.Logger) (string, func()) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, func() {}
	}
	srv := httpamitest.NewServer()
	u := FakeURL(srv, query)
	logger.Info("AMIHTTP_URL is not set: using a fake Asterisk", "url", strings.Replace(u, ":world@", ":xxxxx@", 1))
	return u, srv.Close
}

// FakeURL returns the client URL of srv for the fake's default user hello
// (secret world), with query appended when it is not empty.
func FakeURL(srv *httpamitest.Server, query string) string {
	u := strings.Replace(srv.URL, "://", "://hello:world@", 1) + "/"
	if query != "" {
		u += "?" + query
	}
	return u
}
