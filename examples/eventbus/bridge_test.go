package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/examples/internal/pbx"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/poller"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wait bounds every wait of the tests.
const wait = 5 * time.Second

// natsOpts says how to start a test NATS server.
type natsOpts struct {
	noJetStream bool
	port        int    // -1 (any) unless set
	dir         string // JetStream store; a new temporary one unless set
	maxPayload  int32
}

// startNATS starts a NATS server in the test process and stops it when
// the test ends.
func startNATS(t *testing.T, o natsOpts) *server.Server {
	t.Helper()
	if o.port == 0 {
		o.port = -1
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: o.port, JetStream: !o.noJetStream, StoreDir: o.dir,
		MaxPayload: o.maxPayload, NoSigs: true, NoLog: true,
	})
	require.NoError(t, err)
	go ns.Start()
	require.True(t, ns.ReadyForConnections(wait), "NATS server not ready")
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// connectNATS connects to url, reconnecting quickly and forever, and
// closes the connection when the test ends.
func connectNATS(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond), nats.ReconnectJitter(0, 0))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// rig is a fake Asterisk, a poller on it and a bridge publishing its
// events to a NATS server.
type rig struct {
	srv    *httpamitest.Server
	nc     *nats.Conn
	bridge *Bridge
	p      *poller.Poller
	msgs   chan *nats.Msg // every message on ami.>, from the start notice on
	done   chan error     // Run's result
	cancel context.CancelFunc
}

// startRig starts a fake Asterisk, a poller of its user-class events and
// a bridge to url with o, and Run; it stops them when the test ends.
func startRig(t *testing.T, url string, o Options) *rig {
	t.Helper()
	r := &rig{srv: httpamitest.NewServer(), done: make(chan error, 1)}
	t.Cleanup(r.srv.Close)
	r.nc = connectNATS(t, url)
	cfg, err := httpami.ParseURL(pbx.FakeURL(r.srv, ""))
	require.NoError(t, err)
	c, err := httpami.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })

	o.Logger = testLogger(t)
	if o.BackoffMin == 0 {
		o.BackoffMin, o.BackoffMax = 10*time.Millisecond, 100*time.Millisecond
	}
	r.bridge, err = NewBridge(t.Context(), r.nc, o)
	require.NoError(t, err)
	r.msgs = subscribe(t, r.nc, r.bridge.opts.Prefix+".>")
	r.p, err = poller.New(c, poller.WithEventMask("user"), poller.WithLogger(o.Logger))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	require.NoError(t, r.p.Start(ctx))
	go func() { r.done <- r.bridge.Run(ctx, r.p.Events()) }()
	start := next(t, r.msgs)
	require.Equal(t, r.bridge.GapSubject(), start.Subject)
	require.Contains(t, string(start.Data), `"Reason":"bridge started"`)
	t.Cleanup(func() {
		r.stop(t)
		_ = r.p.Close()
	})
	return r
}

// stop cancels Run and waits for it to return.
func (r *rig) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for a later stop
		return err
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

// userEvent returns a UserEvent named name with the fields given as
// key, value pairs.
func userEvent(name string, keyvals ...string) *rawman.Message {
	m := &rawman.Message{}
	m.Add("Event", "UserEvent")
	m.Add("Privilege", "user,all")
	m.Add("UserEvent", name)
	for i := 0; i+1 < len(keyvals); i += 2 {
		m.Add(keyvals[i], keyvals[i+1])
	}
	return m
}

// subscribe collects every message on subject.
func subscribe(t *testing.T, nc *nats.Conn, subject string) chan *nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(subject, ch)
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return ch
}

// next returns the next message of ch, failing the test after wait.
func next(t *testing.T, ch chan *nats.Msg) *nats.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(wait):
		t.Fatal("no message on NATS")
		return nil
	}
}

// decode decodes an event's body.
func decode(t *testing.T, data []byte) *rawman.Message {
	t.Helper()
	var m rawman.Message
	require.NoError(t, json.Unmarshal(data, &m), "body %s", data)
	return &m
}

// withoutTimestamp returns m without the Timestamp field the fake adds.
func withoutTimestamp(m *rawman.Message) *rawman.Message {
	m = m.Clone()
	m.Del("Timestamp")
	return m
}

