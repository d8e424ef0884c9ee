package xmlname

import "testing"

// The names below are the ones the spec's live checks of Asterisk 23 show
// (http-ami-spec section 4.3), plus edge cases of the leading digit.
func TestAppend(t *testing.T) {
	tests := []struct{ name, want string }{
		{"ActionID", "actionid"},
		{"Foo-Bar", "foo_bar"},
		{"Foo.Bar", "foo_bar"},
		{"X Y", "x_y"},
		{"1Foo", "_1foo"},
		{"ChanVariable(PJSIP/x)", "chanvariable_pjsip_x_"},
		{"Ünï", "__n__"},
		{"Opaque-data", "opaque_data"},
		{"", ""},
		{"9", "_9"},
		{"_1", "_1"},
		{"a\x00\x7f\xff", "a___"},
	}
	for _, tt := range tests {
		if got := string(Append(nil, tt.name)); got != tt.want {
			t.Errorf("Append(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if got := Len(tt.name); got != len(tt.want) {
			t.Errorf("Len(%q) = %d, want %d", tt.name, got, len(tt.want))
		}
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"cause_txt", "Cause-txt", true},
		{"actionid", "ActionID", true},
		{"ActionID", "actionid", true},
		{"_1st_header", "1st-Header", true},
		{"1st_header", "1st-Header", true}, // Asterisk before the leading-digit fix
		{"1st-Header", "_1st_header", true},
		{"__n__", "Ünï", true},
		{"foo_bar", "Foo.Bar", true},
		{"foo_bar", "foo_baz", false},
		{"foo", "foo_", false},
		{"_1", "1", true},
		{"_a", "a", false},
		{"", "", true},
		{"", "_", false},
		{"output", "Output", true},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Equal(tt.b, tt.a); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
		if got := Equal(tt.a, tt.b); got != (string(Append(nil, tt.a)) == string(Append(nil, tt.b))) {
			t.Errorf("Equal(%q, %q) disagrees with Append", tt.a, tt.b)
		}
	}
}

func TestHasPrefix(t *testing.T) {
	tests := []struct {
		s, prefix string
		want      bool
	}{
		{"chanvariable_pjsip_x_", "ChanVariable", true},
		{"chanvariable", "ChanVariable", true},
		{"chanvar", "ChanVariable", false},
		{"_1abc", "1a", true},
		{"1abc", "1a", true},
		{"xyz", "", true},
	}
	for _, tt := range tests {
		if got := HasPrefix(tt.s, tt.prefix); got != tt.want {
			t.Errorf("HasPrefix(%q, %q) = %v, want %v", tt.s, tt.prefix, got, tt.want)
		}
	}
}

func TestEqualDoesNotAllocate(t *testing.T) {
	a, b := "chanvariable_pjsip_x_", "ChanVariable(PJSIP/x)"
	var equal bool
	if n := testing.AllocsPerRun(100, func() { equal = Equal(a, b) }); n != 0 || !equal {
		t.Errorf("Equal = %v, allocating %v times", equal, n)
	}
}

func FuzzEqual(f *testing.F) {
	f.Add("Cause-txt", "cause_txt")
	f.Add("1a", "_1a")
	f.Fuzz(func(t *testing.T, a, b string) {
		want := string(Append(nil, a)) == string(Append(nil, b))
		if got := Equal(a, b); got != want {
			t.Fatalf("Equal(%q, %q) = %v, Append says %v", a, b, got, want)
		}
		if got := HasPrefix(a, b); got != (len(Append(nil, a)) >= len(Append(nil, b)) && string(Append(nil, a)[:len(Append(nil, b))]) == string(Append(nil, b))) {
			t.Fatalf("HasPrefix(%q, %q) = %v disagrees with Append", a, b, got)
		}
	})
}
