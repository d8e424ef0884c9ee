package httpami

import (
	"testing"
	"time"
)

// TestBackoff checks that the wait doubles from min to max and that its
// jitter keeps it within the upper half of each step.
func TestBackoff(t *testing.T) {
	const lo, hi = 50 * time.Millisecond, 2 * time.Second
	for n := range 40 {
		step := hi
		if n < 6 {
			step = lo << n
		}
		seen := map[time.Duration]bool{}
		for range 200 {
			d := backoff(lo, hi, n, nil)
			if d < step/2 || d > step {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, step/2, step)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("backoff(%d): only %d distinct waits in 200: no jitter", n, len(seen))
		}
	}
}