// streamMsgs returns every message of the stream, in stream order, once
// it holds n (or fails the test).
func streamMsgs(t *testing.T, nc *nats.Conn, name string, n int) []*jetstream.RawStreamMsg {
	t.Helper()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	var s jetstream.Stream
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if s, err = js.Stream(ctx, name); err != nil {
			return false
		}
		info, err := s.Info(ctx)
		return err == nil && info.State.Msgs >= uint64(n)
	}, wait, 10*time.Millisecond, "stream %s never held %d messages", name, n)
	info, err := s.Info(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, n, info.State.Msgs, "messages in stream %s", name)
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(t.Context(), seq)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

// TestSubject checks the subjects of events: one token per name, the
// user's name under UserEvent.
func TestSubject(t *testing.T) {
	b := &Bridge{opts: Options{Prefix: "pbx1.ami"}}
	for _, tc := range []struct{ name, user, want string }{
		{"Hangup", "", "pbx1.ami.events.Hangup"},
		{"UserEvent", "TestEvent", "pbx1.ami.events.UserEvent.TestEvent"},
		{"UserEvent", "a.b *>c", "pbx1.ami.events.UserEvent.a_b___c"},
		{"UserEvent", "", "pbx1.ami.events.UserEvent._"},
		{"", "", "pbx1.ami.events._"},
		{"Été", "", "pbx1.ami.events._t_"},
		{"Dial-End_2", "", "pbx1.ami.events.Dial-End_2"},
	} {
		if got := b.Subject(tc.name, tc.user); got != tc.want {
			t.Errorf("Subject(%q, %q) = %q, want %q", tc.name, tc.user, got, tc.want)
		}
	}
	for _, p := range []string{"", "a..b", "a.*", ">", "a b", ".a"} {
		if err := validPrefix(p); err == nil {
			t.Errorf("validPrefix(%q) = nil, want an error", p)
		}
	}
}

// TestEvents checks that emitted events arrive on their subjects, in
// order, as JSON that decodes back into the same messages (repeated keys
// included), after the start notice, and that JetStream stores each once.
func TestEvents(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{})
	r := startRig(t, ns.ClientURL(), Options{})
	stream, ok := r.bridge.JetStream()
	require.True(t, ok, "JetStream")
	require.Equal(t, DefaultStream, stream)
	ch := r.msgs

	sent := []*rawman.Message{
		userEvent("First", "Foo", "bar", "Variable", "a=1", "Variable", "b=2"),
		userEvent("odd name.with*dots>", "Weird", `a<b>&"c'`),
		userEvent("First", "Empty", ""),
	}
	for _, m := range sent {
		require.NoError(t, r.srv.Emit(m))
	}
	subjects := []string{"ami.events.UserEvent.First", "ami.events.UserEvent.odd_name_with_dots_", "ami.events.UserEvent.First"}
	var seqs []int
	for i, want := range sent {
		m := next(t, ch)
		assert.Equal(t, subjects[i], m.Subject)
		assert.Equal(t, r.bridge.RunID(), m.Header.Get(HeaderRun))
		assert.Equal(t, r.bridge.RunID()+"-"+m.Header.Get(HeaderSeq), m.Header.Get(jetstream.MsgIDHeader))
		assert.NotEmpty(t, m.Header.Get(HeaderReceived))
		got := decode(t, m.Data)
		assert.True(t, withoutTimestamp(got).Equal(want), "event %d:\ngot  %v\nwant %v", i, got, want)
		seq, err := strconv.Atoi(m.Header.Get(HeaderSeq))
		require.NoError(t, err)
		seqs = append(seqs, seq)
	}
	assert.Equal(t, []int{1, 2, 3}, seqs, "sequence numbers")
}

// TestEventsInStream checks that JetStream stores the start notice and
// every event once, in order, under their message ids.
func TestEventsInStream(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{})
	r := startRig(t, ns.ClientURL(), Options{})
	for i := range 5 {
		require.NoError(t, r.srv.Emit(userEvent("N", "I", strconv.Itoa(i))))
	}
	msgs := streamMsgs(t, r.nc, DefaultStream, 6)
	assert.Equal(t, "ami.gaps", msgs[0].Subject)
	assert.Contains(t, string(msgs[0].Data), `"Reason":"bridge started"`)
	assert.Equal(t, "1", msgs[0].Header.Get(HeaderGaps))
	for i, m := range msgs {
		assert.Equal(t, r.bridge.msgID(uint64(i)), m.Header.Get(jetstream.MsgIDHeader), "message %d", i)
		if i > 0 {
			assert.Equal(t, strconv.Itoa(i-1), decode(t, m.Data).Get("I"), "message %d", i)
		}
	}
}

