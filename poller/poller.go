package poller

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
)

var (
	// ErrClosed is returned by Await once the poller has stopped, and by
	// Start after Close.
	ErrClosed = errors.New("poller: closed")
	// ErrStarted is returned by Start and Run on a poller already
	// started.
	ErrStarted = errors.New("poller: already started")
)

// logoffTimeout bounds the Logoff of the poller's own session when it
// stops.
const logoffTimeout = 5 * time.Second

// A Poller turns WaitEvent calls into a channel of events. Its methods
// are safe for concurrent use.
type Poller struct {
	c      *httpami.Client // the client the WaitEvents go through
	own    bool            // c is the poller's, made from the caller's Config
	digest bool
	o      options
	log    *slog.Logger
	wait   httpami.Action // the WaitEvent action, made once
	grace  time.Duration  // the WaitEvent's deadline past its Timeout

	events chan Event
	more   chan struct{} // the fetcher queued something (cap 1)
	room   chan struct{} // the deliverer took something (cap 1)
	wake   chan struct{} // an Await began (cap 1)
	done   chan struct{} // closed when the poller has stopped

	mu       sync.Mutex
	cancel   context.CancelFunc // set by Start
	closed   bool               // Close was called
	q        ring
	dropGap  *Gap // events discarded since the last delivery
	stopped  bool // the fetcher has ended
	err      error
	waiters  []*waiter
	recent   []*rawman.Message // events with an ActionID, for Await
	recentAt int

	closeOnce sync.Once
	closeErr  error // the Logoff's

	delivered, dropped, filtered, gaps      atomic.Uint64
	waitEvents, empty, kicked, relogins, ko atomic.Uint64
}

// New returns a Poller of the events of the Asterisk that c talks to.
// It does no I/O: Start logs in. Unless WithSharedSession is given,
// the poller has a session of its own, made from c.Config() (same
// server, credentials, encoding, auth and transport), because the
// session's event cursor, event mask and filters would otherwise be
// shared with c's other uses: a Logoff or Close of c would end the
// event stream, and a WaitEvent sent by anyone else on c would take
// events from the poller.
func New(c *httpami.Client, opts ...Option) (*Poller, error) {
	if c == nil {
		return nil, errors.New("poller: New: nil client")
	}
	o := options{
		buffer:      DefaultBuffer,
		httpTimeout: DefaultHTTPTimeout,
		backoffMin:  DefaultBackoffMin,
		backoffMax:  DefaultBackoffMax,
		now:         time.Now,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	cfg := c.Config()
	if o.shared && cfg.Auth == httpami.Digest {
		// The digest transport signs concurrent requests with nonces of
		// a pool, and each nonce is a session to Asterisk: the Client's
		// actions and the WaitEvents would land on different sessions.
		return nil, errors.New("poller: WithSharedSession: a digest Client has no single session to share (each nonce is one)")
	}
	p := &Poller{
		c:      c,
		digest: cfg.Auth == httpami.Digest,
		o:      o,
		log:    o.logger,
		events: make(chan Event),
		more:   make(chan struct{}, 1),
		room:   make(chan struct{}, 1),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		recent: make([]*rawman.Message, 0, recentSize),
	}
	if p.log == nil {
		p.log = cfg.Logger
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if !o.shared {
		if !p.digest {
			// Every Login of the poller's session sets the mask and,
			// before any WaitEvent runs on it, the filters.
			if o.mask != "" {
				cfg.Events = o.mask
			}
			if len(o.filters) > 0 {
				user := cfg.AfterLogin
				cfg.AfterLogin = func(ctx context.Context, c *httpami.Client) error {
					if user != nil {
						if err := user(ctx, c); err != nil {
							return err
						}
					}
					return addFilters(ctx, c, o.filters)
				}
			}
		}
		own, err := httpami.New(cfg)
		if err != nil {
			return nil, err
		}
		p.c, p.own = own, true
	}

	timeout := o.waitTimeout
	switch {
	case timeout < 0:
		timeout = 0
	case timeout == 0:
		timeout = min(DefaultWaitTimeout, max(time.Second, o.httpTimeout-20*time.Second))
	}
	if hc := cfg.HTTPClient; hc != nil && hc.Timeout > 0 {
		timeout = max(0, min(timeout, hc.Timeout-5*time.Second)).Truncate(time.Second)
	}
	p.o.waitTimeout = timeout
	p.grace = 15 * time.Second
	p.wait = httpami.Action{Name: "WaitEvent", Params: []rawman.Field{
		{Key: "Timeout", Value: strconv.Itoa(int(timeout / time.Second))},
	}}
	return p, nil
}

// Events returns the channel of events and gap notices. It is closed
// when the poller stops: after Close, after the context given to Start
// or Run ends, or after a terminal error (see Err), once the events
// already received are delivered. With the Block policy the channel must
// be read, or the poller stops asking Asterisk for events.
func (p *Poller) Events() <-chan Event { return p.events }

// Start logs in (with digest auth, sends a Ping), sets the event mask
// and filters, and starts polling in the background until ctx ends or
// Close is called. An error from those first steps (wrong credentials,
// Asterisk unreachable, a Filter the user may not send) is returned,
// and the poller is then stopped. Start may be called once.
func (p *Poller) Start(ctx context.Context) error {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return ErrClosed
	case p.cancel != nil:
		p.mu.Unlock()
		return ErrStarted
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	p.mu.Unlock()

	l := &loop{p: p}
	if err := l.setup(ctx); err != nil {
		p.finish(parent, err, nil)
		return err
	}
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		p.deliver(ctx)
	}()
	go func() {
		p.finish(parent, l.run(ctx), delivered)
	}()
	return nil
}

// finish stops the poller once its fetcher has ended with err: it
// records the error, waits for the deliverer, closes the channel, logs
// off and releases Close and Run.
func (p *Poller) finish(parent context.Context, err error, delivered <-chan struct{}) {
	p.mu.Lock()
	closing := p.closed
	p.mu.Unlock()
	switch {
	case closing:
		err = nil
	case err == nil:
		err = parent.Err()
	default:
		p.log.Warn("poller: stopped", "err", err)
	}
	p.stop(err)
	if delivered != nil {
		<-delivered
	}
	close(p.events)
	p.logoff(parent)
	p.cancel()
	close(p.done)
}

// Run is Start, then waits until the poller stops; it returns what Err
// then returns, or Start's error.
func (p *Poller) Run(ctx context.Context) error {
	if err := p.Start(ctx); err != nil {
		return err
	}
	<-p.done
	return p.Err()
}

// Err returns the error that stopped the poller: a terminal error
// (credentials refused, a permission missing, the shared Client closed),
// or the context's error if the context given to Start or Run ended.
// It returns nil while the poller runs, and if Close stopped it.
func (p *Poller) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Close stops the poller and waits until its goroutines have ended and
// its own session is logged off (for at most 5 s). Events not yet
// delivered are discarded, and the channel is closed. Close may be
// called more than once; it returns the Logoff's error.
func (p *Poller) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		cancel := p.cancel
		p.mu.Unlock()
		if cancel == nil { // never started
			p.stop(nil)
			close(p.events)
			close(p.done)
			return
		}
		cancel()
		<-p.done
	})
	return p.closeErr
}

