package events_test

import (
	"bytes"
	"io"
	"maps"
	"mime"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/encoding/mxml"
	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/events"
	"github.com/amihttp/amihttp/internal/transcript"
)

// A recordedBody is the body of one recorded answer, with its encoding.
type recordedBody struct {
	id   string
	xml  bool // mxml; else rawman
	body []byte
}

// recordedBodies returns the body of every recorded 200 answer in rawman
// (text/plain) or mxml (text/xml), and what the TCP port sent.
func recordedBodies(t testing.TB) []recordedBody {
	t.Helper()
	var out []recordedBody
	for _, x := range transcript.MustLoad(t) {
		if x.Group == "tcp" {
			out = append(out, recordedBody{x.ID(), false, x.Resp})
			continue
		}
		if !bytes.HasPrefix(x.Resp, []byte("HTTP/")) || x.Meta.Method == "HEAD" {
			continue
		}
		resp, body, err := x.Response()
		if err != nil {
			t.Fatal(err)
		}
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 200 || len(body) == 0 || mt != "text/plain" && mt != "text/xml" {
			continue
		}
		out = append(out, recordedBody{x.ID(), mt == "text/xml", body})
	}
	if len(out) < 250 {
		t.Fatalf("found %d bodies, want the recorded set", len(out))
	}
	return out
}

// decodeBody returns every message of b.
func decodeBody(t testing.TB, b recordedBody) []*rawman.Message {
	t.Helper()
	var d interface{ Decode(*rawman.Message) error }
	if b.xml {
		d = mxml.NewDecoder(bytes.NewReader(b.body))
	} else {
		d = rawman.NewDecoder(bytes.NewReader(b.body))
	}
	var out []*rawman.Message
	for {
		m := new(rawman.Message)
		err := d.Decode(m)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: message %d: %v", b.id, len(out)+1, err)
		}
		out = append(out, m)
	}
}

// untypedEvents lists the events recorded from Asterisk 23 that have no
// generated type, with the reason. The test fails if one is typed or
// another one shows up.
var untypedEvents = map[string]string{}

// TestTranscriptEvents decodes every event that a real Asterisk 23.4.1 sent
// in testdata/asterisk-23, in rawman and in mxml, into its typed struct
// and checks that no key of the message is left unmapped and that each
// field holds the message's value.
func TestTranscriptEvents(t *testing.T) {
	var (
		n       int
		headers int // UserEvent headers in Headers
		names   = map[string]int{}
		untyped = map[string]bool{}
		forms   = map[rawman.KeyForm]int{}
	)
	for _, b := range recordedBodies(t) {
		for i, m := range decodeBody(t, b) {
			if !m.IsEvent() {
				continue
			}
			n++
			forms[m.Keys]++
			name := m.Event()
			v, err := events.Decode(m)
			if err != nil {
				t.Errorf("%s: message %d: Decode(%s): %v", b.id, i+1, name, err)
				continue
			}
			if v == m {
				untyped[name] = true
				continue
			}
			s, _ := events.Lookup(name)
			names[s.Name]++
			checkEvent(t, b.id+": "+name, m, v)
			if u, ok := v.(*events.UserEvent); ok {
				headers += len(u.Headers)
			}
		}
	}
	for name := range untyped {
		if _, ok := untypedEvents[name]; !ok {
			t.Errorf("event %s has no type", name)
		}
	}
	for name := range untypedEvents {
		if !untyped[name] {
			t.Errorf("event %s is listed in untypedEvents but was typed or not seen", name)
		}
	}
	if n < 200 || len(names) < 25 {
		t.Errorf("checked %d events of %d names, want the recorded set", n, len(names))
	}
	if headers == 0 {
		t.Errorf("no UserEvent header landed in Headers: the recorded UserEvents carry some")
	}
	t.Logf("%d events (%d rawman, %d mxml) of %d distinct names, %d UserEvent headers in Headers: %s",
		n, forms[rawman.KeysAMI], forms[rawman.KeysXML], len(names), headers, strings.Join(slices.Sorted(maps.Keys(names)), " "))
}

// checkEvent checks that every key of m is a field of v and holds m's value.
func checkEvent(t *testing.T, what string, m *rawman.Message, v any) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	keys := structKeys(rv.Type())
	var headers []rawman.Field
	for _, f := range m.Fields {
		sk, ok := find(keys, m.Keys, f.Key)
		if !ok {
			headers = append(headers, f)
			continue
		}
		fv := rv.FieldByIndex(sk.index)
		switch fv.Kind() {
		case reflect.String:
			if want := m.Get(sk.key); fv.String() != want {
				t.Errorf("%s: %s = %q, want %q", what, sk.key, fv.String(), want)
			}
		case reflect.Slice:
			if want := slices.Collect(m.Values(sk.key)); !slices.Equal(fv.Interface().([]string), want) {
				t.Errorf("%s: %s = %q, want %q", what, sk.key, fv.Interface(), want)
			}
		case reflect.Map:
			name, value, _ := strings.Cut(f.Value, "=")
			if got := fv.Interface().(map[string]string); value != "" && got[name] != value {
				t.Errorf("%s: %s[%q] = %q, want %q (from %s: %s)", what, sk.key, name, got[name], value, f.Key, f.Value)
			}
		default:
			t.Errorf("%s: %s is a %v", what, sk.key, fv.Type())
		}
	}
	if u, ok := v.(*events.UserEvent); ok {
		if !slices.Equal(u.Headers, headers) {
			t.Errorf("%s: Headers = %q, want %q", what, u.Headers, headers)
		}
		return
	}
	for _, f := range headers {
		t.Errorf("%s: key %s (%q) has no field in %T", what, f.Key, f.Value, v)
	}
}
