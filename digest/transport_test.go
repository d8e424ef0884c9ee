package digest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	pingPath = "/arawman?action=Ping"
	payload  = "action=UserEvent&UserEvent=Test&Body=" // + padding in postBody
)

// startServer serves h until the test ends.
func startServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	return ts
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTransport returns a Transport to ts with the given credentials.
func newTransport(ts *httptest.Server, username, password string) *Transport {
	return &Transport{Username: username, Password: password, Base: ts.Client().Transport}
}

// fetch sends req through rt and reads the answer.
func fetch(rt http.RoundTripper, req *http.Request) (status int, body string, err error) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// do is fetch for a request that must not fail.
func do(t *testing.T, rt http.RoundTripper, req *http.Request) (status int, body string) {
	t.Helper()
	status, body, err := fetch(rt, req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return status, body
}

// get sends a GET of url through rt.
func get(t *testing.T, rt http.RoundTripper, url string) (status int, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, rt, req)
}

// mustGet sends a GET of url through rt and checks that it succeeds.
func mustGet(t *testing.T, rt http.RoundTripper, url string) {
	t.Helper()
	if status, body := get(t, rt, url); status != http.StatusOK || !strings.Contains(body, "Ping: Pong") {
		t.Fatalf("GET %s = %d %q, want 200 Ping: Pong", url, status, body)
	}
}

// countTrips returns how many requests srv receives while f runs.
func countTrips(srv *asteriskServer, f func()) int {
	before := srv.requests()
	f()
	return srv.requests() - before
}

// trackedBody is a request body that records its Close.
type trackedBody struct {
	io.Reader // only Read: http.NewRequest sets no GetBody for it
	once      sync.Once
	closed    chan struct{}
}

