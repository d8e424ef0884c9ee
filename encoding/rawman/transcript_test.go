package rawman

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/internal/transcript"
)

// rawmanBodies returns the body of every recorded /rawman and /arawman
// answer that has one, keyed by "group/name".
func rawmanBodies(t testing.TB) map[string][]byte {
	t.Helper()
	bodies := map[string][]byte{}
	for _, x := range transcript.MustLoad(t) {
		if ep := x.Endpoint(); ep != "rawman" && ep != "arawman" {
			continue
		}
		if x.Meta.Status != 200 || x.Meta.Method == "HEAD" {
			continue
		}
		_, body, err := x.Response()
		if err != nil {
			t.Fatal(err)
		}
		bodies[x.ID()] = body
	}
	if len(bodies) < 150 {
		t.Fatalf("found %d rawman bodies, want the recorded set", len(bodies))
	}
	return bodies
}

// TestTranscriptBodies decodes every /rawman body Asterisk 23 sent and checks
// that nothing was lost: encoding the decoded messages again gives the body
// back byte for byte, and the body holds exactly as many messages as empty
// lines.
func TestTranscriptBodies(t *testing.T) {
	for id, body := range rawmanBodies(t) {
		d := NewDecoder(bytes.NewReader(body))
		var out []byte
		n := 0
		for {
			var m Message
			err := d.Decode(&m)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: Decode message %d: %v", id, n+1, err)
			}
			if m.Len() == 0 || (!m.IsEvent() && !m.IsResponse()) {
				t.Errorf("%s: message %d is neither event nor response: %q", id, n+1, m.Fields)
			}
			n++
			if out, err = Append(out, &m); err != nil {
				t.Fatalf("%s: Append message %d: %v", id, n, err)
			}
		}
		if !bytes.Equal(out, body) {
			t.Errorf("%s: re-encoded body differs:\n got %q\nwant %q", id, out, body)
		}
		if want := bytes.Count(body, []byte("\r\n\r\n")); n != want {
			t.Errorf("%s: decoded %d messages, the body has %d", id, n, want)
		}
	}
}

// TestTranscriptGolden checks decoded fields against what was read, by a
// person, in the recorded files (values that change from run to run, such as
// timestamps, are recorded values of that run).
func TestTranscriptGolden(t *testing.T) {
	bodies := rawmanBodies(t)
	tests := []struct {
		id   string
		want [][]Field
	}{
		{"session/001-login-ok-get-rawman", [][]Field{f("Response", "Success", "Message", "Authentication accepted")}},
		{"session/005-ping-without-cookie-rawman", [][]Field{f("Response", "Error", "Message", "Permission denied")}},
		{"session/011-logoff-rawman", [][]Field{f("Response", "Goodbye", "Message", "Thanks for all the fish.")}},
		{"session/018-login-events-on-rawman", [][]Field{
			f("Response", "Success", "Message", "Authentication accepted"),
			f("Event", "FullyBooted", "Privilege", "system,all", "Uptime", "5", "LastReload", "5", "Status", "Fully Booted"),
		}},
		{"md5/001-challenge-rawman", [][]Field{f("Response", "Success", "Challenge", "136648290")}},
		{"info/002-coresettings-rawman", [][]Field{f("Response", "Success", "AMIversion", "12.0.0",
			"AsteriskVersion", "23.4.1", "SystemName", "", "CoreMaxCalls", "0", "CoreMaxLoadAvg", "0.000000",
			"CoreRunUser", "", "CoreRunGroup", "", "CoreMaxFilehandles", "0", "CoreRealTimeEnabled", "No",
			"CoreCDRenabled", "Yes", "CoreHTTPenabled", "Yes", "SoundsSearchCustomDir", "No")}},
		{"info/007-command-unknown-rawman", [][]Field{f("Response", "Error", "Message", "Command output follows",
			"Output", "No such command 'no such command here' (type 'core show help no such' for other possible commands)")}},
		{"info/012-getvar-function-rawman", [][]Field{f("Response", "Success", "Variable", "GLOBAL(GLOBALVAR)", "Value", "hello-global")}},
		{"info/018-waitevent-crlf-in-value-rawman", [][]Field{
			f("Response", "Success", "Message", "Waiting for Event completed."),
			f("Event", "UserEvent", "Privilege", "user,all", "Timestamp", "1796035967.205523",
				"UserEvent", "CRLF", "Line", "one", "Injected", "two"),
			f("Event", "WaitEventComplete"),
		}},
		{"info/020-waitevent-name-collisions-rawman", [][]Field{
			f("Response", "Success", "Message", "Waiting for Event completed."),
			f("Event", "UserEvent", "Privilege", "user,all", "Timestamp", "1796035967.206238",
				"UserEvent", "Collide", "Foo-Bar", "dash", "Foo_Bar", "underscore", "foo.bar", "dot",
				"FOO BAR", "space", "Ctl", "bell\x07 del\x7f soh\x01", "CData", "]]> <![CDATA[ x"),
			f("Event", "WaitEventComplete"),
		}},
		{"lists/002-coreshowchannels-0ch-rawman", [][]Field{
			f("Response", "Success", "ActionID", "csc-1", "EventList", "start", "Message", "Channels will follow"),
			f("Event", "CoreShowChannelsComplete", "ActionID", "csc-1", "EventList", "Complete", "ListItems", "0"),
		}},
		{"lists/007-listcategories-0ch-rawman", [][]Field{f("Response", "Success",
			"Category-000000", "general", "Category-000001", "globals", "Category-000002", "test")}},
		{"lists/033-hangup-regex", [][]Field{
			f("Response", "Success", "EventList", "start", "Message", "Channels hung up will follow"),
			f("Event", "ChannelHungup", "Channel", "Local/200@test-00000000;1"),
			f("Event", "ChannelHungup", "Channel", "Local/200@test-00000000;2"),
			f("Event", "ChannelHungup", "Channel", "Local/200@test-00000001;1"),
			f("Event", "ChannelHungup", "Channel", "Local/200@test-00000001;2"),
			f("Event", "ChannelsHungupListComplete", "EventList", "Complete", "ListItems", "4"),
		}},
		{"errors/002-unknown-action-rawman", [][]Field{f("Response", "Error", "Message",
			"Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands.")}},
		{"waitevent/013-concurrent-first-rawman", nil}, // kicked by a newer WaitEvent: empty body
		{"digest/002-digest-ok-nc1-arawman", [][]Field{f("Response", "Success", "Ping", "Pong", "Timestamp", "1796035579.718439")}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			body, ok := bodies[tt.id]
			if !ok {
				t.Fatalf("no recorded body %s", tt.id)
			}
			got := decodeAll(t, bytes.NewReader(body))
			if !equalMessages(got, tt.want) {
				t.Errorf("Decode(%s) =\n%q\nwant\n%q", tt.id, got, tt.want)
			}
		})
	}
}

