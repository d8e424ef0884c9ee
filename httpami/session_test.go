package httpami_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/internal/syncbuf"
)

// TestSessionExpiry checks that a session lost mid-use is healed by one
// Login and the action sent again.
func TestSessionExpiry(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := newServer(t)
			c := newClient(t, config(srv, m.auth, m.enc))
			ctx := context.Background()
			_, err := c.Action(ctx, "Ping")
			require.NoError(t, err)
			for i, lose := range []func(){srv.ExpireSessions, srv.Restart} {
				lose()
				resp, err := c.Action(ctx, "Ping")
				require.NoError(t, err)
				assert.Equal(t, "Pong", resp.Get("Ping"))
				if m.auth == httpami.Digest {
					// Asterisk starts a new digest session silently.
					assert.False(t, resp.Renewed)
					assert.Equal(t, uint64(0), c.Generation())
					continue
				}
				assert.True(t, resp.Renewed)
				assert.Equal(t, uint64(i+2), c.Generation())
				assert.Equal(t, i+2, srv.Executed("Login"))
			}
		})
	}
}

// TestRestartUnderLoad checks that 32 goroutines finding the session
// gone together cause exactly one Login per restart.
func TestRestartUnderLoad(t *testing.T) {
	for _, auth := range []httpami.Auth{httpami.Cookie, httpami.MD5} {
		t.Run(string(auth), func(t *testing.T) {
			srv := newServer(t)
			c := newClient(t, config(srv, auth, httpami.Rawman))
			ctx := context.Background()
			_, err := c.Login(ctx)
			require.NoError(t, err)
			const rounds, workers = 3, 32
			for round := range rounds {
				start := make(chan struct{})
				var wg sync.WaitGroup
				for range workers {
					wg.Go(func() {
						<-start
						for range 5 {
							_, err := c.Action(ctx, "Ping")
							assert.NoError(t, err)
						}
					})
				}
				srv.Restart()
				close(start)
				wg.Wait()
				assert.Equal(t, round+2, srv.Executed("Login"), "round %d", round)
				if auth == httpami.MD5 {
					assert.Equal(t, round+2, srv.Executed("Challenge"))
				}
			}
			assert.Equal(t, uint64(rounds+1), c.Generation())
		})
	}
}

// TestRestartMidFlight restarts Asterisk while requests are in flight:
// read-only ones are sent again, each lost one after one shared Login.
func TestRestartMidFlight(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
	ctx := context.Background()
	_, err := c.Login(ctx)
	require.NoError(t, err)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 32 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := c.Action(ctx, "Ping")
				assert.NoError(t, err)
			}
		})
	}
	// Each restart waits until every goroutine had time to go on after
	// the last one: a request lost twice in a row is an error.
	for range 3 {
		target := srv.Executed("Ping") + 320
		for srv.Executed("Ping") < target {
			time.Sleep(time.Millisecond)
		}
		srv.Restart()
	}
	close(stop)
	wg.Wait()
	// One Login per restart, and one more should a restart cut a Login.
	logins := srv.Executed("Login")
	assert.True(t, logins >= 2 && logins <= 7, "%d logins for 3 restarts", logins)
}

// recorder is a transport that keeps every request body and answer
// header.
type recorder struct {
	base    http.RoundTripper
	mu      sync.Mutex
	bodies  []string
	cookies []string
	auths   []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := r.base.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, req.URL.RawQuery+"|"+string(body))
	r.auths = append(r.auths, req.Header.Get("Authorization"))
	if resp != nil {
		for _, c := range resp.Cookies() {
			r.cookies = append(r.cookies, c.Value)
		}
		r.auths = append(r.auths, resp.Header.Values("Www-Authenticate")...)
	}
	return resp, err
}

// TestMD5Login checks that the secret never crosses the network with
// MD5 auth, and that it does with plain Login.
func TestMD5Login(t *testing.T) {
	srv := newServer(t)
	for _, auth := range []httpami.Auth{httpami.MD5, httpami.Cookie} {
		rec := &recorder{base: http.DefaultTransport}
		cfg := config(srv, auth, httpami.Rawman)
		cfg.Transport = rec
		c := newClient(t, cfg)
		resp, err := c.Login(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "Authentication accepted", resp.Message())
		all := strings.Join(rec.bodies, "\n")
		if auth == httpami.MD5 {
			assert.NotContains(t, all, "world")
			assert.Contains(t, all, "AuthType=MD5&Key=")
			assert.Contains(t, all, "Action=Challenge")
		} else {
			assert.Contains(t, all, "Secret=world")
		}
	}
}

