package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// Concurrent writers and readers, under -race: every write is kept whole.
func TestConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("ab\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := strings.Count(b.String(), "ab\n"); got != 800 || len(b.Bytes()) != 2400 {
		t.Errorf("%d writes kept, %d bytes; want 800 and 2400", got, len(b.Bytes()))
	}
}