func (b *trackedBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// bodyTracker hands out trackedBodies and checks that all get closed.
type bodyTracker struct {
	mu     sync.Mutex
	bodies []*trackedBody
}

func (bt *bodyTracker) body(r io.Reader) *trackedBody {
	b := &trackedBody{Reader: r, closed: make(chan struct{})}
	bt.mu.Lock()
	defer bt.mu.Unlock()
	bt.bodies = append(bt.bodies, b)
	return b
}

// checkClosed checks that every body was closed, waiting for those the
// base transport closes in its own goroutine.
func (bt *bodyTracker) checkClosed(t *testing.T, want int) {
	t.Helper()
	bt.mu.Lock()
	bodies := slices.Clone(bt.bodies)
	bt.mu.Unlock()
	if len(bodies) != want {
		t.Errorf("%d request bodies made, want %d", len(bodies), want)
	}
	for i, b := range bodies {
		select {
		case <-b.closed:
		case <-time.After(5 * time.Second):
			t.Errorf("request body %d of %d never closed", i+1, len(bodies))
		}
	}
}

// postBody is the form body of the test POSTs, long enough to matter.
func postBody(n int) string { return payload + strings.Repeat("x", n) }

// newPost returns a POST of body to url. If rewind, it is made from a
// strings.Reader (GetBody set); else from a reader http.NewRequest does
// not know (GetBody nil, chunked). Every body is tracked.
func newPost(t *testing.T, url, body string, rewind bool, bt *bodyTracker) *http.Request {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	if !rewind {
		r = bt.body(r)
	}
	req, err := http.NewRequest(http.MethodPost, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rewind {
		req.Body = bt.body(req.Body)
		getBody := req.GetBody
		req.GetBody = func() (io.ReadCloser, error) {
			rc, err := getBody()
			return bt.body(rc), err
		}
	}
	return req
}

// TestServerAsAsterisk checks the test server against spec section 3: the
// exact challenge, client nonces, nc replay, previous nonce, nonce age.
func TestServerAsAsterisk(t *testing.T) {
	clock := &fakeClock{}
	srv := &asteriskServer{AcceptClientNonces: true, now: clock.Now}
	send := func(nonce string, nc uint32, password string) (status int, challenge string, stale bool) {
		r := httptest.NewRequest(http.MethodGet, pingPath, nil)
		if nonce != "" {
			c := credentials{alg: algorithms["MD5"], algName: "MD5", username: "hello", password: password,
				realm: "asterisk", nonce: nonce, qop: "auth", nc: nc, cnonce: "c", method: "GET", uri: pingPath}
			r.Header.Set("Authorization", c.header())
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			return w.Code, "", false
		}
		var h []string
		for k, v := range w.Header() { // Asterisk's exact spelling, not Go's canonical one
			if k == "WWW-authenticate" {
				h = v
			}
		}
		if len(h) != 1 || w.Body.String() != unauthorizedPage || w.Header().Get("Content-Type") != "text/html" {
			t.Fatalf("401 header %q, body %q", h, w.Body)
		}
		_, rest, _ := strings.Cut(h[0], `nonce="`)
		challenge, _, _ = strings.Cut(rest, `"`)
		stale = strings.HasSuffix(h[0], ", stale=true")
		want := fmt.Sprintf(`Digest algorithm=MD5, realm="asterisk", nonce="%s", qop="auth", opaque="%s"`, challenge, challenge)
		if stale {
			want += ", stale=true"
		}
		if h[0] != want || len(challenge) != 8 || strings.Trim(challenge, "0123456789abcdef") != "" {
			t.Fatalf("WWW-authenticate: %s, want %s", h[0], want)
		}
		return w.Code, challenge, stale
	}
	check := func(step string, status int, nonce string, stale bool, wantStatus int, wantStale bool) {
		t.Helper()
		if status != wantStatus || stale != wantStale {
			t.Fatalf("%s: %d (nonce %q, stale %v), want %d (stale %v)", step, status, nonce, stale, wantStatus, wantStale)
		}
	}
	status, n1, stale := send("", 0, "")
	check("no Authorization", status, n1, stale, 401, false)
	status, _, stale = send("1234abcd", 1, "world")
	check("client nonce", status, "", stale, 200, false)
	status, _, stale = send("1234abcd", 1, "world")
	check("nc 1 again: the first nc is not stored", status, "", stale, 200, false)
	status, n2, stale := send("1234abcd", 1, "world")
	check("nc replay", status, n2, stale, 401, true)
	status, n, stale := send("1234abcd", 9, "world")
	check("previous nonce", status, n, stale, 401, true)
	if n != n2 {
		t.Errorf("previous nonce: challenge %q, want the current nonce %q", n, n2)
	}
	status, _, stale = send(n2, 1, "world")
	check("rotated nonce", status, n2, stale, 200, false)
	status, n, stale = send(n2, 2, "wrong")
	check("wrong password", status, n, stale, 401, false)
	clock.Advance(62 * time.Second)
	status, _, stale = send(n2, 3, "world")
	check("62 s later", status, n2, stale, 200, false)
	clock.Advance(time.Second)
	status, n, stale = send(n2, 4, "world")
	check("63 s later", status, n, stale, 401, true)
	if got := srv.requests(); got != 9 {
		t.Errorf("server counted %d requests, want 9", got)
	}
}

// TestSequentialRoundTrips checks that a Transport pays the challenge
// once: then every request is one round trip, on one nonce, nc 1, 2, 3 ...
func TestSequentialRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name   string
		accept bool
	}{{"asterisk", true}, {"strict", false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &asteriskServer{AcceptClientNonces: tc.accept}
			ts := startServer(t, srv)
			tr := newTransport(ts, "hello", "world")
			if n := countTrips(srv, func() { mustGet(t, tr, ts.URL+pingPath) }); n != 2 {
				t.Errorf("first request: %d round trips, want 2", n)
			}
			n := countTrips(srv, func() {
				for range 50 {
					mustGet(t, tr, ts.URL+pingPath)
				}
			})
			if n != 50 {
				t.Errorf("50 more requests: %d round trips, want 50", n)
			}
			log := srv.entries()
			if log[0].Params != nil {
				t.Errorf("first request signed with no nonce known: %v", log[0].Params)
			}
			for i, e := range log[1:] {
				if e.Params["nonce"] != log[1].Params["nonce"] || e.Params["nc"] != fmt.Sprintf("%08x", i+1) {
					t.Errorf("signed request %d: nonce %q nc %q, want %q %08x",
						i+1, e.Params["nonce"], e.Params["nc"], log[1].Params["nonce"], i+1)
				}
			}
		})
	}
}

