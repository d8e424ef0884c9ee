package digest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/amihttp/amihttp/internal/livetest"
)

// tripCounter counts the requests a Transport sends.
type tripCounter struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *tripCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// livePing sends a Ping through tr, by GET or by POST form, and checks
// Asterisk's answer.
func livePing(t *testing.T, tr *Transport, base string, post bool) {
	t.Helper()
	var req *http.Request
	var err error
	if post {
		req, err = http.NewRequest(http.MethodPost, base+"/arawman", strings.NewReader("action=Ping"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, err = http.NewRequest(http.MethodGet, base+"/arawman?action=Ping", nil)
	}
	if err != nil {
		t.Error(err) // not Fatal: it runs in the test's goroutines
		return
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Error(err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Ping: Pong") {
		t.Errorf("%s: %s %q %v", req.Method, resp.Status, body, err)
	}
}

// TestLive checks the round-trip counts against a real Asterisk: it is
// the server whose strict nc rule and client-made nonces the Transport is
// designed for.
func TestLive(t *testing.T) {
	live := livetest.Get(t)
	base, user, pass := live.Base, live.Username, live.Password
	newTransport := func(cold bool) (*Transport, *tripCounter) {
		c := &tripCounter{base: &http.Transport{}}
		return &Transport{Username: user, Password: pass, Base: c, ColdStart: cold}, c
	}

	t.Run("sequential", func(t *testing.T) {
		tr, c := newTransport(false)
		livePing(t, tr, base, false)
		if n := c.n.Load(); n != 2 {
			t.Errorf("first request: %d round trips, want 2", n)
		}
		for i := range 20 {
			livePing(t, tr, base, i%2 == 1)
		}
		if n := c.n.Load() - 2; n != 20 {
			t.Errorf("20 requests after the first: %d round trips", n)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		tr, c := newTransport(false)
		const workers, each = 16, 25
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range each {
					livePing(t, tr, base, false)
				}
			})
		}
		wg.Wait()
		n := c.n.Load()
		if limit := int64(1.05*workers*each) + workers; n > limit {
			t.Errorf("%d requests cost %d round trips, over %d", workers*each, n, limit)
		}
		t.Logf("%d requests from %d goroutines: %d round trips", workers*each, workers, n)
	})

	t.Run("cold start", func(t *testing.T) {
		tr, c := newTransport(true)
		livePing(t, tr, base, false)
		if n := c.n.Load(); n != 1 {
			t.Errorf("a cold start cost %d round trips, want 1", n)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		c := &tripCounter{base: &http.Transport{}}
		tr := &Transport{Username: user, Password: pass + "-wrong", Base: c}
		resp, err := tr.RoundTrip(newGet(t, base+"/arawman?action=Ping"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || c.n.Load() != 2 {
			t.Errorf("wrong password: %s after %d round trips, want 401 after 2", resp.Status, c.n.Load())
		}
	})
}

// newGet returns a GET request for url.
func newGet(t *testing.T, url string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
