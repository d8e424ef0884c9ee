package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/examples/internal/pbx"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/livetest"
	"github.com/amihttp/amihttp/internal/syncbuf"
)

// testToken is the originate token of the tests' backends.
const testToken = "test-token-0123456789"

// A harness is a backend on a fake Asterisk, served by httptest.
type harness struct {
	srv  *httpamitest.Server
	b    *backend
	ts   *httptest.Server
	logs *syncbuf.Buffer // everything logged, debug lines included
}

// testLogger returns a logger of every level into logs, which the test
// prints if it fails.
func testLogger(t *testing.T, logs *syncbuf.Buffer) *slog.Logger {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// assertNoSecret checks that logs hold neither the token nor the fake's
// AMI secret.
func assertNoSecret(t *testing.T, logs string, token string) {
	t.Helper()
	require.NotEmpty(t, logs)
	assert.NotContains(t, logs, token, "the token in the logs")
	assert.NotContains(t, logs, "world", "the AMI secret in the logs")
}

// testEnv is an environment holding only the test token.
func testEnv(key string) string {
	if key == envToken {
		return testToken
	}
	return ""
}

// newHarness starts a fake Asterisk, a backend with the default
// settings (changed by mod, if not nil) and an httptest server for it,
// configured by the setup functions before it starts; all of them are
// closed when the test ends, event streams first.
func newHarness(t *testing.T, mod func(*config), setup ...func(*httptest.Server)) *harness {
	t.Helper()
	srv := httpamitest.NewServer()
	t.Cleanup(srv.Close)
	h := startBackend(t, pbx.FakeURL(srv, ""), mod, setup...)
	h.srv = srv
	return h
}

// startBackend starts a backend on the Asterisk of the client URL u, as
// newHarness does, with no fake to drive.
func startBackend(t *testing.T, u string, mod func(*config), setup ...func(*httptest.Server)) *harness {
	t.Helper()
	cfg, err := parseConfig(nil, testEnv)
	require.NoError(t, err)
	if mod != nil {
		mod(&cfg)
	}
	logs := &syncbuf.Buffer{}
	logger := testLogger(t, logs)
	c, err := dial(t.Context(), u, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	b, err := newBackend(t.Context(), c, cfg, logger)
	require.NoError(t, err)
	ts := httptest.NewUnstartedServer(b.handler())
	for _, f := range setup {
		f(ts)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(b.Close) // before ts.Close, which waits for the streams
	return &harness{b: b, ts: ts, logs: logs}
}

// newClient returns a logged-in Client of srv, closed when the test
// ends.
func newClient(t *testing.T, srv *httpamitest.Server, logger *slog.Logger) *httpami.Client {
	t.Helper()
	c, err := dial(t.Context(), pbx.FakeURL(srv, ""), logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// originate posts form to /originate with the test token as a Bearer
// token, after mod (if not nil) has changed the request; it returns
// the status and the JSON answer.
func (h *harness) originate(t *testing.T, form url.Values, mod func(*http.Request)) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+"/originate", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+testToken)
	if mod != nil {
		mod(req)
	}
	resp, err := h.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var answer map[string]string
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") == "application/json" {
		require.NoError(t, json.Unmarshal(body, &answer), "answer %q", body)
	}
	return resp.StatusCode, answer
}

// TestChannelAppearsAndDisappears is the acceptance test: a call placed
// through /originate shows on the page's event stream as its channels
// appear, and leaves it when they hang up.
func TestChannelAppearsAndDisappears(t *testing.T) {
	h := newHarness(t, nil)
	callComesAndGoes(t, h)
	assert.Equal(t, 1, h.srv.Executed("Originate"))
}

// TestLiveChannelAppearsAndDisappears is the acceptance test against the
// real Asterisk of AMIHTTP_TEST_URL (skipped without it), which must have
// the reference dialplan of context test and no call up.
func TestLiveChannelAppearsAndDisappears(t *testing.T) {
	tg := livetest.Get(t)
	h := startBackend(t, tg.URL(""), nil)
	callComesAndGoes(t, h)
	assertNoSecret(t, h.logs.String(), testToken)
}

// callComesAndGoes places a call through h's /originate and checks that
// the event stream shows both halves of its Local channel appear (and the
// page list them), then leave, and the call's OriginateResponse.
func callComesAndGoes(t *testing.T, h *harness) {
	t.Helper()
	s := openStream(t, h.ts.Client(), h.ts.URL)
	snap := decodeSnapshot(t, s.next(t, 5*time.Second))
	assert.Equal(t, "connect", snap.Reason)
	assert.Empty(t, snap.Channels)

	// Local/200@test rings the caller, whose ;2 half waits 30 s; once
	// answered, the ;1 half runs exten 100: Answer, UserEvent, Wait(2),
	// Hangup, which ends the call.
	status, answer := h.originate(t, url.Values{"from": {"200"}, "to": {"100"}}, nil)
	require.Equal(t, http.StatusAccepted, status, "answer %v", answer)
	actionID := answer["actionID"]
	require.NotEmpty(t, actionID)

	v := view{}
	added, removed := map[string]bool{}, map[string]bool{}
	var result OriginateResult
	pageChecked := false
	s.until(t, 10*time.Second, func(ev sseEvent) bool {
		v.apply(t, ev)
		switch ev.Name {
		case "channel":
			d := decodeDelta(t, ev)
			switch d.Op {
			case "add":
				added[d.Channel.Name] = true
			case "remove":
				removed[d.Channel.Name] = true
			}
		case "originate":
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &result))
		}
		if len(added) == 2 && len(removed) == 0 && !pageChecked {
			// Both halves live: the page, rendered now, lists them.
			page := get(t, h.ts, "/")
			for name := range added {
				assert.Contains(t, page, name)
			}
			pageChecked = true
		}
		return len(removed) == 2 && result.ActionID != ""
	})
	assert.Len(t, added, 2)
	for name := range added {
		assert.Regexp(t, `^Local/200@test-[0-9a-f]{8};[12]$`, name)
		assert.True(t, removed[name], "%s appeared but never left", name)
	}
	assert.Empty(t, v, "channels left on the page")
	assert.Equal(t, OriginateResult{ActionID: actionID, Response: "Success", Channel: result.Channel, Reason: "4"}, result)
	assert.True(t, pageChecked)
}

