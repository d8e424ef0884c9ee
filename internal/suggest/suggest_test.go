package suggest

import (
	"slices"
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"channel", "channel", 0},
		{"chanel", "channel", 1},
		{"aplication", "application", 1},
		{"hangup", "hnagup", 2},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{strings.Repeat("a", 65), "a", 64},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want && len(tt.a) <= 64 {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNear(t *testing.T) {
	names := []string{"Hangup", "HangupRequest", "HangupHandlerPop", "Newchannel", "Newstate", "SoftHangupRequest"}
	tests := []struct {
		name string
		most int
		want []string
	}{
		{"hangpu", 5, []string{"Hangup"}},
		{"HANGUP", 5, []string{"Hangup", "HangupRequest", "HangupHandlerPop"}},
		{"Newstat", 5, []string{"Newstate"}},
		{"Hang", 2, []string{"Hangup", "HangupRequest"}},
		{"Zzzzzz", 5, nil},
		{"", 5, nil},
	}
	for _, tt := range tests {
		if got := Near(tt.name, names, tt.most); !slices.Equal(got, tt.want) {
			t.Errorf("Near(%q, %d) = %q, want %q", tt.name, tt.most, got, tt.want)
		}
	}
}

func BenchmarkDistance(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Distance("aplication", "application")
	}
}
