package poller_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	lc "github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/livetest"
	"github.com/amihttp/amihttp/poller"
)

// Environment variables of the live tests beyond livetest.EnvVar.
const (
	// liveRestartEnv holds the commands that stop and start the live
	// Asterisk, "<stop command> ;; <start command>" (see TestLiveRestart).
	liveRestartEnv = "AMIHTTP_TEST_RESTART"
	// liveSlowEnv, when set, lets tests that last over a minute run.
	liveSlowEnv = "AMIHTTP_TEST_SLOW"
)

// liveConfig returns a Config for the live Asterisk of
// AMIHTTP_TEST_URL in a mode, skipping t without it. It holds the
// machine-wide live lock until t ends.
func liveConfig(t *testing.T, auth httpami.Auth, enc httpami.Encoding) httpami.Config {
	t.Helper()
	target := livetest.Get(t)
	return httpami.Config{URL: target.Base + "/", Username: target.Username, Secret: target.Password, Auth: auth, Encoding: enc}
}

// liveMode returns the mode of modes named name.
func liveMode(t *testing.T, name string) (httpami.Auth, httpami.Encoding) {
	t.Helper()
	for _, m := range modes {
		if m.name == name {
			return m.auth, m.enc
		}
	}
	t.Fatalf("no mode %q", name)
	return "", ""
}

// livePoller starts a poller of c on its own session, closed when t
// ends.
func livePoller(t *testing.T, ctx context.Context, c *httpami.Client, opts ...poller.Option) *poller.Poller {
	t.Helper()
	p, err := poller.New(c, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, p.Close(), "closing the poller")
		assert.NoError(t, p.Err())
	})
	require.NoError(t, p.Start(ctx))
	return p
}

// liveNext returns the next element of p's channel, or false if none
// comes within d. It fails t if the channel is closed.
func liveNext(t *testing.T, p *poller.Poller, d time.Duration) (poller.Event, bool) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case ev, ok := <-p.Events():
		require.True(t, ok, "the channel was closed; Err: %v", p.Err())
		return ev, true
	case <-timer.C:
		return poller.Event{}, false
	}
}

// liveUser returns the next UserEvent named name within d, skipping
// other events and failing t on a gap notice or if none comes.
func liveUser(t *testing.T, p *poller.Poller, name string, d time.Duration) poller.Event {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev, ok := liveNext(t, p, time.Until(deadline))
		require.True(t, ok, "no UserEvent %s within %v; stats %+v", name, d, p.Stats())
		require.Nil(t, ev.Gap, "unexpected gap notice: %v", ev.Gap)
		if ev.Name() == "UserEvent" && ev.Message.Get("UserEvent") == name {
			return ev
		}
	}
}

// liveEmit publishes a UserEvent named name with a sequence number
// through c.
func liveEmit(ctx context.Context, c *httpami.Client, name string, seq int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.UserEvent(ctx, name, rawman.Field{Key: "Seq", Value: fmt.Sprint(seq)})
	return err
}

