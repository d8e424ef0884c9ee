package rawman

import (
	"slices"
	"testing"
)

func TestMessageLookup(t *testing.T) {
	m := &Message{Fields: f("Event", "Hangup", "ActionID", "a1", "Cause-txt", "Normal Clearing",
		"Variable", "a=1", "variable", "b=2", "Empty", "")}
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"Event", "Hangup", true},
		{"event", "Hangup", true},
		{"ACTIONID", "a1", true},
		{"cause-TXT", "Normal Clearing", true},
		{"Variable", "a=1", true},
		{"Empty", "", true},
		{"Missing", "", false},
		{"Caus", "", false},
		{"Cause_txt", "", false}, // folding is ASCII letters only
	}
	for _, tt := range tests {
		got, ok := m.Lookup(tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
		if g := m.Get(tt.key); g != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.key, g, tt.want)
		}
		if h := m.Has(tt.key); h != tt.ok {
			t.Errorf("Has(%q) = %v, want %v", tt.key, h, tt.ok)
		}
	}
	if got := slices.Collect(m.Values("VARIABLE")); !slices.Equal(got, []string{"a=1", "b=2"}) {
		t.Errorf("Values(VARIABLE) = %q", got)
	}
	var keys []string
	for k := range m.All() {
		keys = append(keys, k)
		if len(keys) == 2 {
			break
		}
	}
	if !slices.Equal(keys, []string{"Event", "ActionID"}) {
		t.Errorf("All() stopped early gave %q", keys)
	}
	if m.ActionID() != "a1" || m.Event() != "Hangup" || !m.IsEvent() || m.IsResponse() || m.Len() != 6 {
		t.Errorf("helpers disagree: ActionID %q Event %q IsEvent %v IsResponse %v Len %d",
			m.ActionID(), m.Event(), m.IsEvent(), m.IsResponse(), m.Len())
	}
	if n := testing.AllocsPerRun(100, func() { m.Get("cause-txt") }); n != 0 {
		t.Errorf("Get allocates %v times", n)
	}
}

func TestMessageClassify(t *testing.T) {
	tests := []struct {
		m             []Field
		event, resp   bool
		eventN, respN string
	}{
		{f("Response", "Success"), false, true, "", "Success"},
		{f("Event", "OriginateResponse", "Response", "Failure"), true, false, "OriginateResponse", "Failure"},
		{f("Action", "Ping"), false, false, "", ""},
	}
	for _, tt := range tests {
		m := &Message{Fields: tt.m}
		if m.IsEvent() != tt.event || m.IsResponse() != tt.resp || m.Event() != tt.eventN || m.Response() != tt.respN {
			t.Errorf("%q: IsEvent %v IsResponse %v Event %q Response %q", tt.m, m.IsEvent(), m.IsResponse(), m.Event(), m.Response())
		}
	}
}

func TestMessageEdit(t *testing.T) {
	var m Message // the zero Message is ready to use
	if m.Get("x") != "" || m.Len() != 0 {
		t.Fatal("zero Message not empty")
	}
	m.Add("Action", "Originate")
	m.Add("Variable", "a=1")
	m.Add("Channel", "PJSIP/100")
	m.Add("variable", "b=2")
	m.Set("VARIABLE", "c=3")
	if want := f("Action", "Originate", "Variable", "c=3", "Channel", "PJSIP/100"); !m.Equal(&Message{Fields: want}) {
		t.Errorf("after Set: %q, want %q", m.Fields, want)
	}
	m.Set("ActionID", "x")
	if m.Fields[3] != (Field{"ActionID", "x"}) {
		t.Errorf("Set of a new key appends: %q", m.Fields)
	}
	c := m.Clone()
	m.Del("channel")
	if want := f("Action", "Originate", "Variable", "c=3", "ActionID", "x"); !m.Equal(&Message{Fields: want}) {
		t.Errorf("after Del: %q, want %q", m.Fields, want)
	}
	if c.Len() != 4 || c.Get("Channel") != "PJSIP/100" {
		t.Errorf("Clone shares fields with the original: %q", c.Fields)
	}
	if full := m.Fields[:4]; full[3] != (Field{}) {
		t.Errorf("Del left a reference behind: %q", full)
	}
	m.Reset()
	if m.Len() != 0 || cap(m.Fields) == 0 {
		t.Errorf("Reset: len %d cap %d", m.Len(), cap(m.Fields))
	}
	var nilMsg *Message
	if nilMsg.Len() != 0 || nilMsg.Get("x") != "" || nilMsg.Clone() != nil || !nilMsg.Equal(&Message{}) {
		t.Error("nil *Message is not an empty message")
	}
	for range nilMsg.Values("x") {
		t.Error("nil Message yields values")
	}
	for range nilMsg.All() {
		t.Error("nil Message yields fields")
	}
}

func TestMessageEqual(t *testing.T) {
	a := &Message{Fields: f("Event", "X", "K", "v")}
	for _, b := range [][]Field{f("Event", "X"), f("Event", "X", "k", "v"), f("Event", "X", "K", "w")} {
		if a.Equal(&Message{Fields: b}) {
			t.Errorf("%q equals %q", a.Fields, b)
		}
	}
	if !a.Equal(a.Clone()) {
		t.Error("a message differs from its clone")
	}
}
