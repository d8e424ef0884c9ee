package httpami_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/internal/syncbuf"
)

// requests counts every request srv has read on the endpoint the test
// clients use.
func requests(srv *httpamitest.Server) int { return srv.Requests("/rawman") }

// TestValidateModes sends actions that fail the catalog's check in each
// mode of Config.Validate, and counts what reached the server.
func TestValidateModes(t *testing.T) {
	bad := []struct {
		name  string
		a     httpami.Action
		param string
		is    error
		text  string
	}{
		{"missing required", httpami.NewAction("Originate", "Exten", "100"), "Channel", actions.ErrMissingParam,
			"httpami: invalid action Originate, parameter Channel: missing required parameter"},
		{"empty required", httpami.NewAction("Originate", "Channel", "", "Application", "Echo"), "Channel", actions.ErrMissingParam,
			"parameter Channel: missing required parameter"},
		{"unknown parameter", httpami.NewAction("Originate", "Channel", "Local/100@test", "Aplication", "Echo"), "Aplication", actions.ErrUnknownParam,
			"parameter Aplication: unknown parameter (did you mean Application?)"},
		{"case of the name", httpami.NewAction("originate", "channel", "Local/100@test", "Bogus", "1"), "Bogus", actions.ErrUnknownParam,
			"invalid action originate, parameter Bogus: unknown parameter"},
	}
	for _, tt := range bad {
		t.Run("refuse/"+tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
			_, err := c.Do(t.Context(), tt.a)
			ie, ok := errors.AsType[*httpami.InvalidActionError](err)
			if !ok || ie.Key != tt.param || !errors.Is(err, httpami.ErrInvalidAction) || !errors.Is(err, tt.is) {
				t.Fatalf("Do = %v (%T); want an *InvalidActionError for %s matching %v", err, err, tt.param, tt.is)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not contain %q", err, tt.text)
			}
			if n := requests(srv); n != 0 {
				t.Errorf("%d requests reached the server, want none (not even a Login)", n)
			}
		})
		t.Run("warn/"+tt.name, func(t *testing.T) {
			srv := newServer(t)
			var logs syncbuf.Buffer
			cfg := config(srv, httpami.Cookie, httpami.Rawman)
			cfg.Validate, cfg.Logger = httpami.ValidateWarn, debugLogger(&logs)
			c := newClient(t, cfg)
			_, err := c.Do(t.Context(), tt.a)
			if errors.Is(err, httpami.ErrInvalidAction) {
				t.Fatalf("Do = %v, want the action sent", err)
			}
			if n := srv.Executed(tt.a.Name); n != 1 {
				t.Errorf("Executed(%s) = %d, want 1", tt.a.Name, n)
			}
			if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, tt.param) {
				t.Errorf("no warning naming %s in the log:\n%s", tt.param, l)
			}
		})
		t.Run("off/"+tt.name, func(t *testing.T) {
			srv := newServer(t)
			cfg := config(srv, httpami.Cookie, httpami.Rawman)
			cfg.Validate = httpami.ValidateOff
			c := newClient(t, cfg)
			if _, err := c.Do(t.Context(), tt.a); errors.Is(err, httpami.ErrInvalidAction) {
				t.Fatalf("Do = %v, want the action sent", err)
			}
			if n := srv.Executed(tt.a.Name); n != 1 {
				t.Errorf("Executed(%s) = %d, want 1", tt.a.Name, n)
			}
		})
	}

	t.Run("unknown actions pass", func(t *testing.T) {
		srv := newServer(t)
		c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
		_, err := c.Action(t.Context(), "MyModuleAction", "Anything", "1")
		if !errors.Is(err, httpami.ErrUnknownAction) {
			t.Errorf("Do(MyModuleAction) = %v, want Asterisk's answer (ErrUnknownAction)", err)
		}
	})
}

