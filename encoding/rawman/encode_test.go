package rawman

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		m    []Field
		want string
	}{
		{"response", f("Response", "Success", "ActionID", "a1", "Ping", "Pong"),
			"Response: Success\r\nActionID: a1\r\nPing: Pong\r\n\r\n"},
		{"empty value keeps its space", f("Event", "X", "AccountCode", ""), "Event: X\r\nAccountCode: \r\n\r\n"},
		{"repeated keys", f("Action", "Originate", "Variable", "a=1", "Variable", "b=2"),
			"Action: Originate\r\nVariable: a=1\r\nVariable: b=2\r\n\r\n"},
		{"line without colon", f("Response", "Success", "", "raw line"), "Response: Success\r\nraw line\r\n\r\n"},
		{"control bytes other than CR and LF", f("Event", "X", "Ctl", "a\x01\x00\tb"), "Event: X\r\nCtl: a\x01\x00\tb\r\n\r\n"},
		{"Asterisk 13 Command output", f("Response", "Follows", "Privilege", "Command", "ActionID", "c1",
			"Output", "Manager (AMI): x", "Output", "", "Output", "  indented"),
			"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nManager (AMI): x\n\n  indented\n--END COMMAND--\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := &Message{Fields: tt.m}
			if err := NewEncoder(&buf).Encode(m); err != nil {
				t.Fatalf("Encode(%q): %v", tt.m, err)
			}
			if buf.String() != tt.want {
				t.Errorf("Encode(%q) = %q, want %q", tt.m, buf.String(), tt.want)
			}
			if s := m.String(); s != tt.want {
				t.Errorf("String() = %q, want %q", s, tt.want)
			}
			// And it reads back as the same message.
			got := decodeAll(t, strings.NewReader(tt.want))
			if len(got) != 1 || !m.Equal(&Message{Fields: got[0]}) {
				t.Errorf("Decode(Encode(%q)) = %q", tt.m, got)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name  string
		m     []Field
		index int
	}{
		{"LF in value (header injection)", f("Action", "UserEvent", "Line", "one\nInjected: two"), 1},
		{"CRLF in value", f("Action", "UserEvent", "Line", "one\r\nInjected: two"), 1},
		{"CR in value", f("Action", "Ping", "ActionID", "a\rb"), 1},
		{"LF in key", f("Action", "Ping", "Bad\nKey", "v"), 1},
		{"colon in key", f("Action", "Ping", "Bad:Key", "v"), 1},
		{"empty key and value", f("Action", "Ping", "", ""), 1},
		{"empty key, colon in value", f("Action", "Ping", "", "a: b"), 1},
		{"Follows: other header", f("Response", "Follows", "Message", "x", "Output", "y"), 1},
		{"Follows: header after output", f("Response", "Follows", "Output", "y", "ActionID", "x"), 2},
		{"Follows: output ending in the marker", f("Response", "Follows", "Output", "y--END COMMAND--"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := NewEncoder(&buf).Encode(&Message{Fields: tt.m})
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalidField) {
				t.Fatalf("Encode(%q) = %v, want a *FieldError", tt.m, err)
			}
			if fe.Index != tt.index {
				t.Errorf("FieldError.Index = %d, want %d", fe.Index, tt.index)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode wrote %q despite the error", buf.String())
			}
			if strings.Contains(err.Error(), "two") || strings.Contains(err.Error(), "y--END") {
				t.Errorf("error %q shows the value", err)
			}
		})
	}
	if err := NewEncoder(&bytes.Buffer{}).Encode(&Message{}); !errors.Is(err, ErrEmptyMessage) {
		t.Errorf("Encode(empty) = %v, want ErrEmptyMessage", err)
	}
}

// TestEncodeTranscripts checks that the Encoder writes what Asterisk writes:
// messages built by hand from the fields of recorded answers encode to the
// recorded bytes.
func TestEncodeTranscripts(t *testing.T) {
	bodies := rawmanBodies(t)
	tests := []struct {
		id   string
		msgs [][]Field
	}{
		{"session/018-login-events-on-rawman", [][]Field{
			f("Response", "Success", "Message", "Authentication accepted"),
			f("Event", "FullyBooted", "Privilege", "system,all", "Uptime", "5", "LastReload", "5", "Status", "Fully Booted"),
		}},
		{"info/018-waitevent-crlf-in-value-rawman", [][]Field{
			f("Response", "Success", "Message", "Waiting for Event completed."),
			f("Event", "UserEvent", "Privilege", "user,all", "Timestamp", "1796035967.205523",
				"UserEvent", "CRLF", "Line", "one", "Injected", "two"),
			f("Event", "WaitEventComplete"),
		}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		enc := NewEncoder(&buf)
		for _, fs := range tt.msgs {
			if err := enc.Encode(&Message{Fields: fs}); err != nil {
				t.Fatal(err)
			}
		}
		if want := bodies[tt.id]; !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: encoded\n%q\nrecorded\n%q", tt.id, buf.Bytes(), want)
		}
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestEncodeWriteError(t *testing.T) {
	boom := errors.New("boom")
	if err := NewEncoder(failWriter{boom}).Encode(&Message{Fields: f("Action", "Ping")}); err != boom {
		t.Errorf("Encode = %v, want %v", err, boom)
	}
}

func TestAppendKeepsDst(t *testing.T) {
	dst := []byte("prefix")
	out, err := Append(dst, &Message{Fields: f("Action", "Ping", "Bad", "a\nb")})
	if err == nil || string(out) != "prefix" {
		t.Errorf("Append = %q, %v; want dst unchanged and an error", out, err)
	}
	out, err = Append(dst, &Message{Fields: f("Action", "Ping")})
	if err != nil || string(out) != "prefixAction: Ping\r\n\r\n" {
		t.Errorf("Append = %q, %v", out, err)
	}
}
