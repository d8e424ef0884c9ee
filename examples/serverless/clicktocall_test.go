package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/examples/internal/pbx"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/poller"
)

// testToken is the shared secret of the tests' handlers.
const testToken = "test-token-0123456789abcdef"

// newFake starts a fake Asterisk closed at the end of the test.
func newFake(t *testing.T, opts ...httpamitest.Option) *httpamitest.Server {
	t.Helper()
	srv := httpamitest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// testEnv is the environment of a function deployed against srv.
func testEnv(srv *httpamitest.Server) map[string]string {
	return map[string]string{
		EnvURL:   pbx.FakeURL(srv, "auth=digest&coldstart=true"),
		EnvToken: testToken,
	}
}

// newTestHandler returns a fresh (cold) handler for srv, with cfg's
// settings; the client's idle connections close at the end of the test.
func newTestHandler(t *testing.T, srv *httpamitest.Server, cfg Config) *handler {
	t.Helper()
	if cfg.Client == nil {
		c, err := NewClient(testEnv(srv)[EnvURL], cfg.Logger)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Client = c
	}
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	h, err := newHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cfg.Client.CloseIdleConnections)
	return h
}

// post sends a POST with body (JSON unless a header says otherwise) and
// the test token to h, and returns the recorded answer and its JSON.
func post(t *testing.T, h http.Handler, body string, opts ...func(*http.Request)) (*httptest.ResponseRecorder, answer) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+testToken)
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var a answer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	return w, a
}

// header sets a request header (deleting it when value is "").
func header(key, value string) func(*http.Request) {
	return func(r *http.Request) {
		if value == "" {
			r.Header.Del(key)
		} else {
			r.Header.Set(key, value)
		}
	}
}

// TestClickToCall places a call on the fake and follows it: one
// Originate ran, the answer is 202 with its ActionID, and Asterisk's
// OriginateResponse for that ActionID shows the caller's Local channel
// answered and sent to the destination.
func TestClickToCall(t *testing.T) {
	leakcheck.Check(t)
	srv := newFake(t)

	// A poller of its own watches the call's events.
	pc, err := httpami.New(httpami.Config{URL: srv.URL, Username: "hello", Secret: "world", Auth: httpami.Digest})
	if err != nil {
		t.Fatal(err)
	}
	p, err := poller.New(pc, poller.WithEventMask("call"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(); _ = pc.Close(context.Background()) })

	h := newTestHandler(t, srv, Config{})
	for _, tt := range []struct {
		name, contentType, body string
		wantChannel             string
	}{
		{"json", "application/json", `{"from":"100","to":"200"}`, "Local/100@test-"},
		{"form", "application/x-www-form-urlencoded; charset=utf-8", `from=101&to=300`, "Local/101@test-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Executed("Originate")
			w, a := post(t, h, tt.body, header("Content-Type", tt.contentType))
			if w.Code != http.StatusAccepted || a.Status != "queued" || a.ActionID == "" || a.Error != "" {
				t.Fatalf("answer %d %+v, want 202 queued with an ActionID", w.Code, a)
			}
			if n := srv.Executed("Originate") - before; n != 1 {
				t.Errorf("Asterisk ran %d Originates, want 1", n)
			}

			ev, err := p.Await(ctx, a.ActionID, "OriginateResponse")
			if err != nil {
				t.Fatal(err)
			}
			if ev.Get("Response") != "Success" || !strings.HasPrefix(ev.Get("Channel"), tt.wantChannel) || ev.Get("Context") != "test" {
				t.Errorf("OriginateResponse:\n%s\nwant Response Success, Channel %s…, Context test", ev, tt.wantChannel)
			}
		})
	}
}

