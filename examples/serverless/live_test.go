package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/livetest"
	"github.com/amihttp/amihttp/poller"
)

// liveSlowEnv, when set, lets TestLiveRoundTripsStaleNonce run: it waits
// over a minute for Asterisk to find the nonce stale.
const liveSlowEnv = "AMIHTTP_TEST_SLOW"

// liveCallerPrefix starts the name of every channel the live tests'
// calls make: from is 100, so the caller's channel is Local/100@test.
const liveCallerPrefix = "Local/100@test-"

// liveBody is the request of every live invocation. With the default
// channel and context, Asterisk calls Local/100@test, whose ;2 half runs
// exten 100 of context test (Answer, UserEvent, Wait(2), Hangup), and
// sends the ;1 half to exten 100 of context test too: both halves hang
// up by themselves about 2 s after the call is placed.
const liveBody = `{"from":"100","to":"100"}`

// countingProxy is a reverse proxy in front of the live Asterisk that
// counts the HTTP requests it forwards, everything included (the
// Authorization header of digest auth): what it counts is what reached
// Asterisk.
type countingProxy struct {
	ts *httptest.Server

	mu    sync.Mutex
	paths map[string]int // requests forwarded, by path
	log   []string       // "POST /arawman 200" per request, in order
}

// newCountingProxy starts a countingProxy to base (scheme and host),
// closed when t ends.
func newCountingProxy(t *testing.T, base string) *countingProxy {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	p := &countingProxy{paths: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.log = append(p.log, fmt.Sprintf("%s %s %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode))
			return nil
		},
	}
	p.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.paths[r.URL.Path]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		p.ts.Close()
		transport.CloseIdleConnections()
	})
	return p
}

// snapshot returns how many requests the proxy forwarded in all, and its
// log of their answers.
func (p *countingProxy) snapshot() (int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.paths {
		n += c
	}
	return n, append([]string(nil), p.log...)
}

// liveRig is a click-to-call function deployed against the live
// Asterisk through a countingProxy, and a poller, on a client of its own
// that bypasses the proxy, that watches the calls.
type liveRig struct {
	fn    http.HandlerFunc
	proxy *countingProxy
	p     *poller.Poller
	logs  *bytes.Buffer // the function's log
	pass  string        // the manager's secret, which no log may hold
}

// newLiveRig returns the rig for the live Asterisk of AMIHTTP_TEST_URL,
// skipping t without it. The function is cold: built from its
// environment (auth=digest, coldstart implied) at its first invocation,
// as ClickToCall is. If t fails, its calls are hung up when it ends.
func newLiveRig(t *testing.T, ctx context.Context) *liveRig {
	t.Helper()
	tg := livetest.Get(t)
	leakcheck.Check(t)

	pc, err := httpami.New(httpami.Config{URL: tg.Base + "/", Username: tg.Username, Secret: tg.Password, Auth: httpami.Digest})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pc.Close(cctx)
	})
	t.Cleanup(func() {
		// The calls end by themselves within seconds; a failed test may
		// not have waited for that.
		if t.Failed() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := pc.Hangup(cctx, httpami.Hangup{Channel: "/^" + strings.ReplaceAll(liveCallerPrefix, "/", `\/`) + "/"})
			t.Logf("hanging up the test's calls: %v", err)
		}
	})
	if chans, _, err := pc.CoreShowChannels(ctx); err != nil {
		t.Fatal(err)
	} else if len(chans) != 0 {
		t.Logf("%d channel(s) up before the test: %v", len(chans), chanNames(chans))
	}
	p, err := poller.New(pc, poller.WithEventMask("call"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })

	proxy := newCountingProxy(t, tg.Base)
	u, err := url.Parse(proxy.ts.URL + "/?auth=digest")
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(tg.Username, tg.Password)
	// The other settings are the defaults: channel Local/{from}@test,
	// context test.
	env := map[string]string{
		EnvURL:       u.String(),
		EnvToken:     testToken,
		EnvToPattern: "100", // the allow-list: the one destination the tests call
	}
	logs := new(bytes.Buffer)
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, logs}, nil))
	return &liveRig{
		fn:    fromEnv(func(k string) string { return env[k] }, logger),
		proxy: proxy,
		p:     p,
		logs:  logs,
		pass:  tg.Password,
	}
}

// lockedWriter is an io.Writer that writes to w under mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

// Write writes b to the buffer under the lock.
func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// chanNames returns the names of chans.
func chanNames(chans []httpami.Channel) []string {
	names := make([]string, len(chans))
	for i, c := range chans {
		names[i] = c.Channel
	}
	return names
}

// invoke runs one invocation of the function, which must answer 202,
// and returns the Originate's ActionID and the requests that reached
// Asterisk meanwhile, as "method path status".
func (r *liveRig) invoke(t *testing.T, name string) (actionID string, requests []string) {
	t.Helper()
	before, logBefore := r.proxy.snapshot()
	start := time.Now()
	w, a := post(t, r.fn, liveBody)
	took := time.Since(start)
	if w.Code != http.StatusAccepted || a.Status != "queued" || a.ActionID == "" {
		t.Fatalf("%s: answer %d %+v, want 202 queued with an ActionID", name, w.Code, a)
	}
	after, log := r.proxy.snapshot()
	requests = log[len(logBefore):]
	if n := after - before; n != len(requests) {
		t.Errorf("%s: %d requests forwarded, %d answered", name, n, len(requests))
	}
	t.Logf("%s: 202 in %v, actionId %s, requests to Asterisk: %q", name, took.Round(time.Millisecond), a.ActionID, requests)
	return a.ActionID, requests
}

