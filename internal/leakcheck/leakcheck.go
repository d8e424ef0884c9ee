// Package leakcheck fails a test that leaves goroutines behind.
//
// Check notes the goroutines running when it is called; when the test
// ends (after the cleanups registered after Check, such as closing a
// server or a client), it polls runtime.Stack until every goroutine
// started since has ended, and fails the test with their stacks if some
// are still there after a grace period. Connections' reader and writer
// goroutines take a moment to see their socket closed, hence the polling.
// It must not be used in parallel tests, whose goroutines it would count.
package leakcheck

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Grace is how long Check waits for goroutines to end.
var Grace = 5 * time.Second

// Check makes t fail if goroutines started after the call are still
// running once t's later cleanups have run.
func Check(t testing.TB) {
	t.Helper()
	before := map[string]bool{}
	for id := range goroutines() {
		before[id] = true
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(Grace)
		for {
			var left []string
			for id, stack := range goroutines() {
				if !before[id] && !ignored(stack) {
					left = append(left, stack)
				}
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leakcheck: %d goroutine(s) left running:\n\n%s", len(left), strings.Join(left, "\n\n"))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// goroutines returns the stack of every goroutine but the caller's, by
// goroutine id.
func goroutines() map[string]string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the calling goroutine
		}
		s := string(g)
		id, _, _ := strings.Cut(strings.TrimPrefix(s, "goroutine "), " ")
		out[id] = s
	}
	return out
}

// ignored tells the goroutines of the runtime and the testing package.
func ignored(stack string) bool {
	for _, s := range []string{"testing.tRunner", "testing.(*T).Run(", "os/signal.signal_recv", "testing.runFuzzing"} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}
