package rawman

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// f builds a Field list from key, value pairs.
func f(kv ...string) []Field {
	fs := make([]Field, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, Field{Key: kv[i], Value: kv[i+1]})
	}
	return fs
}

// decodeAll decodes every message of in, failing the test on an error other
// than io.EOF.
func decodeAll(t *testing.T, r io.Reader) [][]Field {
	t.Helper()
	d := NewDecoder(r)
	var out [][]Field
	for {
		var m Message
		err := d.Decode(&m)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Decode after %d messages: %v", len(out), err)
		}
		out = append(out, m.Fields)
	}
}

func equalMessages(a, b [][]Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(&Message{Fields: a[i]}).Equal(&Message{Fields: b[i]}) {
			return false
		}
	}
	return true
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][]Field
	}{
		{"empty input", "", nil},
		{"only blank lines", "\r\n\n\r\n", nil},
		{"one message", "Response: Success\r\nPing: Pong\r\n\r\n",
			[][]Field{f("Response", "Success", "Ping", "Pong")}},
		{"bare LF", "Event: X\nA: 1\n\nEvent: Y\n\n",
			[][]Field{f("Event", "X", "A", "1"), f("Event", "Y")}},
		{"mixed line endings", "Event: X\r\nA: 1\n\r\n",
			[][]Field{f("Event", "X", "A", "1")}},
		{"value containing colon-space", "Event: X\r\nMessage: a: b: c\r\n\r\n",
			[][]Field{f("Event", "X", "Message", "a: b: c")}},
		{"empty value with trailing space", "Event: X\r\nAccountCode: \r\n\r\n",
			[][]Field{f("Event", "X", "AccountCode", "")}},
		{"empty value without space", "Event: X\r\nAccountCode:\r\n\r\n",
			[][]Field{f("Event", "X", "AccountCode", "")}},
		{"no space after colon", "Event:X\r\n\r\n", [][]Field{f("Event", "X")}},
		{"leading spaces of a value are kept but one", "Event: X\r\nSpaces:   two  \r\n\r\n",
			[][]Field{f("Event", "X", "Spaces", "  two  ")}},
		{"line without colon is kept", "Response: Success\r\nno colon here\r\n\r\n",
			[][]Field{f("Response", "Success", "", "no colon here")}},
		{"line starting with colon is kept whole", "Event: X\r\n: v\r\n\r\n",
			[][]Field{f("Event", "X", "", ": v")}},
		{"repeated keys in order", "Event: X\r\nVariable: a=1\r\nVariable: b=2\r\nvariable: c=3\r\n\r\n",
			[][]Field{f("Event", "X", "Variable", "a=1", "Variable", "b=2", "variable", "c=3")}},
		{"blank lines between messages", "\r\nEvent: A\r\n\r\n\r\n\nEvent: B\r\n\r\n",
			[][]Field{f("Event", "A"), f("Event", "B")}},
		{"TCP banner", "Asterisk Call Manager/12.0.0\r\nResponse: Success\r\n\r\n",
			[][]Field{f("Response", "Success")}},
		{"banner only first", "Event: A\r\n\r\nAsterisk Call Manager/1.0\r\n\r\n",
			[][]Field{f("Event", "A"), f("", "Asterisk Call Manager/1.0")}},
		{"NUL bytes are data", "Event: A\x00B\r\nK\x00: v\x00\r\n\r\n",
			[][]Field{f("Event", "A\x00B", "K\x00", "v\x00")}},
		{"lone CR is data", "Event: a\rb\r\nX: \r\r\n\r\n",
			[][]Field{f("Event", "a\rb", "X", "\r")}},
		{"non-UTF-8 and tabs are data", "Event: \xff\xfe\tx\r\n\r\n",
			[][]Field{f("Event", "\xff\xfe\tx")}},
		{"long key", "Event: A\r\n" + strings.Repeat("K", 100) + ": v\r\n\r\n",
			[][]Field{f("Event", "A", strings.Repeat("K", 100), "v")}},
		{"Asterisk 14+ Command output",
			"Response: Success\r\nActionID: c1\r\nMessage: Command output follows\r\nOutput: line 1\r\nOutput:   indented\r\nOutput: \r\n\r\n",
			[][]Field{f("Response", "Success", "ActionID", "c1", "Message", "Command output follows",
				"Output", "line 1", "Output", "  indented", "Output", "")}},
		{"Asterisk 13 Command output",
			"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nManager (AMI): yes\nline two\n\n  indented\n--END COMMAND--\r\n\r\n",
			[][]Field{f("Response", "Follows", "Privilege", "Command", "ActionID", "c1",
				"Output", "Manager (AMI): yes", "Output", "line two", "Output", "", "Output", "  indented")}},
		{"Asterisk 13 Command output, marker glued to the last line",
			"Response: Follows\r\nPrivilege: Command\r\nNo such command 'x'--END COMMAND--\r\n\r\nEvent: Next\r\n\r\n",
			[][]Field{f("Response", "Follows", "Privilege", "Command", "Output", "No such command 'x'"),
				f("Event", "Next")}},
		{"Asterisk 13 Command output, no output",
			"Response: Follows\r\nPrivilege: Command\r\n--END COMMAND--\r\n\r\n",
			[][]Field{f("Response", "Follows", "Privilege", "Command")}},
		{"Asterisk 13 Command output, no blank line after the marker",
			"Response: Follows\r\nx\n--END COMMAND--\r\nEvent: Next\r\n\r\n",
			[][]Field{f("Response", "Follows", "Output", "x"), f("Event", "Next")}},
		{"Asterisk 13 Command output at the end of input without blank line",
			"Response: Follows\r\nx\n--END COMMAND--\r\n",
			[][]Field{f("Response", "Follows", "Output", "x")}},
		{"Follows only as the first field", "Event: X\r\nResponse: Follows\r\nA: b\r\n\r\n",
			[][]Field{f("Event", "X", "Response", "Follows", "A", "b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", strings.NewReader(tt.in)},
				{"one byte at a time", iotest.OneByteReader(strings.NewReader(tt.in))},
				{"data with EOF", iotest.DataErrReader(strings.NewReader(tt.in))},
			} {
				got := decodeAll(t, r.r)
				if !equalMessages(got, tt.want) {
					t.Errorf("%s: Decode(%q) = %q, want %q", r.name, tt.in, got, tt.want)
				}
			}
		})
	}
}