// get returns the body of a GET of path on ts, which must answer 200.
func get(t *testing.T, ts *httptest.Server, path string) string {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
	return string(body)
}

// TestOriginateRefused shows that /originate refuses, before Asterisk
// hears of it, every request but a same-origin POST of a form with the
// token and allowed extensions of the strict charset.
func TestOriginateRefused(t *testing.T) {
	h := newHarness(t, nil)
	ok := url.Values{"from": {"200"}, "to": {"100"}}
	with := func(key, value string) url.Values {
		f := url.Values{"from": {"200"}, "to": {"100"}}
		f.Set(key, value)
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		mod    func(*http.Request)
		status int
	}{
		{"GET", ok, func(r *http.Request) { r.Method = http.MethodGet }, http.StatusMethodNotAllowed},
		{"PUT", ok, func(r *http.Request) { r.Method = http.MethodPut }, http.StatusMethodNotAllowed},
		{"no token", ok, func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized},
		{"wrong token", ok, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testToken+"x") }, http.StatusUnauthorized},
		{"token prefix", ok, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testToken[:8]) }, http.StatusUnauthorized},
		{"basic auth", ok, func(r *http.Request) { r.SetBasicAuth("x", testToken) }, http.StatusUnauthorized},
		{"wrong form token", with("token", "nope"), func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized},
		{"token in the URL", ok, func(r *http.Request) {
			r.Header.Del("Authorization")
			r.URL.RawQuery = "token=" + testToken
		}, http.StatusUnauthorized},
		{"destination not allowed", with("to", "999"), nil, http.StatusForbidden},
		{"caller not allowed", with("from", "999"), nil, http.StatusForbidden},
		{"allowed as a prefix only", with("to", "1000"), nil, http.StatusForbidden},
		{"international", with("to", "0044123456789"), nil, http.StatusForbidden},
		{"CRLF injection", with("to", "100\r\nAction: Hangup"), nil, http.StatusBadRequest},
		{"LF in from", with("from", "200\nChannel: Local/999@test"), nil, http.StatusBadRequest},
		{"other context", with("to", "100@default"), nil, http.StatusBadRequest},
		{"dial options", with("from", "200/n"), nil, http.StatusBadRequest},
		{"dial string", with("from", "200&Local/999@test"), nil, http.StatusBadRequest},
		{"variable", with("to", "${EXTEN}"), nil, http.StatusBadRequest},
		{"empty", with("to", ""), nil, http.StatusBadRequest},
		{"too long", with("to", strings.Repeat("1", 33)), nil, http.StatusBadRequest},
		{"cross-origin Origin", ok, func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, http.StatusForbidden},
		{"cross-site fetch", ok, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"DNS rebinding", ok, func(r *http.Request) { r.Host = "evil.example" }, http.StatusMisdirectedRequest},
		{"JSON body", ok, func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, http.StatusUnsupportedMediaType},
		{"no content type", ok, func(r *http.Request) { r.Header.Del("Content-Type") }, http.StatusUnsupportedMediaType},
		{"huge form", with("pad", strings.Repeat("x", 8<<10)), nil, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, answer := h.originate(t, tt.form, tt.mod)
			assert.Equal(t, tt.status, status, "answer %v", answer)
			if tt.status != http.StatusMethodNotAllowed {
				assert.NotEmpty(t, answer["error"])
			}
			assert.NotContains(t, fmt.Sprint(answer), testToken)
		})
	}
	assert.Equal(t, 0, h.srv.Executed("Originate"), "a refused request reached Asterisk")

	// The same request with everything right is placed, with the token
	// in the form as a page without script would send it.
	status, answer := h.originate(t, with("token", testToken), func(r *http.Request) {
		r.Header.Del("Authorization")
		r.Header.Set("Origin", h.ts.URL)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	})
	assert.Equal(t, http.StatusAccepted, status, "answer %v", answer)
	assert.Equal(t, 1, h.srv.Executed("Originate"))
	assertNoSecret(t, h.logs.String(), testToken)
}

