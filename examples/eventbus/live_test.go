package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/livetest"
	"github.com/amihttp/amihttp/poller"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveModes are the ways TestLiveCall reaches the live Asterisk: a
// cookie session with rawman, and digest auth with mxml, whose keys are
// Asterisk's lower-cased rewrites ("event", "cause_txt").
var liveModes = []struct {
	name string
	auth httpami.Auth
	enc  httpami.Encoding
}{
	{"cookie-rawman", httpami.Cookie, httpami.Rawman},
	{"digest-mxml", httpami.Digest, httpami.MXML},
}

// liveWeird is the Weird field of the reference dialplan's TestEvent,
// UserEvent(TestEvent,Foo: bar,Weird: a<b>&"c'), as Asterisk sends it:
// the application's argument parser removes the double quote, so the
// value differs from the fake's a<b>&"c'.
const liveWeird = `a<b>&c'`

// TestLiveCall bridges the real Asterisk of AMIHTTP_TEST_URL (skipped
// without it) to an embedded NATS server with JetStream, in each of
// liveModes, and places one call: an Async Originate of Local/100@test
// to the application Echo, whose ;2 half runs 100@test of the reference
// dialplan (Answer, UserEvent TestEvent, Wait(2), Hangup). The stream
// must hold, in the poller's order and each exactly once, the Newchannel
// of both halves, the TestEvent on ami.events.UserEvent.TestEvent with
// its fields as Asterisk sent them, the OriginateResponse and the Hangup
// of both halves, after the "bridge started" notice and with no other
// gap notice; every message must carry its Nats-Msg-Id. The test ends
// once both halves have hung up.
func TestLiveCall(t *testing.T) {
	tg := livetest.Get(t)
	for _, m := range liveModes {
		t.Run(m.name, func(t *testing.T) {
			leakcheck.Check(t)
			began := time.Now()
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()

			ns := startNATS(t, natsOpts{})
			nc := connectNATS(t, ns.ClientURL())
			c, err := httpami.New(httpami.Config{URL: tg.Base + "/", Username: tg.Username, Secret: tg.Password, Auth: m.auth, Encoding: m.enc})
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close(context.Background()) })

			logger := testLogger(t)
			b, err := NewBridge(ctx, nc, Options{Logger: logger})
			require.NoError(t, err)
			stream, ok := b.JetStream()
			require.True(t, ok, "JetStream")
			p, err := poller.New(c, poller.WithLogger(logger))
			require.NoError(t, err)
			require.NoError(t, p.Start(context.WithoutCancel(ctx)))
			t.Cleanup(func() {
				assert.NoError(t, p.Close(), "closing the poller")
				assert.NoError(t, p.Err(), "the poller's error")
			})
			runCtx, stopRun := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- b.Run(runCtx, p.Events()) }()
			stopBridge := func() {
				stopRun()
				select {
				case err := <-done:
					done <- err // for a later call
					assert.ErrorIs(t, err, context.Canceled, "Run")
				case <-time.After(wait):
					t.Error("Run did not return after cancel")
				}
			}
			t.Cleanup(stopBridge)

			tag := fmt.Sprintf("amihttp-eventbus-%s-%d", m.name, time.Now().UnixNano())
			actionID, id1, id2 := tag+"-originate", tag+"-1", tag+"-2"
			hungUp := map[string]bool{}
			// Whatever happens, no call of the test is left up.
			t.Cleanup(func() {
				for _, id := range []string{id1, id2} {
					if !hungUp[id] {
						hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
						_, err := c.Hangup(hctx, httpami.Hangup{Channel: id})
						hcancel()
						t.Logf("hanging up the channel of Uniqueid %s, whose Hangup never came: %v", id, err)
					}
				}
			})
			resp, err := c.Originate(ctx, httpami.Originate{
				Channel: "Local/100@test", Application: "Echo", Async: true,
				ActionID: actionID, ChannelID: id1, OtherChannelID: id2,
			})
			require.NoError(t, err)
			require.Equal(t, "Success", resp.Status(), "Originate: %v", resp)

			// Read the stream until both halves have hung up.
			r := newStreamReader(t, nc, stream)
			var msgs []*jetstream.RawStreamMsg
			for !hungUp[id1] || !hungUp[id2] {
				news := r.poll(t, ctx, func() string { return fmt.Sprintf("the call did not end in time (Hangup seen of %v)", hungUp) })
				for _, sm := range news {
					ev := liveDecode(t, sm, m.enc)
					if u := ev.Get("Uniqueid"); ev.Event() == "Hangup" && (u == id1 || u == id2) {
						hungUp[u] = true
					}
				}
				msgs = append(msgs, news...)
			}
			callTime := time.Since(began)
			stopBridge()
			msgs = append(msgs, r.read(t)...) // what came between the last poll and the stop
			checkLiveStream(t, b, msgs, m.enc, actionID, id1, id2)
			st := b.Stats()
			assert.Equal(t, Stats{Events: uint64(len(msgs) - 1), Gaps: 1}, st, "the bridge's counters")
			t.Logf("%d messages in stream %s, call over after %v; bridge %+v; poller %+v",
				len(msgs), stream, callTime.Round(time.Millisecond), st, p.Stats())
		})
	}
}

