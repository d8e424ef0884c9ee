// Package suggest finds the names closest to a misspelled one, for the
// "did you mean" of the action checks and of the command line.
package suggest

import (
	"slices"
	"strings"
)

// MaxEdits is how many edits away a name may be to be suggested.
const MaxEdits = 2

// Near returns up to most of names close to name, ignoring ASCII case:
// those within MaxEdits edits, nearest first (ties in the order of
// names), then those that begin with name.
func Near(name string, names []string, most int) []string {
	lower := strings.ToLower(name)
	type near struct {
		name string
		d    int
	}
	var close []near
	for _, n := range names {
		if d := Distance(lower, strings.ToLower(n)); d <= MaxEdits {
			close = append(close, near{n, d})
		}
	}
	slices.SortStableFunc(close, func(a, b near) int { return a.d - b.d })
	var out []string
	for _, c := range close {
		out = append(out, c.name)
	}
	for _, n := range names {
		if lower != "" && strings.HasPrefix(strings.ToLower(n), lower) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out[:min(len(out), most)]
}

// Distance is the Levenshtein distance of a and b, in bytes; 64 for
// strings longer than that, which no AMI name is.
func Distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	var rows [2][65]int
	prev, cur := rows[0][:len(b)+1], rows[1][:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
