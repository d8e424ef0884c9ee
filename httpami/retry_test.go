package httpami_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
)

// originate is an action with effects that the fake runs at once.
var originate = httpami.NewAction("Originate", "Channel", "Local/100@test", "Application", "Wait", "Data", "1", "Async", "true")

// TestFaults checks the retry policy against every fault of the fake,
// for a read-only action and for Originate, which must never run twice.
func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault httpamitest.FaultKind
		times int
		a     httpami.Action
		// what the caller gets
		wantErr  error // nil: success
		unknown  bool  // the error matches ErrOutcomeUnknown
		requests int   // requests sent for the action
		executed int   // times the fake ran it
	}{
		{"503 on Ping", httpamitest.FaultStatus, 2, httpami.NewAction("Ping"), nil, false, 3, 1},
		{"503 on Ping forever", httpamitest.FaultStatus, 10, httpami.NewAction("Ping"), &httpami.HTTPError{}, false, 4, 0},
		{"503 on Originate", httpamitest.FaultStatus, 1, originate, &httpami.HTTPError{}, true, 1, 0},
		{"503 on idempotent UserEvent", httpamitest.FaultStatus, 1, httpami.Action{Name: "UserEvent", Params: httpami.NewAction("", "UserEvent", "x").Params, Idempotent: true}, nil, false, 2, 1},
		{"drop on Ping", httpamitest.FaultDrop, 1, httpami.NewAction("Ping"), nil, false, 2, 1},
		{"drop on Originate", httpamitest.FaultDrop, 1, originate, &httpami.TransportError{}, true, 1, 0},
		{"cut on Ping", httpamitest.FaultCut, 1, httpami.NewAction("Ping"), nil, false, 2, 2},
		{"cut on Originate", httpamitest.FaultCut, 1, originate, &httpami.TransportError{}, true, 1, 1},
		{"truncated on Ping", httpamitest.FaultTruncate, 1, httpami.NewAction("Ping"), nil, false, 2, 2},
		{"truncated on Originate", httpamitest.FaultTruncate, 1, originate, &httpami.TransportError{}, true, 1, 1},
		{"garbage on Ping", httpamitest.FaultGarbage, 1, httpami.NewAction("Ping"), &httpami.ProtocolError{}, false, 1, 1},
		{"garbage on Originate", httpamitest.FaultGarbage, 1, originate, &httpami.ProtocolError{}, true, 1, 1},
	}
	for _, m := range modes {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				srv := newServer(t)
				c := newClient(t, config(srv, m.auth, m.enc))
				ctx := context.Background()
				_, err := c.Login(ctx)
				require.NoError(t, err)
				path := endpoint(m.auth, m.enc)
				before, ran := srv.Requests(path), srv.Executed(tt.a.Name)
				srv.InjectFault(httpamitest.Fault{Kind: tt.fault, Times: tt.times, Path: path})
				resp, err := c.Do(ctx, tt.a)
				if tt.wantErr == nil {
					require.NoError(t, err)
					assert.Equal(t, "Success", resp.Status())
				} else {
					require.Error(t, err)
					assert.IsType(t, tt.wantErr, errors.Unwrap(wrapper{err}))
					assert.Equal(t, tt.unknown, errors.Is(err, httpami.ErrOutcomeUnknown), "%v", err)
				}
				assert.Equal(t, tt.requests, srv.Requests(path)-before, "requests")
				assert.Equal(t, tt.executed, srv.Executed(tt.a.Name)-ran, "executions")
			})
		}
	}
}

// wrapper lets assert.IsType see the error's dynamic type.
type wrapper struct{ err error }

func (w wrapper) Error() string { return w.err.Error() }
func (w wrapper) Unwrap() error { return w.err }

// refusingTransport refuses the first n connections, as a dial to a
// closed port does.
type refusingTransport struct {
	base http.RoundTripper
	n    atomic.Int32
}

