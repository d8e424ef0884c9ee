package rawman

import (
	"slices"
	"strings"
	"testing"
)

// xmlMessage is a message as the mxml Decoder gives it: names as Asterisk's
// mxml wrote them, repeats as repeated keys.
func xmlMessage() *Message {
	return &Message{Keys: KeysXML, Fields: f(
		"event", "Hangup", "actionid", "a1", "cause_txt", "Normal Clearing",
		"_1st_header", "x", "chanvariable_pjsip_x_", "v=1", "chanvariable", "w=2",
		"output", "one", "output", "two")}
}

func TestKeysXMLLookup(t *testing.T) {
	m := xmlMessage()
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"ActionID", "a1", true},
		{"actionid", "a1", true},
		{"Cause-txt", "Normal Clearing", true},
		{"Cause_txt", "Normal Clearing", true},
		{"cause.txt", "Normal Clearing", true},
		{"1st-Header", "x", true},
		{"ChanVariable(PJSIP/x)", "v=1", true},
		{"Output", "one", true},
		{"Cause", "", false},
		{"Event-", "", false},
	}
	for _, tt := range tests {
		got, ok := m.Lookup(tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if got := slices.Collect(m.Values("Output")); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("Values(Output) = %q", got)
	}
	if !m.IsEvent() || m.Event() != "Hangup" || m.ActionID() != "a1" {
		t.Errorf("classification of an XML message failed: %v %q %q", m.IsEvent(), m.Event(), m.ActionID())
	}
	// The same keys under KeysAMI are compared by case folding only.
	m.Keys = KeysAMI
	if m.Has("Cause-txt") || !m.Has("CAUSE_TXT") {
		t.Error("KeysAMI lookups must not translate punctuation")
	}
}

func TestKeysXMLEdit(t *testing.T) {
	m := xmlMessage()
	m.Set("Cause-txt", "Busy")
	if got := m.Get("cause_txt"); got != "Busy" {
		t.Errorf("after Set, cause_txt = %q", got)
	}
	m.Del("Output")
	if m.Has("output") || m.Len() != 6 {
		t.Errorf("Del(Output) left %d fields: %v", m.Len(), m.Fields)
	}
	c := m.Clone()
	if c.Keys != KeysXML || !c.Equal(m) {
		t.Errorf("Clone lost the key form: %v", c.Keys)
	}
	c.Keys = KeysAMI
	if c.Equal(m) {
		t.Error("messages with different key forms compare equal")
	}
	m.Reset()
	if m.Keys != KeysAMI || m.Len() != 0 {
		t.Errorf("Reset left Keys %v and %d fields", m.Keys, m.Len())
	}
	if KeysXML.String() != "KeysXML" || KeysAMI.String() != "KeysAMI" || KeyForm(7).String() != "KeyForm(7)" {
		t.Errorf("KeyForm strings: %v %v %v", KeysXML, KeysAMI, KeyForm(7))
	}
}

func TestKeysXMLUnmarshal(t *testing.T) {
	var v struct {
		ActionID  string
		CauseTxt  string            `ami:"Cause-txt"`
		First     string            `ami:"1st-Header"`
		Output    []string          `ami:"Output"`
		ChanVars  map[string]string `ami:"ChanVariable"`
		Uncovered string            `ami:"Cause"`
	}
	if err := Unmarshal(xmlMessage(), &v); err != nil {
		t.Fatal(err)
	}
	if v.ActionID != "a1" || v.CauseTxt != "Normal Clearing" || v.First != "x" || v.Uncovered != "" {
		t.Errorf("scalars: %+v", v)
	}
	if !slices.Equal(v.Output, []string{"one", "two"}) {
		t.Errorf("Output = %q", v.Output)
	}
	if len(v.ChanVars) != 2 || v.ChanVars["v"] != "1" || v.ChanVars["w"] != "2" {
		t.Errorf("ChanVars = %v", v.ChanVars)
	}
}

func TestKeysXMLLookupDoesNotAllocate(t *testing.T) {
	m := xmlMessage()
	if n := testing.AllocsPerRun(100, func() { m.Get("ChanVariable(PJSIP/x)") }); n != 0 {
		t.Errorf("Get on a KeysXML message allocates %v times", n)
	}
}

func TestDecodeSetsKeysAMI(t *testing.T) {
	m := xmlMessage()
	d := NewDecoder(strings.NewReader("Response: Success\r\n\r\n"))
	if err := d.Decode(m); err != nil {
		t.Fatal(err)
	}
	if m.Keys != KeysAMI {
		t.Errorf("Decode left Keys = %v", m.Keys)
	}
}
