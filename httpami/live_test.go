package httpami_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/internal/livetest"
)

// liveConfig returns a Config for the live Asterisk in a mode.
func liveConfig(t *testing.T, auth httpami.Auth, enc httpami.Encoding) httpami.Config {
	target := livetest.Get(t)
	return httpami.Config{URL: target.Base + "/", Username: target.Username, Secret: target.Password, Auth: auth, Encoding: enc}
}

// TestLive runs the client's behaviours against the real Asterisk of
// AMIHTTP_TEST_URL (the reference configuration of the shared folder:
// dialplan context test, users limited and filtered) in every session
// and encoding mode. It is skipped without AMIHTTP_TEST_URL.
func TestLive(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg := liveConfig(t, m.auth, m.enc)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			q := fmt.Sprintf("?auth=%s&encoding=%s", m.auth, m.enc)
			u := strings.Replace(cfg.URL, "://", "://"+cfg.Username+":"+cfg.Secret+"@", 1) + q
			c, err := httpami.Dial(ctx, u)
			require.NoError(t, err)
			defer func() { assert.NoError(t, c.Close(ctx)) }()

			t.Run("ping", func(t *testing.T) {
				resp, err := c.Action(ctx, "Ping")
				require.NoError(t, err)
				assert.Equal(t, "Pong", resp.Get("Ping"))
				assert.Equal(t, resp.ActionID, resp.Get("ActionID"))
			})
			t.Run("core", func(t *testing.T) {
				s, err := c.CoreSettings(ctx)
				require.NoError(t, err)
				assert.True(t, strings.HasPrefix(s.AsteriskVersion, "23."), s.AsteriskVersion)
				st, err := c.CoreStatus(ctx)
				require.NoError(t, err)
				assert.NotEmpty(t, st.CoreStartupTime)
			})
			t.Run("vars", func(t *testing.T) {
				v, err := c.Getvar(ctx, "", "GLOBALVAR")
				require.NoError(t, err)
				assert.Equal(t, "hello-global", v)
				_, err = c.Setvar(ctx, "", "AMIHTTP_LIVE", "a b,c")
				require.NoError(t, err)
				v, err = c.Getvar(ctx, "", "AMIHTTP_LIVE")
				require.NoError(t, err)
				assert.Equal(t, "a b,c", v)
			})
			t.Run("command", func(t *testing.T) {
				lines, _, err := c.Command(ctx, "core show version")
				require.NoError(t, err)
				require.NotEmpty(t, lines)
				assert.Contains(t, lines[0], "Asterisk 23.")
				_, _, err = c.Command(ctx, "no such command here")
				require.Error(t, err)
				var ae *httpami.ActionError
				assert.ErrorAs(t, err, &ae)
			})
			t.Run("lists", func(t *testing.T) {
				_, resp, err := c.CoreShowChannels(ctx)
				require.NoError(t, err)
				require.NotNil(t, resp.Complete)
				resp, err = c.Action(ctx, "QueueStatus")
				require.NoError(t, err)
				assert.NotEmpty(t, resp.Events)
				cmds, err := c.ListCommands(ctx)
				require.NoError(t, err)
				assert.True(t, slices.ContainsFunc(cmds, func(a httpami.ActionInfo) bool { return strings.EqualFold(a.Name, "Originate") }))
			})
			t.Run("errors", func(t *testing.T) {
				_, err := c.Action(ctx, "NoSuchActionHere")
				require.ErrorIs(t, err, httpami.ErrUnknownAction)
				_, err = c.Hangup(ctx, httpami.Hangup{Channel: "Local/none-00000000;1"})
				var ae *httpami.ActionError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "Hangup", ae.Action)
				_, err = c.Action(ctx, "UserEvent", "UserEvent", "x", "Bad", "a\r\nb")
				require.ErrorIs(t, err, httpami.ErrInvalidAction)
				_, err = c.Action(ctx, "UserEvent", "UserEvent", "Big", "Big", strings.Repeat("x", 41000))
				require.ErrorIs(t, err, httpami.ErrInvalidAction)
			})
			t.Run("call", func(t *testing.T) {
				// Drain, originate to 100@test, and follow the call through
				// WaitEvent: OriginateResponse, the UserEvent of the dialplan,
				// the hangup.
				_, err := c.Action(ctx, "WaitEvent", "Timeout", "0")
				require.NoError(t, err)
				resp, err := c.Originate(ctx, httpami.Originate{Channel: "Local/100@test", Application: "Wait", Data: "1", Async: true,
					Variable: map[string]string{"amihttp": "live"}})
				require.NoError(t, err)
				want := map[string]bool{"OriginateResponse": false, "TestEvent": false, "Hangup": false}
				deadline := time.Now().Add(20 * time.Second)
				for time.Now().Before(deadline) && slices.Contains(valuesOf(want), false) {
					w, err := c.Action(ctx, "WaitEvent", "Timeout", "5")
					require.NoError(t, err)
					for _, e := range w.Events {
						switch {
						case e.Event() == "OriginateResponse" && e.ActionID() == resp.ActionID:
							assert.Equal(t, "Success", e.Get("Response"))
							want["OriginateResponse"] = true
						case e.Event() == "UserEvent" && e.Get("UserEvent") == "TestEvent":
							want["TestEvent"] = true
						case e.Event() == "Hangup" && strings.HasPrefix(e.Get("Channel"), "Local/100@test"):
							want["Hangup"] = true
						}
					}
				}
				assert.Equal(t, map[string]bool{"OriginateResponse": true, "TestEvent": true, "Hangup": true}, want)
			})
			t.Run("lost session", func(t *testing.T) {
				if m.auth == httpami.Digest {
					// Asterisk gives a digest nonce a new session silently.
					_, err := c.Logoff(ctx)
					require.NoError(t, err)
					resp, err := c.Action(ctx, "Ping")
					require.NoError(t, err)
					assert.False(t, resp.Renewed)
					return
				}
				// Log the session off behind the Client's back: its next
				// action meets a new session and "Permission denied".
				gen := c.Generation()
				_, err := c.Logoff(ctx)
				require.NoError(t, err)
				resp, err := c.Action(ctx, "Ping")
				require.NoError(t, err)
				assert.Equal(t, "Pong", resp.Get("Ping"))
				assert.True(t, resp.Renewed || c.Generation() > gen, "a new Login healed the session")
			})
		})
	}
}

