package poller_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/poller"
)

// pairs emits a UserEvent Drop (class user) then a UserEvent Keep (class
// call), numbered, every 5 ms until the function it returns is called.
func pairs(t *testing.T, f *fake) (stop func()) {
	t.Helper()
	return f.emitEach(t, 5*time.Millisecond, func(i int) []*rawman.Message {
		return []*rawman.Message{userEvent("Drop", "user,all", i), userEvent("Keep", "call,all", i)}
	})
}

// TestServerSideFiltering sets an event mask or a Filter on the poller's
// session, restarts the fake, and checks that the new session filters
// alike from its first WaitEvent on.
func TestServerSideFiltering(t *testing.T) {
	filters := []struct {
		name string
		opt  poller.Option
	}{
		{"mask", poller.WithEventMask("call")}, // UserEvent Keep is sent as class call, Drop as user
		{"filter", poller.WithServerFilter("UserEvent: Keep", "")},
	}
	for _, m := range modes {
		for _, fl := range filters {
			t.Run(m.name+"/"+fl.name, func(t *testing.T) {
				f := newFake(t)
				p := f.start(t, client(t, f.config(m.auth, m.enc)), fl.opt)
				check := func(wantGap bool) {
					t.Helper()
					stop := pairs(t, f)
					defer stop()
					gaps := 0
					for kept := 0; kept < 3; {
						ev := next(t, p)
						switch {
						case ev.Gap != nil:
							gaps++
						case ev.Name() == "UserEvent":
							require.Equal(t, "Keep", ev.Message.Get("UserEvent"), "filtered out by Asterisk")
							kept++
						}
					}
					assert.Equal(t, wantGap, gaps == 1, "gaps: %d", gaps)
				}
				check(false)
				f.restart(t, p)
				check(true)
			})
		}
	}
}

// TestClientSideFilter drops events with the WithFilter predicate and
// counts them.
func TestClientSideFilter(t *testing.T) {
	f := newFake(t)
	p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)), poller.WithEventMask("user"),
		poller.WithFilter(func(m *rawman.Message) bool { return m.Get("Seq") != "1" }))
	for i := range 3 {
		f.emit(t, "Some", i)
	}
	assert.Equal(t, "0", nextEvent(t, p).Message.Get("Seq"))
	assert.Equal(t, "2", nextEvent(t, p).Message.Get("Seq"))
	assert.Equal(t, uint64(1), p.Stats().Filtered)
}

// TestFilterNeedsSystem starts a poller with a server filter for a user
// who may not send Filter: Start fails, with Asterisk's answer.
func TestFilterNeedsSystem(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t, httpamitest.WithUser(httpamitest.User{Name: "limited", Secret: "pw", Read: "all", Write: "call"}))
			cfg := f.config(m.auth, m.enc)
			cfg.Username, cfg.Secret = "limited", "pw"
			p := f.poller(t, client(t, cfg), poller.WithServerFilter("UserEvent: Keep", ""))
			err := p.Start(context.Background())
			assert.ErrorIs(t, err, httpami.ErrPermission)
			_, open := <-p.Events()
			assert.False(t, open)
			assert.ErrorIs(t, p.Err(), httpami.ErrPermission)
		})
	}
}
