package poller

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
)

func ringEvent(i int) Event {
	m := &rawman.Message{}
	m.Add("Seq", fmt.Sprint(i))
	return Event{Message: m}
}

func ringSeqs(r *ring) []string {
	var out []string
	for r.len() > 0 {
		ev := r.pop()
		if ev.Gap != nil {
			out = append(out, "gap")
		} else {
			out = append(out, ev.Message.Get("Seq"))
		}
	}
	return out
}

// TestRing checks the queue's order across growth and wrap-around, and
// that dropping the oldest event keeps gap notices in place.
func TestRing(t *testing.T) {
	var r ring
	for i := range 40 { // grows twice
		r.push(ringEvent(i))
		if i%3 == 0 {
			r.pop()
		}
	}
	assert.Equal(t, 26, r.len())
	assert.Equal(t, 26, r.events)
	got := ringSeqs(&r)
	assert.Equal(t, "14", got[0])
	assert.Equal(t, "39", got[len(got)-1])

	r.push(ringEvent(1))
	r.push(Event{Gap: &Gap{Reason: SessionLost}})
	r.push(Event{Gap: &Gap{Reason: Kicked}})
	r.push(ringEvent(2))
	r.push(ringEvent(3))
	require.Equal(t, 3, r.events)
	assert.Equal(t, "1", r.dropOldestEvent().Message.Get("Seq"))
	assert.Equal(t, "2", r.dropOldestEvent().Message.Get("Seq"), "past the gap notices")
	assert.Equal(t, 1, r.events)
	assert.Equal(t, []string{"gap", "gap", "3"}, ringSeqs(&r))
	assert.Zero(t, r.len())
}