// streamReader reads a stream's messages in order, as they come.
type streamReader struct {
	js   jetstream.JetStream
	name string
	s    jetstream.Stream
	next uint64 // the next stream sequence to read
}

// newStreamReader returns a reader of the stream name, from its first
// message on.
func newStreamReader(t *testing.T, nc *nats.Conn, name string) *streamReader {
	t.Helper()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return &streamReader{js: js, name: name, next: 1}
}

// read returns the messages the stream holds that were not read yet,
// perhaps none.
func (r *streamReader) read(t *testing.T) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	var err error
	if r.s == nil {
		r.s, err = r.js.Stream(ctx, r.name)
		require.NoError(t, err, "stream %s", r.name)
	}
	info, err := r.s.Info(ctx)
	require.NoError(t, err, "stream %s", r.name)
	var out []*jetstream.RawStreamMsg
	for ; r.next <= info.State.LastSeq; r.next++ {
		m, err := r.s.GetMsg(ctx, r.next)
		require.NoError(t, err, "stream %s, message %d", r.name, r.next)
		out = append(out, m)
	}
	return out
}

// poll waits until the stream holds messages not read yet and returns
// them, failing t with what as the missing thing when ctx ends first.
func (r *streamReader) poll(t *testing.T, ctx context.Context, what func() string) []*jetstream.RawStreamMsg {
	t.Helper()
	for {
		if out := r.read(t); len(out) > 0 {
			return out
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: stream %s holds %d messages", what(), r.name, r.next-1)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// liveDecode decodes the event or notice of sm. An mxml event's keys
// are Asterisk's rewrites ("cause_txt"), which a Message from JSON, with
// KeysAMI, does not map from "Cause-txt": its Keys are set to KeysXML,
// whose lookups do.
func liveDecode(t *testing.T, sm *jetstream.RawStreamMsg, enc httpami.Encoding) *rawman.Message {
	t.Helper()
	var m rawman.Message
	require.NoError(t, json.Unmarshal(sm.Data, &m), "stream message %d: %s", sm.Sequence, sm.Data)
	if enc == httpami.MXML && strings.HasPrefix(sm.Subject, DefaultPrefix+".events.") {
		m.Keys = rawman.KeysXML
	}
	return &m
}

// checkLiveStream checks msgs, the whole stream of b's run during the
// call of TestLiveCall: the start notice first and no other gap notice,
// every message under the id and sequence number of its place, on the
// subject of its event, and the call's events each once, in order.
func checkLiveStream(t *testing.T, b *Bridge, msgs []*jetstream.RawStreamMsg, enc httpami.Encoding, actionID, id1, id2 string) {
	t.Helper()
	require.NotEmpty(t, msgs)
	first := msgs[0]
	var start startNotice
	require.NoError(t, json.Unmarshal(first.Data, &start), "start notice %s", first.Data)
	assert.Equal(t, b.GapSubject(), first.Subject)
	assert.Equal(t, ReasonBridgeStarted, start.Reason)
	assert.Equal(t, b.RunID(), start.Run)
	assert.Equal(t, "1", first.Header.Get(HeaderGaps))

	half := map[string]string{id1: "1", id2: "2"}
	var ours []string         // the call's events, in stream order
	names := map[string]int{} // every event of the stream by name, for the log
	for i, sm := range msgs {
		assert.Equal(t, b.msgID(uint64(i)), sm.Header.Get(jetstream.MsgIDHeader), "Nats-Msg-Id of stream message %d", sm.Sequence)
		assert.Equal(t, strconv.Itoa(i), sm.Header.Get(HeaderSeq), "Ami-Seq of stream message %d", sm.Sequence)
		assert.Equal(t, b.RunID(), sm.Header.Get(HeaderRun), "Ami-Run of stream message %d", sm.Sequence)
		if i == 0 {
			continue
		}
		if !assert.NotEqual(t, b.GapSubject(), sm.Subject, "a gap notice: %s", sm.Data) {
			continue
		}
		assert.NotEmpty(t, sm.Header.Get(HeaderReceived), "Ami-Received of stream message %d", sm.Sequence)
		ev := liveDecode(t, sm, enc)
		names[ev.Event()]++
		assert.Equal(t, b.Subject(ev.Event(), ev.Get("UserEvent")), sm.Subject, "subject of %s", sm.Data)
		if ev.Event() == "OriginateResponse" && ev.ActionID() == actionID {
			ours = append(ours, "OriginateResponse")
			assert.Equal(t, "Success", ev.Get("Response"), "OriginateResponse %s", sm.Data)
			continue
		}
		which := half[ev.Get("Uniqueid")]
		if which == "" {
			continue
		}
		switch ev.Event() {
		case "Newchannel":
			ours = append(ours, "Newchannel;"+which)
			ch := ev.Get("Channel")
			assert.True(t, strings.HasPrefix(ch, "Local/100@test-") && strings.HasSuffix(ch, ";"+which),
				"Newchannel of Uniqueid %s: Channel %q, want Local/100@test-…;%s", ev.Get("Uniqueid"), ch, which)
		case "UserEvent":
			ours = append(ours, ev.Get("UserEvent")+";"+which)
			assert.Equal(t, DefaultPrefix+".events.UserEvent.TestEvent", sm.Subject)
			assert.Equal(t, "bar", ev.Get("Foo"), "Foo of %s", sm.Data)
			assert.Equal(t, liveWeird, ev.Get("Weird"), "Weird of %s", sm.Data)
			t.Logf("TestEvent on %s: %s", sm.Subject, sm.Data)
		case "Hangup":
			ours = append(ours, "Hangup;"+which)
			// Hangup() in the dialplan, and the Local channel passing
			// its cause on to the other half.
			assert.Equal(t, "16", ev.Get("Cause"), "Cause of %s", sm.Data)
			assert.Equal(t, "Normal Clearing", ev.Get("Cause-txt"), "Cause-txt of %s", sm.Data)
		}
	}
	t.Logf("the call's events in stream order: %v; the stream's events: %v", ours, names)

	// The OriginateResponse comes whenever Asterisk has answered the
	// Originate; the channels' events come in the order of the call.
	var calls []string
	responses := 0
	for _, e := range ours {
		if e == "OriginateResponse" {
			responses++
		} else {
			calls = append(calls, e)
		}
	}
	assert.Equal(t, 1, responses, "OriginateResponses of ActionID %s", actionID)
	if assert.Len(t, calls, 5, "the call's events: %v", ours) {
		assert.Equal(t, []string{"Newchannel;1", "Newchannel;2", "TestEvent;2"}, calls[:3], "the call's events: %v", ours)
		assert.ElementsMatch(t, []string{"Hangup;1", "Hangup;2"}, calls[3:], "the call's events: %v", ours)
	}
}
