package mxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// fs builds fields from key, value pairs.
func fs(kv ...string) []rawman.Field {
	out := make([]rawman.Field, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, rawman.Field{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

// doc wraps elements in the document Asterisk writes.
func doc(elems ...string) string {
	var b strings.Builder
	b.WriteString("<ajax-response>\n")
	for _, e := range elems {
		b.WriteString("<response type='object' id='unknown'>" + e + "</response>\n")
	}
	b.WriteString("</ajax-response>\n")
	return b.String()
}

// result is what one Decode call gave.
type result struct {
	fields []rawman.Field
	err    error
}

// decodeAll decodes r until an error that is not a *SyntaxError, and
// returns every message and error on the way, the last one included.
func decodeAll(d *Decoder) []result {
	var out []result
	for range 1000 {
		var m rawman.Message
		err := d.Decode(&m)
		if err == nil && m.Keys != rawman.KeysXML {
			panic("Decode did not set KeysXML")
		}
		out = append(out, result{fields: m.Fields, err: err})
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			return out
		}
		if errors.Is(err, ErrNotMXML) {
			return out
		}
	}
	panic("Decode does not end")
}

// readers returns the ways a test input is fed to a Decoder: whole, one
// byte per Read, with the last data returned with io.EOF, and through a
// 16-byte first buffer.
func readers(in string) map[string]func() *Decoder {
	return map[string]func() *Decoder{
		"whole":     func() *Decoder { return NewDecoder(strings.NewReader(in)) },
		"one byte":  func() *Decoder { return NewDecoder(iotest.OneByteReader(strings.NewReader(in))) },
		"data+EOF":  func() *Decoder { return NewDecoder(iotest.DataErrReader(strings.NewReader(in))) },
		"half":      func() *Decoder { return NewDecoder(iotest.HalfReader(strings.NewReader(in))) },
		"small buf": func() *Decoder { d := NewDecoder(io.MultiReader(strings.NewReader(in))); d.initSize = 16; return d },
	}
}

// want is the expected sequence of Decode results.
type want struct {
	msgs [][]rawman.Field // messages, in order
	err  error            // the error after them: io.EOF, io.ErrUnexpectedEOF ...
	// partial is what m holds with err (fields of a message cut short).
	partial []rawman.Field
}

func checkDecode(t *testing.T, in string, w want) {
	t.Helper()
	for name, mk := range readers(in) {
		got := decodeAll(mk())
		if len(got) != len(w.msgs)+1 {
			t.Errorf("%s: %d results, want %d messages and an error:\n%s", name, len(got), len(w.msgs), show(got))
			continue
		}
		for i, msg := range w.msgs {
			if got[i].err != nil || !equalFields(got[i].fields, msg) {
				t.Errorf("%s: message %d = %q, %v; want %q", name, i, got[i].fields, got[i].err, msg)
			}
		}
		last := got[len(got)-1]
		if !errors.Is(last.err, w.err) {
			t.Errorf("%s: final error %v, want %v", name, last.err, w.err)
		}
		if !equalFields(last.fields, w.partial) {
			t.Errorf("%s: fields with the final error = %q, want %q", name, last.fields, w.partial)
		}
	}
}

// cut returns s up to the first occurrence of sep.
func cut(s, sep string) string {
	before, _, _ := strings.Cut(s, sep)
	return before
}

func equalFields(a, b []rawman.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func show(rs []result) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("\t")
		for _, f := range r.fields {
			b.WriteString(f.Key + "=" + f.Value + " ")
		}
		if r.err != nil {
			b.WriteString("err: " + r.err.Error())
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestDecodeQuirks(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want want
	}{
		{
			name: "plain",
			in:   doc(`<generic response='Success' actionid='a1' ping='Pong' />`),
			want: want{msgs: [][]rawman.Field{fs("response", "Success", "actionid", "a1", "ping", "Pong")}, err: io.EOF},
		},
		{
			name: "control bytes and invalid UTF-8 are data",
			in:   doc("<generic ctl='a\x01b\x7f' tab='a\tb' bad='\xff\xfe' nul='x\x00y' />"),
			want: want{msgs: [][]rawman.Field{fs("ctl", "a\x01b\x7f", "tab", "a\tb", "bad", "\xff\xfe", "nul", "x\x00y")}, err: io.EOF},
		},
		{
			name: "duplicate attributes are kept in order",
			in:   doc(`<generic event='UserEvent' foo_bar='a' foo_bar='b' foo_bar='c' />`),
			want: want{msgs: [][]rawman.Field{fs("event", "UserEvent", "foo_bar", "a", "foo_bar", "b", "foo_bar", "c")}, err: io.EOF},
		},
		{
			name: "-N suffixes become repeated keys",
			in:   doc(`<generic dup='one' dup-2='two' dup-3='three' output='x' output-12='y' ='e' -2='f' />`),
			want: want{msgs: [][]rawman.Field{fs("dup", "one", "dup", "two", "dup", "three", "output", "x", "output", "y", "", "e", "", "f")}, err: io.EOF},
		},
		{
			name: "a hyphen without digits is kept",
			in:   doc(`<generic a-='1' a-b='2' x-2y='3' -='4' />`),
			want: want{msgs: [][]rawman.Field{fs("a-", "1", "a-b", "2", "x-2y", "3", "-", "4")}, err: io.EOF},
		},
		{
			name: "the five entities",
			in:   doc(`<generic val='&lt;a href=&quot;x&quot;&gt;&amp;&apos;y&apos;&lt;/a&gt;' />`),
			want: want{msgs: [][]rawman.Field{fs("val", `<a href="x">&'y'</a>`)}, err: io.EOF},
		},
		{
			name: "numeric references",
			in:   doc(`<generic a='&#65;&#x42;&#X43;&#x1F600;&#233;&#0065;' b='&#x10FFFF;' />`),
			want: want{msgs: [][]rawman.Field{fs("a", "AB&#X43;😀é\x41", "b", "\U0010FFFF")}, err: io.EOF},
		},
		{
			name: "unknown and broken references are literal text",
			in: doc(`<generic a='&nbsp;&LT;&#;&#x;&#xD800;&#1114112;&#12a;&amp' ` +
				`b='&' c='&&amp;' d='x &amp;lt; y' e='&verylongname;' />`),
			want: want{msgs: [][]rawman.Field{fs(
				"a", "&nbsp;&LT;&#;&#x;&#xD800;&#1114112;&#12a;&amp",
				"b", "&", "c", "&&", "d", "x &lt; y", "e", "&verylongname;")}, err: io.EOF},
		},
		{
			name: "a raw < and > inside a value",
			in:   doc(`<generic a='x<y>z' b='<generic c=' />`),
			want: want{msgs: [][]rawman.Field{fs("a", "x<y>z", "b", "<generic c=")}, err: io.EOF},
		},
		{
			name: "double quotes, unquoted values, blanks around =",
			in:   doc(`<generic a="it's" b = 'x' c=bare d=v/>`),
			want: want{msgs: [][]rawman.Field{fs("a", "it's", "b", "x", "c", "bare", "d", "v")}, err: io.EOF},
		},
		{
			name: "a name without value and a value without name",
			in:   doc(`<generic a b='1' 'lone' />`),
			want: want{msgs: [][]rawman.Field{fs("a", "", "b", "1", "", "lone")}, err: io.EOF},
		},
		{
			name: "newlines inside a value are kept",
			in:   doc("<generic a='x\ny\r\nz' />"),
			want: want{msgs: [][]rawman.Field{fs("a", "x\ny\r\nz")}, err: io.EOF},
		},
		{
			name: "empty values and leading-digit names",
			in:   doc(`<generic empty='' _1foo='x' 1bar='y' />`),
			want: want{msgs: [][]rawman.Field{fs("empty", "", "_1foo", "x", "1bar", "y")}, err: io.EOF},
		},
		{
			name: "several messages, a list",
			in: doc(`<generic response='Success' actionid='l1' eventlist='start' message='Channels will follow' />`,
				`<generic event='CoreShowChannelsComplete' actionid='l1' eventlist='Complete' listitems='0' />`),
			want: want{msgs: [][]rawman.Field{
				fs("response", "Success", "actionid", "l1", "eventlist", "start", "message", "Channels will follow"),
				fs("event", "CoreShowChannelsComplete", "actionid", "l1", "eventlist", "Complete", "listitems", "0"),
			}, err: io.EOF},
		},
		{
			name: "ajaxdest and ajaxobjtype",
			in:   "<ajax-response>\n<response type='object' id='dest'><item a='1' /></response>\n</ajax-response>\n",
			want: want{msgs: [][]rawman.Field{fs("a", "1")}, err: io.EOF},
		},
		{
			name: "an element with content, text, comments, CDATA, PI, DOCTYPE",
			in: "\xEF\xBB\xBF<?xml version='1.0'?>\n<!DOCTYPE x>\n<!-- c <generic no='1'/> -->\n<ajax-response>text\n" +
				"<response type='object' id='unknown'><generic a='1'>inner <x b='2'/> <![CDATA[<generic c='3'/>]]></generic></response>\n" +
				"<generic outside='response' />\n</ajax-response>\n",
			want: want{msgs: [][]rawman.Field{fs("a", "1")}, err: io.EOF},
		},
		{
			name: "a response with no attributes gives no message",
			in:   doc(`<generic />`, `<generic a='1'/>`),
			want: want{msgs: [][]rawman.Field{fs("a", "1")}, err: io.EOF},
		},
		{
			name: "kicked WaitEvent: an empty document",
			in:   "<ajax-response>\n</ajax-response>\n",
			want: want{err: io.EOF},
		},
		{
			name: "empty input",
			in:   "",
			want: want{err: io.EOF},
		},
		{
			name: "blanks only",
			in:   " \r\n\t",
			want: want{err: io.EOF},
		},
		{
			name: "truncated inside a value",
			in:   cut(doc(`<generic response='Success' actionid='a1' message='Authentication accepted' />`), "ication"),
			want: want{err: io.ErrUnexpectedEOF, partial: fs("response", "Success", "actionid", "a1")},
		},
		{
			name: "truncated before the end tag of the root",
			in:   strings.TrimSuffix(doc(`<generic a='1' />`), "</ajax-response>\n"),
			want: want{msgs: [][]rawman.Field{fs("a", "1")}, err: io.ErrUnexpectedEOF},
		},
		{
			name: "truncated inside a name",
			in:   "<ajax-resp",
			want: want{err: io.ErrUnexpectedEOF},
		},
		{
			name: "truncated after a lone <",
			in:   "<ajax-response>\n<",
			want: want{err: io.ErrUnexpectedEOF},
		},
		{
			name: "truncated in a comment",
			in:   "<ajax-response><!-- x",
			want: want{err: io.ErrUnexpectedEOF},
		},
		{
			name: "truncated in a response tag",
			in:   "<ajax-response>\n<response type='obj",
			want: want{err: io.ErrUnexpectedEOF},
		},
		{
			name: "truncated after a complete attribute",
			in:   "<ajax-response>\n<response type='object' id='unknown'><generic a='1' ",
			want: want{err: io.ErrUnexpectedEOF, partial: fs("a", "1")},
		},
		{
			name: "an HTML error page is not mxml",
			in:   "<title>404 Not Found</title>\r\n<body bgcolor=\"#ffffff\"><h1>Not Found</h1></body>",
			want: want{err: ErrNotMXML},
		},
		{
			name: "a rawman body is not mxml",
			in:   "Response: Success\r\nPing: Pong\r\n\r\n",
			want: want{err: ErrNotMXML},
		},
		{
			name: "a stray < before the root is not mxml",
			in:   "< ajax-response>",
			want: want{err: ErrNotMXML},
		},
		{
			name: "Asterisk 13 Command output",
			in: doc("<generic response='Follows' privilege='Command' actionid='c1' global_settings='' " +
				"verbosity='3' opaque_data='----------------\n  Manager (AMI):  Yes\n\n&lt;x&gt;\n--END COMMAND--' />"),
			want: want{msgs: [][]rawman.Field{fs("response", "Follows", "privilege", "Command", "actionid", "c1",
				"output", "global_settings:", "output", "verbosity: 3", "output", "----------------",
				"output", "  Manager (AMI):  Yes", "output", "", "output", "<x>")}, err: io.EOF},
		},
		{
			name: "Asterisk 13 Command output glued to the end marker",
			in:   doc("<generic response='Follows' privilege='Command' opaque_data='No such command--END COMMAND--' />"),
			want: want{msgs: [][]rawman.Field{fs("response", "Follows", "privilege", "Command", "output", "No such command")}, err: io.EOF},
		},
		{
			name: "opaque data outside Command",
			in:   doc("<generic event='X' opaque_data='no colon\nA: b' />"),
			want: want{msgs: [][]rawman.Field{fs("event", "X", "", "no colon", "", "A: b")}, err: io.EOF},
		},
		{
			name: "upper-case tag names",
			in:   "<AJAX-RESPONSE><Response type='object'><generic a='1'/></Response></AJAX-RESPONSE>",
			want: want{msgs: [][]rawman.Field{fs("a", "1")}, err: io.EOF},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkDecode(t, tt.in, tt.want) })
	}
}

func TestDecodeLimits(t *testing.T) {
	in := doc(`<generic a='1' b='2' c='3' />`, `<generic big='`+strings.Repeat("x", 300)+`' />`, `<generic ok='yes' />`)
	for name, mk := range readers(in) {
		d := mk()
		d.SetLimits(Limits{MaxFields: 2, MaxMessageBytes: 200})
		got := decodeAll(d)
		if len(got) != 4 {
			t.Fatalf("%s: %d results:\n%s", name, len(got), show(got))
		}
		var se *SyntaxError
		first, second := int64(strings.Index(in, "<generic a=")), int64(strings.Index(in, "<generic big="))
		if !errors.As(got[0].err, &se) || !errors.Is(got[0].err, ErrTooManyFields) || se.Offset != first || se.Line != 2 {
			t.Errorf("%s: first result %v (%+v), want ErrTooManyFields at offset %d, line 2", name, got[0].err, se, first)
		}
		if !errors.As(got[1].err, &se) || !errors.Is(got[1].err, ErrMessageTooLarge) || se.Offset != second || se.Line != 3 {
			t.Errorf("%s: second result %v (%+v), want ErrMessageTooLarge at offset %d, line 3", name, got[1].err, se, second)
		}
		if got[2].err != nil || !equalFields(got[2].fields, fs("ok", "yes")) {
			t.Errorf("%s: after the errors got %q, %v", name, got[2].fields, got[2].err)
		}
		if got[3].err != io.EOF {
			t.Errorf("%s: end %v", name, got[3].err)
		}
	}
	if l := NewDecoder(nil).Limits(); l.MaxFields != DefaultMaxFields || l.MaxMessageBytes != DefaultMaxMessageBytes {
		t.Errorf("default limits %+v", l)
	}
}

// TestDecodeBoundedMemory feeds an endless attribute value: the Decoder
// must give up at its limit instead of buffering the stream.
func TestDecodeBoundedMemory(t *testing.T) {
	head := "<ajax-response><response><generic a='"
	r := io.MultiReader(strings.NewReader(head), endless('x'))
	d := NewDecoder(r)
	d.SetLimits(Limits{MaxMessageBytes: 1 << 16})
	var m rawman.Message
	if err := d.Decode(&m); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("Decode = %v, want ErrMessageTooLarge", err)
	}
	if len(d.buf) > 1<<18 {
		t.Errorf("buffer grew to %d bytes for a %d-byte limit", len(d.buf), 1<<16)
	}
}

// endless is a Reader of an endless run of one byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("boom")
	in := doc(`<generic a='1' />`, `<generic b='2' />`)
	r := io.MultiReader(strings.NewReader(in[:len(in)-40]), iotest.ErrReader(boom))
	d := NewDecoder(r)
	var m rawman.Message
	if err := d.Decode(&m); err != nil || m.Get("a") != "1" {
		t.Fatalf("first Decode = %v, %q", err, m.Fields)
	}
	for range 2 {
		if err := d.Decode(&m); !errors.Is(err, boom) {
			t.Fatalf("Decode after the read error = %v, want boom", err)
		}
	}
}