func (r *refusingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.n.Add(-1) >= 0 {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return r.base.RoundTrip(req)
}

func (r *refusingTransport) CloseIdleConnections() {
	r.base.(*http.Transport).CloseIdleConnections()
}

// TestRefusedConnection checks that an action with effects is sent
// again when the connection was refused, since it never arrived.
func TestRefusedConnection(t *testing.T) {
	srv := newServer(t)
	rt := &refusingTransport{base: http.DefaultTransport}
	cfg := config(srv, httpami.Cookie, httpami.Rawman)
	cfg.Transport = rt
	c := newClient(t, cfg)
	ctx := context.Background()
	_, err := c.Login(ctx)
	require.NoError(t, err)
	rt.n.Store(2)
	_, err = c.Do(ctx, originate)
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Executed("Originate"))
	assert.Equal(t, 2, srv.Requests("/rawman"), "Login and one Originate arrived")

	t.Run("server down", func(t *testing.T) {
		// A connection kept alive across the server's death may have
		// carried the request: only a fresh dial proves it did not.
		c.CloseIdleConnections()
		srv.Down()
		defer func() { require.NoError(t, srv.Up()) }()
		_, err := c.Do(ctx, originate)
		var te *httpami.TransportError
		require.ErrorAs(t, err, &te)
		assert.False(t, te.MaybeRun)
		assert.NotErrorIs(t, err, httpami.ErrOutcomeUnknown)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Equal(t, 1, srv.Executed("Originate"))
	})
}

// TestResponseTooLarge checks that a body over MaxResponseBytes is
// refused, not read whole, and not asked for again.
func TestResponseTooLarge(t *testing.T) {
	srv := newServer(t)
	for _, m := range modes {
		cfg := config(srv, m.auth, m.enc)
		cfg.MaxResponseBytes = 512
		c := newClient(t, cfg)
		ctx := context.Background()
		_, err := c.Action(ctx, "Ping")
		require.NoError(t, err)
		before := srv.Requests(endpoint(m.auth, m.enc))
		_, err = c.Action(ctx, "ListCommands")
		require.ErrorIs(t, err, httpami.ErrResponseTooLarge, m.name)
		assert.ErrorIs(t, err, httpami.ErrProtocol)
		assert.Equal(t, 1, srv.Requests(endpoint(m.auth, m.enc))-before, m.name)
	}
}

// TestSlowServer checks that a context ends a call promptly whatever
// the server does.
func TestSlowServer(t *testing.T) {
	clk := httpamitest.NewFakeClock(testStart)
	srv := newServer(t, httpamitest.WithClock(clk))
	c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
	_, err := c.Login(context.Background())
	require.NoError(t, err)

	t.Run("deadline", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStall, Stall: time.Hour})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Action(ctx, "Ping")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *httpami.TransportError
		require.ErrorAs(t, err, &te)
	})
	t.Run("cancel", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStall, Stall: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.Do(ctx, originate)
			done <- err
		}()
		waitCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		require.NoError(t, srv.AwaitWaiting(waitCtx, 2)) // the Ping above still stalls
		cancel()
		err := <-done
		require.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, httpami.ErrOutcomeUnknown)
		assert.Equal(t, 0, srv.Executed("Originate"))
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := srv.Requests("")
		_, err := c.Action(ctx, "Ping")
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, before, srv.Requests(""))
	})
}

// TestTLS checks that TLS is verified by default and that a caller's
// tls.Config or http.Client is honoured.
func TestTLS(t *testing.T) {
	checkLeaks(t)
	srv := httpamitest.NewUnstartedServer()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ctx := context.Background()

	cfg := config(srv, httpami.Cookie, httpami.Rawman)
	c := newClient(t, cfg)
	_, err := c.Action(ctx, "Ping")
	var cerr *tls.CertificateVerificationError
	require.ErrorAs(t, err, &cerr)
	assert.Equal(t, 0, srv.Requests(""), "not retried, nothing sent")

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg.TLSConfig = &tls.Config{RootCAs: pool}
	c = newClient(t, cfg)
	resp, err := c.Action(ctx, "Ping")
	require.NoError(t, err)
	assert.Equal(t, "Pong", resp.Get("Ping"))

	cfg.TLSConfig = nil
	cfg.HTTPClient = srv.Client()
	cfg.Auth = httpami.Digest
	c = newClient(t, cfg)
	_, err = c.Action(ctx, "Ping")
	require.NoError(t, err)
}

// TestCallerHTTPClientTimeout checks that the Timeout of a caller's
// http.Client bounds each request.
func TestCallerHTTPClientTimeout(t *testing.T) {
	clk := httpamitest.NewFakeClock(testStart)
	srv := newServer(t, httpamitest.WithClock(clk))
	cfg := config(srv, httpami.Digest, httpami.Rawman)
	cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
	cfg.RetryMax = -1
	c := newClient(t, cfg)
	_, err := c.Action(context.Background(), "Ping")
	require.NoError(t, err)
	srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStall, Stall: time.Hour})
	_, err = c.Action(context.Background(), "Ping")
	var te *httpami.TransportError
	require.ErrorAs(t, err, &te)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
}
