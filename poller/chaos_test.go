package poller_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/poller"
)

// TestNoHiddenGaps emits numbered events without pause while faults of
// every kind hit the poller's requests, its session expires (cookie
// sessions) and the fake restarts, and checks what the consumer sees: events in order,
// none twice, and every event missing between two delivered ones
// covered by a gap notice between them.
func TestNoHiddenGaps(t *testing.T) {
	faults := []httpamitest.Fault{
		{Kind: httpamitest.FaultStatus},
		{Kind: httpamitest.FaultDrop},
		{Kind: httpamitest.FaultCut},
		{Kind: httpamitest.FaultTruncate},
		{Kind: httpamitest.FaultGarbage},
		{Kind: httpamitest.FaultStatus, Status: 404},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			p := f.start(t, client(t, f.config(m.auth, m.enc)), poller.WithEventMask("user"))
			stop := f.emitEvery(t, "Chaos", 200*time.Microsecond)
			rng := rand.New(rand.NewPCG(1, uint64(len(m.name))))

			type item struct {
				seq int
				gap bool
			}
			var seen []item
			deadline := time.Now().Add(1500 * time.Millisecond)
			for round := 0; time.Now().Before(deadline); round++ {
				switch r := rng.IntN(10); {
				case r < 6:
					f.InjectFault(faults[rng.IntN(len(faults))])
				case r < 8 && m.auth != httpami.Digest:
					// Asterisk ends a digest session only once idle for
					// httptimeout, which TestOutage covers: ending one in
					// use, as ExpireSessions does, has no counterpart.
					f.ExpireSessions()
				case r < 9:
					f.restart(t, p)
				}
				for range 1 + rng.IntN(20) { // read a few, then the next blow
					ev := next(t, p)
					if ev.Gap != nil {
						seen = append(seen, item{gap: true})
						continue
					}
					n, err := strconv.Atoi(ev.Message.Get("Seq"))
					require.NoError(t, err)
					seen = append(seen, item{seq: n})
				}
			}
			stop()

			last, gapSince, delivered, gaps := -1, false, 0, 0
			for _, it := range seen {
				if it.gap {
					gapSince = true
					gaps++
					continue
				}
				delivered++
				require.Greater(t, it.seq, last, "in order, none twice")
				if it.seq != last+1 && last >= 0 {
					assert.True(t, gapSince, "events %d to %d missing with no gap notice", last+1, it.seq-1)
				}
				last, gapSince = it.seq, false
			}
			t.Logf("%d events delivered, %d gap notices; stats %+v", delivered, gaps, p.Stats())
			assert.Positive(t, gaps)
		})
	}
}