// TestValidateVersion checks that the Client learns the server's version
// only for actions whose verdict depends on it, once, and refuses what
// that version lacks.
func TestValidateVersion(t *testing.T) {
	srv := newServer(t, httpamitest.WithVersion(httpamitest.Asterisk13))
	c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
	ctx := t.Context()
	if _, err := c.Send(ctx, &actions.Originate{Channel: "Local/100@test", Application: "Echo", Async: "true"}); err != nil {
		t.Fatalf("Originate: %v", err)
	}
	if n := srv.Executed("CoreSettings"); n != 0 {
		t.Fatalf("CoreSettings sent %d times for an action that is the same in every version", n)
	}

	tests := []struct {
		name   string
		a      actions.Action
		is     error
		param  string
		detail string
	}{
		{"action too new", &actions.PJSIPHangup{Channel: "PJSIP/1-1", Cause: "16"}, actions.ErrUnavailable, "",
			"invalid action PJSIPHangup: not an action of Asterisk 13.38.3 (it exists since 21.1.0, 20.6.0 and 18.21.0)"},
		{"parameter too new", &actions.Originate{Channel: "Local/100@test", Application: "Echo", PreDialGoSub: "s,1"}, actions.ErrUnknownParam, "PreDialGoSub",
			"parameter PreDialGoSub: unknown parameter in Asterisk 13.38.3 (documented in Asterisk 18 to 23)"},
		{"required then", &actions.AOCMessage{MsgType: "D"}, actions.ErrMissingParam, "Channel", "parameter Channel: missing required parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Send(ctx, tt.a)
			ie, ok := errors.AsType[*httpami.InvalidActionError](err)
			if !ok || !errors.Is(err, tt.is) || ie.Key != tt.param {
				t.Fatalf("Send = %v; want an *InvalidActionError for %q matching %v", err, tt.param, tt.is)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not contain %q", err, tt.detail)
			}
			if n := srv.Executed(tt.a.ActionName()); n != 0 && tt.a.ActionName() != "Originate" {
				t.Errorf("%s executed %d times, want 0", tt.a.ActionName(), n)
			}
		})
	}
	if n := srv.Executed("CoreSettings"); n != 1 {
		t.Errorf("CoreSettings sent %d times, want once", n)
	}
	if v, err := c.AsteriskVersion(ctx); v != "13.38.3" || err != nil {
		t.Errorf("AsteriskVersion = %q, %v", v, err)
	}

	t.Run("configured version", func(t *testing.T) {
		srv := newServer(t)
		cfg := config(srv, httpami.Cookie, httpami.Rawman)
		cfg.AsteriskVersion = "18.20.0"
		c := newClient(t, cfg)
		_, err := c.Send(ctx, &actions.PJSIPHangup{Channel: "PJSIP/1-1", Cause: "16"})
		if !errors.Is(err, actions.ErrUnavailable) || !strings.Contains(err.Error(), "Asterisk 18.20.0") {
			t.Errorf("Send = %v, want ErrUnavailable for 18.20.0", err)
		}
		if n := requests(srv); n != 0 {
			t.Errorf("%d requests, want none: the version was configured", n)
		}
	})

	t.Run("concurrent callers ask once", func(t *testing.T) {
		srv := newServer(t)
		c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				// 23.4.1 has PJSIPHangup; the fake does not, and says so.
				_, err := c.Send(ctx, &actions.PJSIPHangup{Channel: "PJSIP/1-1", Cause: "16"})
				if !errors.Is(err, httpami.ErrUnknownAction) {
					t.Errorf("Send = %v, want the fake's answer", err)
				}
			})
		}
		wg.Wait()
		if n := srv.Executed("CoreSettings"); n != 1 {
			t.Errorf("CoreSettings sent %d times by 8 goroutines, want once", n)
		}
	})

	t.Run("refused version query", func(t *testing.T) {
		srv := newServer(t, httpamitest.WithUser(httpamitest.User{Name: "caller", Secret: "s", Read: "call", Write: "call,originate"}))
		cfg := config(srv, httpami.Cookie, httpami.Rawman)
		cfg.Username, cfg.Secret = "caller", "s"
		c := newClient(t, cfg)
		var counts []int
		for range 2 {
			_, err := c.Send(ctx, &actions.Originate{Channel: "Local/100@test", Application: "Echo", PreDialGoSub: "s,1", Async: "true"})
			if errors.Is(err, httpami.ErrInvalidAction) {
				t.Fatalf("Send = %v; with the version unknown, any version's parameters pass", err)
			}
			counts = append(counts, requests(srv))
		}
		// Login, CoreSettings (refused) and Originate; then Originate alone.
		if counts[0] != 3 || counts[1] != 4 {
			t.Errorf("requests after each Send: %v, want [3 4]: a refusal is remembered", counts)
		}
		if _, err := c.AsteriskVersion(ctx); !errors.Is(err, httpami.ErrPermission) {
			t.Errorf("AsteriskVersion error = %v, want the remembered ErrPermission", err)
		}
	})
}

// TestSendParams checks what Send puts on the wire for typed actions.
func TestSendParams(t *testing.T) {
	srv := newServer(t)
	sent := helperCapture(srv, "UpdateConfig", rawman.Field{Key: "Message", Value: "ok"})
	c := helperDial(t, srv, "")
	_, err := c.Send(context.Background(), &actions.UpdateConfig{
		SrcFilename: "a.conf", DstFilename: "a.conf",
		Extra: []rawman.Field{{Key: "Action-000000", Value: "NewCat"}, {Key: "Cat-000000", Value: "x"}},
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	want := helperFields("SrcFilename", "a.conf", "DstFilename", "a.conf", "Action-000000", "NewCat", "Cat-000000", "x")
	if got := sent(false); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	_, err = c.Send(context.Background(), &actions.UpdateConfig{SrcFilename: "a.conf", DstFilename: "a.conf",
		Extra: []rawman.Field{{Key: "Action-0x", Value: "NewCat"}}})
	if !errors.Is(err, actions.ErrUnknownParam) {
		t.Errorf("Send with Action-0x = %v, want ErrUnknownParam", err)
	}
}

// TestAsteriskVersionOddSettings checks that a CoreSettings answer with a
// setting the client cannot read still gives the version.
func TestAsteriskVersionOddSettings(t *testing.T) {
	srv := newServer(t)
	srv.Handle("CoreSettings", func(r *httpamitest.Request) []*rawman.Message {
		return []*rawman.Message{{Fields: []rawman.Field{
			{Key: "Response", Value: "Success"}, {Key: "AsteriskVersion", Value: "18.20.0"},
			{Key: "CoreMaxLoadAvg", Value: "not a number"},
		}}}
	})
	c := newClient(t, config(srv, httpami.Cookie, httpami.Rawman))
	_, err := c.Send(t.Context(), &actions.PJSIPHangup{Channel: "PJSIP/1-1", Cause: "16"})
	if !errors.Is(err, actions.ErrUnavailable) || !strings.Contains(err.Error(), "18.20.0") {
		t.Errorf("Send = %v, want ErrUnavailable for 18.20.0", err)
	}
	if v, err := c.AsteriskVersion(t.Context()); v != "18.20.0" || err != nil {
		t.Errorf("AsteriskVersion = %q, %v", v, err)
	}
}
