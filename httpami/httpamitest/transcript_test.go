package httpamitest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amihttp/amihttp/encoding/mxml"
	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/transcript"
	"github.com/amihttp/amihttp/internal/xmlname"
)

var transcriptsFlag = flag.String("transcripts", "", "folder of recorded groups to replay (default: this module's testdata/asterisk-23)")

// notReplayed are the groups that are references for the codecs only:
// classic AMI over TCP, and the HTML endpoints the fake does not serve.
var notReplayed = map[string]bool{"tcp": true, "manager": true}

// TestTranscripts replays every recorded group against a fresh fake and
// compares each answer with the recorded one. See replay for how the
// clock and the ids are driven, and normalize for what is allowed to
// differ. With REPLAY_DEBUG set in the environment it logs each request
// as sent and each answer as received.
func TestTranscripts(t *testing.T) {
	dir := *transcriptsFlag
	if dir == "" {
		d, err := transcript.Dir()
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	known := loadKnownDifferences(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() || notReplayed[e.Name()] {
			continue
		}
		xs, err := transcript.LoadGroup(dir, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if len(xs) == 0 {
			continue
		}
		for _, x := range xs {
			seen[x.ID()] = true
		}
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			replay(t, xs, known)
		})
	}
	if *transcriptsFlag == "" {
		for id := range known {
			if !seen[id] {
				t.Errorf("known_differences lists %s, which is not a recorded exchange", id)
			}
		}
	}
}

// loadKnownDifferences reads the file known_differences: one exchange id
// ("group/NNN-name") per line, then its reason; # starts a comment.
func loadKnownDifferences(t *testing.T) map[string]string {
	b, err := os.ReadFile("known_differences")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		known[id] = strings.TrimSpace(reason)
	}
	return known
}

// A replayer drives one group: a fake with a FakeClock set to the
// recorded times, ids handed out as the recording shows them, and one
// client connection per recorded connection.
type replayer struct {
	t       *testing.T
	srv     *Server
	clk     *FakeClock
	tls     bool
	sent    int64  // requests the server should have read
	dials   int64  // connections opened
	current string // the exchange last sent
	conns   map[string]*clientConn
	known   map[string]string

	mu         sync.Mutex
	ids        []uint32 // ids the current step's recorded answer shows
	challenges []uint32
	written    map[string]time.Time // client address → time of the last answer written
	answers    map[string]int       // client address → answers written
}

type clientConn struct {
	name string
	c    net.Conn
	br   *bufio.Reader
	last *step // the exchange in flight on this connection
}

type step struct {
	x       *transcript.Exchange
	cc      *clientConn
	done    chan struct{}
	resp    []byte
	err     error
	sentAt  time.Time
	doneAt  time.Time
	noReply bool // recorded: closed without an answer
	before  int  // answers written on its connection before it was sent
}