// TestConcurrentRoundTrips sends 1000 requests from 16 goroutines to a
// server that rotates the nonce on any nc out of order: none may fail, and
// each nonce in flight costs one challenge at most.
func TestConcurrentRoundTrips(t *testing.T) {
	const requests, workers = 1000, 16
	tests := []struct {
		name              string
		accept, coldStart bool
		minTrips          int
	}{
		{"asterisk", true, false, requests + 1},
		{"strict", false, false, requests + 1},
		{"asterisk cold start", true, true, requests},
		{"strict cold start", false, true, requests + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &asteriskServer{AcceptClientNonces: tc.accept}
			ts := startServer(t, srv)
			base := ts.Client().Transport.(*http.Transport).Clone()
			base.MaxIdleConnsPerHost = workers
			t.Cleanup(base.CloseIdleConnections)
			tr := &Transport{Username: "hello", Password: "world", Base: base, ColdStart: tc.coldStart}
			var next, failed atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for next.Add(1) <= requests {
						req, _ := http.NewRequest(http.MethodGet, ts.URL+pingPath, nil)
						status, body, err := fetch(tr, req)
						if (err != nil || status != http.StatusOK) && failed.Add(1) <= 3 {
							t.Errorf("GET: %d %q %v, want 200", status, body, err)
						}
					}
				})
			}
			wg.Wait()
			trips, stale, nonces := srv.requests(), 0, map[string]bool{}
			for _, e := range srv.entries() {
				if e.Stale {
					stale++
				}
				if e.Status == http.StatusOK {
					nonces[e.Params["nonce"]] = true
				}
			}
			t.Logf("%d requests, %d goroutines: %d round trips, %d stale, %d nonces",
				requests, workers, trips, stale, len(nonces))
			if n := failed.Load(); n != 0 {
				t.Errorf("%d of %d requests failed", n, requests)
			}
			if limit := requests + requests/20 + workers; trips >= limit {
				t.Errorf("%d round trips, want < %d", trips, limit)
			}
			if trips < tc.minTrips || trips > requests+workers || stale != 0 {
				t.Errorf("%d round trips (%d stale), want %d to %d (one challenge per nonce in flight), none stale",
					trips, stale, tc.minTrips, requests+workers)
			}
		})
	}
}

// TestWrongCredentials checks that wrong credentials cost two requests,
// the second signed, and return the server's 401: never a loop.
func TestWrongCredentials(t *testing.T) {
	srv := &asteriskServer{AcceptClientNonces: true}
	ts := startServer(t, srv)
	good := newTransport(ts, "hello", "world")
	mustGet(t, good, ts.URL+pingPath) // the server has a session, the nonces are warm
	tests := []struct{ name, username, password string }{
		{"wrong password", "hello", "wrong"},
		{"unknown user", "nobody", "world"},
		{"username in another case", "Hello", "world"}, // HA1 uses the configured spelling
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTransport(ts, tc.username, tc.password)
			for i := range 2 {
				var status int
				var body string
				n := countTrips(srv, func() { status, body = get(t, tr, ts.URL+pingPath) })
				if status != http.StatusUnauthorized || !strings.Contains(body, "<title>401 Unauthorized</title>") || n != 2 {
					t.Errorf("request %d: %d %q in %d round trips, want 401 and its page in 2", i+1, status, body, n)
				}
				if last := srv.entries()[srv.requests()-1]; last.Params == nil || last.Stale {
					t.Errorf("request %d: last attempt %+v, want signed, not stale", i+1, last)
				}
			}
		})
	}
	if n := countTrips(srv, func() { mustGet(t, good, ts.URL+pingPath) }); n != 1 {
		t.Errorf("good Transport afterwards: %d round trips, want 1", n)
	}
}

