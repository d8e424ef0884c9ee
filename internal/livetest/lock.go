package livetest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The live Asterisk is one server for every test process: go test runs
// the packages of ./... in parallel, and a test that follows a call's
// events would see the calls of another package's test. Get therefore
// holds a lock shared by the processes of the machine (a file lock in
// the temporary directory) until the test that asked ends; within one
// process the lock is shared, so that nested and sequential tests do
// not wait for themselves.
var (
	lockMu      sync.Mutex
	lockHolders int
	lockFile    *os.File
)

// hold takes the machine-wide lock for tb's lifetime.
func hold(tb testing.TB) {
	lockMu.Lock()
	defer lockMu.Unlock()
	if lockHolders == 0 {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "amihttp-livetest.lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			tb.Fatalf("livetest: lock: %v", err)
		}
		if err := lockFileExclusive(f); err != nil {
			f.Close()
			tb.Fatalf("livetest: lock: %v", err)
		}
		lockFile = f
	}
	lockHolders++
	tb.Cleanup(func() {
		lockMu.Lock()
		defer lockMu.Unlock()
		lockHolders--
		if lockHolders == 0 {
			_ = unlockFile(lockFile)
			lockFile.Close()
			lockFile = nil
		}
	})
}