func replay(t *testing.T, xs []*transcript.Exchange, known map[string]string) {
	r := &replayer{t: t, conns: map[string]*clientConn{}, known: known, written: map[string]time.Time{}, answers: map[string]int{}}
	start := xs[0].Meta.SentAt.Add(-xs[0].Meta.SentAt.Sub(xs[0].Meta.SentAt.Truncate(time.Second)))
	r.clk = NewFakeClock(start.Add(-5 * time.Second))
	opts := []Option{
		WithClock(r.clk),
		WithHTTPTimeout(time.Duration(recordedHTTPTimeout(xs)) * time.Second),
		withIDs(r.nextID, r.nextChallenge),
	}
	for _, u := range referenceUsers() {
		opts = append(opts, WithUser(u))
	}
	r.srv = NewUnstartedServer(opts...)
	r.srv.afterWrite = r.noteWrite
	suffixes := localPairs(xs)
	r.srv.ami.chans.hintLocal(func() (uint64, bool) {
		if len(suffixes) == 0 {
			return 0, false
		}
		n := suffixes[0]
		suffixes = suffixes[1:]
		return n, true
	})
	for _, x := range xs {
		if strings.HasPrefix(x.Meta.URL, "https:") {
			r.tls = true
		}
	}
	if r.tls {
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	defer r.srv.Close()

	var steps []*step
	for _, x := range xs {
		st := &step{x: x, done: make(chan struct{}), noReply: len(x.Resp) == 0}
		r.send(st)
		steps = append(steps, st)
	}
	r.drain(steps)
	for _, st := range steps {
		if os.Getenv("REPLAY_DEBUG") != "" {
			r.t.Logf("%s sent %s done %s:\n%s", st.x.ID(), st.sentAt.Format("15:04:05.000000"), st.doneAt.Format("15:04:05.000000"), clip(st.resp))
		}
		r.check(st)
	}
	for _, cc := range r.conns {
		cc.c.Close()
	}
}

// referenceUsers are the manager.conf users of the recordings.
func referenceUsers() []User {
	return []User{
		{Name: "hello", Secret: "world", Read: "all", Write: "all"},
		{Name: "limited", Secret: "limited", Read: "system,call", Write: "originate"},
		{Name: "filtered", Secret: "filtered", Read: "all", Write: "all",
			EventFilters: []string{"Event: UserEvent", "!UserEvent: Drop"}},
	}
}

var maxAgeRe = regexp.MustCompile(`Max-Age=(\d+)`)

// recordedHTTPTimeout reads httptimeout from the recorded cookies.
func recordedHTTPTimeout(xs []*transcript.Exchange) int {
	for _, x := range xs {
		if m := maxAgeRe.FindSubmatch(x.Resp); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			return n
		}
	}
	return 60
}

var (
	cookieRe    = regexp.MustCompile(`mansession_id="([0-9a-f]{8})"`)
	nonceRe     = regexp.MustCompile(`nonce="([0-9a-f]{8})"`)
	challengeRe = regexp.MustCompile(`(?:Challenge: |challenge=')(\d+)`)
)

// hint makes the ids the recorded answer of x shows the next ones the
// fake hands out, so that the recorded cookies, nonces and MD5 keys of
// the following requests are valid as they are.
func (r *replayer) hint(x *transcript.Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids, r.challenges = nil, nil
	for _, m := range cookieRe.FindAllSubmatch(x.Resp, -1) {
		r.ids = append(r.ids, uint32(scanHex(string(m[1]))))
	}
	for _, m := range nonceRe.FindAllSubmatch(x.Resp, -1) {
		r.ids = append(r.ids, uint32(scanHex(string(m[1]))))
	}
	for _, m := range challengeRe.FindAllSubmatch(x.Resp, -1) {
		n, _ := strconv.ParseUint(string(m[1]), 10, 32)
		r.challenges = append(r.challenges, uint32(n))
	}
}

func (r *replayer) nextID() uint32 { return r.pop(&r.ids) }

func (r *replayer) nextChallenge() uint32 { return r.pop(&r.challenges) }

// pop hands out the next hinted number, or a random one.
func (r *replayer) pop(q *[]uint32) uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(*q) == 0 {
		return randomUint32()
	}
	n := (*q)[0]
	*q = (*q)[1:]
	return n
}

func (r *replayer) noteWrite(remote string, at time.Time) {
	r.mu.Lock()
	r.written[remote] = at
	r.answers[remote]++
	r.mu.Unlock()
}