// TestRateLimit shows that even with the token, calls are placed at
// the limiter's pace.
func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *config) { c.Burst, c.Refill = 2, time.Hour })
	form := url.Values{"from": {"300"}, "to": {"300"}}
	for range 2 {
		status, answer := h.originate(t, form, nil)
		require.Equal(t, http.StatusAccepted, status, "answer %v", answer)
	}
	status, _ := h.originate(t, form, nil)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, 2, h.srv.Executed("Originate"))
}

// TestEscaping shows that channel data holding markup reaches the page
// only escaped: as JSON with \u003c on the stream (and the script
// renders it with textContent), as &lt; in the template; and that the
// security headers are set.
func TestEscaping(t *testing.T) {
	h := newHarness(t, nil)
	s := openStream(t, h.ts.Client(), h.ts.URL)
	decodeSnapshot(t, s.next(t, 5*time.Second))

	const (
		evilName   = `Local/<script>alert(1)</script>@test-00000001;1`
		evilCaller = `"><img src=x onerror=alert(2)>&amp;`
	)
	m := &rawman.Message{}
	for _, kv := range [][2]string{
		{"Event", "Newchannel"}, {"Privilege", "call,all"},
		{"Channel", evilName}, {"ChannelState", "4"}, {"ChannelStateDesc", "Ring"},
		{"CallerIDNum", "100"}, {"CallerIDName", evilCaller},
		{"ConnectedLineNum", "<unknown>"}, {"ConnectedLineName", "<unknown>"},
		{"Language", "en"}, {"AccountCode", ""}, {"Context", "test"}, {"Exten", "100"}, {"Priority", "1"},
		{"Uniqueid", "1796035311.99"}, {"Linkedid", "1796035311.99"},
	} {
		m.Add(kv[0], kv[1])
	}
	require.NoError(t, h.srv.Emit(m))

	var ev sseEvent
	s.until(t, 5*time.Second, func(e sseEvent) bool { ev = e; return e.Name == "channel" })
	for _, raw := range []string{"<script", "<img", "</"} {
		assert.NotContains(t, ev.Data, raw, "raw markup on the stream")
	}
	d := decodeDelta(t, ev)
	assert.Equal(t, "add", d.Op)
	assert.Equal(t, evilName, d.Channel.Name, "the JSON must still decode to the exact value")
	assert.Equal(t, evilCaller, d.Channel.CallerIDName)

	resp, err := h.ts.Client().Get(h.ts.URL + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	page := string(body)
	assert.Contains(t, page, "Local/&lt;script&gt;alert(1)&lt;/script&gt;@test-00000001;1")
	assert.Contains(t, page, "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;")
	assert.NotContains(t, page, "<script>alert")
	assert.NotContains(t, page, "<img")
	assert.Equal(t, 1, strings.Count(page, "<script"), "only the page's own script tag")

	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		assert.Contains(t, csp, want)
	}
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))

	// The script is served as JavaScript and puts data in the page as
	// text only.
	js, err := h.ts.Client().Get(h.ts.URL + "/app.js")
	require.NoError(t, err)
	src, _ := io.ReadAll(js.Body)
	js.Body.Close()
	assert.Equal(t, "text/javascript; charset=utf-8", js.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", js.Header.Get("X-Content-Type-Options"))
	assert.Contains(t, string(src), "textContent")
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		assert.NotContains(t, string(src), sink)
	}
}

