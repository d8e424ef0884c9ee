package mxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/xmlname"
)

// FuzzDecode feeds arbitrary bytes to the Decoder, seeded with every mxml
// body recorded from Asterisk and the quirks of the table tests. Whatever
// the input: no panic, no endless loop, a buffer bounded by the limits,
// the same results whether read whole or one byte at a time, and every
// message that decodes and can be encoded comes back from the Encoder and
// the Decoder as Asterisk's translation predicts.
func FuzzDecode(f *testing.F) {
	for _, a := range xmlAnswers(f) {
		f.Add(a.body)
	}
	for _, s := range []string{
		doc("<generic a='x\x01' a='&amp;&#x41;&bogus;' dup-2='<' c=\"q\" d=u e />"),
		doc("<generic response='Follows' privilege='Command' x='' opaque_data='a\nb--END COMMAND--' />"),
		"<?xml version='1.0'?><!-- c --><ajax-response><response><generic a='1'><![CDATA[x]]></generic></response>",
		"\xEF\xBB\xBF<ajax-response><response type='object' id='a'b'><generic a='1'/></response></ajax-response>",
		"<html><body>no</body></html>",
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxFields: 32, MaxMessageBytes: 2048}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The same input read one byte at a time into a tiny first buffer
		// must decode the same: that drives every refill, move and growth.
		want := decodeTrace(t, NewDecoder(bytes.NewReader(data)), lim, len(data))
		slow := NewDecoder(iotest.OneByteReader(bytes.NewReader(data)))
		slow.initSize = 16
		if got := decodeTrace(t, slow, lim, len(data)); got != want {
			t.Fatalf("one byte at a time:\n%s\nall at once:\n%s", got, want)
		}

		d := NewDecoder(bytes.NewReader(data))
		d.SetLimits(lim)
		for calls := 0; ; calls++ {
			if calls > len(data)+2 {
				t.Fatalf("Decode does not reach the end of %d bytes", len(data))
			}
			var m rawman.Message
			err := d.Decode(&m)
			if bound := max(4*lim.MaxMessageBytes+initialBufSize, len(data)+1); cap(d.buf) > bound {
				t.Fatalf("buffer of %d bytes, over %d", cap(d.buf), bound)
			}
			var se *SyntaxError
			switch {
			case err == io.EOF, errors.Is(err, ErrNotMXML):
				return
			case errors.As(err, &se), err == io.ErrUnexpectedEOF:
				continue
			case err != nil:
				t.Fatalf("Decode: unexpected error %v", err)
			}
			if m.Len() == 0 || m.Len() > lim.MaxFields+m.Len()-len(m.Fields) {
				t.Fatalf("Decode returned %d fields", m.Len())
			}
			checkRoundTrip(t, &m)
		}
	})
}

// FuzzEncodeDecode builds a message from arbitrary "key=value" lines,
// encodes it and decodes the result: the Decoder must give one message
// whose fields are those of Asterisk's translation.
func FuzzEncodeDecode(f *testing.F) {
	f.Add("Event=UserEvent\nFoo-Bar= a \nfoo.bar=b\nDup=1\nDup=2\n1st=x\nVal=<&'\">\nCtl=a\x01b\x01")
	f.Add("Response=Success\nMessage=Authentication accepted")
	f.Fuzz(func(t *testing.T, s string) {
		var m rawman.Message
		for line := range strings.SplitSeq(s, "\n") {
			k, v, _ := strings.Cut(line, "=")
			m.Add(k, v)
		}
		checkRoundTrip(t, &m)
	})
}

// checkRoundTrip encodes m and decodes the body, and requires the fields
// Asterisk's translation predicts: each key as its mxml name, each value
// without its outer blanks. Messages outside that simple model (an
// encoding error, a key with a colon, which Asterisk splits elsewhere, an
// empty key or an opaque_data key, which start opaque mode, and Command
// output) are skipped.
func checkRoundTrip(t *testing.T, m *rawman.Message) {
	var want []rawman.Field
	for i, f := range m.Fields {
		key := string(xmlname.Append(nil, strings.TrimRight(f.Key, blanks)))
		switch {
		case f.Key == "", strings.Contains(f.Key, ":"), key == opaqueKey, strings.ContainsAny(f.Key+f.Value, "\r\n\x00"):
			return
		case i == 0 && key == "response" && strings.EqualFold(strings.Trim(f.Value, blanks), "Follows"):
			return
		}
		want = append(want, rawman.Field{Key: key, Value: strings.Trim(f.Value, blanks)})
	}
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	if err := e.Encode(m); err != nil {
		t.Fatalf("Encode(%q): %v", m.Fields, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	d := NewDecoder(strings.NewReader(body))
	var got rawman.Message
	if err := d.Decode(&got); err != nil {
		t.Fatalf("Decode of the encoded %q: %v\n%q", m.Fields, err, body)
	}
	if !equalFields(got.Fields, want) {
		t.Fatalf("%q encoded as\n%q\ndecodes to %q, want %q", m.Fields, body, got.Fields, want)
	}
	if err := d.Decode(&got); err != io.EOF {
		t.Fatalf("after the message: %v, %q", err, got.Fields)
	}
}

// blanks are the bytes Asterisk trims around names and values.
var blanks = func() string {
	var b strings.Builder
	for c := range byte(0x21) {
		b.WriteByte(c)
	}
	return b.String()
}()

// decodeTrace decodes all of d's input and describes every result.
func decodeTrace(t *testing.T, d *Decoder, lim Limits, n int) string {
	d.SetLimits(lim)
	var sb strings.Builder
	for calls := 0; ; calls++ {
		if calls > n+2 {
			t.Fatalf("Decode does not reach the end of %d bytes", n)
		}
		var m rawman.Message
		err := d.Decode(&m)
		fmt.Fprintf(&sb, "%q %v\n", m.Fields, err)
		var se *SyntaxError
		if err != nil && err != io.ErrUnexpectedEOF && (!errors.As(err, &se) || errors.Is(err, ErrNotMXML)) {
			return sb.String()
		}
	}
}
