package poller

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/amihttp/amihttp/httpami"
)

// Quick empty answers: Asterisk wakes a WaitEvent for any event, even
// one the session does not receive, and never waits when httptimeout is
// 10 s or less. After quickRun such answers in a row, each quicker than
// quickAnswer, the poller waits before the next WaitEvent, from
// quickPause doubling up to a second, so that it never spins.
const (
	quickRun    = 3
	quickAnswer = 50 * time.Millisecond
	quickPause  = 10 * time.Millisecond
)

// digestMargin is how much sooner than httptimeout after its last
// request the poller deems a digest session possibly expired (a quarter
// of it at most): the Client's own retries of a refused request may
// take that long.
const digestMargin = 5 * time.Second

// idleClose is how long the poller may leave its connection idle before
// it closes it rather than reuse it: under Asterisk's 15 s keep-alive,
// as httpami.DefaultIdleConnTimeout.
const idleClose = httpami.DefaultIdleConnTimeout

// loop is the state of the fetcher: the goroutine that sends WaitEvents
// one at a time and queues what they bring.
type loop struct {
	p *Poller

	gen         uint64    // the Client's session generation
	lastOK      time.Time // end of the last complete WaitEvent answer
	lastReached time.Time // start of the last request Asterisk answered
	failing     time.Time // start of the failures under way; zero if none
	pending     *Gap      // the gap to report before the next events
	reapply     bool      // set the event mask and filters again
	fails       int       // failures in a row, for the backoff
	authFails   int       // credentials refused in a row
	quick       int       // quick empty answers in a row
	blocked     bool      // the consumer held the poller since lastOK
	lastEnd     time.Time // end of the last WaitEvent

	// Digest only: Asterisk's startup time, to tell a restart, which
	// renews a digest session without a word, and whether it is worth
	// checking before the next WaitEvent.
	startup string
	doubt   bool
}

// setup logs in and sets the event mask and filters.
func (l *loop) setup(ctx context.Context) error {
	p := l.p
	if p.digest || p.own || p.c.Generation() == 0 {
		if _, err := p.c.Login(ctx); err != nil {
			return err
		}
	}
	l.gen = p.c.Generation()
	if p.digest {
		s, err := l.startupTime(ctx)
		switch {
		case errors.Is(err, httpami.ErrPermission):
			p.log.Debug("poller: CoreStatus refused: restarts of Asterisk are told by failures only", "err", err)
		case err != nil:
			return err
		}
		l.startup = s
	}
	now := p.o.now()
	l.lastOK, l.lastReached, l.lastEnd = now, now, now
	return l.apply(ctx)
}

// startupTime returns when Asterisk started, from CoreStatus.
func (l *loop) startupTime(ctx context.Context) (string, error) {
	st, err := l.p.c.CoreStatus(ctx)
	if err != nil {
		return "", err
	}
	return st.CoreStartupDate + " " + st.CoreStartupTime, nil
}

// verify checks, with digest auth, whether Asterisk restarted since the
// poller last heard from it: the session is then new, without its
// events, mask and filters, although Asterisk said nothing (spec §3.5).
func (l *loop) verify(ctx context.Context) error {
	if l.startup == "" { // CoreStatus refused: doubt is all there is
		l.gap(ConnectionFailed, nil)
		l.doubt = false
		return nil
	}
	s, err := l.startupTime(ctx)
	if err != nil {
		return err
	}
	if s != l.startup {
		l.p.relogins.Add(1) // a new session, without a Login
		l.gap(SessionLost, errRestarted)
		l.startup = s
	}
	l.doubt = false
	return nil
}

// errRestarted is the Err of the gap of a digest session lost to a
// restart of Asterisk.
var errRestarted = errors.New("poller: Asterisk restarted")

// apply sets the event mask and filters of a session that may be new.
// The Login of the poller's own cookie session does it by itself (see
// New); digest sessions and a shared session need the actions.
func (l *loop) apply(ctx context.Context) error {
	p := l.p
	l.reapply = false
	if p.own && !p.digest {
		return nil
	}
	if p.o.mask != "" {
		on, err := p.c.SetEventMask(ctx, p.o.mask)
		if err != nil {
			l.reapply = true
			return err
		}
		if !on {
			p.log.Warn("poller: Asterisk turned the event mask off: it knows none of its classes", "mask", p.o.mask)
		}
	}
	if err := addFilters(ctx, p.c, p.o.filters); err != nil {
		l.reapply = true
		return err
	}
	return nil
}

// addFilters sends a Filter action for each server filter.
func addFilters(ctx context.Context, c *httpami.Client, filters []serverFilter) error {
	for _, f := range filters {
		if _, err := c.Filter(ctx, f.pattern, f.criteria); err != nil {
			return err
		}
	}
	return nil
}

