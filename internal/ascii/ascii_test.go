package ascii

import (
	"strings"
	"testing"
)

func TestAppendLower(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"Originate", "originate"},
		{"Cause-TXT(Ä)", "cause-txt(Ä)"},
		{"ALL-CAPS_123", "all-caps_123"},
	} {
		if got := string(AppendLower([]byte("x:"), tt.in)); got != "x:"+tt.want {
			t.Errorf("AppendLower(%q) = %q, want %q", tt.in, got, "x:"+tt.want)
		}
	}
}

func TestIndex(t *testing.T) {
	index := map[string]int{"originate": 1, strings.Repeat("a", 100): 2}
	for _, tt := range []struct {
		name string
		want int
		ok   bool
	}{
		{"ORIGINATE", 1, true},
		{"originate", 1, true},
		{"Originat", 0, false},
		{strings.Repeat("A", 100), 2, true},
	} {
		if got, ok := Index(index, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("Index(%q) = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Index(index, "ORIGINATE") }); n != 0 {
		t.Errorf("Index allocates %v times for a short name", n)
	}
}
