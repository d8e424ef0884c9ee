package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/livetest"
)

// TestLive runs the commands against the real Asterisk of AMIHTTP_TEST_URL
// (skipped without it), in each auth mode: an action, an Asterisk error,
// events tailed while originate places a call to extension 100 of context
// test (Answer, UserEvent, Wait(2), Hangup) and follows it to its hangup,
// by the ChannelId it gives the call; and
// the demo's tour.
func TestLive(t *testing.T) {
	tg := livetest.Get(t)
	for _, query := range []string{"?auth=cookie", "?auth=md5", "?auth=digest&encoding=mxml"} {
		t.Run(strings.TrimPrefix(query, "?"), func(t *testing.T) {
			u := tg.URL(strings.TrimPrefix(query, "?"))
			vars := urlVar(u)

			r := runAmihttp(t, vars, "action", "Ping", "--json")
			require.Equal(t, exitOK, r.code, r.stderr)
			var ping rawman.Message
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &ping))
			assert.Equal(t, "Pong", ping.Get("Ping"))

			r = runAmihttp(t, vars, "action", "Getvar", "Channel=amihttp-no-such-channel", "Variable=x")
			assert.Equal(t, exitFailure, r.code)
			assert.Contains(t, r.stderr, "No such channel")

			ev := start(t, vars, "events", "--mask", "call,user")
			eventually(t, "events polls", func() bool { return strings.Contains(ev.stderr.String(), "events: polling") }, &ev.stderr)

			for _, async := range []bool{false, true} {
				args := []string{"originate", "--channel", "Local/100@test", "--context", "test", "--exten", "100", "--json"}
				if async {
					args = append(args, "--async")
				}
				r = runAmihttp(t, vars, args...)
				require.Equal(t, exitOK, r.code, "async %v: %s", async, r.stderr)
				assert.Contains(t, r.stderr, "the call has hung up (2 channels")
				var hangups, userEvents int
				for line := range strings.SplitSeq(strings.TrimSpace(r.stdout), "\n") {
					var m rawman.Message
					require.NoError(t, json.Unmarshal([]byte(line), &m), line)
					switch m.Event() {
					case "Hangup":
						hangups++
					case "UserEvent":
						userEvents++
						assert.Equal(t, "bar", m.Get("Foo"))
					}
				}
				assert.Equal(t, 2, hangups, "async %v: %s", async, r.stdout)
				assert.Equal(t, 2, userEvents, "both halves of the Local channel run the extension")
			}

			eventually(t, "events prints the calls", func() bool {
				// mxml keys are Asterisk's lower-cased names: "event".
				return strings.Count(strings.ToLower(ev.stdout.String()), `"event":"hangup"`) >= 4
			}, &ev.stdout, &ev.stderr)
			assert.Equal(t, exitOK, ev.stop(t))
			assert.NotContains(t, ev.stderr.String(), "gap:")
			assert.NotContains(t, ev.stderr.String()+r.stderr, tg.Password+"@")
		})
	}

	r := runAmihttp(t, nil, "demo", "--url", tg.URL(""))
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "9. Log off")
}