// awaitCalls checks that each Originate of actionIDs placed its call
// (an OriginateResponse with Response Success for the caller's channel)
// and waits until both halves of each call's Local channel have hung up.
func (r *liveRig) awaitCalls(t *testing.T, ctx context.Context, actionIDs []string) {
	t.Helper()
	start := time.Now()
	up := map[string]bool{} // the calls' channels not hung up yet
	for _, id := range actionIDs {
		ev, err := r.p.Await(ctx, id, "OriginateResponse")
		if err != nil {
			t.Fatalf("OriginateResponse of %s: %v", id, err)
		}
		ch := ev.Get("Channel")
		if ev.Get("Response") != "Success" || !strings.HasPrefix(ch, liveCallerPrefix) || !strings.HasSuffix(ch, ";1") {
			t.Errorf("OriginateResponse of %s:\n%s\nwant Response Success, Channel %s…;1", id, ev, liveCallerPrefix)
			continue
		}
		base := strings.TrimSuffix(ch, ";1")
		up[base+";1"], up[base+";2"] = true, true
	}
	for len(up) > 0 {
		select {
		case ev, ok := <-r.p.Events():
			if !ok {
				t.Fatalf("the poller stopped: %v", r.p.Err())
			}
			if ev.Gap != nil {
				t.Fatalf("events may be missing: %v", ev.Gap)
			}
			if ev.Name() == "Hangup" {
				delete(up, ev.Message.Get("Channel"))
			}
		case <-ctx.Done():
			t.Fatalf("channels still up: %v (%v)", up, ctx.Err())
		}
	}
	t.Logf("%d calls placed (OriginateResponse Success) and hung up, %v after the last invocation", len(actionIDs), time.Since(start).Round(time.Millisecond))
}

// checkLogs checks that the function logged every call queued and never
// the manager's secret or the token.
func (r *liveRig) checkLogs(t *testing.T, calls int) {
	t.Helper()
	logs := r.logs.String()
	if n := strings.Count(logs, "click-to-call queued"); n != calls {
		t.Errorf("the function logged %d calls queued, want %d:\n%s", n, calls, logs)
	}
	for _, secret := range []string{r.pass, testToken} {
		if strings.Contains(logs, secret) {
			t.Errorf("the function's log holds a secret:\n%s", logs)
		}
	}
}

// TestLiveRoundTrips checks the README's figure against the real
// Asterisk of AMIHTTP_TEST_URL (skipped without it): with digest auth and
// coldstart, the cold invocation of the function costs exactly one HTTP
// request to Asterisk, and so does each warm one, a POST to /arawman
// answered 200. A counting proxy between the function and Asterisk
// counts them. Each Originate really placed a call, which hung up before
// the test ends.
func TestLiveRoundTrips(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r := newLiveRig(t, ctx)

	var ids []string
	for i, name := range []string{"cold", "warm", "warm"} {
		if i > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		id, requests := r.invoke(t, name)
		ids = append(ids, id)
		if len(requests) != 1 || requests[0] != "POST /arawman 200" {
			t.Errorf("%s invocation: requests to Asterisk %q, want exactly 1: [\"POST /arawman 200\"]", name, requests)
		}
	}
	r.awaitCalls(t, ctx, ids)
	r.checkLogs(t, len(ids))
}

// TestLiveRoundTripsStaleNonce checks the README's figure for the
// invocation that finds its digest nonce stale, against the real
// Asterisk, which takes over a minute: it runs only with
// AMIHTTP_TEST_SLOW set. Invocations at 0 s (cold) and 40 s (which keeps
// the session alive) cost 1 request, the one at 65 s, past the nonce's
// 62 s, costs 2 (a 401 with stale=true, then the request signed with the
// new nonce), and the next 1 again.
func TestLiveRoundTripsStaleNonce(t *testing.T) {
	if os.Getenv(liveSlowEnv) == "" {
		t.Skip(liveSlowEnv + " is not set: this test lasts over a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := newLiveRig(t, ctx)

	start := time.Now()
	var ids []string
	for _, step := range []struct {
		name string
		at   time.Duration // since the cold invocation
		want []string
	}{
		{"cold", 0, []string{"POST /arawman 200"}},
		{"warm at 40 s", 40 * time.Second, []string{"POST /arawman 200"}},
		{"warm at 65 s: stale nonce", 65 * time.Second, []string{"POST /arawman 401", "POST /arawman 200"}},
		{"warm at 66 s", 66 * time.Second, []string{"POST /arawman 200"}},
	} {
		time.Sleep(time.Until(start.Add(step.at)))
		id, requests := r.invoke(t, step.name)
		ids = append(ids, id)
		if fmt.Sprint(requests) != fmt.Sprint(step.want) {
			t.Errorf("%s: requests to Asterisk %q, want %q", step.name, requests, step.want)
		}
	}
	r.awaitCalls(t, ctx, ids)
	r.checkLogs(t, len(ids))
}
