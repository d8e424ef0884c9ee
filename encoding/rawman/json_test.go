package rawman

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		m    *Message
		want string
	}{
		{"nil", nil, `null`},
		{"empty", &Message{}, `{}`},
		{"ordered", msg("Event", "Newchannel", "Channel", "Local/100@test-1;1", "Uniqueid", "1.2"),
			`{"Event":"Newchannel","Channel":"Local/100@test-1;1","Uniqueid":"1.2"}`},
		{"repeated keys become arrays at their first place", msg("Event", "Status", "Variable", "a=1", "Channel", "X", "variable", "b=2"),
			`{"Event":"Status","Variable":["a=1","b=2"],"Channel":"X"}`},
		{"escapes", msg("K", "a\"b\\c\r\n\t\x00\x1f", "Weird", `a<b>&"c'`),
			`{"K":"a\"b\\c\r\n\t\u0000\u001f","Weird":"a<b>&\"c'"}`},
		{"invalid UTF-8 and line separators", msg("K", "caf\xe9 \u2028\u2029 é"),
			`{"K":"caf\ufffd \u2028\u2029 é"}`},
		{"a line without a colon", msg("", "raw line"), `{"":"raw line"}`},
		{"mxml keys group as mxml names", &Message{Keys: KeysXML, Fields: []Field{{"event", "X"}, {"cause_txt", "a"}, {"cause_txt", "b"}}},
			`{"event":"X","cause_txt":["a","b"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			// json.Marshal escapes <, > and & for HTML; compare without.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tc.m); err != nil {
				t.Fatal(err)
			}
			if s := strings.TrimSuffix(buf.String(), "\n"); s != tc.want {
				t.Errorf("JSON\n got %s\nwant %s", s, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("json.Marshal gave invalid JSON %s", got)
			}
		})
	}
}

// Messages inside other values go through MarshalJSON too.
func TestMarshalJSONNested(t *testing.T) {
	v := struct {
		Events []*Message `json:"events"`
	}{[]*Message{msg("Event", "A", "X", "1", "X", "2")}}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"events":[{"Event":"A","X":["1","2"]}]}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     *Message
		err      bool
	}{
		{"object", `{"Event":"Hangup","Cause":"16"}`, msg("Event", "Hangup", "Cause", "16"), false},
		{"arrays", ` {"Event":"Status","Variable":["a=1","b=2"],"Channel":"X"} `, msg("Event", "Status", "Variable", "a=1", "Variable", "b=2", "Channel", "X"), false},
		{"duplicate members stay fields", `{"A":"1","A":"2"}`, msg("A", "1", "A", "2"), false},
		{"empty", `{}`, &Message{}, false},
		{"empty array", `{"A":[]}`, &Message{}, false},
		{"escapes", `{"K":"a\"\u00e9\ud83d\ude00\n"}`, msg("K", "a\"é😀\n"), false},
		{"number", `{"A":1}`, nil, true},
		{"bool", `{"A":true}`, nil, true},
		{"null member", `{"A":null}`, nil, true},
		{"nested object", `{"A":{"B":"c"}}`, nil, true},
		{"array of numbers", `{"A":["1",2]}`, nil, true},
		{"nested array", `{"A":[["x"]]}`, nil, true},
		{"not an object", `["A"]`, nil, true},
		{"string", `"A"`, nil, true},
		{"trailing data", `{"A":"1"} {}`, nil, true},
		{"cut", `{"A":"1"`, nil, true},
		{"garbage", `{"A" "1"}`, nil, true},
		{"empty input", ``, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := msg("Old", "field")
			m.Keys = KeysXML
			err := m.UnmarshalJSON([]byte(tc.in))
			if tc.err {
				if err == nil {
					t.Fatalf("no error, message %q", m.Fields)
				}
				if strings.Contains(tc.in, `"A":`) && !strings.Contains(tc.name, "cut") && !strings.Contains(tc.name, "garbage") && !strings.Contains(tc.name, "trailing") && !errors.Is(err, ErrJSON) {
					t.Errorf("error %v does not match ErrJSON", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Keys != KeysAMI || len(m.Fields) != len(tc.want.Fields) || (len(m.Fields) > 0 && !m.Equal(tc.want)) {
				t.Errorf("got %q (%v), want %q", m.Fields, m.Keys, tc.want.Fields)
			}
		})
	}

	// JSON null leaves the message as it was, as encoding/json does.
	m := msg("Keep", "me")
	if err := json.Unmarshal([]byte(`null`), m); err != nil || m.Get("Keep") != "me" {
		t.Errorf("null: %v, %q", err, m.Fields)
	}
}

// Every message Asterisk sent survives MarshalJSON and UnmarshalJSON, but
// for the order of repeated keys among others, and its JSON reads the same
// through encoding/json as a generic object.
func TestJSONTranscripts(t *testing.T) {
	n := 0
	for id, body := range rawmanBodies(t) {
		d := NewDecoder(bytes.NewReader(body))
		for {
			var m Message
			if err := d.Decode(&m); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			n++
			checkJSONRoundTrip(t, &m)
		}
	}
	if n < 400 {
		t.Errorf("checked %d messages, want the recorded set", n)
	}
}

// checkJSONRoundTrip checks that m's JSON is valid, reads back as m with
// its fields grouped by key, and agrees with encoding/json's reading.
func checkJSONRoundTrip(t *testing.T, m *Message) {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Message
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	want := grouped(m)
	if len(back.Fields) != len(want.Fields) {
		t.Fatalf("%s read back as %q, want %q", data, back.Fields, want.Fields)
	}
	for i, f := range back.Fields {
		if f != want.Fields[i] {
			t.Fatalf("%s: field %d is %q, want %q", data, i, f, want.Fields[i])
		}
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatalf("encoding/json rejects %s: %v", data, err)
	}
	if m.Len() > 0 {
		k := m.Fields[0].Key
		if v, ok := generic[k].(string); ok && v != want.Get(k) {
			t.Errorf("encoding/json reads %q as %q, want %q", k, v, want.Get(k))
		}
	}
}

// grouped returns m's fields grouped by key in order of first appearance,
// keys as first spelled, values made valid UTF-8 as JSON makes them.
func grouped(m *Message) *Message {
	out := &Message{}
	done := make([]bool, len(m.Fields))
	for i, f := range m.Fields {
		if done[i] {
			continue
		}
		for j := i; j < len(m.Fields); j++ {
			if !done[j] && m.keyEqual(m.Fields[j].Key, f.Key) {
				done[j] = true
				out.Add(validUTF8(f.Key), validUTF8(m.Fields[j].Value))
			}
		}
	}
	return out
}

// FuzzJSON checks both directions on arbitrary input: whatever
// UnmarshalJSON accepts marshals to JSON that reads back the same, and any
// message (made of the input's lines) marshals to valid JSON that reads
// back grouped.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"Event":"Status","Variable":["a=1","b=2"],"Channel":"X"}`,
		`{"K":"a\"\u00e9\ud83d\ude00\n\u2028"}`,
		`{"A":"1","a":["2"],"":""}`,
		"{\"K\":\"caf\xe9\"}",
		`[]`, `null`, `{"A":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		if err := m.UnmarshalJSON(data); err == nil {
			for _, fl := range m.Fields {
				if !utf8.ValidString(fl.Key) || !utf8.ValidString(fl.Value) {
					// encoding/json turns invalid bytes in its input into
					// U+FFFD itself; nothing invalid may come out.
					t.Fatalf("invalid UTF-8 from %q: %q", data, fl)
				}
			}
			checkJSONRoundTrip(t, &m)
		} else if json.Valid(data) && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) && !errors.Is(err, ErrJSON) {
			t.Fatalf("valid JSON object %q refused without ErrJSON: %v", data, err)
		}
		// Any fields at all, as split from the input, marshal validly.
		var g Message
		for line := range strings.SplitSeq(string(data), "\n") {
			k, v, _ := strings.Cut(line, ":")
			g.Add(k, v)
		}
		checkJSONRoundTrip(t, &g)
	})
}

// msg builds a message from key, value pairs.
func msg(kv ...string) *Message {
	m := &Message{}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Add(kv[i], kv[i+1])
	}
	return m
}

// validUTF8 replaces each byte of s that is not UTF-8 with U+FFFD, as
// encoding/json does.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s { // a range yields RuneError for each invalid byte
		b.WriteRune(r)
	}
	return b.String()
}

// AppendJSON into a buffer with room allocates nothing, repeated keys or not.
func TestAppendJSONAllocs(t *testing.T) {
	m := msg("Event", "Newchannel", "Channel", "Local/100@test-00000001;1", "Variable", "a=1", "Variable", "b=2")
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = m.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON allocates %v times", n)
	}
}

// BenchmarkMarshalJSON marshals a typical event; its baseline
// BenchmarkMarshalJSONMap is what a caller without MarshalJSON would do:
// copy the fields into a map and let encoding/json sort and write it.
func BenchmarkMarshalJSON(b *testing.B) {
	m := benchEvent()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalJSONMap is the baseline of BenchmarkMarshalJSON.
func BenchmarkMarshalJSONMap(b *testing.B) {
	m := benchEvent()
	b.ReportAllocs()
	for b.Loop() {
		mp := make(map[string]string, m.Len())
		for k, v := range m.All() {
			mp[k] = v
		}
		if _, err := json.Marshal(mp); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvent returns a Newchannel event as Asterisk 23 writes it.
func benchEvent() *Message {
	return msg("Event", "Newchannel", "Privilege", "call,all", "Timestamp", "1796035311.123456",
		"Channel", "Local/100@test-00000001;1", "ChannelState", "0", "ChannelStateDesc", "Down",
		"CallerIDNum", "<unknown>", "CallerIDName", "<unknown>", "ConnectedLineNum", "<unknown>",
		"ConnectedLineName", "<unknown>", "Language", "en", "AccountCode", "", "Context", "test",
		"Exten", "100", "Priority", "1", "Uniqueid", "1796035311.2", "Linkedid", "1796035311.2")
}
