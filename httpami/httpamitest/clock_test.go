package httpamitest_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/amihttp/amihttp/httpami/httpamitest"
)

var clockStart = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// firing records the order in which timers fire and the time each one saw.
type firing struct {
	mu    sync.Mutex
	names []string
	at    []time.Time
}

func (f *firing) timer(clk *httpamitest.FakeClock, name string) func() {
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.names = append(f.names, name)
		f.at = append(f.at, clk.Now())
	}
}

func (f *firing) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.names)
}

func TestFakeClockNowAndAdvance(t *testing.T) {
	clk := httpamitest.NewFakeClock(clockStart)
	if got := clk.Now(); !got.Equal(clockStart) {
		t.Fatalf("Now = %v, want %v", got, clockStart)
	}
	clk.Advance(90 * time.Second)
	if got, want := clk.Now(), clockStart.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("after Advance(90s) Now = %v, want %v", got, want)
	}
	clk.Set(clockStart.Add(time.Hour))
	if got, want := clk.Now(), clockStart.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("after Set(+1h) Now = %v, want %v", got, want)
	}
	if _, ok := clk.Next(); ok {
		t.Fatal("Next reports a timer on a clock that has none")
	}
}

func TestFakeClockTimersFireInDeadlineOrder(t *testing.T) {
	clk := httpamitest.NewFakeClock(clockStart)
	var f firing
	clk.AfterFunc(3*time.Second, f.timer(clk, "3s"))
	clk.AfterFunc(1*time.Second, f.timer(clk, "1s"))
	clk.AfterFunc(2*time.Second, f.timer(clk, "2s-a"))
	clk.AfterFunc(2*time.Second, f.timer(clk, "2s-b")) // same deadline: scheduling order
	clk.AfterFunc(10*time.Second, f.timer(clk, "10s"))

	if next, ok := clk.Next(); !ok || !next.Equal(clockStart.Add(time.Second)) {
		t.Fatalf("Next = %v, %v; want %v, true", next, ok, clockStart.Add(time.Second))
	}
	clk.Advance(5 * time.Second)
	want := []string{"1s", "2s-a", "2s-b", "3s"}
	if got := f.got(); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	wantAt := []time.Duration{1 * time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second}
	for i, d := range wantAt {
		if !f.at[i].Equal(clockStart.Add(d)) {
			t.Errorf("timer %s saw Now = %v, want its deadline %v", f.names[i], f.at[i], clockStart.Add(d))
		}
	}
	if got, want := clk.Now(), clockStart.Add(5*time.Second); !got.Equal(want) {
		t.Fatalf("after Advance Now = %v, want %v", got, want)
	}
	if next, ok := clk.Next(); !ok || !next.Equal(clockStart.Add(10*time.Second)) {
		t.Fatalf("Next = %v, %v; want the 10 s timer", next, ok)
	}
	clk.Advance(5 * time.Second) // exactly on the deadline
	if got := f.got(); len(got) != 5 || got[4] != "10s" {
		t.Fatalf("a timer due exactly at the new time did not fire: %v", got)
	}
}

func TestFakeClockStop(t *testing.T) {
	clk := httpamitest.NewFakeClock(clockStart)
	var f firing
	a := clk.AfterFunc(time.Second, f.timer(clk, "a"))
	b := clk.AfterFunc(2*time.Second, f.timer(clk, "b"))
	if !a.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	if a.Stop() {
		t.Fatal("second Stop of the same timer reported true")
	}
	clk.Advance(3 * time.Second)
	if got := f.got(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("fired %v, want only b", got)
	}
	if b.Stop() {
		t.Fatal("Stop of a timer that already fired reported true")
	}

	// A timer stopped by an earlier timer's callback does not fire.
	var c httpamitest.Timer
	clk.AfterFunc(time.Second, func() { c.Stop() })
	c = clk.AfterFunc(2*time.Second, f.timer(clk, "c"))
	clk.Advance(5 * time.Second)
	if got := f.got(); slices.Contains(got, "c") {
		t.Fatalf("timer stopped from a callback fired: %v", got)
	}
}

