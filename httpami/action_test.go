package httpami_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
)

// TestRefusedBeforeSending checks that actions Asterisk would mangle
// never leave the process.
func TestRefusedBeforeSending(t *testing.T) {
	many := make([]string, 0, 2*127)
	for range 127 {
		many = append(many, "Variable", "a=1")
	}
	tests := []struct {
		name string
		get  bool
		a    httpami.Action
		key  string
	}{
		{"no name", false, httpami.Action{}, ""},
		{"LF in name", false, httpami.NewAction("Ping\nAction: Originate"), ""},
		{"CR in value", false, httpami.NewAction("UserEvent", "UserEvent", "x", "Header", "a\rb"), "Header"},
		{"LF in key", false, httpami.NewAction("UserEvent", "UserEvent", "x", "He\nader", "v"), `"He\nader"`},
		{"empty key", false, httpami.NewAction("UserEvent", "", "v"), ""},
		{"Action param", false, httpami.NewAction("Ping", "Action", "Originate"), "Action"},
		{"129 params", false, httpami.NewAction("Originate", many...), ""},
		{"body too large", false, httpami.NewAction("UserEvent", "UserEvent", "x", "Big", strings.Repeat("x", 40960)), ""},
		{"GET line too long", true, httpami.NewAction("UserEvent", "UserEvent", "x", "Big", strings.Repeat("x", 4060)), ""},
	}
	srv := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(srv, httpami.Cookie, httpami.Rawman)
			cfg.Get = tt.get
			c := newClient(t, cfg)
			before := srv.Requests("")
			_, err := c.Do(context.Background(), tt.a)
			require.ErrorIs(t, err, httpami.ErrInvalidAction)
			var ie *httpami.InvalidActionError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.key, ie.Key)
			assert.Equal(t, before, srv.Requests(""), "a request was sent")
		})
	}
}

// TestLimitsAccepted checks the largest actions Asterisk takes whole.
func TestLimitsAccepted(t *testing.T) {
	srv := newServer(t)
	var got *rawman.Message
	srv.Handle("UserEvent", func(r *httpamitest.Request) []*rawman.Message {
		got = r.Params.Clone()
		return []*rawman.Message{ok(r)}
	})
	c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
	ctx := context.Background()
	// 128 parameters: Action, ActionID, UserEvent and 125 headers.
	kv := []string{"UserEvent", "Many"}
	for range 125 {
		kv = append(kv, "H", "v")
	}
	_, err := c.Action(ctx, "UserEvent", kv...)
	require.NoError(t, err)
	assert.Len(t, got.Fields, 128)
	// A body of exactly 40960 bytes.
	prefix := len("Action=UserEvent&ActionID=") + 8 + len("-2&UserEvent=Big&Big=")
	_, err = c.Action(ctx, "UserEvent", "UserEvent", "Big", "Big", strings.Repeat("x", 40960-prefix))
	require.NoError(t, err)
	assert.Len(t, got.Get("Big"), 40960-prefix)
}

func ok(r *httpamitest.Request) *rawman.Message {
	m := &rawman.Message{}
	m.Add("Response", "Success")
	if id := r.Params.Get("ActionID"); id != "" {
		m.Add("ActionID", id)
	}
	return m
}

// TestWhatIsSent checks the form the server receives: parameters in
// order, repeats kept, values with every special byte intact, POST by
// default and GET as an option.
func TestWhatIsSent(t *testing.T) {
	for _, get := range []bool{false, true} {
		srv := newServer(t)
		var got *rawman.Message
		srv.Handle("UserEvent", func(r *httpamitest.Request) []*rawman.Message {
			got = r.Params.Clone()
			return []*rawman.Message{ok(r)}
		})
		cfg := config(srv, httpami.Cookie, httpami.Rawman)
		cfg.Get = get
		c := newClient(t, cfg)
		weird := "a b+c&d=e%f?g#h;i'j\"k<l>m\tn é"
		resp, err := c.Action(context.Background(), "UserEvent", "UserEvent", "Probe", "V", "1", "V", "2", "Weird", weird)
		require.NoError(t, err)
		require.NotNil(t, got)
		keys := []string{}
		for _, f := range got.Fields {
			keys = append(keys, f.Key)
		}
		assert.Equal(t, []string{"Action", "ActionID", "UserEvent", "V", "V", "Weird"}, keys)
		assert.Equal(t, []string{"1", "2"}, collect(got.Values("V")))
		assert.Equal(t, weird, got.Get("Weird"))
		assert.Equal(t, resp.ActionID, got.Get("ActionID"))
		assert.Equal(t, 1, srv.Requests("/rawman")-1, "get=%v: one request besides the Login", get)
	}
}

func collect(seq func(func(string) bool)) []string {
	var out []string
	for v := range seq {
		out = append(out, v)
	}
	return out
}