// quiet waits until the server has read every request sent and each of
// them is either answered or parked on the clock.
func (r *replayer) quiet() {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r.srv.accepted.Load() >= r.dials && r.srv.received.Load() >= r.sent && r.srv.busy.Load() == r.srv.parked.Load() {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("server not quiet after %s: received %d of %d, busy %d, parked %d, accepted %d of %d",
				r.current, r.srv.received.Load(), r.sent, r.srv.busy.Load(), r.srv.parked.Load(), r.srv.accepted.Load(), r.dials)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// advance moves the clock to at, firing each timer at its own time and
// letting the server settle after each.
func (r *replayer) advance(at time.Time) {
	for {
		r.quiet()
		next, ok := r.clk.Next()
		if !ok || next.After(at) {
			r.clk.Set(at)
			r.quiet()
			return
		}
		r.clk.Set(next)
	}
}

// send replays one exchange at its recorded time.
func (r *replayer) send(st *step) {
	x := st.x
	cc := r.conns[x.Meta.Conn]
	if cc != nil && cc.last != nil {
		r.await(cc.last, x.Meta.SentAt.Add(time.Minute))
	}
	fresh := cc == nil || x.Meta.ConnSeq == 1
	if fresh && cc != nil {
		cc.c.Close()
	}
	if fresh && st.noReply && x.Meta.GapMS > 0 {
		// A first request that got no answer probed a connection left
		// idle since the previous step: open it then, so that it ages as
		// it did. Others are opened just before they are sent.
		r.advance(x.Meta.SentAt.Add(-time.Duration(x.Meta.GapMS * float64(time.Millisecond))))
		cc, fresh = r.dial(x.Meta.Conn), false
	}
	r.advance(x.Meta.SentAt)
	if fresh {
		cc = r.dial(x.Meta.Conn)
	}
	r.hint(x)
	if os.Getenv("REPLAY_DEBUG") != "" {
		r.t.Logf("send %s at %s on %s", x.ID(), r.clk.Now().Format("15:04:05.000000"), cc.name)
	}
	st.cc, st.sentAt = cc, r.clk.Now()
	r.current = x.ID()
	r.mu.Lock()
	st.before = r.answers[cc.c.LocalAddr().String()]
	r.mu.Unlock()
	cc.last = st
	if !st.noReply {
		r.sent++
	}
	go func() {
		if _, err := cc.c.Write(x.Req); err != nil && st.noReply {
			st.err = err
			close(st.done)
			return
		}
		st.resp, _, _, st.err = transcript.ReadAnswer(cc.br, x.Meta.Method)
		close(st.done)
	}()
	r.quiet()
}

func (r *replayer) dial(name string) *clientConn {
	var c net.Conn
	var err error
	addr := r.srv.Listener.Addr().String()
	if r.tls {
		c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.dials++
	cc := &clientConn{name: name, c: c, br: bufio.NewReader(c)}
	r.conns[name] = cc
	return cc
}

// await advances the clock timer by timer until st is answered, up to
// limit.
func (r *replayer) await(st *step, limit time.Time) {
	for {
		select {
		case <-st.done:
			r.finish(st)
			return
		case <-time.After(20 * time.Millisecond):
		}
		r.quiet()
		select {
		case <-st.done:
			r.finish(st)
			return
		default:
		}
		r.mu.Lock()
		answered := r.answers[st.cc.c.LocalAddr().String()] > st.before
		r.mu.Unlock()
		next, ok := r.clk.Next()
		if answered || !ok || next.After(limit) {
			// Answered but not read yet, or nothing left to wait for:
			// moving the clock on would only close idle connections.
			select {
			case <-st.done:
				r.finish(st)
			case <-time.After(2 * time.Second):
				st.err = errors.New("no answer (the fake is waiting for something the replay never does)")
				st.cc.c.Close()
				<-st.done
			}
			return
		}
		r.clk.Set(next)
	}
}

func (r *replayer) finish(st *step) {
	if !st.doneAt.IsZero() {
		return
	}
	r.mu.Lock()
	st.doneAt = r.written[st.cc.c.LocalAddr().String()]
	r.mu.Unlock()
	st.cc.last = nil
}

func (r *replayer) drain(steps []*step) {
	for _, st := range steps {
		if st.cc.last == st {
			r.await(st, st.x.Meta.SentAt.Add(10*time.Minute))
		}
	}
}

// check compares the answer of st with the recorded one.
func (r *replayer) check(st *step) {
	t := r.t
	x := st.x
	diffs := compareExchange(x, st)
	reason, isKnown := r.known[x.ID()]
	switch {
	case len(diffs) == 0 && isKnown:
		t.Errorf("%s: listed in known_differences (%s) but now matches: remove it", x.ID(), reason)
	case len(diffs) > 0 && isKnown:
		t.Logf("%s: known difference (%s): %s", x.ID(), reason, diffs[0])
	case len(diffs) > 0:
		t.Errorf("%s: %d differences:\n\t%s\n--- got:\n%s", x.ID(), len(diffs), strings.Join(diffs, "\n\t"), clip(st.resp))
	}
}

func clip(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "…"
	}
	return string(b)
}

func compareExchange(x *transcript.Exchange, st *step) []string {
	if len(x.Resp) == 0 {
		if len(st.resp) != 0 {
			return []string{"recorded: closed without an answer; fake answered"}
		}
		return nil
	}
	if st.err != nil && len(st.resp) == 0 {
		return []string{"no answer: " + st.err.Error()}
	}
	var diffs []string
	want, got := splitResponse(x.Resp), splitResponse(st.resp)
	if want.status != got.status {
		diffs = append(diffs, fmt.Sprintf("status line %q, want %q", got.status, want.status))
	}
	bodyDiffs, normalized := compareBodies(want, got)
	wh, gh := want.headers, got.headers
	for i := 0; i < max(len(wh), len(gh)); i++ {
		var w, g header
		if i < len(wh) {
			w = wh[i]
		}
		if i < len(gh) {
			g = gh[i]
		}
		if w.name != g.name {
			diffs = append(diffs, fmt.Sprintf("header %d is %q, want %q", i, g.name, w.name))
			continue
		}
		switch {
		case strings.EqualFold(w.name, "Date"):
		case strings.EqualFold(w.name, "Content-Length") && normalized:
		default:
			if w.value != g.value {
				diffs = append(diffs, fmt.Sprintf("header %s: %q, want %q", w.name, g.value, w.value))
			}
		}
	}
	diffs = append(diffs, bodyDiffs...)
	diffs = append(diffs, compareTiming(x, st)...)
	return diffs
}

// compareTiming checks that the fake began its answer as long after the
// request on its clock as Asterisk did for real (first_byte_ms; total_ms
// may include the recorder's own waits): within 100 ms or 5 %, whichever
// is larger.
func compareTiming(x *transcript.Exchange, st *step) []string {
	if st.doneAt.IsZero() {
		return nil
	}
	got := st.doneAt.Sub(st.sentAt)
	want := time.Duration(x.Meta.FirstByteMS * float64(time.Millisecond))
	tol := max(100*time.Millisecond, want/20)
	if got < want-tol || got > want+tol {
		return []string{fmt.Sprintf("answered after %v on the fake's clock, Asterisk took %v", got, want)}
	}
	return nil
}

type splitResp struct {
	status  string
	headers []header
	ctype   string
	body    []byte
}

func splitResponse(b []byte) splitResp {
	var r splitResp
	head, body, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	r.status = lines[0]
	for _, l := range lines[1:] {
		name, value, _ := strings.Cut(l, ": ")
		r.headers = append(r.headers, header{name, value})
		if strings.EqualFold(name, "Content-type") {
			r.ctype = value
		}
	}
	r.body = body
	return r
}

// compareBodies compares AMI bodies message by message and field by
// field after normalize, other bodies byte for byte. It reports whether
// any value had to be normalized (the lengths may then differ).
func compareBodies(want, got splitResp) ([]string, bool) {
	if want.ctype != "text/plain" && want.ctype != "text/xml" || len(want.body) == 0 {
		if !bytes.Equal(want.body, got.body) {
			return []string{fmt.Sprintf("body %q, want %q", clip(got.body), clip(want.body))}, false
		}
		return nil, false
	}
	wm, werr := decodeBody(want.ctype, want.body)
	gm, gerr := decodeBody(want.ctype, got.body)
	if werr != nil {
		return []string{"recorded body does not decode: " + werr.Error()}, false
	}
	if gerr != nil {
		return []string{"body does not decode: " + gerr.Error()}, false
	}
	var wn, gn []string // mxml attribute names as written, per message
	if want.ctype == "text/xml" {
		wn, gn = xmlNames(want.body), xmlNames(got.body)
	}
	if isWaitEventAnswer(wm) {
		wm, wn = inEventOrder(wm, wn)
		gm, gn = inEventOrder(gm, gn)
	}
	var diffs []string
	normalized := false
	if len(wm) != len(gm) {
		diffs = append(diffs, fmt.Sprintf("%d messages, want %d", len(gm), len(wm)))
	}
	for i := 0; i < min(len(wm), len(gm)); i++ {
		w, g := wm[i], gm[i]
		if w.Len() != g.Len() {
			diffs = append(diffs, fmt.Sprintf("message %d (%s): %d fields, want %d", i, label(w), g.Len(), w.Len()))
		}
		for j := 0; j < min(w.Len(), g.Len()); j++ {
			wf, gf := w.Fields[j], g.Fields[j]
			wv, nw := normalize(wf.Key, wf.Value)
			gv, ng := normalize(gf.Key, gf.Value)
			normalized = normalized || nw || ng
			if wf.Key != gf.Key || wv != gv {
				diffs = append(diffs, fmt.Sprintf("message %d (%s) field %d: %q: %q, want %q: %q", i, label(w), j, gf.Key, gf.Value, wf.Key, wf.Value))
			}
		}
	}
	// The decoder folds "name-2" back to "name": compare the attribute
	// names as written too.
	if len(diffs) == 0 && !slices.Equal(wn, gn) {
		diffs = append(diffs, fmt.Sprintf("attribute names %q, want %q", gn, wn))
	}
	if !normalized && !bytes.Equal(want.body, got.body) && len(diffs) == 0 {
		diffs = append(diffs, "bodies decode alike but differ in bytes")
	}
	return diffs, normalized
}

var xmlNameRe = regexp.MustCompile(` ([A-Za-z0-9_][A-Za-z0-9_.-]*)='`)

// xmlNames lists the attribute names of an mxml body as written, one
// string per message.
func xmlNames(body []byte) []string {
	var out []string
	for line := range strings.SplitSeq(string(body), "\n") {
		if !strings.HasPrefix(line, "<response ") {
			continue
		}
		var names []string
		for _, m := range xmlNameRe.FindAllStringSubmatch(line, -1) {
			names = append(names, m[1])
		}
		out = append(out, strings.Join(names, " "))
	}
	return out
}

func isWaitEventAnswer(msgs []*rawman.Message) bool {
	return len(msgs) > 0 && msgs[0].Get("Message") == "Waiting for Event completed."
}

// floating are the events Asterisk publishes from threads of their own
// (device state, the originate thread, the dial thread): where they land
// among a call's channel events differs from run to run (three recordings
// of one scenario, originate/003, 009 and 029, show three orders).
var floating = map[string]bool{"devicestatechange": true, "originateresponse": true, "dialend": true}

// inEventOrder puts the messages of a WaitEvent answer (and their mxml
// names, if any) in the order the comparison demands. Asterisk runs each
// channel in a thread of its own, so only the order of one channel's
// events is fixed: the answer's own messages and the events of no
// channel keep their order, then come each channel's events in their
// order, channel by channel, then the floating events, sorted.
func inEventOrder(msgs []*rawman.Message, names []string) ([]*rawman.Message, []string) {
	keys := make([]string, len(msgs))
	idx := make([]int, len(msgs))
	for i, m := range msgs {
		idx[i], keys[i] = i, orderKey(m)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	out := make([]*rawman.Message, len(msgs))
	var outNames []string
	for i, j := range idx {
		out[i] = msgs[j]
		if j < len(names) {
			outNames = append(outNames, names[j])
		}
	}
	return out, outNames
}

func orderKey(m *rawman.Message) string {
	if floating[strings.ToLower(m.Get("Event"))] {
		var b strings.Builder
		b.WriteString("\xff")
		for _, f := range m.Fields {
			v, _ := normalize(f.Key, f.Value)
			b.WriteString(strings.ToLower(f.Key) + ": " + v + "\n")
		}
		return b.String()
	}
	for _, f := range []string{"Channel", "LocalOneChannel", "DestChannel"} {
		if v := m.Get(f); v != "" && m.IsEvent() && m.Event() != "WaitEventComplete" {
			n, _ := normalize(f, v)
			return "channel " + n
		}
	}
	return ""
}

func label(m *rawman.Message) string {
	if e := m.Get("Event"); e != "" {
		return e
	}
	return "Response " + m.Get("Response")
}

func decodeBody(ctype string, body []byte) ([]*rawman.Message, error) {
	var msgs []*rawman.Message
	next := rawman.NewDecoder(bytes.NewReader(body)).Decode
	if ctype == "text/xml" {
		next = mxml.NewDecoder(bytes.NewReader(body)).Decode
	}
	for {
		m := new(rawman.Message)
		err := next(m)
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

// Values that differ between two runs of the same Asterisk by nature.
var (
	// times, and dates the fake cannot know: masked whole
	variableKeys = []string{
		"Timestamp", "EventTV", "SessionTV", "SessionID", "Uptime", "LastReload",
		"CoreStartupDate", "CoreStartupTime", "CoreReloadDate", "CoreReloadTime", "Duration", "Seconds",
		"CoreProcessedCalls",
	}
	portRe      = regexp.MustCompile(`^(IPV[46]/(?:TCP|TLS|UDP)/[^/]+)/\d+$`)
	epochRe     = regexp.MustCompile(`\b1\d{9}\.\d+\b`)
	localRe     = regexp.MustCompile(`(Local/[^;,\s]+)-[0-9a-f]{8}(;[12])`)
	buildRe     = regexp.MustCompile(`^(Asterisk \S+) built by .* on a (\S+) running (\S+) on .*$`)
	durationRe  = regexp.MustCompile(`\b\d\d:\d\d:\d\d\b`)
	processedRe = regexp.MustCompile(`^\d+ (calls? processed)$`)
)

// normalize masks what differs by nature: clock readings (Timestamp,
// EventTV, SessionTV, uptimes, the core start date and time, call
// durations), the session pointer in security events, client and server
// ports, Uniqueid/Linkedid (epoch.sequence), the 8-hex suffix of Local
// channel names, the build line of "core show version", and the calls
// the process handled before the recording (CoreProcessedCalls, "N calls
// processed"). It reports
// whether it changed the value.
func normalize(key, value string) (string, bool) {
	for _, k := range variableKeys {
		if xmlname.Equal(key, k) {
			return "<" + k + ">", true
		}
	}
	v := value
	if xmlname.Equal(key, "RemoteAddress") || xmlname.Equal(key, "LocalAddress") {
		v = portRe.ReplaceAllString(v, "$1/<port>")
	}
	v = epochRe.ReplaceAllString(v, "<epoch>")
	v = localRe.ReplaceAllString(v, "$1-<n>$2")
	if xmlname.Equal(key, "Output") {
		v = buildRe.ReplaceAllString(v, "$1 built by <build>")
		v = durationRe.ReplaceAllString(v, "<hh:mm:ss>")
		v = processedRe.ReplaceAllString(v, "<n> $1")
	}
	return v, v != value
}

// localSuffixRe finds the Local channels of Channel fields (rawman or
// mxml), not the names an error message echoes from a request.
var localSuffixRe = regexp.MustCompile(`(?m)(?:^Channel: |\bchannel=')Local/[^;,\s']+-([0-9a-f]{8});[12]`)

// localPairs returns the suffixes of the Local channels the recorded
// answers of the group show, in ascending order: the k-th Local pair the
// fake makes takes the k-th, so that it numbers its channels as the
// recorded Asterisk process did (whose counters carried over from the
// groups recorded before, and from steps held back from the recordings),
// and the channel names in recorded requests name the fake's channels.
func localPairs(xs []*transcript.Exchange) []uint64 {
	seen := map[uint64]bool{}
	for _, x := range xs {
		for _, m := range localSuffixRe.FindAllSubmatch(x.Resp, -1) {
			n, _ := strconv.ParseUint(string(m[1]), 16, 32)
			seen[n] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