// TestWrongCredentials checks that refused credentials are reported,
// whatever the auth, without a loop.
func TestWrongCredentials(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			clk := httpamitest.NewFakeClock(testStart)
			srv := newServer(t, httpamitest.WithClock(clk))
			cfg := config(srv, m.auth, m.enc)
			cfg.Secret = "wrong-secret"
			c := newClient(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := c.Action(ctx, "Ping")
				done <- err
			}()
			if m.auth != httpami.Digest {
				require.NoError(t, srv.AwaitWaiting(ctx, 1)) // a failed Login waits 1 s
				clk.Advance(time.Second)
			}
			err := <-done
			require.ErrorIs(t, err, httpami.ErrAuthentication)
			assert.NotContains(t, err.Error(), "wrong-secret")
			assert.Equal(t, 0, srv.Executed("Ping"))
			if m.auth == httpami.Digest {
				var he *httpami.HTTPError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, 401, he.StatusCode)
				assert.Equal(t, 2, srv.Requests(endpoint(m.auth, m.enc)), "a challenge and one signed try")
			} else {
				var ae *httpami.ActionError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "Login", ae.Action)
				assert.Equal(t, 1, srv.Executed("Login"))
			}
		})
	}
}

// TestDigestRoundTrips checks that after the first exchange, N
// sequential actions cost N requests, and so do cookie sessions after
// their Login.
func TestDigestRoundTrips(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := newServer(t)
			c := newClient(t, config(srv, m.auth, m.enc))
			ctx := context.Background()
			_, err := c.Action(ctx, "Ping")
			require.NoError(t, err)
			path := endpoint(m.auth, m.enc)
			before := srv.Requests(path)
			const n = 50
			for range n {
				_, err := c.Action(ctx, "Ping")
				require.NoError(t, err)
			}
			assert.Equal(t, n, srv.Requests(path)-before)
		})
	}
}

// TestDigestStaleUnderConcurrency rotates every nonce while 32
// goroutines send actions: each stale answer is retried with the new
// nonce, and no caller sees it.
func TestDigestStaleUnderConcurrency(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, config(srv, httpami.Digest, httpami.Rawman))
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 10 {
				_, err := c.Action(ctx, "Ping")
				assert.NoError(t, err)
			}
		})
	}
	for range 5 {
		srv.RotateNonces()
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	assert.Equal(t, 320, srv.Executed("Ping"))
}

// TestClose checks that Close logs off once and that the Client then
// refuses to work.
func TestClose(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := newServer(t)
			c, err := httpami.New(config(srv, m.auth, m.enc))
			require.NoError(t, err)
			ctx := context.Background()
			_, err = c.Action(ctx, "Ping")
			require.NoError(t, err)
			require.NoError(t, c.Close(ctx))
			require.NoError(t, c.Close(ctx))
			assert.Equal(t, 1, srv.Executed("Logoff"))
			_, err = c.Action(ctx, "Ping")
			assert.ErrorIs(t, err, httpami.ErrClosed)
		})
	}
	t.Run("never used", func(t *testing.T) {
		srv := newServer(t)
		c, err := httpami.New(config(srv, httpami.Cookie, httpami.Rawman))
		require.NoError(t, err)
		require.NoError(t, c.Close(context.Background()))
		assert.Equal(t, 0, srv.Requests(""), "nothing to log off")
	})
}

// TestLongWaitEventDoesNotBlock checks that a pending WaitEvent leaves
// the Client free for other actions, and that it ends with its context.
func TestLongWaitEventDoesNotBlock(t *testing.T) {
	clk := httpamitest.NewFakeClock(testStart)
	srv := newServer(t, httpamitest.WithClock(clk))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := newClient(t, config(srv, m.auth, m.enc))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := c.Action(ctx, "WaitEvent", "Timeout", "0")
			require.NoError(t, err)
			waitCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				_, err := c.Action(waitCtx, "WaitEvent", "Timeout", "40")
				done <- err
			}()
			require.NoError(t, srv.AwaitWaiting(ctx, 1))
			for range 5 {
				_, err := c.Action(ctx, "Ping")
				require.NoError(t, err)
			}
			stop()
			err = <-done
			require.ErrorIs(t, err, context.Canceled)
			assert.True(t, errors.Is(err, httpami.ErrOutcomeUnknown), "WaitEvent moves the event cursor: %v", err)
		})
	}
}