// TestActionIDs checks that every action gets its own ActionID, that a
// caller's is kept, and that an answer with another is refused.
func TestActionIDs(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 10 {
				resp, err := c.Action(ctx, "Ping")
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, resp.ActionID, resp.Get("ActionID"))
				mu.Lock()
				assert.False(t, seen[resp.ActionID], "ActionID %s used twice", resp.ActionID)
				seen[resp.ActionID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	resp, err := c.Action(ctx, "Ping", "ActionID", "mine")
	require.NoError(t, err)
	assert.Equal(t, "mine", resp.ActionID)

	srv.Handle("Ping", func(r *httpamitest.Request) []*rawman.Message {
		m := &rawman.Message{}
		m.Add("Response", "Success")
		m.Add("ActionID", "someone-else")
		return []*rawman.Message{m}
	})
	_, err = c.Action(ctx, "Ping")
	require.ErrorIs(t, err, httpami.ErrProtocol)
	assert.Contains(t, err.Error(), "someone-else")
}

// TestAnswerBesideEvents checks that the FullyBooted event Asterisk
// writes beside a Login answer (Events=on) is kept apart from it.
func TestAnswerBesideEvents(t *testing.T) {
	srv := newServer(t)
	for _, enc := range []httpami.Encoding{httpami.Rawman, httpami.MXML} {
		cfg := config(srv, httpami.Cookie, enc)
		cfg.Events = "on"
		c := newClient(t, cfg)
		resp, err := c.Login(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "Authentication accepted", resp.Message())
		require.Len(t, resp.Other, 1)
		assert.Equal(t, "FullyBooted", resp.Other[0].Event())
		assert.Empty(t, resp.Events)
	}
}

// TestLists checks that an event list comes back whole: items,
// completion, count.
func TestLists(t *testing.T) {
	srv := newServer(t, httpamitest.WithQueues("support", "sales"))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := newClient(t, config(srv, m.auth, m.enc))
			resp, err := c.Action(context.Background(), "QueueStatus")
			require.NoError(t, err)
			assert.Equal(t, "start", resp.Get("EventList"))
			require.Len(t, resp.Events, 2)
			for _, e := range resp.Events {
				assert.Equal(t, "QueueParams", e.Event())
				assert.Equal(t, resp.ActionID, e.Get("ActionID"))
			}
			require.NotNil(t, resp.Complete)
			assert.Equal(t, "QueueStatusComplete", resp.Complete.Event())
			assert.Empty(t, resp.Other)
		})
	}
}

// TestBadLists checks lists that do not add up.
func TestBadLists(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
	list := func(items int, count string, complete bool) httpamitest.HandlerFunc {
		return func(r *httpamitest.Request) []*rawman.Message {
			a := ok(r)
			a.Add("EventList", "start")
			out := []*rawman.Message{a}
			for range items {
				e := &rawman.Message{}
				e.Add("Event", "Item")
				e.Add("ActionID", r.Params.Get("ActionID"))
				out = append(out, e)
			}
			if complete {
				e := &rawman.Message{}
				e.Add("Event", "ItemsComplete")
				e.Add("ActionID", r.Params.Get("ActionID"))
				e.Add("EventList", "Complete")
				e.Add("ListItems", count)
				out = append(out, e)
			}
			return out
		}
	}
	tests := []struct {
		name string
		h    httpamitest.HandlerFunc
		ok   bool
	}{
		{"count matches", list(3, "3", true), true},
		{"no count", list(2, "", true), true},
		{"count too high", list(2, "3", true), false},
		{"count not a number", list(2, "two", true), false},
		{"no completion", list(2, "", false), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Handle("Items", tt.h)
			resp, err := c.Action(context.Background(), "Items")
			if tt.ok {
				require.NoError(t, err)
				assert.NotNil(t, resp.Complete)
				return
			}
			require.ErrorIs(t, err, httpami.ErrProtocol)
			// The answer said Success: the outcome is known.
			assert.NotErrorIs(t, err, httpami.ErrOutcomeUnknown)
		})
	}
}

// TestActionErrors checks the typed errors of "Response: Error".
func TestActionErrors(t *testing.T) {
	srv := newServer(t, httpamitest.WithUser(httpamitest.User{Name: "limited", Secret: "limited", Read: "system,call", Write: "originate"}))
	cfg := config(srv, httpami.Cookie, httpami.Rawman)
	cfg.Username, cfg.Secret = "limited", "limited"
	c := newClient(t, cfg)
	ctx := context.Background()

	resp, err := c.Action(ctx, "NoSuchAction")
	require.ErrorIs(t, err, httpami.ErrUnknownAction)
	var ae *httpami.ActionError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "NoSuchAction", ae.Action)
	assert.Equal(t, resp.ActionID, ae.ActionID)
	assert.Same(t, resp, ae.Response)
	assert.True(t, strings.HasPrefix(ae.Message, "Invalid/unknown command: NoSuchAction."))

	gen := c.Generation()
	_, err = c.Action(ctx, "Command", "Command", "core show version")
	require.ErrorIs(t, err, httpami.ErrPermission)
	assert.NotErrorIs(t, err, httpami.ErrSessionLost)
	assert.Equal(t, gen, c.Generation(), "a real permission error is not a lost session")
	assert.Equal(t, 1, srv.Executed("Login"))
}

// TestEmptyBody checks the answer of a WaitEvent kicked by another.
func TestEmptyBody(t *testing.T) {
	clk := httpamitest.NewFakeClock(testStart)
	srv := newServer(t, httpamitest.WithClock(clk))
	for _, enc := range []httpami.Encoding{httpami.Rawman, httpami.MXML} {
		c := newClient(t, config(srv, httpami.Cookie, enc))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.Action(ctx, "WaitEvent", "Timeout", "0") // drain the Login's events
		require.NoError(t, err)
		first := make(chan error, 1)
		go func() {
			_, err := c.Action(ctx, "WaitEvent", "Timeout", "30")
			first <- err
		}()
		require.NoError(t, srv.AwaitWaiting(ctx, 1))
		second := make(chan error, 1)
		go func() {
			_, err := c.Action(ctx, "WaitEvent", "Timeout", "30")
			second <- err
		}()
		err = <-first
		require.ErrorIs(t, err, httpami.ErrEmptyBody, "%s", enc)
		assert.False(t, errors.Is(err, httpami.ErrOutcomeUnknown))
		require.NoError(t, srv.AwaitWaiting(ctx, 1))
		clk.Advance(31e9)
		require.NoError(t, <-second)
	}
}
