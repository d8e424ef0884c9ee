package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// jsonLines decodes the JSON lines of out.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var ms []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %q", line)
		ms = append(ms, m)
	}
	return ms
}

// userEvents returns the UserEvent names among the JSON lines of out.
func userEvents(t *testing.T, out string) []string {
	t.Helper()
	var names []string
	for _, m := range jsonLines(t, out) {
		if m["Event"] == "UserEvent" {
			names = append(names, m["UserEvent"].(string))
		}
	}
	return names
}

// TestEvents checks that events prints an emitted event as a JSON line,
// a gap notice on stderr after Asterisk restarts, and stops with status 0.
func TestEvents(t *testing.T) {
	srv, u := newFake(t)
	b := start(t, urlVar(u), "events", "--filter", "event=UserEvent")
	eventually(t, "events polls", func() bool { return strings.Contains(b.stderr.String(), "events: polling") }, &b.stderr)
	require.NotContains(t, b.stderr.String(), "world", "no secret")

	ev := userEvent("Hello", "Variable", "a=1", "Weird", `<"&">`, "Variable", "b=2")
	require.NoError(t, srv.Emit(ev))
	eventually(t, "the event is printed", func() bool { return strings.Contains(b.stdout.String(), "Hello") }, &b.stdout, &b.stderr)
	line := strings.TrimSuffix(b.stdout.String(), "\n")
	assert.Equal(t, []string{"Event", "Privilege", "Timestamp", "UserEvent", "Variable", "Weird"}, jsonKeys(t, line))
	assert.Contains(t, line, `"Variable":["a=1","b=2"]`)
	assert.Contains(t, line, `"Weird":"<\"&\">"`)

	srv.Restart()
	eventually(t, "a gap notice", func() bool { return strings.Contains(b.stderr.String(), "gap: ") }, &b.stderr)
	_, gapLine, _ := strings.Cut(b.stderr.String(), "gap: ")
	gapLine, _, _ = strings.Cut(gapLine, "\n")
	var gap map[string]any
	require.NoError(t, json.Unmarshal([]byte(gapLine), &gap), gapLine)
	assert.Equal(t, "session lost", gap["Reason"])
	assert.Contains(t, gap, "Duration")

	require.NoError(t, srv.Emit(userEvent("After")))
	eventually(t, "the event after the restart", func() bool { return strings.Contains(b.stdout.String(), "After") }, &b.stdout, &b.stderr)
	assert.Equal(t, []string{"Hello", "After"}, userEvents(t, b.stdout.String()))
	for _, m := range jsonLines(t, b.stdout.String()) {
		assert.Equal(t, "UserEvent", m["Event"], "--filter event=UserEvent")
	}
	assert.Equal(t, exitOK, b.stop(t), "Ctrl-C; stderr %s", b.stderr.String())
}

// TestEventsFilterCount checks that several --filter must all match, and
// that --count ends the command by itself.
func TestEventsFilterCount(t *testing.T) {
	srv, u := newFake(t)
	b := start(t, urlVar(u), "events", "--filter", "UserEvent=Keep", "--filter", "Tag=yes", "--count", "2", "--mask", "user")
	eventually(t, "events polls", func() bool { return strings.Contains(b.stderr.String(), "events: polling") }, &b.stderr)
	for _, ev := range []*rawman.Message{
		userEvent("Drop", "Tag", "yes"),
		userEvent("Keep", "Tag", "no"),
		userEvent("Keep", "Tag", "yes", "N", "1"),
		userEvent("Keep", "Tag", "no", "Tag", "yes", "N", "2"), // any value of a repeated key
		userEvent("Keep", "Tag", "yes", "N", "3"),
	} {
		require.NoError(t, srv.Emit(ev))
	}
	code := b.wait(t)
	assert.Equal(t, exitOK, code, "stderr %s", b.stderr.String())
	ms := jsonLines(t, b.stdout.String())
	require.Len(t, ms, 2, b.stdout.String())
	assert.Equal(t, "1", ms[0]["N"])
	assert.Equal(t, "2", ms[1]["N"])
}

