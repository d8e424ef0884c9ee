package rawman

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// fzEnvelope, fzSnap and fzEvent are a struct with every kind of field
// Unmarshal supports: embedded, prefixed, scalars, slices, maps and the
// rest.
type (
	fzEnvelope struct {
		Event    string
		ActionID string `ami:"ActionID"`
	}
	fzSnap struct {
		Channel  string
		Priority int
		Vars     map[string]string `ami:"ChanVariable"`
	}
	fzEvent struct {
		fzEnvelope
		*fzSnap
		Dest     fzSnap `ami:",prefix=Dest"`
		Count    uint8
		Ratio    float64
		On       bool
		Took     time.Duration `ami:"Took,unit=ms"`
		Lines    []string      `ami:"Output"`
		CauseTxt string        `ami:"Cause-txt"`
		Cause    string        `ami:"Cause_txt"` // the same mxml name as Cause-txt
		Rest     []Field       `ami:",rest"`
	}
	// fzNoClash is fzEvent without the two names that share an mxml name,
	// which one pass can tell apart in mxml form too.
	fzNoClash struct {
		fzEnvelope
		*fzSnap
		Dest  fzSnap `ami:",prefix=Dest"`
		Count uint8
		Lines []string `ami:"Output"`
		Cause string   `ami:"Cause-txt"`
		Rest  []Field  `ami:",rest"`
	}
)

// FuzzUnmarshal checks Unmarshal's two ways, one pass over the message
// with a lookup per key and a scan of the message per struct field,
// against each other, in both key forms.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte("Event: Hangup\r\nChannel: A\r\nPriority: 1\r\nCause-txt: Normal\r\nchanvariable(A): x=1\r\nDestChannel: B\r\nDestChanVariable: y=2\r\nOutput: a\r\nOutput: b\r\nCount: 300\r\nOn: maybe\r\n\r\n"))
	f.Add([]byte("event: x\r\nCAUSE_TXT: 1\r\nTook: 1.5\r\nRatio: 2e3\r\nPriority: \r\nPriority: 4\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		if err := NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
			return
		}
		for _, form := range []KeyForm{KeysAMI, KeysXML} {
			m.Keys = form
			for _, newV := range []func() any{func() any { return new(fzEvent) }, func() any { return new(fzNoClash) }} {
				fast, slow := newV(), newV()
				sc := structCodecFor(reflect.TypeOf(slow).Elem())
				if form == KeysXML && sc.byXML == nil {
					continue // Unmarshal scans
				}
				errFast := sc.unmarshalOnePass(form, m.Fields, reflect.ValueOf(fast).Elem())
				errSlow := sc.unmarshalScan(form, m.Fields, reflect.ValueOf(slow).Elem())
				if !reflect.DeepEqual(fast, slow) {
					t.Fatalf("%v %T: one pass gave %+v, the scan %+v", form, fast, fast, slow)
				}
				if (errFast == nil) != (errSlow == nil) || errFast != nil && errFast.Error() != errSlow.Error() {
					t.Fatalf("%v %T: one pass error %v, the scan %v", form, fast, errFast, errSlow)
				}
			}
		}
	})
}
