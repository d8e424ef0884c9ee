package events_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/events"
)

// FuzzDecode feeds the messages of arbitrary rawman bytes to Decode, seeded
// with every recorded rawman body. Whatever the input: no panic; a typed
// event marshals back with rawman.Marshal, and that message decodes to an
// equal event.
func FuzzDecode(f *testing.F) {
	for _, b := range recordedBodies(f) {
		if !b.xml {
			f.Add(b.body)
		}
	}
	f.Add([]byte(hangupRawman))
	f.Add([]byte("Event: DialBegin\r\nChanVariable(x): a=1\r\nDestChanVariable: =b\r\nDestChanVariable: c\r\n\r\n"))
	f.Add([]byte("Event: UserEvent\r\nUserEvent: u\r\nuserevent: again\r\nX: 1\r\nno colon\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := rawman.NewDecoder(bytes.NewReader(data))
		for calls := 0; calls <= len(data)+1; calls++ {
			m := new(rawman.Message)
			if err := d.Decode(m); err != nil {
				if _, ok := errors.AsType[*rawman.SyntaxError](err); ok {
					continue
				}
				return // io.EOF, io.ErrUnexpectedEOF
			}
			v, err := events.Decode(m)
			if err != nil || v == m {
				continue
			}
			back, err := rawman.Marshal(v) // a UserEvent's Headers included
			if err != nil {
				t.Fatalf("Marshal(%T) = %v", v, err)
			}
			again, err := events.Decode(back)
			if err != nil {
				t.Fatalf("Decode(Marshal(%T)) = %v", v, err)
			}
			if !reflect.DeepEqual(again, v) {
				t.Fatalf("decode, marshal, decode changed the event:\nmessage %q\nfirst  %+v\nsecond %+v", m.Fields, v, again)
			}
		}
		t.Fatalf("Decode does not reach the end of %d bytes", len(data))
	})
}