// Stats returns the poller's counters.
func (p *Poller) Stats() Stats {
	return Stats{
		Delivered:  p.delivered.Load(),
		Dropped:    p.dropped.Load(),
		Filtered:   p.filtered.Load(),
		Gaps:       p.gaps.Load(),
		WaitEvents: p.waitEvents.Load(),
		Empty:      p.empty.Load(),
		Kicked:     p.kicked.Load(),
		Relogins:   p.relogins.Load(),
		Failures:   p.ko.Load(),
	}
}

// stop records that the fetcher has ended, with its error, and fails
// every Await.
func (p *Poller) stop(err error) {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		p.err = err
	}
	ws := p.waiters
	p.waiters = nil
	p.mu.Unlock()
	if err == nil {
		err = ErrClosed
	}
	for _, w := range ws {
		w.resolve(nil, err)
	}
	select {
	case p.more <- struct{}{}:
	default:
	}
}

// logoff ends the poller's own session, so that Asterisk does not keep
// queueing events for it until it expires.
func (p *Poller) logoff(parent context.Context) {
	if !p.own {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), logoffTimeout)
	defer cancel()
	p.closeErr = p.c.Close(ctx)
}

// deliver moves events from the queue to the channel until ctx ends, or
// the fetcher has stopped and the queue is empty.
func (p *Poller) deliver(ctx context.Context) {
	for {
		p.mu.Lock()
		ev, ok := Event{}, false
		switch {
		case p.dropGap != nil:
			ev, ok = Event{Gap: p.dropGap, Received: p.dropGap.To}, true
			p.dropGap = nil
			p.gaps.Add(1)
		case p.q.len() > 0:
			ev, ok = p.q.pop(), true
		}
		stopped := p.stopped
		p.mu.Unlock()
		if !ok {
			if stopped {
				return
			}
			select {
			case <-p.more:
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case p.room <- struct{}{}:
		default:
		}
		if ev.Message != nil {
			p.delivered.Add(1) // before the send, so that a consumer's Stats count what it has
		}
		select {
		case p.events <- ev:
		case <-ctx.Done():
			if ev.Message != nil {
				p.delivered.Add(^uint64(0))
			}
			return
		}
	}
}

// queue appends received events (and a gap notice before them) for the
// deliverer, applying the DropOldest policy.
func (p *Poller) queue(gap *Gap, msgs []*rawman.Message, at time.Time) {
	p.mu.Lock()
	if gap != nil {
		p.q.push(Event{Gap: gap, Received: at})
		p.gaps.Add(1)
	}
	for _, m := range msgs {
		p.q.push(Event{Message: m, Received: at})
	}
	if p.o.policy == DropOldest {
		for p.q.events > p.o.buffer {
			ev := p.q.dropOldestEvent()
			if p.dropGap == nil {
				p.dropGap = &Gap{Reason: Dropped, From: ev.Received}
			}
			p.dropGap.To = ev.Received
			p.dropGap.Dropped++
			p.dropped.Add(1)
		}
	}
	p.mu.Unlock()
	select {
	case p.more <- struct{}{}:
	default:
	}
}

// held reports whether the Block policy holds the fetcher: the buffer
// holds as many events as it may, and no Await waits (which would then
// wait for the consumer).
func (p *Poller) held() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.q.events >= p.o.buffer && len(p.waiters) == 0
}
