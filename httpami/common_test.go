package httpami_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	lc "github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/syncbuf"
)

// newServer starts a fake Asterisk for one test and checks that nothing
// of the test's is left running when it ends.
func newServer(t *testing.T, opts ...httpamitest.Option) *httpamitest.Server {
	t.Helper()
	checkLeaks(t)
	srv := httpamitest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// config returns a Config for srv as user hello, with retries that wait
// next to nothing.
func config(srv *httpamitest.Server, auth httpami.Auth, enc httpami.Encoding) httpami.Config {
	return httpami.Config{
		URL: srv.URL, Username: "hello", Secret: "world", Auth: auth, Encoding: enc,
		RetryWaitMin: time.Microsecond, RetryWaitMax: time.Millisecond,
	}
}

// newClient makes a Client for cfg, closed when t ends.
func newClient(t *testing.T, cfg httpami.Config) *httpami.Client {
	t.Helper()
	c, err := httpami.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

// modes are the sessions and encodings every behaviour is checked with.
var modes = []struct {
	name string
	auth httpami.Auth
	enc  httpami.Encoding
}{
	{"cookie-rawman", httpami.Cookie, httpami.Rawman},
	{"cookie-mxml", httpami.Cookie, httpami.MXML},
	{"md5-rawman", httpami.MD5, httpami.Rawman},
	{"md5-mxml", httpami.MD5, httpami.MXML},
	{"digest-rawman", httpami.Digest, httpami.Rawman},
	{"digest-mxml", httpami.Digest, httpami.MXML},
}

// endpoint returns the path the Client uses in a mode.
func endpoint(auth httpami.Auth, enc httpami.Encoding) string {
	if auth == httpami.Digest {
		return "/a" + string(enc)
	}
	return "/" + string(enc)
}

func debugLogger(w *syncbuf.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var testStart = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// checkLeaks fails t if goroutines it started outlive it.
func checkLeaks(t *testing.T) { lc.Check(t) }
