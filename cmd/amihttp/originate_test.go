package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// eventNames returns the event names of the one-line events of out, and
// the channel each is about.
func eventNames(out string) (names, chans []string) {
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.HasPrefix(f[0], "+") {
			names = append(names, f[1])
			chans = append(chans, f[2])
		}
	}
	return names, chans
}

// TestOriginate follows Local calls to their hangup, synchronous and
// asynchronous, to an application and to an extension.
func TestOriginate(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"sync app", []string{"--channel", "Local/100@test", "--app", "Wait", "--data", "1"}},
		{"async app", []string{"--channel", "Local/100@test", "--app", "Wait", "--data", "1", "--async"}},
		{"async exten", []string{"--channel", "Local/101@test", "--context", "test", "--exten", "101", "--var", "a=1", "--var", "b=2", "--async", "--callerid", "Bob <200>", "--ring-timeout", "5s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, u := newFake(t)
			// Another call, up before and during ours, is not ours.
			r := runAmihttp(t, urlVar(u), "action", "Originate", "Channel=Local/300@test", "Application=Echo")
			require.Equal(t, exitOK, r.code, "stderr %s", r.stderr)
			t.Cleanup(func() { runAmihttp(t, urlVar(u), "action", "Hangup", "Channel=/^Local/300@test/") })
			began := time.Now()
			r = runAmihttp(t, urlVar(u), append([]string{"originate"}, tt.args...)...)
			require.Equal(t, exitOK, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
			assert.Less(t, time.Since(began), 5*time.Second)
			assert.Empty(t, r.stderr)
			names, chans := eventNames(r.stdout)
			require.NotEmpty(t, names, r.stdout)
			assert.Equal(t, "Newchannel", names[0], r.stdout)
			assert.Contains(t, names, "UserEvent")
			hangups := 0
			base, _, _ := strings.Cut(chans[0], ";")
			for i, n := range names {
				assert.True(t, strings.HasPrefix(chans[i], base+";"), "event %s of channel %s is the call's (%s)", n, chans[i], base)
				if n == "Hangup" {
					hangups++
				}
			}
			assert.Equal(t, 2, hangups, "both halves of the Local channel hang up")
			assert.Equal(t, "Hangup", names[len(names)-1])
			assert.Contains(t, r.stdout, "originate: the call has hung up (2 channels")
			assert.Zero(t, srv.Executed("Hangup"))
			assert.NotContains(t, r.stdout, "Local/300@test")
		})
	}
}

// TestOriginateJSON checks --json: the call's events as JSON lines on
// stdout, the rest on stderr.
func TestOriginateJSON(t *testing.T) {
	_, u := newFake(t)
	r := runAmihttp(t, urlVar(u), "originate", "--channel", "Local/101@test", "--app", "Wait", "--data", "1", "--var", "a=x", "--async", "--json")
	require.Equal(t, exitOK, r.code, "stderr %s", r.stderr)
	ms := jsonLines(t, r.stdout)
	require.NotEmpty(t, ms)
	assert.Equal(t, "Newchannel", ms[0]["Event"])
	assert.Equal(t, "Hangup", ms[len(ms)-1]["Event"])
	found := false
	for _, m := range ms {
		if m["Event"] == "UserEvent" {
			found = true
			assert.Equal(t, "x", m["A"], "the variable reached the dialplan")
		}
	}
	assert.True(t, found, "the UserEvent VarCheck: %s", r.stdout)
	assert.Contains(t, r.stderr, "originate: the call has hung up")
}

// TestOriginateFails checks that a call that fails exits with status 1
// and Asterisk's message or the failure's reason.
func TestOriginateFails(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"sync no such extension", []string{"--channel", "Local/999@test", "--app", "Wait", "--data", "1"}, "amihttp: Originate: Originate failed\n"},
		{"async bad technology", []string{"--channel", "Nope/xyz", "--app", "Wait", "--data", "1", "--async"}, "the call to Nope/xyz failed: no such channel or extension, or the channel failed (Reason 0)"},
		{"extension does not exist", []string{"--channel", "Local/100@test", "--context", "test", "--exten", "555"}, "amihttp: Originate: Extension does not exist.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, u := newFake(t)
			r := runAmihttp(t, urlVar(u), append([]string{"originate"}, tt.args...)...)
			assert.Equal(t, exitFailure, r.code, "stdout %s", r.stdout)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
}

