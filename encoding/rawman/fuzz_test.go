package rawman

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/amihttp/amihttp/internal/transcript"
)

// FuzzDecode feeds arbitrary bytes to the Decoder, seeded with every body
// recorded from Asterisk. Whatever the input: no panic, no endless loop,
// a buffer bounded by the limits, and every message that decodes and can be
// encoded (it holds no CR) encodes and decodes back to an equal message.
func FuzzDecode(f *testing.F) {
	for _, body := range rawmanBodies(f) {
		f.Add(body)
	}
	for _, x := range transcript.MustLoadGroup(f, "tcp") {
		f.Add(x.Resp)
	}
	for _, s := range []string{
		"Response: Follows\r\nPrivilege: Command\r\nActionID: c\r\nline: x\n\nNo such--END COMMAND--\r\n\r\n",
		"Asterisk Call Manager/1.0\r\nEvent: X\nK:v\n\n",
		"Event: A\r\n: x\r\nno colon\r\nK: a\rb\r\n\r\n",
		"Event: A\x00\r\nK: " + strings.Repeat("v", 300) + "\r\n\r\nEvent: B\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxLineBytes: 256, MaxFields: 32, MaxMessageBytes: 2048}
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
		var encodable []*Message
		var stream []byte
		for calls := 0; ; calls++ {
			if calls > len(data)+2 {
				t.Fatalf("Decode does not reach the end of %d bytes", len(data))
			}
			var m Message
			err := d.Decode(&m)
			// The first buffer is sized to the input (its Len), later ones
			// by the limits.
			if bound := max(2*(lim.MaxMessageBytes+lim.MaxLineBytes), len(data)+1, 64); cap(d.buf) > bound {
				t.Fatalf("buffer of %d bytes, over %d", cap(d.buf), bound)
			}
			if err == io.EOF {
				break
			}
			var se *SyntaxError
			if errors.As(err, &se) || err == io.ErrUnexpectedEOF {
				continue
			}
			if err != nil {
				t.Fatalf("Decode: unexpected error %v", err)
			}
			if m.Len() == 0 || m.Len() > lim.MaxFields {
				t.Fatalf("Decode returned %d fields", m.Len())
			}
			out, err := Append(stream, &m)
			if err != nil {
				if !errors.Is(err, ErrInvalidField) || !hasCR(&m) {
					t.Fatalf("Append(%q) = %v", m.Fields, err)
				}
				continue
			}
			stream = out
			encodable = append(encodable, &m)
		}
		// A leading empty line keeps a first field that looks like the
		// TCP greeting from being taken for one.
		again := decodeAll(t, bytes.NewReader(append([]byte("\r\n"), stream...)))
		if len(again) != len(encodable) {
			t.Fatalf("re-decoded %d messages, want %d", len(again), len(encodable))
		}
		for i, m := range encodable {
			if !m.Equal(&Message{Fields: again[i]}) {
				t.Fatalf("message %d: decoded %q, re-decoded %q", i, m.Fields, again[i])
			}
		}
	})
}

// decodeTrace decodes all of d's input and describes every result.
func decodeTrace(t *testing.T, d *Decoder, lim Limits, n int) string {
	d.SetLimits(lim)
	var sb strings.Builder
	for calls := 0; ; calls++ {
		if calls > n+2 {
			t.Fatalf("Decode does not reach the end of %d bytes", n)
		}
		var m Message
		err := d.Decode(&m)
		fmt.Fprintf(&sb, "%q %v\n", m.Fields, err)
		if err != nil && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrInvalidField) {
			var se *SyntaxError
			if !errors.As(err, &se) {
				break
			}
		}
	}
	return sb.String()
}

func hasCR(m *Message) bool {
	for _, f := range m.Fields {
		if strings.ContainsRune(f.Key, '\r') || strings.ContainsRune(f.Value, '\r') {
			return true
		}
	}
	return false
}