// TestLogsHoldNoSecret runs sessions of every kind, with failures and
// retries, and checks that the debug log holds no secret, key, cookie
// or digest value.
func TestLogsHoldNoSecret(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := newServer(t)
			var logs syncbuf.Buffer
			rec := &recorder{base: http.DefaultTransport}
			cfg := config(srv, m.auth, m.enc)
			cfg.Logger = debugLogger(&logs)
			cfg.Transport = rec
			c := newClient(t, cfg)
			ctx := context.Background()
			var errs []string
			note := func(_ *httpami.Response, err error) {
				if err != nil {
					errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
				}
			}
			note(c.Action(ctx, "Ping"))
			srv.ExpireSessions()
			srv.RotateNonces()
			note(c.Action(ctx, "Ping"))
			srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus, Times: 2})
			note(c.Action(ctx, "Ping"))
			srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultGarbage})
			note(c.Action(ctx, "UserEvent", "UserEvent", "x"))
			note(c.Action(ctx, "NoSuch", "Secret", "world"))
			note(c.Action(ctx, "Ping", "Bad", "a\nworld"))
			require.NoError(t, c.Close(ctx))
			out := logs.String() + strings.Join(errs, "\n")
			require.Contains(t, logs.String(), "httpami: sending again", "the retries were logged")
			assert.NotContains(t, out, "world")
			for _, v := range rec.cookies {
				assert.NotContains(t, out, v)
			}
			for _, a := range rec.auths {
				for _, part := range strings.Split(a, ",") {
					if _, v, ok := strings.Cut(part, "="); ok && len(strings.Trim(v, `"`)) >= 8 {
						assert.NotContains(t, out, strings.Trim(v, `"`))
					}
				}
			}
		})
	}
}

// affinity is a transport that plays a load balancer: it sets an
// affinity cookie on the first answer and records the Cookie headers
// sent.
type affinity struct {
	base    http.RoundTripper
	mu      sync.Mutex
	cookies []string
}

func (a *affinity) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.cookies = append(a.cookies, req.Header.Get("Cookie"))
	first := len(a.cookies) == 1
	a.mu.Unlock()
	resp, err := a.base.RoundTrip(req)
	if err == nil && first {
		resp.Header.Add("Set-Cookie", "lb=node1; Path=/")
	}
	return resp, err
}

// TestOtherCookies checks that cookies other than the session's are
// kept by the jar and sent beside it.
func TestOtherCookies(t *testing.T) {
	srv := newServer(t)
	rt := &affinity{base: http.DefaultTransport}
	cfg := config(srv, httpami.Cookie, httpami.Rawman)
	cfg.Transport = rt
	c := newClient(t, cfg)
	ctx := context.Background()
	for range 2 {
		_, err := c.Action(ctx, "Ping")
		require.NoError(t, err)
	}
	srv.ExpireSessions()
	resp, err := c.Action(ctx, "Ping")
	require.NoError(t, err)
	assert.True(t, resp.Renewed)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	// Login, Ping, Ping, lost Ping, Login, Ping.
	require.Len(t, rt.cookies, 6)
	assert.Equal(t, "", rt.cookies[0])
	for i, h := range rt.cookies[1:] {
		assert.Contains(t, h, "lb=node1", "request %d", i+1)
	}
	assert.Contains(t, rt.cookies[1], "mansession_id=")
	assert.NotContains(t, rt.cookies[4], "mansession_id=", "a Login starts from its own session")
	assert.Contains(t, rt.cookies[5], "mansession_id=")
}

// TestColdStart checks that a digest Client with ColdStart pays one
// round trip for its first action, as a serverless function's would.
func TestColdStart(t *testing.T) {
	for _, cold := range []bool{false, true} {
		srv := newServer(t)
		u := "http://hello:world@" + strings.TrimPrefix(srv.URL, "http://") + "/?auth=digest&coldstart=" + fmt.Sprint(cold)
		cfg, err := httpami.ParseURL(u)
		require.NoError(t, err)
		require.Equal(t, cold, cfg.ColdStart)
		c := newClient(t, cfg)
		_, err = c.Action(context.Background(), "Ping")
		require.NoError(t, err)
		want := 2 // the challenge, then the signed request
		if cold {
			want = 1
		}
		assert.Equal(t, want, srv.Requests("/arawman"), "coldstart=%v", cold)
	}

	// With asterisk.conf's systemname, the realm of the URL saves the
	// challenge; without it, ColdStart falls back to one.
	for realm, want := range map[string]int{"pbx-1": 1, "": 2} {
		srv := newServer(t, httpamitest.WithSystemName("pbx-1"))
		cfg, err := httpami.ParseURL("http://hello:world@" + strings.TrimPrefix(srv.URL, "http://") + "/?auth=digest&coldstart=1&realm=" + realm)
		require.NoError(t, err)
		require.Equal(t, realm, cfg.Realm)
		_, err = newClient(t, cfg).Action(context.Background(), "Ping")
		require.NoError(t, err)
		assert.Equal(t, want, srv.Requests("/arawman"), "realm %q", realm)
	}
}

