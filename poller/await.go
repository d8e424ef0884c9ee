package poller

import (
	"context"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// recentSize is how many events carrying an ActionID the poller keeps
// for Await, so that an event received just before Await is called is
// still found.
const recentSize = 256

type waiter struct {
	actionID, event string
	ch              chan awaited // buffered: resolve never blocks
}

type awaited struct {
	msg *rawman.Message
	err error
}

func (w *waiter) matches(m *rawman.Message) bool {
	return strings.TrimSpace(m.Get("ActionID")) == w.actionID && strings.EqualFold(m.Event(), w.event)
}

func (w *waiter) resolve(m *rawman.Message, err error) {
	select {
	case w.ch <- awaited{m, err}:
	default: // already resolved
	}
}

// Await returns the event named event (compared case-insensitively)
// whose ActionID is actionID: the answer that Asterisk sends as an
// event, such as the OriginateResponse of an Originate with Async set,
// which carries the Originate's ActionID. It sees the events the poller
// receives after Await is called and the last 256 received with an
// ActionID before, whatever the WithFilter predicate says; the session's
// event mask and server filters must let the event through (an
// OriginateResponse is of class call).
//
// Await returns a *Gap (matching ErrGap) if events may have been lost
// while it waited, since the event may be among them; ErrClosed or the
// poller's terminal error once the poller has stopped; ctx's error if
// ctx ends first. While it waits, the Block policy does not hold the
// poller: events go on piling up in the buffer for the consumer, so that
// a consumer may call Await between two reads of Events.
func (p *Poller) Await(ctx context.Context, actionID, event string) (*rawman.Message, error) {
	w := &waiter{actionID: strings.TrimSpace(actionID), event: event, ch: make(chan awaited, 1)}
	p.mu.Lock()
	n := len(p.recent)
	for i := range n { // newest first
		m := p.recent[((p.recentAt-1-i)%n+n)%n]
		if w.matches(m) {
			p.mu.Unlock()
			return m, nil
		}
	}
	if p.stopped || p.closed {
		err := p.err
		p.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return nil, err
	}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	select { // a fetcher held by a full buffer goes on for us
	case p.wake <- struct{}{}:
	default:
	}

	select {
	case r := <-w.ch:
		return r.msg, r.err
	case <-ctx.Done():
		p.mu.Lock()
		for i, x := range p.waiters {
			if x == w {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
		return nil, ctx.Err()
	}
}

// match offers received events to Await: every waiter whose event came
// is resolved, and events with an ActionID are kept for later Awaits.
func (p *Poller) match(msgs []*rawman.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		if !m.Has("ActionID") {
			continue
		}
		m := detach(m)
		if len(p.recent) < recentSize {
			p.recent = append(p.recent, m)
			p.recentAt = len(p.recent) % recentSize
		} else {
			p.recent[p.recentAt] = m
			p.recentAt = (p.recentAt + 1) % recentSize
		}
		kept := p.waiters[:0]
		for _, w := range p.waiters {
			if w.matches(m) {
				w.resolve(m, nil)
			} else {
				kept = append(kept, w)
			}
		}
		clear(p.waiters[len(kept):])
		p.waiters = kept
	}
}

// failWaiters resolves every Await with the gap g.
func (p *Poller) failWaiters(g *Gap) {
	p.mu.Lock()
	ws := p.waiters
	p.waiters = nil
	p.mu.Unlock()
	for _, w := range ws {
		w.resolve(nil, g)
	}
}

// detach returns a copy of m that shares no memory with the answer m was
// decoded from: a decoded message's strings point into its whole body,
// which a kept message would otherwise keep alive.
func detach(m *rawman.Message) *rawman.Message {
	c := m.Clone()
	for i, f := range c.Fields {
		c.Fields[i] = rawman.Field{Key: strings.Clone(f.Key), Value: strings.Clone(f.Value)}
	}
	return c
}