func TestDecodeBanner(t *testing.T) {
	d := NewDecoder(strings.NewReader("Asterisk Call Manager/12.0.0\r\nResponse: Success\r\n\r\n"))
	var m Message
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if got, want := d.Banner(), "Asterisk Call Manager/12.0.0"; got != want {
		t.Errorf("Banner() = %q, want %q", got, want)
	}
}

func TestDecodeTruncated(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Field
	}{
		{"no blank line", "Response: Success\r\nMessage: x\r\n", f("Response", "Success", "Message", "x")},
		{"cut inside a line", "Response: Success\r\nMess", f("Response", "Success", "", "Mess")},
		{"cut inside a value", "Response: Success\r\nMessage: ab", f("Response", "Success", "Message", "ab")},
		{"cut after CR", "Response: Success\r", f("Response", "Success\r")},
		{"Follows without marker", "Response: Follows\r\nPrivilege: Command\r\nout\n", f("Response", "Follows", "Privilege", "Command", "Output", "out")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(strings.NewReader("Event: First\r\n\r\n" + tt.in))
			var m Message
			if err := d.Decode(&m); err != nil {
				t.Fatalf("first Decode: %v", err)
			}
			err := d.Decode(&m)
			if err != io.ErrUnexpectedEOF {
				t.Fatalf("Decode(%q) error = %v, want io.ErrUnexpectedEOF", tt.in, err)
			}
			if !(&Message{Fields: tt.want}).Equal(&m) {
				t.Errorf("partial message = %q, want %q", m.Fields, tt.want)
			}
			if err := d.Decode(&m); err != io.EOF {
				t.Errorf("Decode after the end = %v, want io.EOF", err)
			}
		})
	}
}

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("Event: A\r\n\r\nEvent: B\r\n"), iotest.ErrReader(boom))
	d := NewDecoder(r)
	var m Message
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the error sticks
		if err := d.Decode(&m); err != boom {
			t.Fatalf("Decode = %v, want %v", err, boom)
		}
	}
}