// TestStaleNonce checks that a nonce Asterisk rotates (62 s old, or an nc
// replay) costs one hidden retry, and a session forgotten by a restart
// none with Asterisk.
func TestStaleNonce(t *testing.T) {
	advance := func(d time.Duration) func(*asteriskServer, *fakeClock) {
		return func(_ *asteriskServer, c *fakeClock) { c.Advance(d) }
	}
	raiseNC := func(s *asteriskServer, _ *fakeClock) { s.raiseNC() }
	restart := func(s *asteriskServer, _ *fakeClock) { s.forget() }
	tests := []struct {
		name      string
		accept    bool
		disturb   func(*asteriskServer, *fakeClock)
		wantTrips int
		wantStale bool
	}{
		{"61 s later", true, advance(61 * time.Second), 1, false},
		{"63 s later", true, advance(63 * time.Second), 2, true},
		{"63 s later, strict", false, advance(63 * time.Second), 2, true},
		{"nc replay", true, raiseNC, 2, true},
		{"restart", true, restart, 1, false},
		{"restart, strict", false, restart, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{}
			srv := &asteriskServer{AcceptClientNonces: tc.accept, now: clock.Now}
			ts := startServer(t, srv)
			tr := newTransport(ts, "hello", "world")
			mustGet(t, tr, ts.URL+pingPath)
			mustGet(t, tr, ts.URL+pingPath)
			old := srv.entries()[2].Params["nonce"]
			tc.disturb(srv, clock)
			if n := countTrips(srv, func() { mustGet(t, tr, ts.URL+pingPath) }); n != tc.wantTrips {
				t.Errorf("after the change: %d round trips, want %d", n, tc.wantTrips)
			}
			log := srv.entries()
			if tc.wantTrips == 2 {
				refused, retry := log[len(log)-2], log[len(log)-1]
				if refused.Status != http.StatusUnauthorized || refused.Stale != tc.wantStale || refused.Params["nonce"] != old {
					t.Errorf("first attempt %+v, want 401 stale=%v to nonce %q", refused, tc.wantStale, old)
				}
				if retry.Params["nonce"] == old || retry.Params["nc"] != "00000001" {
					t.Errorf("retry with nonce %q nc %q, want a new nonce, nc 00000001", retry.Params["nonce"], retry.Params["nc"])
				}
			}
			if n := countTrips(srv, func() { mustGet(t, tr, ts.URL+pingPath) }); n != 1 {
				t.Errorf("next request: %d round trips, want 1", n)
			}
		})
	}
}

// TestColdStart checks that ColdStart signs the first request at once with
// a nonce it makes up, and falls back to the challenge where that fails.
func TestColdStart(t *testing.T) {
	tests := []struct {
		name      string
		accept    bool
		realm     string
		wantTrips int
	}{
		{"asterisk", true, "", 1},
		{"strict", false, "", 2},
		{"asterisk, other realm", true, "pbx", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &asteriskServer{AcceptClientNonces: tc.accept}
			ts := startServer(t, srv)
			tr := newTransport(ts, "hello", "world")
			tr.ColdStart, tr.ColdStartRealm = true, tc.realm
			if n := countTrips(srv, func() { mustGet(t, tr, ts.URL+pingPath) }); n != tc.wantTrips {
				t.Errorf("first request: %d round trips, want %d", n, tc.wantTrips)
			}
			p := srv.entries()[0].Params
			if n := p["nonce"]; len(n) != 8 || strings.Trim(n, "0123456789abcdef") != "" || n == "00000000" ||
				p["nc"] != "00000001" || p["realm"] != cmp.Or(tc.realm, "asterisk") {
				t.Errorf("cold start signed with %v, want 8 hex digits, not 0, nc 1, realm asterisk", p)
			}
			if n := countTrips(srv, func() { mustGet(t, tr, ts.URL+pingPath) }); n != 1 {
				t.Errorf("second request: %d round trips, want 1", n)
			}
		})
	}
}

// TestRequestBody checks POST bodies: one that can be rewound is sent again
// after a 401, whole; one that cannot gets the 401 back, sent once. Every
// body the request had is closed, and the Transport is then warm.
func TestRequestBody(t *testing.T) {
	tests := []struct {
		name              string
		warm, stale       bool // a GET first; then the clock past 62 s
		rewind            bool
		wantStatus, trips int
	}{
		{"fresh, rewindable", false, false, true, 200, 2},
		{"warm, rewindable", true, false, true, 200, 1},
		{"stale, rewindable", true, true, true, 200, 2},
		{"fresh, one-shot", false, false, false, 401, 1},
		{"warm, one-shot", true, false, false, 200, 1},
		{"stale, one-shot", true, true, false, 401, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{}
			srv := &asteriskServer{AcceptClientNonces: true, now: clock.Now}
			ts := startServer(t, srv)
			tr := newTransport(ts, "hello", "world")
			if tc.warm {
				mustGet(t, tr, ts.URL+pingPath)
			}
			if tc.stale {
				clock.Advance(63 * time.Second)
			}
			var bt bodyTracker
			body := postBody(4000)
			var status int
			var answer string
			n := countTrips(srv, func() { status, answer = do(t, tr, newPost(t, ts.URL+"/arawman", body, tc.rewind, &bt)) })
			want := fmt.Sprintf("Body-Length: %d\r\n", len(body))
			if tc.wantStatus == 401 {
				want = "<title>401 Unauthorized</title>"
			}
			if status != tc.wantStatus || n != tc.trips || !strings.Contains(answer, want) {
				t.Errorf("POST: %d %q in %d round trips, want %d with %q in %d", status, answer, n, tc.wantStatus, want, tc.trips)
			}
			log := srv.entries()
			for i, e := range log[len(log)-n:] {
				if e.Method != http.MethodPost || e.Body != body {
					t.Errorf("request %d of %d: server read %s with %d bytes, want POST with %d", i+1, n, e.Method, len(e.Body), len(body))
				}
			}
			bt.checkClosed(t, tc.trips)

			var bt2 bodyTracker
			n = countTrips(srv, func() { status, answer = do(t, tr, newPost(t, ts.URL+"/arawman", body, tc.rewind, &bt2)) })
			if status != http.StatusOK || n != 1 {
				t.Errorf("next POST: %d %q in %d round trips, want 200 in 1", status, answer, n)
			}
			bt2.checkClosed(t, 1)
		})
	}
}