// TestRoundTrips measures the HTTP requests Asterisk reads per
// invocation, the figure the README states: 1 for a cold invocation
// (the function built from its environment at its first call), 1 for
// every warm one, 2 for the one invocation that finds its digest nonce
// rotated (Asterisk does it every 62 s), then 1 again. For comparison it
// measures what the handler avoids: a client without ColdStart pays 2
// on its first request, and httpami.Dial a Ping before the first action.
func TestRoundTrips(t *testing.T) {
	leakcheck.Check(t)
	srv := newFake(t)
	const warm = 20

	env := testEnv(srv)
	fn := fromEnv(func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	invoke := func() int {
		t.Helper()
		before := srv.Requests("")
		w, a := post(t, fn, `{"from":"100","to":"200"}`)
		if w.Code != http.StatusAccepted {
			t.Fatalf("answer %d %+v, want 202", w.Code, a)
		}
		return srv.Requests("") - before
	}

	cold := invoke()
	if cold != 1 {
		t.Errorf("cold invocation: %d round trips, want 1", cold)
	}
	for i := range warm {
		if n := invoke(); n != 1 {
			t.Errorf("warm invocation %d: %d round trips, want 1", i+1, n)
		}
	}
	srv.RotateNonces()
	stale := invoke()
	if stale != 2 {
		t.Errorf("invocation after the nonce rotation: %d round trips, want 2", stale)
	}
	after := invoke()
	if after != 1 {
		t.Errorf("invocation after that: %d round trips, want 1", after)
	}
	if got, want := srv.Requests("/arawman"), warm+4; got != want {
		t.Errorf("%d requests to /arawman, want all %d", got, want)
	}
	if got, want := srv.Executed("Originate"), warm+3; got != want {
		t.Errorf("Asterisk ran %d Originates, want one per invocation: %d", got, want)
	}
	t.Logf("round trips to Asterisk per invocation: cold %d, warm 1 (%d of %d), stale nonce %d, next %d",
		cold, warm, warm, stale, after)

	// What other set-ups would cost on a cold start.
	firstCost := func(rawURL string, dial bool) int {
		t.Helper()
		before := srv.Requests("")
		var c *httpami.Client
		var err error
		if dial {
			c, err = httpami.Dial(t.Context(), rawURL)
		} else {
			var cfg httpami.Config
			if cfg, err = httpami.ParseURL(rawURL); err == nil {
				c, err = httpami.New(cfg)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		if _, err = c.Originate(t.Context(), httpami.Originate{Channel: "Local/100@test", Context: "test", Exten: "200", Priority: "1", Async: true}); err != nil {
			t.Fatal(err)
		}
		return srv.Requests("") - before
	}
	noColdStart := firstCost(pbx.FakeURL(srv, "auth=digest"), false)
	if noColdStart != 2 {
		t.Errorf("digest without coldstart: %d round trips, want 2 (a 401, then the signed request)", noColdStart)
	}
	dialed := firstCost(pbx.FakeURL(srv, "auth=digest&coldstart=true"), true)
	if dialed != 2 {
		t.Errorf("Dial, then Originate: %d round trips, want 2 (a Ping, then the Originate)", dialed)
	}
	t.Logf("cold start without coldstart=true: %d; with httpami.Dial: %d", noColdStart, dialed)
}

// TestRoundTripsAfterPause measures, on a fake clock, what Asterisk's
// nonce rotation (spec §3.4) costs a warm function: the first request
// more than 62 s after a nonce was issued, on a session still alive,
// gets 401 stale=true and is sent again with the new nonce (2 round
// trips), so at most one invocation in 62 s pays 2. After a pause longer
// than the session's life (httptimeout, 60 s, then the purge), Asterisk
// has forgotten the nonce, and a nonce it does not know starts a new
// session at once (§3.5): 1 round trip again.
func TestRoundTripsAfterPause(t *testing.T) {
	leakcheck.Check(t)
	clk := httpamitest.NewFakeClock(time.Now())
	srv := newFake(t, httpamitest.WithClock(clk))
	h := newTestHandler(t, srv, Config{})
	h.now = clk.Now
	invoke := func() int {
		t.Helper()
		before := srv.Requests("")
		w, a := post(t, h, `{"from":"100","to":"300"}`)
		if w.Code != http.StatusAccepted {
			t.Fatalf("answer %d %+v, want 202", w.Code, a)
		}
		return srv.Requests("") - before
	}
	for _, step := range []struct {
		name  string
		pause time.Duration
		want  int
	}{
		{"cold", 0, 1},
		{"warm, 30 s later", 30 * time.Second, 1},
		{"warm, 62 s after the nonce", 32 * time.Second, 1},
		{"warm, 63 s after the nonce: stale", time.Second, 2},
		{"warm, 1 s later", time.Second, 1},
		{"warm, 62 s after the new nonce", 61 * time.Second, 1},
		{"warm, 64 s after the new nonce: stale", 2 * time.Second, 2},
		{"warm, 5 min later: session gone, the nonce starts a new one", 5 * time.Minute, 1},
		{"warm, 1 s later", time.Second, 1},
		{"warm, 70 s later: session gone", 70 * time.Second, 1},
	} {
		clk.Advance(step.pause)
		got := invoke()
		if got != step.want {
			t.Errorf("%s: %d round trips, want %d", step.name, got, step.want)
		}
		t.Logf("%s: %d", step.name, got)
	}
}

// TestIdleConnection shows that warm invocations reuse the kept-alive
// connection, and that an invocation after more than the client's idle
// timeout (a frozen instance, whose timers did not run) opens a new one
// rather than writing its Originate on a connection Asterisk has closed.
// Either way it costs one request.
func TestIdleConnection(t *testing.T) {
	leakcheck.Check(t)
	srv := newFake(t)
	h := newTestHandler(t, srv, Config{})
	now := time.Now()
	h.now = func() time.Time { return now }

	invoke := func() (reused bool) {
		t.Helper()
		ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		})
		before := srv.Requests("")
		w, a := post(t, h, `{"from":"100","to":"200"}`, func(r *http.Request) { *r = *r.WithContext(ctx) })
		if w.Code != http.StatusAccepted {
			t.Fatalf("answer %d %+v, want 202", w.Code, a)
		}
		if n := srv.Requests("") - before; n != 1 {
			t.Errorf("%d round trips, want 1", n)
		}
		return reused
	}
	for _, step := range []struct {
		name   string
		pause  time.Duration
		reused bool
	}{
		{"cold", 0, false},
		{"warm", time.Second, true},
		{"after a long pause", idleLimit + time.Second, false},
		{"warm again", time.Second, true},
	} {
		now = now.Add(step.pause)
		if got := invoke(); got != step.reused {
			t.Errorf("%s: connection reused %v, want %v", step.name, got, step.reused)
		}
	}
}

// TestRefused sends requests the function must refuse: wrong method,
// token, media type, body or numbers. None reaches Asterisk.
func TestRefused(t *testing.T) {
	leakcheck.Check(t)
	srv := newFake(t)
	h := newTestHandler(t, srv, Config{})
	const form = "application/x-www-form-urlencoded"
	big := `{"from":"100","to":"200"` + strings.Repeat(" ", MaxBodyBytes) + `}`

	for _, tt := range []struct {
		name string
		body string
		opts []func(*http.Request)
		want int
	}{
		{"GET", "", []func(*http.Request){func(r *http.Request) { r.Method = http.MethodGet }}, http.StatusMethodNotAllowed},
		{"PUT", `{"from":"100","to":"200"}`, []func(*http.Request){func(r *http.Request) { r.Method = http.MethodPut }}, http.StatusMethodNotAllowed},
		{"no token", `{"from":"100","to":"200"}`, []func(*http.Request){header("Authorization", "")}, http.StatusUnauthorized},
		{"wrong token", `{"from":"100","to":"200"}`, []func(*http.Request){header("Authorization", "Bearer test-token-0123456789abcdeX")}, http.StatusUnauthorized},
		{"token prefix", `{"from":"100","to":"200"}`, []func(*http.Request){header("Authorization", "Bearer "+testToken[:len(testToken)-1])}, http.StatusUnauthorized},
		{"token and more", `{"from":"100","to":"200"}`, []func(*http.Request){header("Authorization", "Bearer "+testToken+"x")}, http.StatusUnauthorized},
		{"empty bearer", `{"from":"100","to":"200"}`, []func(*http.Request){header("Authorization", "Bearer ")}, http.StatusUnauthorized},
		{"basic scheme", `{"from":"100","to":"200"}`, []func(*http.Request){header("Authorization", "Basic "+testToken)}, http.StatusUnauthorized},
		{"token in query", `{"from":"100","to":"200"}`, []func(*http.Request){header("Authorization", ""), func(r *http.Request) { r.URL.RawQuery = "token=" + testToken }}, http.StatusUnauthorized},
		{"text/plain", `from=100&to=200`, []func(*http.Request){header("Content-Type", "text/plain")}, http.StatusUnsupportedMediaType},
		{"no media type", `{"from":"100","to":"200"}`, []func(*http.Request){header("Content-Type", "")}, http.StatusUnsupportedMediaType},
		{"body too large", big, nil, http.StatusRequestEntityTooLarge},
		{"body too large, chunked", big, []func(*http.Request){func(r *http.Request) { r.ContentLength = -1 }}, http.StatusRequestEntityTooLarge},
		{"form too large", "from=100&to=200&x=" + strings.Repeat("1", MaxBodyBytes), []func(*http.Request){header("Content-Type", form)}, http.StatusRequestEntityTooLarge},
		{"not JSON", `from=100&to=200`, nil, http.StatusBadRequest},
		{"empty body", ``, nil, http.StatusBadRequest},
		{"unknown field", `{"from":"100","to":"200","channel":"PJSIP/evil"}`, nil, http.StatusBadRequest},
		{"two objects", `{"from":"100","to":"200"}{"from":"100","to":"200"}`, nil, http.StatusBadRequest},
		{"number not string", `{"from":100,"to":"200"}`, nil, http.StatusBadRequest},
		{"form field twice", `from=100&to=200&to=201`, []func(*http.Request){header("Content-Type", form)}, http.StatusBadRequest},
		{"form extra field", `from=100&to=200&context=default`, []func(*http.Request){header("Content-Type", form)}, http.StatusBadRequest},
		{"form from in query", `to=200`, []func(*http.Request){header("Content-Type", form), func(r *http.Request) { r.URL.RawQuery = "from=100" }}, http.StatusBadRequest},
		{"from missing", `{"to":"200"}`, nil, http.StatusBadRequest},
		{"to missing", `{"from":"100"}`, nil, http.StatusBadRequest},
		{"from CRLF injection", `{"from":"100\r\nAction: Hangup","to":"200"}`, nil, http.StatusBadRequest},
		{"to LF injection", `{"from":"100","to":"200\nChannel: PJSIP/evil"}`, nil, http.StatusBadRequest},
		{"form CRLF injection", `from=100%0D%0AAction%3A+Hangup&to=200`, []func(*http.Request){header("Content-Type", form)}, http.StatusBadRequest},
		{"from dials two channels", `{"from":"100&PJSIP/999","to":"200"}`, nil, http.StatusBadRequest},
		{"from with context", `{"from":"100@default","to":"200"}`, nil, http.StatusBadRequest},
		{"to with priority", `{"from":"100","to":"200,1"}`, nil, http.StatusBadRequest},
		{"to pattern", `{"from":"100","to":"_X."}`, nil, http.StatusBadRequest},
		{"from plus", `{"from":"+100","to":"200"}`, nil, http.StatusBadRequest},
		{"fullwidth digits", `{"from":"１００","to":"200"}`, nil, http.StatusBadRequest},
		{"NUL", `{"from":"100\u0000","to":"200"}`, nil, http.StatusBadRequest},
		{"from overlong", `{"from":"` + strings.Repeat("1", MaxNumberLen+1) + `","to":"200"}`, nil, http.StatusBadRequest},
		{"to overlong", `{"from":"100","to":"+` + strings.Repeat("2", MaxNumberLen+1) + `"}`, nil, http.StatusBadRequest},
		{"from not an extension", `{"from":"1234567","to":"200"}`, nil, http.StatusBadRequest},
		{"to outside allow-list", `{"from":"100","to":"0044123456789"}`, nil, http.StatusForbidden},
		{"to international", `{"from":"100","to":"+44123456789"}`, nil, http.StatusForbidden},
		{"to emergency 112", `{"from":"100","to":"112"}`, nil, http.StatusForbidden},
		{"to emergency 911", `{"from":"100","to":"911"}`, nil, http.StatusForbidden},
		{"to too short", `{"from":"100","to":"20"}`, nil, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, a := post(t, h, tt.body, tt.opts...)
			if w.Code != tt.want || a.Error == "" || a.Status != "" {
				t.Errorf("answer %d %+v, want %d with an error", w.Code, a, tt.want)
			}
			switch tt.want {
			case http.StatusMethodNotAllowed:
				if got := w.Header().Get("Allow"); got != http.MethodPost {
					t.Errorf("Allow %q, want POST", got)
				}
			case http.StatusUnauthorized:
				if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
					t.Errorf("WWW-Authenticate %q, want Bearer", got)
				}
			}
		})
	}
	if n := srv.Requests(""); n != 0 {
		t.Errorf("%d requests reached Asterisk, want none", n)
	}
	if n := srv.Executed("Originate"); n != 0 {
		t.Errorf("Asterisk ran %d Originates, want none", n)
	}
}

