package mxml

import (
	"slices"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// lossyThroughMXML lists, for the recorded rawman answers, the keys whose
// values a reader of the same answer in mxml cannot get back, because
// Asterisk's mxml translation destroys them. id is the rawman exchange.
var lossyThroughMXML = []struct{ id, key, reason string }{
	{"info/014-waitevent-weird-values-rawman", "Spaces", "leading and trailing blanks of a value are trimmed"},
	{"info/016-waitevent-weird-values-post-rawman", "Spaces", "leading and trailing blanks of a value are trimmed"},
	{"info/020-waitevent-name-collisions-rawman", "Foo-Bar", "Foo-Bar, Foo_Bar, foo.bar and FOO BAR all become foo_bar"},
	{"info/020-waitevent-name-collisions-rawman", "Foo_Bar", "Foo-Bar, Foo_Bar, foo.bar and FOO BAR all become foo_bar"},
	{"info/020-waitevent-name-collisions-rawman", "foo.bar", "Foo-Bar, Foo_Bar, foo.bar and FOO BAR all become foo_bar"},
	{"info/020-waitevent-name-collisions-rawman", "FOO BAR", "Foo-Bar, Foo_Bar, foo.bar and FOO BAR all become foo_bar"},
	{"info/020-waitevent-name-collisions-rawman", "Ctl", "a control byte at the end of a value is trimmed with the blanks"},
	{"info/006-command-core-show-channels-rawman", "Output", "the blanks that pad the CLI's last column are trimmed"},
	{"lists/027-command-core-show-channels-4ch-rawman", "Output", "the blanks that pad the CLI's last column are trimmed"},
}

// TestLookupsThroughMXML takes every rawman body Asterisk sent, writes it
// as Asterisk's mxml would (the Encoder reproduces Asterisk's bytes, see
// TestEncoderReproducesTranscripts), decodes that, and requires every
// lookup by a key of the rawman message to answer the same, except for
// the losses listed in lossyThroughMXML. The recorded pairs of
// TestLookupsAcrossEncodings hold no name collision and no value with outer
// blanks; these bodies do.
func TestLookupsThroughMXML(t *testing.T) {
	used := make([]bool, len(lossyThroughMXML))
	lossy := func(id, key string) bool {
		for i, l := range lossyThroughMXML {
			if l.id == id && l.key == key {
				used[i] = true
				return true
			}
		}
		return false
	}
	bodies, keys := 0, 0
	for _, a := range recordedAnswers(t) {
		if a.mediaType != "text/plain" || len(a.body) == 0 {
			continue
		}
		id := a.x.ID()
		raws := decodeRawmanBody(t, a.body)
		xmls := decodeXMLBody(t, []byte(encodeAll(t, raws...)))
		if len(xmls) != len(raws) {
			t.Errorf("%s: %d rawman messages, %d through mxml", id, len(raws), len(xmls))
			continue
		}
		bodies++
		for i, raw := range raws {
			for _, f := range raw.Fields {
				keys++
				rv, xv := slices.Collect(raw.Values(f.Key)), slices.Collect(xmls[i].Values(f.Key))
				if !slices.Equal(rv, xv) && !lossy(id, f.Key) {
					t.Errorf("%s message %d: Values(%q) = %q in rawman, %q through mxml", id, i+1, f.Key, rv, xv)
				}
			}
		}
	}
	for i, l := range lossyThroughMXML {
		if !used[i] {
			t.Errorf("lossyThroughMXML: %s %q (%s) lost nothing: remove it", l.id, l.key, l.reason)
		}
	}
	if bodies < 100 {
		t.Errorf("only %d rawman bodies found", bodies)
	}
	t.Logf("%d rawman bodies, %d keys looked up through mxml", bodies, keys)
}

// TestCollisionsReencode shows the one case where decoding and encoding a
// body Asterisk wrote does not give its bytes back: names that collided
// in Asterisk's translation were written as duplicate attributes, which
// decode as a repeated key, which encodes with -N suffixes.
func TestCollisionsReencode(t *testing.T) {
	body := doc(`<generic event='UserEvent' foo_bar='dash' foo_bar='underscore' />`)
	var m rawman.Message
	if err := NewDecoder(strings.NewReader(body)).Decode(&m); err != nil {
		t.Fatal(err)
	}
	got := encodeAll(t, &m)
	want := doc(`<generic event='UserEvent' foo_bar='dash' foo_bar-2='underscore' />`)
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