func TestDecodeNotMXMLSticks(t *testing.T) {
	d := NewDecoder(strings.NewReader("<html><body><ajax-response><response><generic a='1'/></response></ajax-response>"))
	var m rawman.Message
	for range 2 {
		err := d.Decode(&m)
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, ErrNotMXML) || se.Offset != 0 || se.Line != 1 {
			t.Fatalf("Decode = %v, want ErrNotMXML at offset 0", err)
		}
	}
}

func TestDecodeInputOffsetAndReset(t *testing.T) {
	in := doc(`<generic a='1' />`, `<generic b='2' />`)
	d := NewDecoder(strings.NewReader(in))
	var m rawman.Message
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if off, want := d.InputOffset(), int64(strings.Index(in, "/>")+2); off != want {
		t.Errorf("InputOffset = %d, want %d", off, want)
	}
	d.SetLimits(Limits{MaxFields: 7})
	d.Reset(strings.NewReader(doc(`<generic c='3' />`)))
	if err := d.Decode(&m); err != nil || m.Get("c") != "3" || d.Limits().MaxFields != 7 {
		t.Errorf("after Reset: %q, %v, limits %+v", m.Fields, err, d.Limits())
	}
}

// TestDecodeKeepsStrings checks that the strings of a decoded message stay
// valid while the Decoder goes on, values with entities included (they
// are decoded in place).
func TestDecodeKeepsStrings(t *testing.T) {
	var elems []string
	for i := range 200 {
		elems = append(elems, `<generic n='`+strings.Repeat("v", i%37)+`&amp;&lt;' />`)
	}
	in := doc(elems...)
	d := NewDecoder(iotest.HalfReader(strings.NewReader(in)))
	d.initSize = 64
	kept := decodeMessages(t, d, len(in))
	if len(kept) != 200 {
		t.Fatalf("%d messages", len(kept))
	}
	for i, m := range kept {
		if want := strings.Repeat("v", i%37) + "&<"; m.Get("n") != want {
			t.Fatalf("message %d: n = %q, want %q", i, m.Get("n"), want)
		}
	}
}

