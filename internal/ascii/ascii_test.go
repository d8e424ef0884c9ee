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

func TestTable(t *testing.T) {
	type item struct{ Name string }
	items := []item{{"Hangup"}, {"NewExten"}}
	tab := NewTable(items, func(it *item) string { return it.Name })
	for _, tt := range []struct {
		name string
		want *item
	}{
		{"hangup", &items[0]},
		{"Newexten", &items[1]},
		{"HANGUP", &items[0]},
		{"Hang", nil},
	} {
		got, ok := tab.Lookup(tt.name)
		if got != tt.want || ok != (tt.want != nil) {
			t.Errorf("Lookup(%q) = %p, %v; want %p", tt.name, got, ok, tt.want)
		}
	}
	all := tab.All()
	if len(all) != 2 || all[0] != &items[0] || all[1] != &items[1] {
		t.Errorf("All() = %v, want pointers to the items in order", all)
	}
}
