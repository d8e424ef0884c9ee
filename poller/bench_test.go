package poller_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	lc "github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/poller"
)

// The benchmarks run against a fake Asterisk on the system clock, in the
// same process: its CPU time and allocations count in the figures, as
// they do in the baseline's.
const (
	benchName   = "Bench"   // the UserEvent name of the benchmarks' events
	benchEvents = 1_000_000 // events per iteration of the throughput benchmarks
	benchChunk  = 1000      // events emitted at a time
	benchWindow = 5000      // at most this many emitted and not yet received
	benchHeapAt = 100_000   // events received when the first heap is read
)

// benchServer starts a fake Asterisk on the system clock for b, and
// checks that nothing of b's is left running when it ends.
func benchServer(b *testing.B) *httpamitest.Server {
	b.Helper()
	lc.Check(b)
	srv := httpamitest.NewServer()
	b.Cleanup(srv.Close)
	return srv
}

// benchPoller starts a poller on a cookie session over /rawman that lets
// only the benchmarks' UserEvents through (not the security events of
// its Login), closed when b ends.
func benchPoller(b *testing.B, srv *httpamitest.Server) *poller.Poller {
	b.Helper()
	c := client(b, httpami.Config{URL: srv.URL, Username: "hello", Secret: "world"})
	p, err := poller.New(c, poller.WithFilter(func(m *rawman.Message) bool {
		return m.Get("UserEvent") == benchName
	}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	if err := p.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	return p
}

// benchEvent returns the UserEvent the benchmarks emit; Seq numbers it.
func benchEvent() *rawman.Message {
	m := &rawman.Message{}
	m.Add("Event", "UserEvent")
	m.Add("Privilege", "user,all")
	m.Add("UserEvent", benchName)
	m.Add("Seq", "0")
	return m
}

// benchReceive returns the next event of p, failing b if the channel is
// closed or carries a gap notice.
func benchReceive(b *testing.B, p *poller.Poller) *rawman.Message {
	ev, ok := <-p.Events()
	if !ok {
		b.Fatalf("the channel was closed; Err: %v", p.Err())
	}
	if ev.Gap != nil {
		b.Fatalf("unexpected gap notice: %v", ev.Gap)
	}
	return ev.Message
}

// BenchmarkLatency measures the time from Server.Emit to the event
// coming out of Poller.Events, one event at a time, and reports its
// median and 99th percentile. In back-to-back, each event is emitted as
// soon as the previous one is received, so it may find the next
// WaitEvent still on its way; in idle, it is emitted once the next
// WaitEvent waits in the fake (the timer is stopped meanwhile, so its
// ns/op and allocs/op leave out the sending of that WaitEvent): the case
// of a PBX whose events are sparse. The percentiles need many samples:
// run it with the default -benchtime, not 1x.
func BenchmarkLatency(b *testing.B) {
	b.Run("back-to-back", func(b *testing.B) { benchLatency(b, false) })
	b.Run("idle", func(b *testing.B) { benchLatency(b, true) })
}

func benchLatency(b *testing.B, idle bool) {
	srv := benchServer(b)
	p := benchPoller(b, srv)
	ctx := context.Background()
	m := benchEvent()
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		if idle {
			b.StopTimer()
			if err := srv.AwaitWaiting(ctx, 1); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		seq := strconv.Itoa(len(took))
		m.Set("Seq", seq)
		start := time.Now()
		if err := srv.Emit(m); err != nil {
			b.Fatal(err)
		}
		got := benchReceive(b, p)
		took = append(took, time.Since(start))
		if got.Get("Seq") != seq {
			b.Fatalf("received Seq %q, want %q", got.Get("Seq"), seq)
		}
	}
	benchPercentiles(b, took)
}

// benchPercentiles reports the median and 99th percentile of took, in
// milliseconds.
func benchPercentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	ms := func(q int) float64 {
		return float64(took[min(len(took)-1, len(took)*q/100)]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(50), "p50-ms")
	b.ReportMetric(ms(99), "p99-ms")
}

// benchFlow emits numbered UserEvents on a fake Asterisk in chunks,
// never more than benchWindow ahead of what the consumer received, so
// that the fake's queue stays bounded, and checks that they are received
// once each and in order.
type benchFlow struct {
	srv      *httpamitest.Server
	msg      *rawman.Message
	emitted  int
	received int
	heap100k uint64
}

// fill emits chunks while the window allows, up to limit events in all.
func (f *benchFlow) fill(b *testing.B, limit int) {
	for f.emitted < limit && f.emitted-f.received <= benchWindow-benchChunk {
		for range min(benchChunk, limit-f.emitted) {
			f.msg.Set("Seq", strconv.Itoa(f.emitted))
			if err := f.srv.Emit(f.msg); err != nil {
				b.Fatal(err)
			}
			f.emitted++
		}
	}
}

// got checks that seq is the Seq of the next event, and reads the heap
// once benchHeapAt events were received.
func (f *benchFlow) got(b *testing.B, seq string) {
	if n, err := strconv.Atoi(seq); err != nil || n != f.received {
		b.Fatalf("received Seq %q, want %d", seq, f.received)
	}
	f.received++
	if f.received == benchHeapAt {
		b.StopTimer()
		f.heap100k = benchHeap()
		b.StartTimer()
	}
}

// report reports events/s and the heap after benchHeapAt events and
// now, and fails b if the heap grew more than twice.
func (f *benchFlow) report(b *testing.B) {
	end := benchHeap()
	b.ReportMetric(float64(f.received)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(f.heap100k), "heap100k-B")
	b.ReportMetric(float64(end), "heapEnd-B")
	if end > 2*f.heap100k {
		b.Errorf("heap after %d events: %d B, more than twice the %d B after %d", f.received, end, f.heap100k, benchHeapAt)
	}
}

// benchHeap returns the live heap.
func benchHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkThroughput pushes a million small UserEvents per iteration
// from the fake through a poller and reports events/s; run it with
// -benchtime=1x, as one iteration takes seconds. The heap, read after
// the first 100,000 events and at the end, must stay flat. Compare with
// BenchmarkThroughputBareWaitEvent in the same run.
func BenchmarkThroughput(b *testing.B) {
	srv := benchServer(b)
	p := benchPoller(b, srv)
	f := &benchFlow{srv: srv, msg: benchEvent()}
	b.ReportAllocs()
	for b.Loop() {
		limit := f.received + benchEvents
		for f.received < limit {
			f.fill(b, limit)
			f.got(b, benchReceive(b, p).Get("Seq"))
		}
	}
	f.report(b)
	if st := p.Stats(); st.Gaps != 0 || st.Dropped != 0 {
		b.Errorf("Stats = %+v, want no gap and nothing dropped", st)
	}
}

// BenchmarkThroughputBareWaitEvent is the baseline of
// BenchmarkThroughput: the same events through a hand-written loop of
// WaitEvent requests with net/http on a cookie session logged in
// beforehand, decoded with one rawman.Decoder into one reused Message;
// no poller, no httpami.Client, and no WaitEvent in flight while the
// events are read.
func BenchmarkThroughputBareWaitEvent(b *testing.B) {
	srv := benchServer(b)
	post := benchBare(b, srv)
	f := &benchFlow{srv: srv, msg: benchEvent()}
	b.ReportAllocs()
	for b.Loop() {
		limit := f.received + benchEvents
		for f.received < limit {
			f.fill(b, limit)
			post("Action=WaitEvent&Timeout=40", func(m *rawman.Message) {
				if m.Event() == "UserEvent" && m.Get("UserEvent") == benchName {
					f.got(b, m.Get("Seq"))
				}
			})
		}
	}
	f.report(b)
}

// BenchmarkLatencyBareWaitEvent is the baseline of BenchmarkLatency/idle:
// a hand-written net/http WaitEvent, waiting in the fake before the
// event is emitted, until the event is decoded from its answer; no
// poller, no httpami.Client. The timer is stopped while the WaitEvent is
// sent, as in BenchmarkLatency/idle.
func BenchmarkLatencyBareWaitEvent(b *testing.B) {
	srv := benchServer(b)
	post := benchBare(b, srv)
	post("Action=WaitEvent&Timeout=0", func(*rawman.Message) {}) // the Login's security events
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := benchEvent()
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		seq := strconv.Itoa(len(took))
		got, done := make(chan time.Time, 1), make(chan struct{})
		go func() {
			defer close(done)
			post("Action=WaitEvent&Timeout=40", func(m *rawman.Message) {
				if m.Get("UserEvent") == benchName && m.Get("Seq") == seq {
					got <- time.Now()
				}
			})
		}()
		if err := srv.AwaitWaiting(ctx, 1); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		m.Set("Seq", seq)
		start := time.Now()
		if err := srv.Emit(m); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-got:
			took = append(took, at.Sub(start))
		case <-done:
			select {
			case at := <-got: // both were ready
				took = append(took, at.Sub(start))
			default:
				b.Fatalf("WaitEvent answered without event %s", seq)
			}
		}
		b.StopTimer()
		<-done // the rest of the answer: the next WaitEvent reuses the decoder
		b.StartTimer()
	}
	benchPercentiles(b, took)
}

// benchBare logs in a cookie session on srv with plain net/http and
// returns a function that posts a form to /rawman and calls each with
// every message of the answer, decoded with one rawman.Decoder into one
// reused Message (so each must not be called from two goroutines at
// once).
func benchBare(b *testing.B, srv *httpamitest.Server) (post func(form string, each func(*rawman.Message))) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Jar: jar, Transport: tr}
	endpoint := srv.URL + "/rawman"
	dec := rawman.NewDecoder(strings.NewReader(""))
	var m rawman.Message
	post = func(form string, each func(*rawman.Message)) {
		resp, err := hc.Post(endpoint, "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			b.Error(err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("%s: %s", form, resp.Status)
			return
		}
		dec.Reset(resp.Body)
		for {
			if err := dec.Decode(&m); err == io.EOF {
				return
			} else if err != nil {
				b.Error(err)
				return
			}
			each(&m)
		}
	}
	post("Action=Login&Username=hello&Secret=world", func(m *rawman.Message) {
		if m.IsResponse() && m.Response() != "Success" {
			b.Fatalf("Login: %s", m.Get("Message"))
		}
	})
	return post
}