// TestRepublishDeduplicated publishes the same event twice under the same
// sequence number, as a retry after a lost ack does: the stream keeps one.
func TestRepublishDeduplicated(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{})
	nc := connectNATS(t, ns.ClientURL())
	b, err := NewBridge(t.Context(), nc, Options{Logger: testLogger(t)})
	require.NoError(t, err)
	ev := poller.Event{Message: userEvent("Once", "Foo", "bar"), Received: time.Now()}
	for range 3 {
		require.NoError(t, b.publishEvent(t.Context(), 7, ev))
	}
	require.NoError(t, b.publishEvent(t.Context(), 8, ev)) // the same content, another event
	msgs := streamMsgs(t, nc, DefaultStream, 2)
	assert.Equal(t, b.msgID(7), msgs[0].Header.Get(jetstream.MsgIDHeader))
	assert.Equal(t, b.msgID(8), msgs[1].Header.Get(jetstream.MsgIDHeader))
	assert.Equal(t, Stats{Events: 4, Duplicates: 2}, b.Stats())
}

// TestCoreFallback runs the bridge against a NATS server without
// JetStream: it publishes with core NATS, and a subscriber gets every
// event.
func TestCoreFallback(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{noJetStream: true})
	r := startRig(t, ns.ClientURL(), Options{})
	_, ok := r.bridge.JetStream()
	require.False(t, ok, "JetStream")
	ch := r.msgs
	for i := range 20 {
		require.NoError(t, r.srv.Emit(userEvent("Core", "I", strconv.Itoa(i))))
	}
	for i := range 20 {
		m := next(t, ch)
		assert.Equal(t, "ami.events.UserEvent.Core", m.Subject)
		assert.Equal(t, strconv.Itoa(i), decode(t, m.Data).Get("I"))
	}
	assert.EqualValues(t, 20, r.bridge.Stats().Events)
}

// TestNoJetStreamOption publishes with core NATS on request, even though
// the server has JetStream: no stream is made.
func TestNoJetStreamOption(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{})
	r := startRig(t, ns.ClientURL(), Options{NoJetStream: true})
	_, ok := r.bridge.JetStream()
	require.False(t, ok, "JetStream")
	require.NoError(t, r.srv.Emit(userEvent("X")))
	assert.Equal(t, "ami.events.UserEvent.X", next(t, r.msgs).Subject)
	js, err := jetstream.New(r.nc)
	require.NoError(t, err)
	_, err = js.Stream(t.Context(), DefaultStream)
	assert.ErrorIs(t, err, jetstream.ErrStreamNotFound)
}

// TestGap restarts the fake Asterisk: the poller's gap notice is published
// on the gap subject, before the events that follow, in the stream too.
func TestGap(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{})
	r := startRig(t, ns.ClientURL(), Options{})
	ch := r.msgs
	require.NoError(t, r.srv.Emit(userEvent("Before")))
	assert.Equal(t, "ami.events.UserEvent.Before", next(t, ch).Subject)

	r.srv.Restart()
	gap := next(t, ch)
	require.Equal(t, "ami.gaps", gap.Subject, "body %s", gap.Data)
	t.Logf("gap notice: %s", gap.Data)
	var g struct {
		Reason   string
		From, To time.Time
	}
	require.NoError(t, json.Unmarshal(gap.Data, &g))
	assert.Equal(t, poller.SessionLost.String(), g.Reason)
	assert.False(t, g.From.IsZero() || g.To.Before(g.From), "From %v To %v", g.From, g.To)
	assert.Equal(t, "2", gap.Header.Get(HeaderGaps), "second gap notice of the run")

	require.NoError(t, r.srv.Emit(userEvent("After")))
	assert.Equal(t, "ami.events.UserEvent.After", next(t, ch).Subject)
	msgs := streamMsgs(t, r.nc, DefaultStream, 4)
	var subjects []string
	for _, m := range msgs {
		subjects = append(subjects, m.Subject)
	}
	assert.Equal(t, []string{"ami.gaps", "ami.events.UserEvent.Before", "ami.gaps", "ami.events.UserEvent.After"}, subjects)
}