func valuesOf(m map[string]bool) []bool {
	var out []bool
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestLiveAuthFailures checks wrong credentials and a real permission
// error on the live Asterisk (user limited of the reference
// configuration: write=originate only).
func TestLiveAuthFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg := liveConfig(t, m.auth, m.enc)
			cfg.Secret = "not-the-secret"
			c, err := httpami.New(cfg)
			require.NoError(t, err)
			_, err = c.Action(ctx, "Ping")
			require.ErrorIs(t, err, httpami.ErrAuthentication)
			assert.NotContains(t, err.Error(), "not-the-secret")
			require.NoError(t, c.Close(ctx))

			cfg.Username, cfg.Secret = "limited", "limited"
			c, err = httpami.New(cfg)
			require.NoError(t, err)
			defer c.Close(ctx)
			_, err = c.Action(ctx, "Command", "Command", "core show version")
			require.ErrorIs(t, err, httpami.ErrPermission)
			assert.False(t, errors.Is(err, httpami.ErrSessionLost))
			if m.auth != httpami.Digest {
				assert.Equal(t, uint64(1), c.Generation(), "a real permission error is no lost session")
			}
		})
	}
}

// TestLiveGet checks actions sent as GET.
func TestLiveGet(t *testing.T) {
	cfg := liveConfig(t, httpami.Cookie, httpami.Rawman)
	cfg.Get = true
	c, err := httpami.New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	defer c.Close(ctx)
	resp, err := c.UserEvent(ctx, "AmihttpGet", rawman.Field{Key: "Weird", Value: "a+b&c=d%e f"})
	require.NoError(t, err)
	assert.Equal(t, "Success", resp.Status())
}

// TestLiveColdStart checks that Asterisk takes a digest Client's first
// request signed with a nonce the Client made up.
func TestLiveColdStart(t *testing.T) {
	cfg := liveConfig(t, httpami.Digest, httpami.Rawman)
	cfg.ColdStart = true
	c, err := httpami.New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	defer c.Close(ctx)
	resp, err := c.Action(ctx, "Ping")
	require.NoError(t, err)
	assert.Equal(t, "Pong", resp.Get("Ping"))
}