func TestDecodeReusesFields(t *testing.T) {
	in := []byte(doc(`<generic response='Success' actionid='a1' message='Authentication &amp; more' />`))
	r := bytes.NewReader(in)
	d := NewDecoder(r)
	m := &rawman.Message{Fields: make([]rawman.Field, 0, 8)}
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(in)
		d.Reset(r)
		if err := d.Decode(m); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 { // the buffer
		t.Errorf("Decode of a reused Decoder allocates %v times per body", allocs)
	}
}

// TestDecodesWhatEncodingXMLRejects decodes bodies that Go's encoding/xml
// refuses as a whole, and requires every byte of every value. (Duplicate
// attributes, which XML forbids, encoding/xml lets through; they are here
// because a conforming parser rejects them.)
func TestDecodesWhatEncodingXMLRejects(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       []rawman.Field
		xmlRejects bool // encoding/xml's Token fails on the body
	}{
		{
			name:       "raw control bytes",
			in:         doc("<generic event='UserEvent' ctl='bell\a del\x7f soh\x01b' esc='\x1b[0m' />"),
			want:       fs("event", "UserEvent", "ctl", "bell\a del\x7f soh\x01b", "esc", "\x1b[0m"),
			xmlRejects: true,
		},
		{
			name:       "invalid UTF-8",
			in:         doc("<generic event='UserEvent' bytes='\xc3\x28 \xff' />"),
			want:       fs("event", "UserEvent", "bytes", "\xc3\x28 \xff"),
			xmlRejects: true,
		},
		{
			name:       "a leading digit in a name (Asterisk 13)",
			in:         doc("<generic event='UserEvent' 1st_header='x' />"),
			want:       fs("event", "UserEvent", "1st_header", "x"),
			xmlRejects: true,
		},
		{
			name: "duplicate attributes",
			in:   doc("<generic event='UserEvent' foo_bar='a' foo_bar='b' foo_bar='c' />"),
			want: fs("event", "UserEvent", "foo_bar", "a", "foo_bar", "b", "foo_bar", "c"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xd := xml.NewDecoder(strings.NewReader(tt.in))
			var xerr error
			for xerr == nil {
				_, xerr = xd.Token()
			}
			if rejected := xerr != io.EOF; rejected != tt.xmlRejects {
				t.Errorf("encoding/xml rejects the body: %v (%v), want %v", rejected, xerr, tt.xmlRejects)
			}
			checkDecode(t, tt.in, want{msgs: [][]rawman.Field{tt.want}, err: io.EOF})
		})
	}
}
