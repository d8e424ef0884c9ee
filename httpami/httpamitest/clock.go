package httpamitest

import (
	"sort"
	"sync"
	"time"
)

// A Clock tells the server the time and runs its timers: session expiry,
// digest nonce age, WaitEvent timeouts, the one-second delay of a failed
// Login, keep-alive idle closes and the steps of simulated calls all go
// through it. The default is the system clock; tests pass a [*FakeClock]
// so that nothing waits for real.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine (system clock) or from
	// Advance (FakeClock) once d has elapsed, and returns a Timer that
	// can cancel the call.
	AfterFunc(d time.Duration, f func()) Timer
}

// A Timer is a pending call scheduled by [Clock.AfterFunc].
type Timer interface {
	// Stop cancels the call; it reports whether the call was still
	// pending.
	Stop() bool
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// A FakeClock is a [Clock] that moves only when told to. Timers due by the
// new time fire during [FakeClock.Advance] or [FakeClock.Set], in deadline
// order, each with Now reading its own deadline, on the caller's
// goroutine. It is safe for concurrent use.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*fakeTimer // sorted by (when, seq)
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f to run when the clock has been moved d past now.
// A d of zero or less runs f at the next Advance or Set, even by zero.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{c: c, when: c.now.Add(d), seq: c.seq, f: f}
	i := sort.Search(len(c.timers), func(i int) bool { return t.before(c.timers[i]) })
	c.timers = append(c.timers, nil)
	copy(c.timers[i+1:], c.timers[i:])
	c.timers[i] = t
	return t
}

// Advance moves the clock forward by d, firing every timer that falls due.
func (c *FakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock forward to t, firing every timer due by t; a t
// before the current time only fires the timers already due.
func (c *FakeClock) Set(t time.Time) {
	for {
		c.mu.Lock()
		limit := t
		if c.now.After(limit) {
			limit = c.now
		}
		if len(c.timers) == 0 || c.timers[0].when.After(limit) {
			if t.After(c.now) {
				c.now = t
			}
			c.mu.Unlock()
			return
		}
		next := c.timers[0]
		c.timers = c.timers[1:]
		if next.when.After(c.now) {
			c.now = next.when
		}
		c.mu.Unlock()
		next.f()
	}
}

// Next returns the deadline of the earliest pending timer, and false when
// none is pending.
func (c *FakeClock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return c.timers[0].when, true
}

type fakeTimer struct {
	c    *FakeClock
	when time.Time
	seq  uint64
	f    func()
}

func (t *fakeTimer) before(u *fakeTimer) bool {
	if t.when.Equal(u.when) {
		return t.seq < u.seq
	}
	return t.when.Before(u.when)
}

func (t *fakeTimer) Stop() bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, u := range c.timers {
		if u == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}