// TestAllowList configures other patterns: what they allow is called,
// what they do not is refused before Asterisk.
func TestAllowList(t *testing.T) {
	leakcheck.Check(t)
	srv := newFake(t)
	env := testEnv(srv)
	env[EnvFromPattern] = `10[01]`
	env[EnvToPattern] = `300|200`
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newTestHandler(t, srv, cfg)

	for _, tt := range []struct {
		body string
		want int
	}{
		{`{"from":"100","to":"300"}`, http.StatusAccepted},
		{`{"from":"101","to":"300"}`, http.StatusAccepted},
		{`{"from":"101","to":"+300"}`, http.StatusForbidden},
		{`{"from":"100","to":"200"}`, http.StatusAccepted},
		{`{"from":"100","to":"2000"}`, http.StatusForbidden}, // the pattern matches whole numbers only
		{`{"from":"100","to":"3000"}`, http.StatusForbidden},
		{`{"from":"100","to":"201"}`, http.StatusForbidden},
		{`{"from":"102","to":"200"}`, http.StatusBadRequest},
		{`{"from":"1000","to":"200"}`, http.StatusBadRequest},
	} {
		w, a := post(t, h, tt.body)
		if w.Code != tt.want {
			t.Errorf("%s: answer %d %+v, want %d", tt.body, w.Code, a, tt.want)
		}
	}
	if n := srv.Executed("Originate"); n != 3 {
		t.Errorf("Asterisk ran %d Originates, want 3", n)
	}
}