// TestGetKeepsSecretsOutOfURLs checks that with Config.Get, Login and
// Challenge are still POSTed.
func TestGetKeepsSecretsOutOfURLs(t *testing.T) {
	for _, auth := range []httpami.Auth{httpami.Cookie, httpami.MD5} {
		srv := newServer(t)
		rec := &recorder{base: http.DefaultTransport}
		cfg := config(srv, auth, httpami.Rawman)
		cfg.Get, cfg.Transport = true, rec
		c := newClient(t, cfg)
		_, err := c.Action(context.Background(), "Ping")
		require.NoError(t, err)
		rec.mu.Lock()
		for _, b := range rec.bodies {
			query, _, _ := strings.Cut(b, "|")
			assert.NotContains(t, query, "Login")
			assert.NotContains(t, query, "Challenge")
		}
		assert.Contains(t, rec.bodies[len(rec.bodies)-1], "Action=Ping", "the action went as GET")
		rec.mu.Unlock()
	}
}

// TestKeepAlive checks that sequential actions reuse one connection, in
// every mode.
func TestKeepAlive(t *testing.T) {
	srv := newServer(t)
	var dials atomic.Int32
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}
	for _, m := range modes {
		dials.Store(0)
		cfg := config(srv, m.auth, m.enc)
		cfg.Transport = tr
		c := newClient(t, cfg)
		for range 20 {
			_, err := c.Action(context.Background(), "Ping")
			require.NoError(t, err)
		}
		assert.Equal(t, int32(1), dials.Load(), m.name)
		tr.CloseIdleConnections()
	}
}

// TestAfterLogin restores a session's filter after every Login with
// Config.AfterLogin: the first, and the one that heals a lost session,
// before the action that needed it runs. A failing hook fails the
// action and leaves no session behind.
func TestAfterLogin(t *testing.T) {
	for _, auth := range []httpami.Auth{httpami.Cookie, httpami.MD5} {
		t.Run(string(auth), func(t *testing.T) {
			srv := newServer(t)
			cfg := config(srv, auth, httpami.Rawman)
			var calls atomic.Int32
			var fail atomic.Bool
			cfg.AfterLogin = func(ctx context.Context, c *httpami.Client) error {
				calls.Add(1)
				if fail.Load() {
					return errors.New("hook failed")
				}
				_, err := c.Filter(ctx, "UserEvent: Keep", "")
				return err
			}
			c := newClient(t, cfg)
			ctx := context.Background()
			emit := func(name string) {
				m := &rawman.Message{}
				m.Add("Event", "UserEvent")
				m.Add("UserEvent", name)
				require.NoError(t, srv.Emit(m))
			}
			// kept sends WaitEvents until UserEvent Keep comes, Drop
			// and Keep being emitted while the first waits (it may be
			// the one to log in again), and returns what came.
			kept := func() []string {
				t.Helper()
				var names []string
				done := make(chan error)
				go func() {
					for !slices.Contains(names, "Keep") {
						resp, err := c.Action(ctx, "WaitEvent", "Timeout", "30")
						if err != nil {
							done <- err
							return
						}
						for _, ev := range resp.Events {
							names = append(names, ev.Get("UserEvent"))
						}
					}
					done <- nil
				}()
				require.Eventually(t, func() bool { return srv.Waiting() == 1 }, 10*time.Second, time.Millisecond)
				emit("Drop")
				emit("Keep")
				require.NoError(t, <-done)
				return names
			}
			_, err := c.Login(ctx)
			require.NoError(t, err)
			assert.Equal(t, int32(1), calls.Load())
			assert.Equal(t, []string{"Keep"}, kept())

			srv.ExpireSessions()
			assert.Equal(t, []string{"Keep"}, kept(), "the new session has the filter before the WaitEvent runs")
			assert.Equal(t, int32(2), calls.Load())

			fail.Store(true)
			srv.ExpireSessions()
			_, err = c.Action(ctx, "Ping")
			assert.ErrorContains(t, err, "hook failed")
			assert.ErrorIs(t, err, httpami.ErrSessionLost)
			fail.Store(false)
			logins := srv.Executed("Login")
			_, err = c.Action(ctx, "Ping")
			require.NoError(t, err)
			assert.Equal(t, logins+1, srv.Executed("Login"), "the session of the failed hook was forgotten")
			assert.Equal(t, int32(4), calls.Load())
		})
	}
}