// TestEventsRefused checks that credentials refused end events with
// status 1.
func TestEventsRefused(t *testing.T) {
	_, u := newFake(t)
	r := runAmihttp(t, urlVar(strings.Replace(u, ":world@", ":wrong@", 1)), "events")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "Authentication failed")
}

// TestMatchAll checks the --filter predicate.
func TestMatchAll(t *testing.T) {
	m := userEvent("X", "Channel", "PJSIP/1", "Variable", "a=1", "Variable", "b=2")
	tests := []struct {
		filters []rawman.Field
		want    bool
	}{
		{nil, true},
		{[]rawman.Field{{Key: "event", Value: "UserEvent"}}, true},
		{[]rawman.Field{{Key: "Event", Value: "userevent"}}, false},
		{[]rawman.Field{{Key: "Variable", Value: "b=2"}}, true},
		{[]rawman.Field{{Key: "Variable", Value: "b=2"}, {Key: "Channel", Value: "PJSIP/1"}}, true},
		{[]rawman.Field{{Key: "Variable", Value: "b=2"}, {Key: "Channel", Value: "PJSIP/2"}}, false},
		{[]rawman.Field{{Key: "Missing", Value: ""}}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, matchAll(tt.filters)(m), "matchAll(%v)", tt.filters)
	}
}

// TestEventsType checks that --type keeps the events of the types it
// names, case ignored, with --filter too, and that --count counts only
// those.
func TestEventsType(t *testing.T) {
	srv, u := newFake(t)
	ev := func(name, n string) *rawman.Message {
		m := &rawman.Message{}
		m.Add("Event", name)
		m.Add("Privilege", "call,all")
		m.Add("Channel", "Local/100@test-00000001;1")
		m.Add("N", n)
		return m
	}
	b := start(t, urlVar(u), "events", "--type", "hangup,Newchannel", "--type", "UserEvent", "--filter", "Tag=yes", "--count", "3")
	eventually(t, "events polls", func() bool { return strings.Contains(b.stderr.String(), "events: polling") }, &b.stderr)
	for _, m := range []*rawman.Message{
		ev("Newstate", "1"),
		ev("Hangup", "2"),
		ev("HangupRequest", "3"),
		userEvent("Drop", "N", "4"),
		userEvent("Keep", "Tag", "yes", "N", "5"),
		ev("Newexten", "6"),
		ev("NEWCHANNEL", "7"),
		ev("Hangup", "8"),
	} {
		if m.Get("Event") != "UserEvent" {
			m.Add("Tag", "yes")
		}
		require.NoError(t, srv.Emit(m))
	}
	assert.Equal(t, exitOK, b.wait(t), "stderr %s", b.stderr.String())
	var got []string
	for _, m := range jsonLines(t, b.stdout.String()) {
		got = append(got, m["Event"].(string)+" "+m["N"].(string))
	}
	assert.Equal(t, []string{"Hangup 2", "UserEvent 5", "NEWCHANNEL 7"}, got)
}

// TestEventTypes checks the parsing of --type.
func TestEventTypes(t *testing.T) {
	tests := []struct {
		flags []string
		want  []string
		err   string
	}{
		{nil, nil, ""},
		{[]string{"hangup"}, []string{"Hangup"}, ""},
		{[]string{"Hangup, newchannel", "HANGUP", "newexten"}, []string{"Hangup", "Newchannel", "NewExten"}, ""},
		{[]string{"AOC-D"}, []string{"AOC-D"}, ""},
		{[]string{"Hangup,,Newchannel"}, nil, "an empty event name"},
		{[]string{"Hungup"}, nil, `unknown event "Hungup"; did you mean Hangup?`},
		{[]string{"Bogus"}, nil, `unknown event "Bogus" ('amihttp events --list' lists them)`},
	}
	for _, tt := range tests {
		got, err := eventTypes(tt.flags)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, "eventTypes(%q)", tt.flags)
			var ue *usageError
			assert.ErrorAs(t, err, &ue, "eventTypes(%q)", tt.flags)
			continue
		}
		require.NoError(t, err, "eventTypes(%q)", tt.flags)
		assert.Equal(t, tt.want, got, "eventTypes(%q)", tt.flags)
	}
}