// TestAsteriskFails makes Asterisk refuse, fail, vanish or hang: the
// function answers 502 or 504, says when the call may have been queued,
// never sends the Originate twice, and leaks neither the manager's
// secret nor the token in its answer or its logs.
func TestAsteriskFails(t *testing.T) {
	errorAnswer := func(*httpamitest.Request) []*rawman.Message {
		return []*rawman.Message{{Fields: []rawman.Field{{Key: "Response", Value: "Error"}, {Key: "Message", Value: "Originate failed"}}}}
	}
	for _, tt := range []struct {
		name         string
		secret       string // the client's secret; "" means the fake's
		timeout      time.Duration
		reqDeadline  time.Duration
		setup        func(srv *httpamitest.Server)
		want         int
		wantError    string
		wantUnknown  bool // outcome unknown
		wantRequests int  // requests Asterisk read
		wantExecuted int  // Originates it ran
	}{
		{
			name:  "Response: Error",
			setup: func(srv *httpamitest.Server) { srv.Handle("Originate", errorAnswer) },
			want:  http.StatusBadGateway, wantError: "asterisk refused the call",
			wantRequests: 1, wantExecuted: 1,
		},
		{
			name:   "wrong secret",
			secret: "leaky-manager-secret",
			setup:  func(*httpamitest.Server) {},
			want:   http.StatusBadGateway, wantError: "asterisk refused the function's credentials",
			wantRequests: 2, // the cold-start nonce, then the challenge's: both 401
		},
		{
			name:  "Asterisk down",
			setup: func(srv *httpamitest.Server) { srv.Down() },
			want:  http.StatusBadGateway, wantError: "asterisk could not be reached",
		},
		{
			name: "HTTP 503",
			setup: func(srv *httpamitest.Server) {
				srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus, Status: 503})
			},
			want: http.StatusBadGateway, wantError: "asterisk failed", wantUnknown: true,
			wantRequests: 1,
		},
		{
			name:  "answer cut after the action ran",
			setup: func(srv *httpamitest.Server) { srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultCut}) },
			want:  http.StatusBadGateway, wantError: "asterisk failed", wantUnknown: true,
			wantRequests: 1, wantExecuted: 1,
		},
		{
			name:        "slow, request deadline",
			reqDeadline: 200 * time.Millisecond,
			setup: func(srv *httpamitest.Server) {
				srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStall, Stall: time.Hour})
			},
			want: http.StatusGatewayTimeout, wantError: "asterisk did not answer in time", wantUnknown: true,
			wantRequests: 1,
		},
		{
			name:    "slow, handler timeout",
			timeout: 200 * time.Millisecond,
			setup: func(srv *httpamitest.Server) {
				srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStall, Stall: time.Hour})
			},
			want: http.StatusGatewayTimeout, wantError: "asterisk did not answer in time", wantUnknown: true,
			wantRequests: 1,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			leakcheck.Check(t)
			srv := newFake(t)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg := Config{Timeout: tt.timeout, Logger: logger}
			if tt.secret != "" {
				c, err := NewClient(strings.Replace(srv.URL, "://", "://hello:"+tt.secret+"@", 1), logger)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Client = c
			}
			h := newTestHandler(t, srv, cfg)
			tt.setup(srv)

			start := time.Now()
			w, a := post(t, h, `{"from":"100","to":"200"}`, func(r *http.Request) {
				if tt.reqDeadline > 0 {
					ctx, cancel := context.WithTimeout(r.Context(), tt.reqDeadline)
					t.Cleanup(cancel)
					*r = *r.WithContext(ctx)
				}
			})
			t.Logf("%d %+v in %v", w.Code, a, time.Since(start))
			if w.Code != tt.want || !strings.HasPrefix(a.Error, tt.wantError) || a.Status != "" {
				t.Errorf("answer %d %+v, want %d with error %q…", w.Code, a, tt.want, tt.wantError)
			}
			if unknown := a.Outcome == "unknown"; unknown != tt.wantUnknown {
				t.Errorf("outcome %q, want unknown: %v", a.Outcome, tt.wantUnknown)
			}
			if tt.wantRequests > 0 && a.ActionID == "" {
				t.Error("no ActionID in the answer of an Originate that was sent")
			}
			if n := srv.Requests(""); n != tt.wantRequests {
				t.Errorf("Asterisk read %d requests, want %d", n, tt.wantRequests)
			}
			if n := srv.Executed("Originate"); n != tt.wantExecuted {
				t.Errorf("Asterisk ran %d Originates, want %d", n, tt.wantExecuted)
			}
			if !strings.Contains(logs.String(), "click-to-call failed") {
				t.Errorf("no failure in the log:\n%s", logs.String())
			}
			for _, secret := range []string{testToken, "world", "leaky-manager-secret"} {
				if strings.Contains(w.Body.String(), secret) || strings.Contains(logs.String(), secret) {
					t.Errorf("the answer or the log holds the secret %q:\n%s\n%s", secret, w.Body.String(), logs.String())
				}
			}
		})
	}
}