// TestLiveOriginate follows a call through the poller in every mode: an
// Async Originate of Local/100@test to 100@test (the reference dialplan:
// Answer, UserEvent TestEvent, Wait(2), Hangup) must bring the
// Newchannel, TestEvent and Hangup events of its channels, and the
// OriginateResponse that Await finds by the Originate's ActionID, with
// no gap notice. The Originate sets the Uniqueids of both halves of the
// Local channel, by which the test tells its call's events. It is
// skipped without AMIHTTP_TEST_URL.
func TestLiveOriginate(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg := liveConfig(t, m.auth, m.enc)
			lc.Check(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			t.Cleanup(cancel) // after the poller's Close, which livePoller registers later
			c := client(t, cfg)
			p := livePoller(t, ctx, c)

			tag := fmt.Sprintf("amihttp-live-%s-%d", m.name, time.Now().UnixNano())
			actionID, id1, id2 := tag+"-originate", tag+"-1", tag+"-2"
			type result struct {
				msg *rawman.Message
				err error
			}
			awaited := make(chan result, 1)
			var wg sync.WaitGroup
			defer wg.Wait()
			// The Await has a context of its own, ended first: ending the
			// poller's would stop it before Close, and Err would say so.
			actx, acancel := context.WithCancel(ctx)
			defer acancel()
			wg.Go(func() {
				msg, err := p.Await(actx, actionID, "OriginateResponse")
				awaited <- result{msg, err}
			})
			resp, err := c.Originate(ctx, httpami.Originate{
				Channel: "Local/100@test", Context: "test", Exten: "100", Priority: "1",
				Async: true, ActionID: actionID, ChannelID: id1, OtherChannelID: id2,
			})
			require.NoError(t, err)
			assert.Equal(t, "Success", resp.Status())
			assert.Equal(t, actionID, resp.ActionID)

			ours := func(msg *rawman.Message) bool {
				u := msg.Get("Uniqueid")
				return u == id1 || u == id2
			}
			newchannel := map[string]string{} // Uniqueid → Channel
			hangup := map[string]bool{}
			testEvents := 0
			var answer *rawman.Message
			deadline := time.Now().Add(20 * time.Second)
			for answer == nil || len(newchannel) == 0 || testEvents == 0 || len(hangup) < 2 {
				if answer == nil {
					select {
					case r := <-awaited:
						require.NoError(t, r.err, "Await(%q, OriginateResponse)", actionID)
						answer = r.msg
						continue
					default:
					}
				}
				ev, ok := liveNext(t, p, min(100*time.Millisecond, time.Until(deadline)))
				if !ok {
					require.True(t, time.Now().Before(deadline),
						"the call's events did not all come within 20 s: Newchannel %v, TestEvent %d, Hangup %v, OriginateResponse %v; stats %+v",
						newchannel, testEvents, hangup, answer != nil, p.Stats())
					continue
				}
				if ev.Gap != nil {
					t.Errorf("unexpected gap notice: %v", ev.Gap)
					continue
				}
				msg := ev.Message
				if !ours(msg) {
					continue
				}
				switch {
				case ev.Name() == "Newchannel":
					newchannel[msg.Get("Uniqueid")] = msg.Get("Channel")
				case ev.Name() == "UserEvent" && msg.Get("UserEvent") == "TestEvent":
					testEvents++
					assert.Equal(t, "bar", msg.Get("Foo"))
				case ev.Name() == "Hangup":
					hangup[msg.Get("Uniqueid")] = true
				}
			}
			for u, ch := range newchannel {
				want := ";1"
				if u == id2 {
					want = ";2"
				}
				assert.True(t, strings.HasPrefix(ch, "Local/100@test-") && strings.HasSuffix(ch, want),
					"Newchannel of Uniqueid %s: Channel %q, want Local/100@test-…%s", u, ch, want)
			}
			assert.Equal(t, "Success", answer.Get("Response"), "OriginateResponse: %v", answer)
			assert.Equal(t, actionID, answer.Get("ActionID"))
			st := p.Stats()
			assert.Zero(t, st.Gaps, "stats %+v", st)
			t.Logf("Newchannel %v, TestEvent ×%d, Hangup of both; stats %+v", newchannel, testEvents, st)
		})
	}
}

// liveRestarter stops and starts the live Asterisk with the commands of
// AMIHTTP_TEST_RESTART, and starts it again when the test ends if it
// was left stopped.
type liveRestarter struct {
	stopCmd, startCmd string
	down              bool // stopped, and not started again yet
}

// liveRestart returns the restarter of AMIHTTP_TEST_RESTART, skipping t
// when it is not set.
func liveRestart(t *testing.T) *liveRestarter {
	t.Helper()
	v := os.Getenv(liveRestartEnv)
	if v == "" {
		t.Skip(liveRestartEnv + " is not set: no restart of the live Asterisk (see TestLiveRestart)")
	}
	stop, start, ok := strings.Cut(v, " ;; ")
	stop, start = strings.TrimSpace(stop), strings.TrimSpace(start)
	if !ok || stop == "" || start == "" {
		t.Fatalf("%s must be '<stop command> ;; <start command>', got %q", liveRestartEnv, v)
	}
	return &liveRestarter{stopCmd: stop, startCmd: start}
}

// run runs cmd with sh -c, within a minute.
func (r *liveRestarter) run(t *testing.T, what, cmd string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	// A server started in the background could keep a pipe open: give
	// up on the output a little after sh exits.
	c.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := c.CombinedOutput()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	t.Logf("%s (%v): %q: %s", what, time.Since(start).Round(time.Millisecond), cmd, strings.TrimSpace(string(out)))
	if err != nil {
		return fmt.Errorf("%s: %q: %w", what, cmd, err)
	}
	return nil
}