// errReader is a body whose Read fails.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read failed") }

// TestRequestBodyClosedOnEarlyReturn checks that the body is closed on the
// paths where the Transport gives up before the base transport has it all.
func TestRequestBodyClosedOnEarlyReturn(t *testing.T) {
	t.Run("GetBody fails", func(t *testing.T) {
		srv := &asteriskServer{AcceptClientNonces: true}
		ts := startServer(t, srv)
		tr := newTransport(ts, "hello", "world")
		var bt bodyTracker
		req := newPost(t, ts.URL+"/arawman", postBody(10), true, &bt)
		req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("no second copy") }
		var status int
		n := countTrips(srv, func() { status, _ = do(t, tr, req) })
		if status != http.StatusUnauthorized || n != 1 {
			t.Errorf("POST: %d in %d round trips, want 401 in 1", status, n)
		}
		bt.checkClosed(t, 1)
	})
	t.Run("auth-int body read fails", func(t *testing.T) {
		srv := &asteriskServer{AcceptClientNonces: true, QOP: "auth-int"}
		ts := startServer(t, srv)
		tr := newTransport(ts, "hello", "world")
		mustGet(t, tr, ts.URL+pingPath)
		var bt bodyTracker
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/arawman", bt.body(errReader{}))
		if err != nil {
			t.Fatal(err)
		}
		n := countTrips(srv, func() { _, _, err = fetch(tr, req) })
		if err == nil || !strings.Contains(err.Error(), "read failed") || n != 0 {
			t.Errorf("POST: error %v after %d round trips, want read failed after 0", err, n)
		}
		bt.checkClosed(t, 1)
	})
}

// TestRequestNotModified checks that RoundTrip leaves the caller's request
// as it was, whichever path it takes.
func TestRequestNotModified(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*testing.T, *Transport, *fakeClock, string)
		trips int
	}{
		{"fresh", func(*testing.T, *Transport, *fakeClock, string) {}, 2},
		{"warm", func(t *testing.T, tr *Transport, _ *fakeClock, url string) { mustGet(t, tr, url) }, 1},
		{"stale", func(t *testing.T, tr *Transport, c *fakeClock, url string) {
			mustGet(t, tr, url)
			c.Advance(63 * time.Second)
		}, 2},
		{"cold start", func(_ *testing.T, tr *Transport, _ *fakeClock, _ string) { tr.ColdStart = true }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{}
			srv := &asteriskServer{AcceptClientNonces: true, now: clock.Now}
			ts := startServer(t, srv)
			tr := newTransport(ts, "hello", "world")
			tc.setup(t, tr, clock, ts.URL+pingPath)
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/arawman", strings.NewReader(postBody(100)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Request-Id", "42")
			header, url, length := req.Header.Clone(), req.URL.String(), req.ContentLength
			var status int
			if n := countTrips(srv, func() { status, _ = do(t, tr, req) }); status != http.StatusOK || n != tc.trips {
				t.Fatalf("POST: %d in %d round trips, want 200 in %d", status, n, tc.trips)
			}
			if !reflect.DeepEqual(req.Header, header) || req.URL.String() != url || req.ContentLength != length ||
				req.Method != http.MethodPost || req.GetBody == nil {
				t.Errorf("request after RoundTrip: %s %s %d %v, want %s %s %d %v",
					req.Method, req.URL, req.ContentLength, req.Header, http.MethodPost, url, length, header)
			}
		})
	}
}