// TestNotConfigured: a function deployed without a usable configuration
// refuses every request with 503 and says why in its log only.
func TestNotConfigured(t *testing.T) {
	leakcheck.Check(t)
	srv := newFake(t)
	for _, tt := range []struct {
		name    string
		env     map[string]string
		wantLog string
	}{
		{"no URL", map[string]string{EnvToken: testToken}, EnvURL},
		{"no token", map[string]string{EnvURL: pbx.FakeURL(srv, "auth=digest")}, EnvToken},
		{"short token", map[string]string{EnvURL: pbx.FakeURL(srv, "auth=digest"), EnvToken: "short"}, EnvToken},
		{"cookie auth", map[string]string{EnvURL: pbx.FakeURL(srv, "auth=cookie"), EnvToken: testToken}, "auth=digest"},
		{"bad URL", map[string]string{EnvURL: "http://hello:world@pbx:8088/?colour=blue", EnvToken: testToken}, "colour"},
		{"bad pattern", map[string]string{EnvURL: pbx.FakeURL(srv, ""), EnvToken: testToken, EnvToPattern: "[0-9"}, EnvToPattern},
		{"channel without {from}", map[string]string{EnvURL: pbx.FakeURL(srv, ""), EnvToken: testToken, EnvChannel: "PJSIP/100"}, "{from}"},
		{"context with a comma", map[string]string{EnvURL: pbx.FakeURL(srv, ""), EnvToken: testToken, EnvContext: "test,1"}, "context"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			fn := fromEnv(func(k string) string { return tt.env[k] }, slog.New(slog.NewTextHandler(&logs, nil)))
			for range 2 {
				w, a := post(t, fn, `{"from":"100","to":"200"}`)
				if w.Code != http.StatusServiceUnavailable || a.Error != "click-to-call is not configured" {
					t.Errorf("answer %d %+v, want 503 not configured", w.Code, a)
				}
			}
			if !strings.Contains(logs.String(), tt.wantLog) || strings.Contains(logs.String(), "world") {
				t.Errorf("log without %q, or with the secret:\n%s", tt.wantLog, logs.String())
			}
		})
	}
	if n := srv.Requests(""); n != 0 {
		t.Errorf("%d requests reached Asterisk, want none", n)
	}
}