// run sends WaitEvents until ctx ends (it then returns nil) or a
// terminal error.
func (l *loop) run(ctx context.Context) error {
	p := l.p
	for {
		if p.o.policy == Block && p.held() {
			l.blocked = true
			if !l.awaitRoom(ctx) {
				return nil
			}
		}
		start := p.o.now()
		l.suspect(start)
		idle := start.Sub(l.lastEnd)
		if idle >= idleClose {
			// Asterisk has closed the connection kept alive (after
			// 15 s), unless the transport did first: a WaitEvent
			// written on it would fail as if its answer were lost.
			p.c.CloseIdleConnections()
		}
		if p.digest && idle >= time.Second {
			l.doubt = true // Asterisk may have restarted meanwhile
		}
		var err error
		if l.doubt {
			err = l.verify(ctx)
		}
		if err == nil && l.reapply {
			err = l.apply(ctx)
		}
		if err != nil {
			if goOn, err := l.fail(ctx, err, start, false); !goOn {
				return err
			}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, p.o.waitTimeout+p.grace)
		resp, err := p.c.Do(rctx, p.wait)
		cancel()
		end := p.o.now()
		l.lastEnd = end
		if err != nil {
			if goOn, err := l.fail(ctx, err, start, true); !goOn {
				return err
			}
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		l.success(resp, start, end)
		if d := l.pause(resp, start, end); d > 0 && !l.sleep(ctx, d) {
			return nil
		}
	}
}

// fail handles a request that failed with err, the WaitEvent (waited)
// or an action before it, and backs off. It reports whether the poller
// goes on; if not, the error to stop with (nil when ctx ended).
func (l *loop) fail(ctx context.Context, err error, start time.Time, waited bool) (bool, error) {
	if ctx.Err() != nil {
		return false, nil
	}
	if l.fatal(err) {
		return false, err
	}
	l.failure(err, start, waited)
	return l.sleep(ctx, l.backoff()), nil
}

// awaitRoom waits until the consumer has taken an event; false when ctx
// ended first.
func (l *loop) awaitRoom(ctx context.Context) bool {
	p := l.p
	// Warn once the session may expire: a cookie session lives
	// httptimeout after its last answer, a digest one less.
	t := time.NewTimer(max(0, p.o.httpTimeout-10*time.Second-p.o.now().Sub(l.lastOK)))
	defer t.Stop()
	for p.held() {
		select {
		case <-p.room:
		case <-p.wake:
		case <-t.C:
			p.log.Warn("poller: the consumer has not taken an event for a long time: the session may expire and events be lost", "buffered", p.o.buffer)
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// suspect notes the gaps that the time since the last answer makes
// likely, before the next WaitEvent is sent at now.
func (l *loop) suspect(now time.Time) {
	p := l.p
	reason := ConnectionFailed
	if l.blocked {
		reason = SlowConsumer
	}
	switch {
	case p.digest && now.Sub(l.lastReached) >= l.digestLife():
		// A digest session lives httptimeout from the start of its last
		// request; once purged, Asterisk makes a new one for the same
		// nonce without a word (spec §3.5).
		l.gap(reason, nil)
	case now.Sub(l.lastOK) >= 2*p.o.httpTimeout:
		// Asterisk drops events older than 2.5 × httptimeout even from
		// a live session (spec §5.6).
		l.gap(reason, nil)
	case !l.failing.IsZero() && now.Sub(l.failing) > p.o.waitTimeout:
		l.gap(ConnectionFailed, nil)
	}
}

// digestLife returns how long after the start of its last request a
// digest session is deemed alive: Asterisk gives it max(httptimeout,
// 5 s), less a margin for the Client's own retries.
func (l *loop) digestLife() time.Duration {
	life := max(l.p.o.httpTimeout, 5*time.Second)
	return life - min(digestMargin, life/4)
}

// gap notes that events may be missing since the last complete answer;
// of several reasons, the most severe is reported.
func (l *loop) gap(r Reason, err error) {
	if l.pending == nil {
		l.pending = &Gap{Reason: r, From: l.lastOK, Err: err}
		l.p.log.Warn("poller: events may be lost", "reason", r.String(), "since", l.lastOK, "err", err)
	} else if r < l.pending.Reason {
		l.pending.Reason = r
		if err != nil { // the error that explains the reason
			l.pending.Err = err
		}
	}
	if l.pending.Err == nil {
		l.pending.Err = err
	}
	if l.p.digest {
		l.reapply = true // the session may be new
	}
}

// failure handles a failed request: a WaitEvent (waited) or an action
// restoring the event mask and filters.
func (l *loop) failure(err error, start time.Time, waited bool) {
	p := l.p
	p.ko.Add(1)
	l.fails++
	l.doubt = p.digest
	switch {
	case waited && errors.Is(err, httpami.ErrEmptyBody):
		p.kicked.Add(1)
		l.gap(Kicked, err)
		return
	case waited && errors.Is(err, httpami.ErrOutcomeUnknown):
		// The answer may have carried events: Asterisk moved the
		// cursor past them.
		l.gap(AnswerLost, err)
	}
	if l.failing.IsZero() {
		l.failing = start
		p.log.Warn("poller: cannot reach Asterisk; trying again", "err", err)
	} else {
		p.log.Debug("poller: failed again", "err", err, "fails", l.fails)
	}
}

// success handles a WaitEvent answer: it reports the gap the answer
// ends, then queues its events.
func (l *loop) success(resp *httpami.Response, start, end time.Time) {
	p := l.p
	p.waitEvents.Add(1)
	if gen := p.c.Generation(); resp.Renewed || gen != l.gen {
		p.relogins.Add(1)
		reason := SessionLost
		if l.blocked && end.Sub(l.lastOK) >= p.o.httpTimeout {
			reason = SlowConsumer
		}
		l.gap(reason, httpami.ErrSessionLost)
		l.gen = gen
		l.reapply = true
	}
	if !l.failing.IsZero() && end.Sub(l.failing) > p.o.waitTimeout {
		l.gap(ConnectionFailed, nil)
	}
	gap := l.pending
	if gap != nil {
		gap.To = end
		p.failWaiters(gap)
	}
	l.pending, l.failing, l.fails, l.authFails, l.blocked = nil, time.Time{}, 0, 0, false
	l.lastOK, l.lastReached = end, start

	msgs := resp.Events
	if len(msgs) == 0 {
		p.empty.Add(1)
	} else {
		p.match(msgs)
	}
	if p.digest {
		for _, m := range msgs {
			if m.Event() == "Shutdown" { // Asterisk is stopping: is it back?
				l.doubt = true
			}
		}
	}
	if accept := p.o.accept; accept != nil {
		kept := msgs[:0:0]
		for _, m := range msgs {
			if accept(m) {
				kept = append(kept, m)
			} else {
				p.filtered.Add(1)
			}
		}
		msgs = kept
	}
	if gap != nil || len(msgs) > 0 {
		p.queue(gap, msgs, end)
	}
}

// pause returns how long to wait before the next WaitEvent: nothing,
// unless quick empty answers come in a row.
func (l *loop) pause(resp *httpami.Response, start, end time.Time) time.Duration {
	if len(resp.Events) > 0 || end.Sub(start) >= quickAnswer {
		l.quick = 0
		return 0
	}
	l.quick++
	if l.quick < quickRun {
		return 0
	}
	return min(time.Second, l.p.o.httpTimeout/4, quickPause<<min(l.quick-quickRun, 10))
}

// backoff returns the wait before the next attempt after l.fails
// failures in a row: exponential from the minimum to the maximum, over
// its upper half at random.
func (l *loop) backoff() time.Duration {
	p := l.p
	d := p.o.backoffMax
	if l.fails <= 30 {
		d = min(p.o.backoffMax, p.o.backoffMin<<(l.fails-1))
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d, or until ctx ends (then false).
func (l *loop) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// maxAuthFails is how many times in a row the credentials may be
// refused while the poller runs before it gives up: Asterisk may refuse
// them for a moment while it starts, before manager.conf is loaded.
const maxAuthFails = 5

// fatal reports whether err, from a request of the running poller,
// stops it.
func (l *loop) fatal(err error) bool {
	if !terminal(err) {
		return false
	}
	if errors.Is(err, httpami.ErrAuthentication) && l.authFails < maxAuthFails {
		l.authFails++
		return false
	}
	return true
}

// terminal reports whether err stops the poller: retrying cannot help.
func terminal(err error) bool {
	var he *httpami.HTTPError
	switch {
	case errors.Is(err, httpami.ErrAuthentication),
		errors.Is(err, httpami.ErrPermission),
		errors.Is(err, httpami.ErrUnknownAction),
		errors.Is(err, httpami.ErrInvalidAction),
		errors.Is(err, httpami.ErrClosed):
		return true
	case errors.As(err, &he):
		// Asterisk's HTTP server answers 404 for a moment while it
		// starts, before the manager's endpoints are registered.
		return he.StatusCode >= 400 && he.StatusCode < 500 && he.StatusCode != 404
	}
	return false
}
