package mxml

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// encodeAll encodes msgs with one Encoder and closes it.
func encodeAll(t *testing.T, msgs ...*rawman.Message) string {
	t.Helper()
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	for _, m := range msgs {
		if err := e.Encode(m); err != nil {
			t.Fatalf("Encode(%q): %v", m.Fields, err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func msg(kv ...string) *rawman.Message { return &rawman.Message{Fields: fs(kv...)} }

// TestEncodeSpecExample encodes the messages of the WaitEvent answer that
// the spec (http-ami-spec section 4.3) shows as Asterisk 23 sent it live,
// with its odd header names, and requires those bytes.
func TestEncodeSpecExample(t *testing.T) {
	got := encodeAll(t,
		msg("Response", "Success", "ActionID", "w<1>", "Message", "Waiting for Event completed."),
		msg("Event", "UserEvent", "Privilege", "user,all", "UserEvent", "T", "1Foo", "x",
			"Foo-Bar", "a", "Foo_Bar", "b", "foo.bar", "c", "Ünï", "u", "X Y", "s",
			"Dup", "one", "Dup", "two", "Dup", "three", "Val", `<a href="x">&'y'</a>`,
			"Tab", "a\tb", "Lead", "  spaced", "Empty", "", "ActionID", "id1", "actionid", "id2",
			"Ctl", "a\x01b", "Colon", "a: b: c"),
		msg("Event", "WaitEventComplete", "ActionID", "w<1>"),
	)
	want := "<ajax-response>\n" +
		"<response type='object' id='unknown'><generic response='Success' actionid='w&lt;1&gt;' message='Waiting for Event completed.' /></response>\n" +
		"<response type='object' id='unknown'><generic event='UserEvent' privilege='user,all' userevent='T' _1foo='x' foo_bar='a' foo_bar='b' foo_bar='c' __n__='u' x_y='s' dup='one' dup-2='two' dup-3='three' val='&lt;a href=&quot;x&quot;&gt;&amp;&apos;y&apos;&lt;/a&gt;' tab='a\tb' lead='spaced' empty='' actionid='id1' actionid='id2' ctl='a\x01b' colon='a: b: c' /></response>\n" +
		"<response type='object' id='unknown'><generic event='WaitEventComplete' actionid='w&lt;1&gt;' /></response>\n" +
		"</ajax-response>\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestEncodeCases(t *testing.T) {
	tests := []struct {
		name string
		m    *rawman.Message
		want string // the <response> line
	}{
		{
			name: "blanks around names and values are trimmed",
			m:    msg("Name ", " \tvalue \x01", "Key", "v"),
			want: "<generic name='value' key='v' />",
		},
		{
			name: "a colon in the key splits where Asterisk splits",
			m:    msg("a:b", "c"),
			want: "<generic a='b: c' />",
		},
		{
			name: "a line without a colon starts opaque data",
			m:    &rawman.Message{Fields: []rawman.Field{{Key: "Event", Value: "X"}, {Value: "no colon"}, {Key: "A", Value: "b"}, {Value: "<tail>"}}},
			want: "<generic event='X' opaque_data='no colon\nA: b\n&lt;tail&gt;' />",
		},
		{
			name: "an earlier Opaque-data header counts",
			m:    &rawman.Message{Fields: []rawman.Field{{Key: "Opaque-data", Value: "x"}, {Value: "line"}}},
			want: "<generic opaque_data='x' opaque_data-2='line' />",
		},
		{
			name: "Asterisk 13 Command output",
			m: msg("Response", "Follows", "Privilege", "Command", "ActionID", "c1",
				"Output", "Global Settings:", "Output", "----------------", "Output", "  Manager (AMI):  Yes",
				"Output", "", "Output", "  Verbosity: 3"),
			want: "<generic response='Follows' privilege='Command' actionid='c1' global_settings='' " +
				"opaque_data='----------------\n  Manager (AMI):  Yes\n  Verbosity: 3\n--END COMMAND--' />",
		},
		{
			name: "two empty Output lines in a row split Asterisk 13's object",
			m:    msg("Response", "Follows", "Privilege", "Command", "Output", "a", "Output", "", "Output", "", "Output", "b"),
			want: "<generic response='Follows' privilege='Command' opaque_data='a' /></response>\n" +
				"<response type='object' id='unknown'><generic opaque_data='b\n--END COMMAND--' />",
		},
		{
			name: "keys already in mxml form come out unchanged",
			m:    &rawman.Message{Keys: rawman.KeysXML, Fields: fs("cause_txt", "Busy", "_1foo", "x", "output", "a", "output", "b")},
			want: "<generic cause_txt='Busy' _1foo='x' output='a' output-2='b' />",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeAll(t, tt.m)
			want := "<ajax-response>\n<response type='object' id='unknown'>" + tt.want + "</response>\n</ajax-response>\n"
			if got != want {
				t.Errorf("got\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestEncodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		m    *rawman.Message
		err  error
	}{
		{"empty message", &rawman.Message{}, rawman.ErrEmptyMessage},
		{"nil message", nil, rawman.ErrEmptyMessage},
		{"CR in a value", msg("A", "x\ry"), rawman.ErrInvalidField},
		{"LF in a key", msg("A\nB", "x"), rawman.ErrInvalidField},
		{"NUL in a value", msg("A", "x\x00"), rawman.ErrInvalidField},
		{"empty key and value", &rawman.Message{Fields: []rawman.Field{{Key: "A", Value: "1"}, {}}}, rawman.ErrInvalidField},
		{"Follows output ending in the marker", msg("Response", "Follows", "Output", "x--END COMMAND--"), rawman.ErrInvalidField},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		e := NewEncoder(&buf)
		err := e.Encode(tt.m)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: Encode = %v, want %v", tt.name, err, tt.err)
		}
		var fe *rawman.FieldError
		if errors.Is(tt.err, rawman.ErrInvalidField) && !errors.As(err, &fe) {
			t.Errorf("%s: %T is not a *rawman.FieldError", tt.name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %q", tt.name, buf.String())
		}
	}
}

func TestEncoderLifecycle(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "<ajax-response>\n</ajax-response>\n" {
		t.Errorf("Close without messages wrote %q", got)
	}
	if err := e.Encode(msg("A", "1")); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close = %v, want ErrClosed", err)
	}

	buf.Reset()
	e = NewEncoder(&buf)
	e.SetObject("dest", "item")
	if err := e.Encode(msg("A", "1")); err != nil {
		t.Fatal(err)
	}
	e.SetObject("", "")
	if err := e.Encode(msg("B", "2")); err != nil {
		t.Fatal(err)
	}
	want := "<ajax-response>\n<response type='object' id='dest'><item a='1' /></response>\n" +
		"<response type='object' id='unknown'><generic b='2' /></response>\n"
	if got := buf.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	boom := errors.New("boom")
	e = NewEncoder(errWriter{boom})
	if err := e.Encode(msg("A", "1")); !errors.Is(err, boom) {
		t.Errorf("Encode to a failing writer = %v", err)
	}
	if err := e.Close(); !errors.Is(err, boom) {
		t.Errorf("Close to a failing writer = %v", err)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// TestEncodeDecodeRoundTrip decodes what the Encoder writes: each key comes
// back in mxml form, each value with its outer blanks trimmed, repeats as
// repeated keys and Command output as output fields.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := []*rawman.Message{
		msg("Event", "UserEvent", "UserEvent", "Weird", "Markup", `<>&"'`, "Spaces", "  two  ",
			"1st-Header", "x", "Rep", "1", "Rep", "2", "Utf8", "héllo 世界"),
		msg("Response", "Follows", "Privilege", "Command", "ActionID", "c1", "Output", "line one", "Output", "line two"),
	}
	body := encodeAll(t, in...)
	wantMsgs := [][]rawman.Field{
		fs("event", "UserEvent", "userevent", "Weird", "markup", `<>&"'`, "spaces", "two",
			"_1st_header", "x", "rep", "1", "rep", "2", "utf8", "héllo 世界"),
		fs("response", "Follows", "privilege", "Command", "actionid", "c1", "output", "line one", "output", "line two"),
	}
	checkDecode(t, body, want{msgs: wantMsgs, err: io.EOF})
}

func TestEncodeLegacyNames(t *testing.T) {
	m := msg("Event", "UserEvent", "1st-Header", "x", "2nd", "y")
	for _, tc := range []struct {
		legacy bool
		want   string
	}{
		{false, "<generic event='UserEvent' _1st_header='x' _2nd='y' />"},
		{true, "<generic event='UserEvent' 1st_header='x' 2nd='y' />"},
	} {
		var b strings.Builder
		enc := NewEncoder(&b)
		enc.SetLegacyNames(tc.legacy)
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("legacy=%v: got %q, want it to contain %q", tc.legacy, b.String(), tc.want)
		}
		// The Decoder reads both forms back to the same lookups.
		var got rawman.Message
		if err := NewDecoder(strings.NewReader(b.String() + docEnd)).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if got.Get("1st-Header") != "x" || got.Get("2nd") != "y" {
			t.Errorf("legacy=%v: decoded %v", tc.legacy, got.Fields)
		}
	}
}
