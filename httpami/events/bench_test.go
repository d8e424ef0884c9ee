package events_test

import (
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/events"
)

// BenchmarkDecode decodes a recorded Hangup (19 fields) into *Hangup.
func BenchmarkDecode(b *testing.B) {
	m := parseRawman(b, hangupRawman)
	b.SetBytes(int64(len(hangupRawman)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := events.Decode(m)
		if err != nil {
			b.Fatal(err)
		}
		if v.(*events.Hangup).CauseTxt == "" {
			b.Fatal("no Cause-txt")
		}
	}
}

// BenchmarkDecodeMap is the baseline: the same message copied into a
// map[string]string, as untyped code would read it.
func BenchmarkDecodeMap(b *testing.B) {
	m := parseRawman(b, hangupRawman)
	b.SetBytes(int64(len(hangupRawman)))
	b.ReportAllocs()
	for b.Loop() {
		v := mapOf(m)
		if v["Cause-txt"] == "" {
			b.Fatal("no Cause-txt")
		}
	}
}

// mapOf returns the first value of each key of m.
func mapOf(m *rawman.Message) map[string]string {
	out := make(map[string]string, len(m.Fields))
	for _, f := range m.Fields {
		if _, ok := out[f.Key]; !ok {
			out[f.Key] = f.Value
		}
	}
	return out
}