func TestDecodeNoProgress(t *testing.T) {
	d := NewDecoder(zeroReader{})
	var m Message
	if err := d.Decode(&m); err != io.ErrNoProgress {
		t.Fatalf("Decode from a reader that returns 0, nil = %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestDecodeLimits(t *testing.T) {
	lim := Limits{MaxLineBytes: 64, MaxFields: 4, MaxMessageBytes: 128}
	tests := []struct {
		name     string
		in       string
		want     error
		wantLine int
		wantOff  int64
	}{
		{"line too long", "Event: A\r\nK: " + strings.Repeat("v", 80) + "\r\n\r\n", ErrLineTooLong, 2, 10},
		{"line too long, unterminated", "Event: A\r\nK: " + strings.Repeat("v", 200), ErrLineTooLong, 2, 10},
		{"line too long without colon", "Event: A\r\n" + strings.Repeat("v", 80) + "\r\n\r\n", ErrLineTooLong, 2, 10},
		{"too many fields", "Event: A\r\nB: 1\r\nC: 2\r\nD: 3\r\nE: 4\r\n\r\n", ErrTooManyFields, 5, 28},
		{"too many fields as first line", "Event: A\r\nB: 1\r\nC: 2\r\nD: 3\r\nno colon\r\n\r\n", ErrTooManyFields, 5, 28},
		{"message too large", "Event: A\r\n" + strings.Repeat("Key: "+strings.Repeat("v", 40)+"\r\n", 3) + "\r\n", ErrMessageTooLarge, 4, 104},
		{"Follows output too long", "Response: Follows\r\n" + strings.Repeat("x\n", 10) + "--END COMMAND--\r\n\r\n", ErrTooManyFields, 5, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "Event: Before\r\n\r\n" + tt.in
			base := int64(len("Event: Before\r\n\r\n"))
			d := NewDecoder(strings.NewReader(in))
			d.SetLimits(lim)
			var m Message
			if err := d.Decode(&m); err != nil {
				t.Fatal(err)
			}
			err := d.Decode(&m)
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want a *SyntaxError wrapping %v", err, tt.want)
			}
			if se.Line != tt.wantLine+2 || se.Offset != base+tt.wantOff {
				t.Errorf("error at line %d offset %d, want line %d offset %d", se.Line, se.Offset, tt.wantLine+2, base+tt.wantOff)
			}
		})
	}
}

// TestDecodeLimitResync checks that a Decoder goes on after a limit error,
// at the message that follows the one that broke the limit.
func TestDecodeLimitResync(t *testing.T) {
	in := "Event: A\r\nK: " + strings.Repeat("v", 5000) + "\r\nMore: x\r\n\r\nEvent: B\r\n\r\n" +
		"Event: C\r\n" + strings.Repeat("F: 1\r\n", 20) + "\r\nEvent: D\r\n\r\n"
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in)), iotest.HalfReader(strings.NewReader(in))} {
		d := NewDecoder(r)
		d.SetLimits(Limits{MaxLineBytes: 1000, MaxFields: 10})
		var m Message
		var got []string
		for {
			err := d.Decode(&m)
			if err == io.EOF {
				break
			}
			if err != nil {
				got = append(got, "error")
				continue
			}
			got = append(got, m.Event())
		}
		if want := "error B error D"; strings.Join(got, " ") != want {
			t.Errorf("decoded %q, want %q", got, want)
		}
	}
}

func TestDecodeLimitDefaults(t *testing.T) {
	d := NewDecoder(strings.NewReader(""))
	want := Limits{MaxLineBytes: DefaultMaxLineBytes, MaxFields: DefaultMaxFields, MaxMessageBytes: DefaultMaxMessageBytes}
	if got := d.Limits(); got != want {
		t.Errorf("Limits() = %+v, want %+v", got, want)
	}
	d.SetLimits(Limits{MaxFields: 7})
	want.MaxFields = 7
	if got := d.Limits(); got != want {
		t.Errorf("after SetLimits, Limits() = %+v, want %+v", got, want)
	}
}

// hugeReader yields n bytes of a repeating pattern without holding them.
type hugeReader struct {
	pattern []byte
	n, off  int
}

