package main

import (
	"context"
	"encoding/json"
	"io"
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

// TestActionPing sends a Ping in every mode and prints the rawman answer;
// --url beats AMIHTTP_URL.
func TestActionPing(t *testing.T) {
	srv, u := newFake(t)
	for _, tt := range []struct {
		name string
		vars []string
		args []string
	}{
		{"env", urlVar(u), []string{"action", "Ping"}},
		{"flag beats env", urlVar("http://hello:wrong@127.0.0.1:1/"), []string{"action", "Ping", "--url", u}},
		{"md5", nil, []string{"action", "--url", u + "?auth=md5", "Ping"}},
		{"digest mxml", nil, []string{"action", "Ping", "--url", u + "?auth=digest&encoding=mxml"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runAmihttp(t, tt.vars, tt.args...)
			require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stderr)
			assert.Regexp(t, `(?i)^Response: Success\r\nActionID: \S+\r\nPing: Pong\r\nTimestamp: [0-9.]+\r\n\r\n$`, r.stdout)
		})
	}
	assert.Positive(t, srv.Executed("Ping"))
}

// TestActionRepeatedKeys checks that the parameters reach Asterisk in
// order, repeated keys included, values split at the first '='.
func TestActionRepeatedKeys(t *testing.T) {
	srv, u := newFake(t)
	var mu sync.Mutex
	var got *rawman.Message
	srv.Handle("MyAction", func(r *httpamitest.Request) []*rawman.Message {
		mu.Lock()
		got = r.Params.Clone()
		mu.Unlock()
		m := &rawman.Message{}
		m.Add("Response", "Success")
		m.Add("Output", "one")
		m.Add("Output", "two")
		return []*rawman.Message{m}
	})
	r := runAmihttp(t, urlVar(u), "action", "MyAction", "Variable=a=1", "--json", "Variable=b=2", "Empty=", "Foo=x=y")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	mu.Lock()
	defer mu.Unlock()
	require.NotNil(t, got)
	var params []rawman.Field
	for _, f := range got.Fields {
		if !strings.EqualFold(f.Key, "Action") && !strings.EqualFold(f.Key, "ActionID") {
			params = append(params, f)
		}
	}
	assert.Equal(t, []rawman.Field{{Key: "Variable", Value: "a=1"}, {Key: "Variable", Value: "b=2"}, {Key: "Empty", Value: ""}, {Key: "Foo", Value: "x=y"}}, params)
	var answer map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &answer), r.stdout)
	assert.Equal(t, []any{"one", "two"}, answer["Output"], "a repeated key is an array")
}

// jsonKeys returns the keys of the JSON object line, in order.
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok, line)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var v any
		require.NoError(t, dec.Decode(&v))
	}
	return keys
}

// TestActionJSON checks --json on a list action: one object a line, the
// answer, the items and the completion event, fields in wire order.
func TestActionJSON(t *testing.T) {
	_, u := newFake(t)
	c, err := httpami.Dial(context.Background(), u)
	require.NoError(t, err)
	t.Cleanup(func() { closeClient(context.Background(), c) })
	_, err = c.Originate(context.Background(), httpami.Originate{Channel: "Local/300@test", Application: "Echo", Async: true})
	require.NoError(t, err)
	eventually(t, "the call is up", func() bool {
		chans, _, err := c.CoreShowChannels(context.Background())
		return err == nil && len(chans) == 2
	})
	// Hang the call up before the fake closes.
	t.Cleanup(func() { _, _ = c.Hangup(context.Background(), httpami.Hangup{Channel: "/^Local/"}) })

	r := runAmihttp(t, urlVar(u), "action", "CoreShowChannels", "--json")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 4, r.stdout)
	assert.Equal(t, []string{"Response", "ActionID", "EventList", "Message"}, jsonKeys(t, lines[0]))
	assert.Equal(t, []string{"Event", "ActionID", "Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
		"ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context", "Exten", "Priority",
		"Uniqueid", "Linkedid", "Application", "ApplicationData", "Duration", "BridgeId"}, jsonKeys(t, lines[1]))
	assert.Contains(t, lines[1], `"CallerIDNum":"<unknown>"`, "no HTML escapes")
	var done map[string]string
	require.NoError(t, json.Unmarshal([]byte(lines[3]), &done))
	assert.Equal(t, "CoreShowChannelsComplete", done["Event"])
	assert.Equal(t, "2", done["ListItems"])
}

