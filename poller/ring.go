package poller

// ring is the queue of events waiting for the consumer: a growable
// circular buffer, so that memory stays flat however many events pass.
type ring struct {
	buf    []Event
	head   int // index of the oldest entry
	n      int // entries
	events int // entries that are events, not gap notices
}

func (r *ring) len() int { return r.n }

func (r *ring) push(ev Event) {
	if r.n == len(r.buf) {
		nb := make([]Event, max(16, 2*len(r.buf)))
		for i := range r.n {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = ev
	r.n++
	if ev.Message != nil {
		r.events++
	}
}

// pop removes and returns the oldest entry; the ring must not be empty.
func (r *ring) pop() Event {
	ev := r.buf[r.head]
	r.buf[r.head] = Event{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	if ev.Message != nil {
		r.events--
	}
	if r.n == 0 {
		r.head = 0
	}
	return ev
}

// dropOldestEvent removes and returns the oldest entry that is an event,
// keeping the gap notices before it in order; r.events must not be 0.
func (r *ring) dropOldestEvent() Event {
	k := 0
	for r.buf[(r.head+k)%len(r.buf)].Message == nil {
		k++
	}
	ev := r.buf[(r.head+k)%len(r.buf)]
	for i := k; i > 0; i-- { // move the gap notices one slot later
		r.buf[(r.head+i)%len(r.buf)] = r.buf[(r.head+i-1)%len(r.buf)]
	}
	r.buf[r.head] = Event{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	r.events--
	return ev
}
