package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	lc "github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/syncbuf"
)

// goTool returns the go command, or skips t if there is none.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	// Else the GOROOT of the environment, if set.
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no go tool to build the command with")
	return ""
}

// buildAmihttp builds the command into a temporary directory and returns
// the binary's path.
func buildAmihttp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "amihttp")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool(t), "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// A proc is the built command running as a subprocess.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr syncbuf.Buffer
	done           chan struct{}
	err            error // of Wait, once done is closed
}

// startProc starts the binary with args and the environment variables vars
// on top of the test's. It is killed, at the latest, when t ends.
func startProc(t *testing.T, bin string, vars []string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	p := &proc{cmd: exec.CommandContext(ctx, bin, args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), vars...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// wait waits for the process to end, for at most d, and returns its exit
// status.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("amihttp %q did not end within %v; stdout:\n%s\nstderr:\n%s", p.cmd.Args[1:], d, p.stdout.String(), p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(t, p.err)
	return p.cmd.ProcessState.ExitCode()
}

// interrupt sends os.Interrupt to the process, as Ctrl-C does, and returns
// its exit status.
func (p *proc) interrupt(t *testing.T) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	return p.wait(t, 15*time.Second)
}

// TestBinary is the acceptance test of the issue: the built command, as
// people run it, against a fake Asterisk in the test's process (events and
// originate) and as a fake for a client (fake), and the demo.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	if runtime.GOOS == "windows" {
		t.Skip("sends os.Interrupt, which Windows cannot")
	}
	bin := buildAmihttp(t)

	t.Run("events and originate", func(t *testing.T) {
		lc.Check(t)
		srv := httpamitest.NewServer()
		t.Cleanup(srv.Close)
		env := urlVar(fakeURL(srv, ""))

		events := startProc(t, bin, env, "events")
		eventually(t, "events polls", func() bool { return strings.Contains(events.stderr.String(), "events: polling") }, &events.stderr)

		began := time.Now()
		orig := startProc(t, bin, env, "originate", "--channel", "Local/100@test", "--context", "test", "--exten", "100", "--async")
		code := orig.wait(t, 20*time.Second)
		require.Equal(t, exitOK, code, "originate: stdout %s\nstderr %s", orig.stdout.String(), orig.stderr.String())
		assert.Greater(t, time.Since(began), 2*time.Second, "originate waited for the hangup (Wait(2) in the dialplan)")
		assert.Contains(t, orig.stdout.String(), "originate: the call has hung up (2 channels")
		assert.Contains(t, orig.stdout.String(), "UserEvent=TestEvent Foo=bar")

		hangups := func() (n int) {
			for _, m := range jsonLines(t, events.stdout.String()) {
				if m["Event"] == "Hangup" {
					n++
				}
			}
			return n
		}
		eventually(t, "events prints both hangups", func() bool { return hangups() == 2 }, &events.stdout, &events.stderr)
		seen := map[string]bool{}
		for _, m := range jsonLines(t, events.stdout.String()) {
			seen[m["Event"].(string)] = true
			if m["Event"] == "UserEvent" {
				assert.Equal(t, "TestEvent", m["UserEvent"])
				assert.Equal(t, "bar", m["Foo"])
			}
		}
		for _, name := range []string{"Newchannel", "UserEvent", "OriginateResponse", "Hangup"} {
			assert.True(t, seen[name], "events printed a %s", name)
		}

		assert.Equal(t, exitOK, events.interrupt(t), "events after Ctrl-C; stderr %s", events.stderr.String())
		assert.NotContains(t, events.stderr.String(), "gap:")
	})

	t.Run("demo", func(t *testing.T) {
		began := time.Now()
		demo := startProc(t, bin, nil, "demo")
		require.Equal(t, exitOK, demo.wait(t, 10*time.Second), "demo: stderr %s", demo.stderr.String())
		assert.Less(t, time.Since(began), 10*time.Second)
		assert.Contains(t, demo.stdout.String(), "9. Log off")
		assert.Contains(t, demo.stdout.String(), "Done in")
	})

	t.Run("fake", func(t *testing.T) {
		lc.Check(t)
		fake := startProc(t, bin, nil, "fake", "--addr", "127.0.0.1:0", "--traffic", "200ms")
		u := fakeURLOf(t, &fake.stdout, &fake.stderr)

		ping := startProc(t, bin, urlVar(u), "action", "Ping", "--json")
		require.Equal(t, exitOK, ping.wait(t, 10*time.Second), "action Ping: stderr %s", ping.stderr.String())
		assert.Contains(t, ping.stdout.String(), `"Ping":"Pong"`)

		// A client of the module's own, as any program would be.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := httpami.Dial(ctx, u+"?auth=digest")
		require.NoError(t, err)
		chans := 0
		eventually(t, "the simulated calls are up", func() bool {
			list, _, err := c.CoreShowChannels(ctx)
			chans = len(list)
			return err == nil && chans > 0
		}, &fake.stderr)
		require.NoError(t, c.Close(ctx))
		eventually(t, "calls are logged", func() bool { return strings.Contains(fake.stderr.String(), "fake: call 1 to Local/100@test") }, &fake.stderr)

		assert.Equal(t, exitOK, fake.interrupt(t), "fake after Ctrl-C; stderr %s", fake.stderr.String())
		assert.Contains(t, fake.stderr.String(), "fake: stopped")
	})
}