// TestActionError checks that Asterisk's errors exit with status 1 and
// its message on stderr.
func TestActionError(t *testing.T) {
	_, u := newFake(t)
	r := runAmihttp(t, urlVar(u), "action", "Getvar", "Channel=nope", "Variable=x")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "amihttp: Getvar: No such channel\n", r.stderr)
	assert.Contains(t, r.stdout, "Response: Error\r\n", "the answer is printed too")

	r = runAmihttp(t, urlVar(u), "action", "NoSuchAction")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "amihttp: NoSuchAction: Invalid/unknown command")

	r = runAmihttp(t, urlVar(strings.Replace(u, ":world@", ":wrong@", 1)), "action", "Ping")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "Authentication failed")
	assert.NotContains(t, r.stderr, "wrong")
}

// TestActionTimeout checks that --timeout bounds an action.
func TestActionTimeout(t *testing.T) {
	srv, u := newFake(t)
	srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStall, Path: "/rawman", Stall: time.Minute, Times: 10})
	began := time.Now()
	r := runAmihttp(t, urlVar(u), "action", "Ping", "--timeout", "200ms")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "deadline exceeded")
	assert.Less(t, time.Since(began), 10*time.Second)
}

// TestPrintResponse checks the order of the messages of an answer.
func TestPrintResponse(t *testing.T) {
	msg := func(kv ...string) *rawman.Message {
		m := &rawman.Message{}
		for i := 0; i < len(kv); i += 2 {
			m.Add(kv[i], kv[i+1])
		}
		return m
	}
	r := &httpami.Response{
		Answer:   msg("Response", "Success"),
		Events:   []*rawman.Message{msg("Event", "Item", "N", "1"), msg("Event", "Item", "N", "2")},
		Complete: msg("Event", "Done"),
		Other:    []*rawman.Message{msg("Event", "FullyBooted")},
	}
	var b strings.Builder
	require.NoError(t, printResponse(&b, r, false))
	assert.Equal(t, "Response: Success\r\n\r\nEvent: Item\r\nN: 1\r\n\r\nEvent: Item\r\nN: 2\r\n\r\nEvent: Done\r\n\r\nEvent: FullyBooted\r\n\r\n", b.String())
	b.Reset()
	require.NoError(t, printResponse(&b, r, true))
	assert.Equal(t, `{"Response":"Success"}
{"Event":"Item","N":"1"}
{"Event":"Item","N":"2"}
{"Event":"Done"}
{"Event":"FullyBooted"}
`, b.String())
	assert.Error(t, printResponse(io.Discard, &httpami.Response{Answer: msg("Bad", "a\r\nb")}, false), "a field the encoder refuses")
}

// TestVerbose checks that -v logs the client's requests, without the
// secret.
func TestVerbose(t *testing.T) {
	_, u := newFake(t)
	for _, flag := range []string{"-v", "--verbose"} {
		r := runAmihttp(t, urlVar(u), "action", "Ping", flag)
		assert.Equal(t, exitOK, r.code)
		assert.Contains(t, r.stderr, "level=DEBUG")
		assert.Contains(t, r.stderr, "Ping")
		assert.NotContains(t, r.stderr, "world")
	}
}

// TestActionInvalid checks that an action of the catalog that lacks a
// required parameter, or has one the action does not know, fails before
// any request reaches Asterisk, with a usage error that names the
// parameter and points to the action's own help. The client's Do does the
// check; an action the catalog does not know is sent unchecked.
func TestActionInvalid(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"missing Channel", []string{"action", "Originate", "Exten=100"}, []string{"Originate", "Channel", "amihttp action Originate --help"}},
		{"case ignored", []string{"action", "originate", "Exten=100", "Context=test"}, []string{"Channel"}},
		{"unknown parameter", []string{"action", "Ping", "Chanel=x"}, []string{"Ping", "Chanel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, u := newFake(t)
			r := runAmihttp(t, urlVar(u), tt.args...)
			assert.Equal(t, 0, srv.Requests(""), "no request reaches Asterisk")
			assert.Equal(t, exitUsage, r.code, "stderr: %s", r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "amihttp: action: "), "stderr: %s", r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stderr, w)
			}
			assert.Empty(t, r.stdout)
		})
	}
}

// TestActionValidateURL checks that the URL's validate parameter lets an
// action that fails the check through: with a warning for warn, silently
// for off.
func TestActionValidateURL(t *testing.T) {
	tests := []struct {
		validate string
		warning  bool
	}{
		{"warn", true},
		{"off", false},
	}
	for _, tt := range tests {
		t.Run(tt.validate, func(t *testing.T) {
			srv, u := newFake(t)
			r := runAmihttp(t, nil, "action", "Ping", "Chanel=x", "--url", u+"?validate="+tt.validate)
			assert.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
			assert.Equal(t, 1, srv.Executed("Ping"))
			if tt.warning {
				assert.Contains(t, r.stderr, "level=WARN")
				assert.Contains(t, r.stderr, "Chanel")
			} else {
				assert.Empty(t, r.stderr)
			}
			assert.NotContains(t, r.stderr, "world")
		})
	}
}