// TestGapResync shows that after a restart of Asterisk, which forgets
// every channel, the stream carries a gap notice and a fresh snapshot,
// and the page's list again matches CoreShowChannels.
func TestGapResync(t *testing.T) {
	h := newHarness(t, nil)
	s := openStream(t, h.ts.Client(), h.ts.URL)
	v := view{}
	v.apply(t, s.next(t, 5*time.Second))

	// Exten 300 is Echo: this call lasts until hung up.
	status, answer := h.originate(t, url.Values{"from": {"300"}, "to": {"300"}}, nil)
	require.Equal(t, http.StatusAccepted, status, "answer %v", answer)
	s.until(t, 5*time.Second, func(ev sseEvent) bool { v.apply(t, ev); return len(v) == 2 })
	before := v.names()

	h.srv.Restart()
	// A call placed right after the restart may be seen by the events
	// or only by the new list, depending on when the poller logs in
	// again: the page must show it either way.
	check := newClient(t, h.srv, slog.New(slog.DiscardHandler))
	// (The restart reset the fake's counters, so it is another
	// extension: its channels' names differ from the forgotten ones.)
	_, err := check.Originate(t.Context(), httpami.Originate{
		Channel: "Local/200@test", Application: "Echo", Async: true,
	})
	require.NoError(t, err)

	var gap map[string]any
	s.until(t, 10*time.Second, func(ev sseEvent) bool {
		v.apply(t, ev)
		if ev.Name == "gap" {
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &gap), "gap %q", ev.Data)
			return false
		}
		if ev.Name == "snapshot" {
			snap := decodeSnapshot(t, ev)
			require.NotNil(t, gap, "a snapshot after the restart without a gap notice first")
			assert.Equal(t, "session lost", gap["Reason"], "gap %v", gap)
			assert.Equal(t, "gap", snap.Reason)
			for _, c := range snap.Channels {
				assert.False(t, before[c.Name], "%s, forgotten by the restart, is still listed", c.Name)
			}
			return true
		}
		return false
	})

	// Whatever came first, the page converges to what Asterisk lists.
	want := func() map[string]bool {
		list, _, err := check.CoreShowChannels(t.Context())
		require.NoError(t, err)
		names := map[string]bool{}
		for _, c := range list {
			names[c.Channel] = true
		}
		return names
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		w := want()
		if len(w) == 2 && assert.ObjectsAreEqual(w, v.names()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("page lists %v, CoreShowChannels %v", v.names(), w)
		}
		select {
		case ev, ok := <-s.events:
			require.True(t, ok, "the stream ended")
			v.apply(t, ev)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestSlowBrowser shows that a browser that stops reading holds up
// neither the poller nor the other browsers: 20 readers get every
// event while one connection never reads, and that one is
// disconnected once its buffer is full.
func TestSlowBrowser(t *testing.T) {
	const buffer = 32
	// The server's sockets get a small send buffer (which also turns
	// off the kernel's autotuning), so that a client that does not read
	// blocks the writes to it after a few KiB, as a stalled browser
	// across a network would.
	h := newHarness(t, func(c *config) { c.Buffer = buffer }, func(ts *httptest.Server) {
		ts.Config.ConnState = func(c net.Conn, state http.ConnState) {
			if tc, ok := c.(*net.TCPConn); ok && state == http.StateNew {
				_ = tc.SetWriteBuffer(4096)
			}
		}
	})

	// The slow browser: a connection that asks for the stream with a
	// tiny receive buffer and never reads a byte.
	slow, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { slow.Close() })
	require.NoError(t, slow.(*net.TCPConn).SetReadBuffer(4096))
	_, err = fmt.Fprintf(slow, "GET /events HTTP/1.1\r\nHost: %s\r\n\r\n", h.ts.Listener.Addr())
	require.NoError(t, err)

	const readers = 20
	streams := make([]*sseStream, readers)
	for i := range streams {
		streams[i] = openStream(t, h.ts.Client(), h.ts.URL)
		decodeSnapshot(t, streams[i].next(t, 5*time.Second))
	}
	require.Eventually(t, func() bool { return h.b.hub.subscribers() == readers+1 }, 5*time.Second, 10*time.Millisecond)

	// Rounds of events, each smaller than the buffer, so that readers
	// never fall behind by more; 2 KiB per event, so that the slow
	// connection's socket fills up.
	const rounds, perRound = 10, 20
	pad := strings.Repeat("x", 2<<10)
	for r := range rounds {
		for i := range perRound {
			m := &rawman.Message{}
			id := fmt.Sprintf("1796035311.%d", r*perRound+i)
			m.Add("Event", "Newchannel")
			m.Add("Privilege", "call,all")
			m.Add("Channel", "Local/"+id+"@test;1")
			m.Add("ChannelStateDesc", "Ring")
			m.Add("CallerIDName", pad)
			m.Add("Uniqueid", id)
			require.NoError(t, h.srv.Emit(m))
		}
		last := fmt.Sprintf("1796035311.%d", r*perRound+perRound-1)
		var wg sync.WaitGroup
		for _, s := range streams {
			wg.Go(func() {
				err := s.await(5*time.Second, func(ev sseEvent) bool {
					return ev.Name == "channel" && strings.Contains(ev.Data, `"uniqueid":"`+last+`"`)
				})
				if err != nil {
					t.Errorf("round %d: a reader was held up: %v", r, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	assert.Eventually(t, func() bool { return h.b.hub.subscribers() == readers }, 5*time.Second, 10*time.Millisecond,
		"the slow browser was not disconnected")
}

// TestHubDisconnectsSlowSubscriber checks the hub's policy alone: a
// subscriber whose buffer is full is dropped, the others get every
// frame.
func TestHubDisconnectsSlowSubscriber(t *testing.T) {
	h := newHub(4, slog.New(slog.DiscardHandler))
	slow, fast := h.subscribe(), h.subscribe()
	<-fast.frames // snapshot
	for i := range 10 {
		m := &rawman.Message{}
		m.Add("Event", "Newchannel")
		m.Add("Channel", fmt.Sprintf("Local/%d@test;1", i))
		m.Add("Uniqueid", fmt.Sprint(i))
		h.apply(m)
		f := <-fast.frames
		assert.Contains(t, string(f), fmt.Sprintf(`"uniqueid":"%d"`, i))
	}
	n := 0
	for range slow.frames {
		n++
	}
	assert.Equal(t, 1+4, n, "the snapshot and a full buffer, then the end")
	assert.Equal(t, 1, h.subscribers())
	h.unsubscribe(slow) // already dropped: no double close
	h.unsubscribe(fast)
	h.close()
	assert.Nil(t, h.subscribe(), "subscribed after close")
}

// TestRunShutdown runs the command as main does, on the in-process
// fake: the token it prints works, a browser's stream gets keep-alives,
// and cancelling the context (SIGINT) ends the stream and everything
// else with no goroutine left behind.
func TestRunShutdown(t *testing.T) {
	leakcheck.Check(t)
	t.Setenv(pbx.EnvURL, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg, err := parseConfig([]string{"-addr", ln.Addr().String()}, func(string) string { return "" })
	require.NoError(t, err)
	require.True(t, cfg.TokenGenerated)
	cfg.Keepalive = 20 * time.Millisecond

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, logs := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, ln, out, testLogger(t, logs)) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "open http://") }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, strings.Count(out.String(), cfg.Token), "the token, printed once")

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	base := "http://" + ln.Addr().String()
	s := openStream(t, client, base)
	decodeSnapshot(t, s.next(t, 5*time.Second))

	// The printed token places a call that is still up at shutdown.
	req, err := http.NewRequest(http.MethodPost, base+"/originate", strings.NewReader("from=300&to=300"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+cfg.Token)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	v := view{}
	s.until(t, 5*time.Second, func(ev sseEvent) bool { v.apply(t, ev); return len(v) == 2 })
	require.Eventually(t, func() bool { return s.comments.Load() > 0 }, 5*time.Second, 10*time.Millisecond, "no keep-alive comment")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	select {
	case _, ok := <-s.events:
		for ok {
			_, ok = <-s.events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end at shutdown")
	}
	assertNoSecret(t, logs.String(), cfg.Token)
}

// TestParseConfig checks the settings: loopback only unless -public,
// an anchored allow-list, a token from the environment of a decent
// length (never quoted in errors) or made up.
func TestParseConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(key string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == key {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		wantErr string
	}{
		{"defaults", nil, env(), ""},
		{"IPv6 loopback", []string{"-addr", "[::1]:8081"}, env(), ""},
		{"localhost", []string{"-addr", "localhost:8081"}, env(), ""},
		{"every interface", []string{"-addr", ":8081"}, env(), "not a loopback address"},
		{"a public address", []string{"-addr", "0.0.0.0:8081"}, env(), "not a loopback address"},
		{"from the environment", nil, env(envAddr, "192.0.2.1:80"), "not a loopback address"},
		{"-public", []string{"-public", "-addr", "0.0.0.0:8081"}, env(), ""},
		{"bad allow-list", []string{"-allow", "1("}, env(), "-allow"},
		{"template without {from}", []string{"-channel", "PJSIP/100"}, env(), "{from}"},
		{"short token", nil, env(envToken, "secret-7"), "at least 16"},
		{"good token", nil, env(envToken, testToken), ""},
		{"arguments", []string{"extra"}, env(), "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, tt.env)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "secret-7")
				return
			}
			require.NoError(t, err)
			assert.GreaterOrEqual(t, len(cfg.Token), minTokenLen)
		})
	}

	cfg, err := parseConfig(nil, env())
	require.NoError(t, err)
	assert.Equal(t, defaultAddr, cfg.Addr)
	assert.True(t, cfg.TokenGenerated)
	other, err := parseConfig(nil, env())
	require.NoError(t, err)
	assert.NotEqual(t, cfg.Token, other.Token, "made-up tokens must differ")
	for ext, want := range map[string]bool{"100": true, "200": true, "300": true, "1000": false, "10": false, "9100": false} {
		assert.Equal(t, want, cfg.Allow.MatchString(ext), "default allow-list and %q", ext)
	}
	cfg, err = parseConfig([]string{"-allow", "1.|2"}, env())
	require.NoError(t, err)
	for ext, want := range map[string]bool{"10": true, "2": true, "100": false, "12x": false, "x10": false} {
		assert.Equal(t, want, cfg.Allow.MatchString(ext), "allow 1.|2 and %q", ext)
	}
}

// TestLimiter checks the token bucket.
func TestLimiter(t *testing.T) {
	l := newLimiter(2, 10*time.Second)
	t0 := time.Now()
	for range 2 {
		_, ok := l.take(t0)
		assert.True(t, ok)
	}
	wait, ok := l.take(t0.Add(time.Second))
	assert.False(t, ok)
	assert.InDelta(t, 9*time.Second, wait, float64(time.Millisecond))
	_, ok = l.take(t0.Add(11 * time.Second))
	assert.True(t, ok)
	_, ok = l.take(t0.Add(11 * time.Second))
	assert.False(t, ok)
}

// TestHostCheck shows the defence against DNS rebinding: unless
// -public, the page and the stream answer only loopback host names.
func TestHostCheck(t *testing.T) {
	status := func(h *harness, host, path string) int {
		req, err := http.NewRequest(http.MethodGet, h.ts.URL+path, nil)
		require.NoError(t, err)
		req.Host = host
		resp, err := h.ts.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	local := newHarness(t, nil)
	for _, host := range []string{"evil.example", "evil.example:8081", "10.0.0.1", "127.0.0.1.evil.example"} {
		for _, path := range []string{"/", "/events", "/app.js"} {
			assert.Equal(t, http.StatusMisdirectedRequest, status(local, host, path), "GET %s with Host %s", path, host)
		}
	}
	for _, host := range []string{"localhost:8081", "127.0.0.1", "[::1]:8081", "LOCALHOST"} {
		assert.Equal(t, http.StatusOK, status(local, host, "/"), "GET / with Host %s", host)
	}
	public := newHarness(t, func(c *config) { c.Public = true })
	assert.Equal(t, http.StatusOK, status(public, "webbackend.example", "/"))
}