// TestOriginateInterrupt checks that Ctrl-C stops following a call,
// which goes on, with status 0; and that --follow=false does not follow.
func TestOriginateInterrupt(t *testing.T) {
	srv, u := newFake(t)
	b := start(t, urlVar(u), "originate", "--channel", "Local/300@test", "--app", "Echo", "--async")
	eventually(t, "the call is followed", func() bool { return strings.Contains(b.stdout.String(), "DialEnd") }, &b.stdout, &b.stderr)
	assert.Equal(t, exitOK, b.stop(t))
	assert.Contains(t, b.stdout.String(), "stopped following the call, which goes on")

	r := runAmihttp(t, urlVar(u), "originate", "--channel", "Local/300@test", "--app", "Echo", "--follow=false")
	assert.Equal(t, exitOK, r.code, "stderr %s", r.stderr)
	assert.NotContains(t, r.stdout, "Newchannel")
	r = runAmihttp(t, urlVar(u), "action", "Hangup", "Channel=/^Local/")
	require.Equal(t, exitOK, r.code, "stderr %s", r.stderr)
	assert.Equal(t, 4, strings.Count(r.stdout, "Event: ChannelHungup"), "two calls were up: %s", r.stdout)
	_ = srv
}

// TestCall checks how a call recognises its events and its end.
func TestCall(t *testing.T) {
	ev := func(kv ...string) *rawman.Message {
		m := &rawman.Message{}
		for i := 0; i < len(kv); i += 2 {
			m.Add(kv[i], kv[i+1])
		}
		return m
	}
	c := newCall("", "1.1", "<unknown>")
	assert.Len(t, c.ids, 1)
	one := ev("Event", "Newchannel", "Channel", "L;1", "Uniqueid", "1.1", "Linkedid", "1.1")
	two := ev("Event", "Newchannel", "Channel", "L;2", "Uniqueid", "1.2", "Linkedid", "1.1")
	other := ev("Event", "Newchannel", "Channel", "X", "Uniqueid", "2.1", "Linkedid", "2.1")
	dial := ev("Event", "DialBegin", "DestChannel", "L;1", "DestUniqueid", "1.1", "DestLinkedid", "1.1")
	for _, m := range []*rawman.Message{one, two, dial} {
		assert.True(t, c.belongs(m), "%v", m)
		c.observe(m)
	}
	assert.False(t, c.belongs(other))
	assert.False(t, c.over())
	c.observe(ev("Event", "Hangup", "Uniqueid", "1.2", "Linkedid", "1.1"))
	assert.False(t, c.over())
	c.observe(ev("Event", "Hangup", "Uniqueid", "1.1", "Linkedid", "1.1"))
	assert.True(t, c.over())
	assert.Equal(t, 2, c.hungUp)
}

// TestFormatEvent checks the one-line form of events.
func TestFormatEvent(t *testing.T) {
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	m := &rawman.Message{}
	for _, kv := range [][2]string{
		{"Event", "UserEvent"}, {"Privilege", "user,all"}, {"Channel", "Local/100@test-00000000;2"},
		{"ChannelStateDesc", "Up"}, {"Uniqueid", "1.2"}, {"UserEvent", "TestEvent"}, {"Foo", "bar"},
		{"Weird", `a "b"`}, {"Empty", ""},
	} {
		m.Add(kv[0], kv[1])
	}
	got := formatEvent(start, start.Add(1500*time.Millisecond), m)
	assert.Equal(t, `  +1.500s  UserEvent         Local/100@test-00000000;2 UserEvent=TestEvent Foo=bar Weird="a \"b\"" Empty=""`, got)
	m = &rawman.Message{}
	m.Add("Event", "Newstate")
	m.Add("Channel", "PJSIP/1")
	m.Add("ChannelStateDesc", "Ring")
	assert.Equal(t, `  +0.000s  Newstate          PJSIP/1 state=Ring`, formatEvent(start, start, m))
}

// TestOriginateGap checks that after a gap the call is looked for among
// the channels: a restart of Asterisk ends it.
func TestOriginateGap(t *testing.T) {
	srv, u := newFake(t)
	b := start(t, urlVar(u), "originate", "--channel", "Local/300@test", "--app", "Echo", "--async")
	eventually(t, "the call is followed", func() bool { return strings.Contains(b.stdout.String(), "DialEnd") }, &b.stdout, &b.stderr)
	srv.Restart()
	code := b.wait(t)
	assert.Equal(t, exitOK, code, "stderr %s", b.stderr.String())
	assert.Contains(t, b.stderr.String(), `gap: {"Reason":"session lost"`)
	assert.Contains(t, b.stdout.String(), "originate: the call has hung up (found after a gap")
}