// stop stops Asterisk, and makes sure that it is started again when t
// ends.
func (r *liveRestarter) stop(t *testing.T) {
	t.Helper()
	r.down = true
	t.Cleanup(func() {
		if r.down {
			if err := r.run(t, "start again", r.startCmd); err != nil {
				t.Errorf("the live Asterisk may be left stopped: %v", err)
			}
		}
	})
	require.NoError(t, r.run(t, "stop", r.stopCmd))
}

// start starts Asterisk again.
func (r *liveRestarter) start(t *testing.T) {
	t.Helper()
	require.NoError(t, r.run(t, "start", r.startCmd))
	r.down = false
}

// TestLiveRestart restarts the live Asterisk while the poller's
// WaitEvent waits, for a cookie and a digest session: the poller must
// report exactly one gap notice, covering the outage, before the first
// event after the restart, and events must flow again.
//
// It runs only when AMIHTTP_TEST_RESTART holds the commands that stop
// and start the Asterisk of AMIHTTP_TEST_URL, separated by " ;; " (each
// is run with sh -c; the start command must return once Asterisk
// answers), such as, for the Asterisk built as the shared folder's
// README says:
//
//	AMIHTTP_TEST_RESTART='AST_PREFIX=/work/ast sh /work/shared/asterisk/stop.sh ;; AST_PREFIX=/work/ast /work/shared/asterisk/ensure-running'
//
// If the test fails after the stop, its cleanup runs the start command.
func TestLiveRestart(t *testing.T) {
	r := liveRestart(t)
	for _, name := range []string{"cookie-rawman", "digest-rawman"} {
		t.Run(name, func(t *testing.T) {
			auth, enc := liveMode(t, name)
			cfg := liveConfig(t, auth, enc)
			lc.Check(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			t.Cleanup(cancel) // after the poller's Close, which livePoller registers later
			c := client(t, cfg)
			p := livePoller(t, ctx, c)

			// An event through, then a moment for the next WaitEvent to
			// be on its way: the restart cuts it.
			require.NoError(t, liveEmit(ctx, c, "AmihttpLiveBefore", 0))
			liveUser(t, p, "AmihttpLiveBefore", 10*time.Second)
			time.Sleep(200 * time.Millisecond)

			stopping := time.Now()
			r.stop(t)
			stopped := time.Now()
			r.start(t)
			started := time.Now()
			t.Logf("Asterisk was restarted in %v", started.Sub(stopping).Round(time.Millisecond))

			// Publish an event every 500 ms until the poller delivers
			// one: those published before the poller's new session began
			// are not its to see.
			sctx, scancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			defer wg.Wait()
			defer scancel()
			wg.Go(func() {
				tick := time.NewTicker(500 * time.Millisecond)
				defer tick.Stop()
				for i := 1; ; i++ {
					if err := liveEmit(sctx, c, "AmihttpLiveAfter", i); err != nil && sctx.Err() == nil {
						t.Logf("UserEvent %d: %v", i, err)
					}
					select {
					case <-tick.C:
					case <-sctx.Done():
						return
					}
				}
			})
			var gaps []*poller.Gap
			var seen []string // the events until then, for the log
			deadline := time.Now().Add(time.Minute)
			for {
				ev, ok := liveNext(t, p, time.Until(deadline))
				require.True(t, ok, "no event after the restart within a minute; gaps %v; stats %+v", gaps, p.Stats())
				if ev.Gap != nil {
					g := ev.Gap
					t.Logf("gap notice: reason %q, From %v, To %v, Duration %v, Err %v; %v",
						g.Reason, g.From.Format(time.StampMilli), g.To.Format(time.StampMilli), g.Duration(), g.Err, g)
					gaps = append(gaps, g)
					seen = append(seen, "(gap notice)")
					continue
				}
				if ev.Name() == "UserEvent" && ev.Message.Get("UserEvent") == "AmihttpLiveAfter" {
					t.Logf("first event after the restart: UserEvent %s, Seq %s, %v after the start command returned",
						ev.Message.Get("UserEvent"), ev.Message.Get("Seq"), ev.Received.Sub(started).Round(time.Millisecond))
					break
				}
				seen = append(seen, ev.Name())
			}
			t.Logf("events after AmihttpLiveBefore: %v", seen)
			scancel()
			wg.Wait()

			if assert.Len(t, gaps, 1, "one gap notice before the first event after the restart") {
				g := gaps[0]
				assert.ErrorIs(t, g, poller.ErrGap)
				// Asterisk answers the WaitEvent with its Shutdown event
				// once the stop has begun.
				assert.True(t, g.From.Before(stopped), "the gap begins before Asterisk stopped: From %v, stopped by %v", g.From, stopped)
				assert.True(t, g.From.After(stopping.Add(-time.Second)), "the gap begins by the stop: From %v, stop at %v", g.From, stopping)
				// The poller may reach Asterisk before the start command
				// has seen it answer.
				assert.True(t, g.To.After(stopped), "the gap ends after the restart: To %v, stopped by %v", g.To, stopped)
				// No session outlives a restart; a digest one is renewed
				// without a word, which Asterisk's startup time tells.
				assert.Equal(t, poller.SessionLost, g.Reason)
			}

			// Events flow again, without another gap.
			require.NoError(t, liveEmit(ctx, c, "AmihttpLiveAgain", 0))
			liveUser(t, p, "AmihttpLiveAgain", 10*time.Second)
			st := p.Stats()
			assert.Equal(t, uint64(len(gaps)), st.Gaps, "stats %+v", st)
			t.Logf("stats %+v", st)
		})
	}
}

// liveStaleCounter is a transport that counts the digest challenges
// with stale=true that Asterisk answers, each a nonce rotation.
type liveStaleCounter struct {
	base *http.Transport
	n    atomic.Int64
}

func (s *liveStaleCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized &&
		strings.Contains(strings.ToLower(resp.Header.Get("WWW-Authenticate")), "stale=true") {
		s.n.Add(1)
	}
	return resp, err
}

// CloseIdleConnections closes the idle connections of the transport
// under it, as the Client's Close asks.
func (s *liveStaleCounter) CloseIdleConnections() { s.base.CloseIdleConnections() }

// TestLiveDigestNonceRotation polls a digest session for 80 s, past the
// 62 s after which Asterisk rotates the nonce, while publishing a
// UserEvent every 10 s: the poller's WaitEvent sent at 70 s meets the
// rotation, and every event, that of 80 s included, must arrive with no
// gap notice, since the session survives the rotation (spec §3.4). It
// runs only without -short and with AMIHTTP_TEST_SLOW set.
func TestLiveDigestNonceRotation(t *testing.T) {
	if testing.Short() || os.Getenv(liveSlowEnv) == "" {
		t.Skip("lasts 80 s: runs only without -short and with " + liveSlowEnv + " set")
	}
	for _, name := range []string{"digest-rawman", "digest-mxml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			auth, enc := liveMode(t, name)
			cfg := liveConfig(t, auth, enc)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			t.Cleanup(cancel) // after the poller's Close, which livePoller registers later
			c := client(t, cfg)
			// The poller's session goes through a transport that counts
			// the nonce rotations (401 with stale=true).
			stale := &liveStaleCounter{base: http.DefaultTransport.(*http.Transport).Clone()}
			t.Cleanup(stale.base.CloseIdleConnections)
			pcfg := cfg
			pcfg.Transport = stale
			p := livePoller(t, ctx, client(t, pcfg))
			event := "AmihttpLiveNonce-" + name
			begin := time.Now()
			for i := range 9 { // at 0, 10, …, 80 s
				time.Sleep(time.Until(begin.Add(time.Duration(i) * 10 * time.Second)))
				require.NoError(t, liveEmit(ctx, c, event, i))
				ev := liveUser(t, p, event, 10*time.Second)
				assert.Equal(t, fmt.Sprint(i), ev.Message.Get("Seq"))
			}
			st := p.Stats()
			assert.Zero(t, st.Gaps, "stats %+v", st)
			assert.NotZero(t, stale.n.Load(), "the nonce of the poller's session was rotated")
			t.Logf("%v: %d nonce rotations; stats %+v", time.Since(begin).Round(time.Second), stale.n.Load(), st)
		})
	}
}