func (h *hugeReader) Read(p []byte) (int, error) {
	if h.n <= 0 {
		return 0, io.EOF
	}
	k := min(len(p), h.n)
	for i := range k {
		p[i] = h.pattern[(h.off+i)%len(h.pattern)]
	}
	h.off += k
	h.n -= k
	return k, nil
}

// TestDecodeHostile feeds inputs far beyond the limits and checks that the
// Decoder answers with the right error while its buffer stays bounded.
func TestDecodeHostile(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{"a single 10 MiB line", io.MultiReader(strings.NewReader("Event: X\r\nV: "), &hugeReader{pattern: []byte("x"), n: 10 << 20}), ErrLineTooLong},
		{"a million fields", io.MultiReader(strings.NewReader("Event: X\r\n"), &hugeReader{pattern: []byte("F: 1\r\n"), n: 6 << 20}), ErrTooManyFields},
		{"20 MiB of long lines", io.MultiReader(strings.NewReader("Event: X\r\n"), &hugeReader{pattern: []byte("Field: " + strings.Repeat("y", 1000) + "\r\n"), n: 20 << 20}), ErrMessageTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.r)
			var m Message
			err := d.Decode(&m)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want %v", err, tt.want)
			}
			lim := d.Limits()
			if bound := 2 * (lim.MaxMessageBytes + lim.MaxLineBytes); cap(d.buf) > bound {
				t.Errorf("buffer grew to %d bytes, more than %d", cap(d.buf), bound)
			}
			// The rest of the input is skipped with bounded memory.
			err = d.Decode(&m)
			if err != io.ErrUnexpectedEOF {
				t.Errorf("Decode after the limit error = %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

func TestDecodeReuse(t *testing.T) {
	in := "Event: A\r\nK1: v1\r\nK2: v2\r\nK3: v3\r\n\r\nEvent: B\r\n\r\n"
	d := NewDecoder(strings.NewReader(in))
	var m Message
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	first := m.Fields
	kept := first[3] // strings of an earlier message stay valid
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if !m.Equal(&Message{Fields: f("Event", "B")}) {
		t.Errorf("second message = %q", m.Fields)
	}
	if kept != (Field{"K3", "v3"}) {
		t.Errorf("field of the first message changed to %q", kept)
	}
	if full := first[:4]; full[1] != (Field{}) || full[3] != (Field{}) {
		t.Errorf("the reused Fields still reference the old message beyond its length: %q", full)
	}
}

func TestDecoderReset(t *testing.T) {
	d := NewDecoder(strings.NewReader("Event: A\r\n\r\nEvent: Lost\r\n\r\n"))
	d.SetLimits(Limits{MaxFields: 3})
	var m Message
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	d.Reset(strings.NewReader("Event: B\r\n\r\n"))
	if err := d.Decode(&m); err != nil || m.Event() != "B" {
		t.Fatalf("after Reset: Decode = %v, %q; want Event B", err, m.Fields)
	}
	if d.Limits().MaxFields != 3 {
		t.Errorf("Reset lost the limits")
	}
	if err := d.Decode(&m); err != io.EOF {
		t.Errorf("Decode = %v, want io.EOF", err)
	}
	if got := d.InputOffset(); got != int64(len("Event: B\r\n\r\n")) {
		t.Errorf("InputOffset() = %d, want %d", got, len("Event: B\r\n\r\n"))
	}
}

// TestDecodeAllocs checks the allocation budget: one string for the
// messages of a body and nothing per field when decoding into the same
// Message.
func TestDecodeAllocs(t *testing.T) {
	body := []byte("Response: Success\r\nActionID: w1\r\nMessage: Waiting for Event completed.\r\n\r\n" +
		"Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/a-1\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n" +
		"Event: WaitEventComplete\r\nActionID: w1\r\n\r\n")
	var (
		m  Message
		br bytes.Reader
	)
	decodeBody := func() {
		br.Reset(body)
		d := NewDecoder(&br)
		for d.Decode(&m) == nil {
		}
	}
	decodeBody() // grow m.Fields once
	if got := testing.AllocsPerRun(100, decodeBody); got > 2 {
		t.Errorf("decoding a body of 3 messages allocates %v times, want at most 2", got)
	}
}