// TestAlgorithmChoice checks which challenge the Transport answers, and
// that the test server, hashing on its own, accepts the answer.
func TestAlgorithmChoice(t *testing.T) {
	tests := []struct {
		name       string
		algorithms []string
		split      bool
		qop        string
		userhash   bool
		wantAlg    string
	}{
		{"MD5, as Asterisk", nil, false, "", false, "MD5"},
		{"MD5 and SHA-256 in one header", []string{"MD5", "SHA-256"}, false, "", false, "SHA-256"},
		{"MD5 and SHA-256 on two lines", []string{"MD5", "SHA-256"}, true, "", false, "SHA-256"},
		{"SHA-256 and MD5 on two lines", []string{"SHA-256", "MD5"}, true, "", false, "SHA-256"},
		{"auth-int only", nil, false, "auth-int", false, "MD5"},
		{"auth-int only, SHA-256", []string{"SHA-256"}, false, "auth-int", false, "SHA-256"},
		{"userhash", nil, false, "", true, "MD5"},
		{"userhash, SHA-256 and MD5", []string{"MD5", "SHA-256"}, false, "", true, "SHA-256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &asteriskServer{AcceptClientNonces: true, Algorithms: tc.algorithms,
				SplitChallenges: tc.split, QOP: tc.qop, UserHash: tc.userhash}
			ts := startServer(t, srv)
			tr := newTransport(ts, "hello", "world")
			var bt bodyTracker
			for i, wantTrips := range []int{2, 1} {
				body := postBody(100 * i) // a body of its own each: auth-int must hash it
				var status int
				n := countTrips(srv, func() { status, _ = do(t, tr, newPost(t, ts.URL+"/arawman", body, true, &bt)) })
				if status != http.StatusOK || n != wantTrips {
					t.Fatalf("POST %d: %d in %d round trips, want 200 in %d", i+1, status, n, wantTrips)
				}
			}
			log := srv.entries()
			p := log[len(log)-1].Params
			wantUser := "hello"
			if tc.userhash {
				wantUser = hexHash(tc.wantAlg, "hello", "asterisk")
			}
			if p["algorithm"] != tc.wantAlg || p["qop"] != cmp.Or(tc.qop, "auth") || p["username"] != wantUser {
				t.Errorf("answered algorithm=%s qop=%s username=%s, want %s %s %s",
					p["algorithm"], p["qop"], p["username"], tc.wantAlg, cmp.Or(tc.qop, "auth"), wantUser)
			}
			bt.checkClosed(t, 3)
		})
	}
}