// TestTranscriptWeirdValues checks the UserEvent whose values hold markup,
// spaces, UTF-8 and a tab: rawman keeps every byte.
func TestTranscriptWeirdValues(t *testing.T) {
	body := rawmanBodies(t)["info/014-waitevent-weird-values-rawman"]
	msgs := decodeAll(t, bytes.NewReader(body))
	if len(msgs) != 5 {
		t.Fatalf("decoded %d messages, want 5 (response, SuccessfulAuth, VarSet, UserEvent, WaitEventComplete)", len(msgs))
	}
	ev := &Message{Fields: msgs[3]}
	want := map[string]string{
		"Event":      "UserEvent",
		"UserEvent":  "WeirdValues",
		"Markup":     `<>&"'`,
		"Equals":     "a=b==c",
		"Percent":    "100% %41 %zz",
		"Spaces":     "  two leading, two trailing  ",
		"Utf8":       "héllo wörld € 日本",
		"Tab":        "before\tafter",
		"1st-Header": "name starts with a digit and has a dash",
	}
	for k, v := range want {
		if got := ev.Get(k); got != v {
			t.Errorf("Get(%q) = %q, want %q", k, got, v)
		}
	}
	varset := &Message{Fields: msgs[2]}
	if varset.Event() != "VarSet" || varset.Get("Value") != "x y=z" {
		t.Errorf("VarSet event = %q", varset.Fields)
	}
}

// TestTranscriptTCP decodes a classic TCP manager session (port 5038) as
// one stream, the way a connection delivers it: the greeting line, then
// responses and events.
func TestTranscriptTCP(t *testing.T) {
	var t1 []byte
	for _, x := range transcript.MustLoadGroup(t, "tcp") {
		if x.Meta.Conn == "t1" {
			t1 = append(t1, x.Resp...)
		}
	}
	d := NewDecoder(bytes.NewReader(t1))
	var (
		m     Message
		names []string
	)
	for {
		err := d.Decode(&m)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := m.Response()
		if m.IsEvent() {
			name = m.Event()
		}
		names = append(names, m.ActionID()+":"+name)
	}
	if got, want := d.Banner(), "Asterisk Call Manager/12.0.0"; got != want {
		t.Errorf("Banner() = %q, want %q", got, want)
	}
	// Read off the files 001 to 013 of connection t1.
	want := "t-login:Success t-ping:Success t-csc0:Success t-csc0:CoreShowChannelsComplete " +
		"t-orig:Success t-orig:Success t-csc4:Success " + strings.Repeat("t-csc4:CoreShowChannel ", 4) +
		"t-csc4:CoreShowChannelsComplete t-status:Success " + strings.Repeat("t-status:Status ", 4) +
		"t-status:StatusComplete t-cmd:Success t-cmd2:Success t-cmd3:Error t-unk:Error t-bye:Goodbye"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("decoded\n%s\nwant\n%s", got, want)
	}
}