func TestFakeClockZeroAndNegativeDurations(t *testing.T) {
	clk := httpamitest.NewFakeClock(clockStart)
	var f firing
	clk.AfterFunc(0, f.timer(clk, "zero"))
	clk.AfterFunc(-time.Minute, f.timer(clk, "negative"))
	if got := f.got(); len(got) != 0 {
		t.Fatalf("AfterFunc ran its function before any Advance: %v", got)
	}
	clk.Advance(0)
	if got := f.got(); !slices.Equal(got, []string{"negative", "zero"}) {
		t.Fatalf("Advance(0) fired %v, want [negative zero]", got)
	}
	if got := clk.Now(); !got.Equal(clockStart) {
		t.Fatalf("firing an overdue timer moved the clock back: Now = %v", got)
	}
}

func TestFakeClockSetBackwards(t *testing.T) {
	clk := httpamitest.NewFakeClock(clockStart)
	var f firing
	clk.AfterFunc(time.Second, f.timer(clk, "later"))
	clk.Set(clockStart.Add(-time.Hour))
	if got := clk.Now(); !got.Equal(clockStart) {
		t.Fatalf("Set to an earlier time moved the clock to %v; want it to stay at %v", got, clockStart)
	}
	if got := f.got(); len(got) != 0 {
		t.Fatalf("Set backwards fired a timer not yet due: %v", got)
	}

	// AfterFunc: "A d of zero or less runs f at the next Advance or Set";
	// Set: "a t before the current time only fires the timers already due".
	clk.AfterFunc(0, f.timer(clk, "due"))
	clk.Set(clockStart.Add(-time.Hour))
	if got := f.got(); !slices.Equal(got, []string{"due"}) {
		t.Errorf("Set to an earlier time fired %v; want the timer already due [due]", got)
	}
	if got := clk.Now(); !got.Equal(clockStart) {
		t.Fatalf("Now = %v after Set backwards, want %v", got, clockStart)
	}
}

func TestFakeClockTimerScheduledFromCallback(t *testing.T) {
	clk := httpamitest.NewFakeClock(clockStart)
	var f firing
	clk.AfterFunc(time.Second, func() {
		f.timer(clk, "outer")()
		// Due within the same Advance: fires in it, at its own deadline.
		clk.AfterFunc(2*time.Second, func() {
			f.timer(clk, "inner")()
			// Due after the target of the Advance: waits.
			clk.AfterFunc(10*time.Second, f.timer(clk, "innermost"))
		})
		// Due at once: fires before the inner one.
		clk.AfterFunc(0, f.timer(clk, "immediate"))
	})
	clk.AfterFunc(4*time.Second, f.timer(clk, "4s"))
	clk.Advance(5 * time.Second)
	want := []string{"outer", "immediate", "inner", "4s"}
	if got := f.got(); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	wantAt := []time.Duration{time.Second, time.Second, 3 * time.Second, 4 * time.Second}
	for i, d := range wantAt {
		if !f.at[i].Equal(clockStart.Add(d)) {
			t.Errorf("%s saw Now = %v, want %v", f.names[i], f.at[i], clockStart.Add(d))
		}
	}
	if next, ok := clk.Next(); !ok || !next.Equal(clockStart.Add(13*time.Second)) {
		t.Fatalf("Next = %v, %v; want the innermost timer at +13s", next, ok)
	}
	clk.Advance(8 * time.Second)
	if got := f.got(); got[len(got)-1] != "innermost" {
		t.Fatalf("innermost timer did not fire: %v", got)
	}
}

func TestFakeClockConcurrentUse(t *testing.T) {
	clk := httpamitest.NewFakeClock(clockStart)
	var mu sync.Mutex
	fired := 0
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				clk.AfterFunc(time.Duration(i+j)*time.Millisecond, func() {
					mu.Lock()
					fired++
					mu.Unlock()
				})
				_ = clk.Now()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			clk.Advance(time.Millisecond)
		}
	}()
	wg.Wait()
	clk.Advance(time.Hour)
	mu.Lock()
	defer mu.Unlock()
	if fired != 8*50 {
		t.Fatalf("%d timers fired, want %d", fired, 8*50)
	}
	if _, ok := clk.Next(); ok {
		t.Fatal("timers left pending after advancing past all of them")
	}
}