// TestNonDigest401 checks that a 401 the Transport cannot answer comes back
// as is, after one request.
func TestNonDigest401(t *testing.T) {
	tests := []struct {
		name   string
		header []string
	}{
		{"Basic", []string{`Basic realm="asterisk"`}},
		{"no challenge", nil},
		{"Digest without nonce", []string{`Digest realm="asterisk", qop="auth"`}},
		{"Digest without realm", []string{`Digest nonce="1234abcd", qop="auth"`}},
		{"unterminated quote", []string{`Digest realm="asterisk", nonce="1234abcd`}},
		{"unsupported algorithm", []string{`Digest algorithm=SHA-1, realm="asterisk", nonce="1234abcd"`}},
		{"only auth-conf", []string{`Digest realm="asterisk", nonce="1234abcd", qop="auth-conf"`}},
		{"garbage", []string{`Digest ==,,"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var count atomic.Int64
			ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				count.Add(1)
				io.Copy(io.Discard, r.Body)
				w.Header()["Www-Authenticate"] = tc.header
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, "denied\n")
			}))
			tr := newTransport(ts, "hello", "world")
			var bt bodyTracker
			resp, err := tr.RoundTrip(newPost(t, ts.URL+"/arawman", postBody(10), true, &bt))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusUnauthorized || string(body) != "denied\n" || err != nil || count.Load() != 1 {
				t.Errorf("POST: %d %q (%v) after %d requests, want 401 %q after 1", resp.StatusCode, body, err, count.Load(), "denied\n")
			}
			if got := resp.Header.Values("Www-Authenticate"); !slices.Equal(got, tc.header) {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.header)
			}
			bt.checkClosed(t, 1)
		})
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestErrorsHidePassword checks that no error holds the password, its HA1
// hash or an Authorization header.
func TestErrorsHidePassword(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := &asteriskServer{AcceptClientNonces: true}
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("action") == "WaitEvent" && r.Header.Get("Authorization") != "" {
			arrived <- struct{}{}
			<-r.Context().Done() // until the client gives up
			return
		}
		srv.ServeHTTP(w, r)
	}))
	failSigned := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") == "" {
			return ts.Client().Transport.RoundTrip(r)
		}
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("dial tcp 192.0.2.1:8088: connect: connection refused")
	})
	tests := []struct {
		name   string
		base   http.RoundTripper
		url    string
		cancel string // "before" or "during" the signed request
		wantIs error
	}{
		{"base fails", failSigned, ts.URL + pingPath, "", nil},
		{"base fails, password in URL", failSigned, strings.Replace(ts.URL, "//", "//hello:world@", 1) + pingPath, "", nil},
		{"canceled before", nil, ts.URL + pingPath, "before", context.Canceled},
		{"canceled while waiting", nil, ts.URL + "/arawman?action=WaitEvent", "during", context.Canceled},
	}
	ha1 := hexHash("MD5", "hello", "asterisk", "world")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transport{Username: "hello", Password: "world", Base: cmp.Or(tc.base, ts.Client().Transport)}
			if tc.base == nil {
				mustGet(t, tr, ts.URL+pingPath) // a nonce to sign with at once
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			switch tc.cancel {
			case "before":
				cancel()
			case "during":
				go func() {
					select {
					case <-arrived:
						cancel()
					case <-ctx.Done():
					}
				}()
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tr.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s succeeded, want an error", tc.url)
			}
			msg := err.Error()
			for _, secret := range []string{"world", ha1, "Digest", "response="} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q holds %q", msg, secret)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v, want one that is %v", err, tc.wantIs)
			}
		})
	}
}

// BenchmarkRoundTrip measures a warm Transport against an in-process
// server that checks every digest, as Asterisk does.
func BenchmarkRoundTrip(b *testing.B) {
	srv := &asteriskServer{AcceptClientNonces: true, NoLog: true, now: new(fakeClock).Now}
	ts := startServer(b, srv)
	benchGet(b, &http.Client{Transport: newTransport(ts, "hello", "world")}, ts.URL+pingPath)
}

// BenchmarkRoundTripPlain is the baseline: a plain http.Transport to the
// same server with the digest check off.
func BenchmarkRoundTripPlain(b *testing.B) {
	srv := &asteriskServer{NoAuth: true, NoLog: true}
	ts := startServer(b, srv)
	benchGet(b, ts.Client(), ts.URL+pingPath)
}

// BenchmarkRoundTripChallenged is what curl --digest does: every request
// pays the challenge first (a fresh Transport per request), two round
// trips each, against the same server as BenchmarkRoundTrip.
func BenchmarkRoundTripChallenged(b *testing.B) {
	srv := &asteriskServer{AcceptClientNonces: true, NoLog: true, now: new(fakeClock).Now}
	ts := startServer(b, srv)
	base := ts.Client().Transport
	b.ReportAllocs()
	req, err := http.NewRequest(http.MethodGet, ts.URL+pingPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		tr := &Transport{Username: "hello", Password: "world", Base: base}
		if status, _, err := fetch(tr, req); err != nil || status != http.StatusOK {
			b.Fatal(status, err)
		}
	}
}

// benchGet warms c up, then measures GETs of url.
func benchGet(b *testing.B, c *http.Client, url string) {
	get := func() {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %s", url, resp.Status)
		}
	}
	get()
	b.ReportAllocs()
	for b.Loop() {
		get()
	}
}

// BenchmarkRoundTripInMemory isolates the Transport's own cost: a warm
// Transport over a base that answers 200 at once, without network or
// server (compare BenchmarkRoundTrip with BenchmarkRoundTripPlain for the
// cost including the server's check).
func BenchmarkRoundTripInMemory(b *testing.B) {
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})
	tr := &Transport{Username: "hello", Password: "world", Base: base, ColdStart: true}
	req, err := http.NewRequest(http.MethodGet, "http://pbx:8088"+pingPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := tr.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp, err)
		}
	}
}