// TestRefusedEvent emits an event larger than the NATS server's
// max_payload: a "not published" gap notice takes its place and the
// events after it flow.
func TestRefusedEvent(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{maxPayload: 4096})
	r := startRig(t, ns.ClientURL(), Options{})
	ch := r.msgs
	require.NoError(t, r.srv.Emit(userEvent("Big", "Data", strings.Repeat("x", 8000))))
	require.NoError(t, r.srv.Emit(userEvent("Small")))
	gap := next(t, ch)
	require.Equal(t, "ami.gaps", gap.Subject)
	var g refusedNotice
	require.NoError(t, json.Unmarshal(gap.Data, &g))
	assert.Equal(t, ReasonNotPublished, g.Reason)
	assert.Equal(t, "UserEvent", g.Event)
	assert.Contains(t, g.Error, "maximum payload")
	assert.Equal(t, "ami.events.UserEvent.Small", next(t, ch).Subject)
	assert.EqualValues(t, 1, r.bridge.Stats().Refused)
}

// freePort returns a TCP port of the loopback interface that was free a
// moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestNATSOutage stops the NATS server while events are emitted, then
// starts it again on the same port and store: the stream ends up with
// every event exactly once, in order.
func TestNATSOutage(t *testing.T) {
	leakcheck.Check(t)
	port, dir := freePort(t), t.TempDir()
	ns := startNATS(t, natsOpts{port: port, dir: dir})
	r := startRig(t, ns.ClientURL(), Options{PublishTimeout: 300 * time.Millisecond})
	for i := range 5 {
		require.NoError(t, r.srv.Emit(userEvent("N", "I", strconv.Itoa(i))))
	}
	streamMsgs(t, r.nc, DefaultStream, 6)

	ns.Shutdown()
	ns.WaitForShutdown()
	for i := 5; i < 15; i++ {
		require.NoError(t, r.srv.Emit(userEvent("N", "I", strconv.Itoa(i))))
	}
	require.Eventually(t, func() bool { return r.bridge.Stats().Retries >= 2 }, wait, 10*time.Millisecond, "no retry while NATS is down")

	startNATS(t, natsOpts{port: port, dir: dir})
	msgs := streamMsgs(t, r.nc, DefaultStream, 16)
	for i, m := range msgs[1:] {
		assert.Equal(t, r.bridge.msgID(uint64(i+1)), m.Header.Get(jetstream.MsgIDHeader))
		assert.Equal(t, strconv.Itoa(i), decode(t, m.Data).Get("I"), "stream message %d", i+1)
	}
	st := r.bridge.Stats()
	assert.EqualValues(t, 15, st.Events)
	t.Logf("stats after the outage: %+v", st)
	// Nothing more comes: the stream holds each event once.
	time.Sleep(100 * time.Millisecond)
	streamMsgs(t, r.nc, DefaultStream, 16)
}

// TestShutdown cancels Run's context: it returns context.Canceled
// promptly, even while a publish is being retried.
func TestShutdown(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{})
	r := startRig(t, ns.ClientURL(), Options{PublishTimeout: 100 * time.Millisecond})
	require.NoError(t, r.srv.Emit(userEvent("X")))
	streamMsgs(t, r.nc, DefaultStream, 2)
	ns.Shutdown() // publishes now fail and are retried
	ns.WaitForShutdown()
	require.NoError(t, r.srv.Emit(userEvent("Y")))
	require.Eventually(t, func() bool { return r.bridge.Stats().Retries >= 1 }, wait, 10*time.Millisecond)
	start := time.Now()
	assert.ErrorIs(t, r.stop(t), context.Canceled)
	assert.Less(t, time.Since(start), time.Second)
	assert.Error(t, r.bridge.Run(t.Context(), nil), "second Run")
}

// TestExistingStream uses a stream made beforehand that captures the
// bridge's subjects, whatever its name, and refuses one that captures only
// some of them.
func TestExistingStream(t *testing.T) {
	leakcheck.Check(t)
	ns := startNATS(t, natsOpts{})
	nc := connectNATS(t, ns.ClientURL())
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "PBX", Subjects: []string{"ami.>"}, Duplicates: 10 * time.Minute})
	require.NoError(t, err)
	b, err := NewBridge(t.Context(), nc, Options{Logger: testLogger(t)})
	require.NoError(t, err)
	stream, ok := b.JetStream()
	assert.True(t, ok)
	assert.Equal(t, "PBX", stream)

	_, err = js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "GAPS", Subjects: []string{"other.gaps"}})
	require.NoError(t, err)
	_, err = NewBridge(t.Context(), nc, Options{Prefix: "other", Logger: testLogger(t)})
	assert.ErrorContains(t, err, "captures other.gaps but not other.events.")
}
