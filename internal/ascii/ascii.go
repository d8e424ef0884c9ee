// Package ascii folds the case of AMI names, which Asterisk compares
// ASCII case-insensitively, without allocating for short names, and finds
// items by such names (Table, behind the catalogs' Lookup).
package ascii

import "sync"

// AppendLower appends s to dst with the ASCII upper-case letters lowered;
// other bytes are kept.
func AppendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Index returns the value of index for name folded with AppendLower: the
// keys of index must be folded so. The name is folded on the stack, and a
// map index by string(bytes) does not allocate.
func Index[V any](index map[string]V, name string) (V, bool) {
	var buf [64]byte
	v, ok := index[string(AppendLower(buf[:0], name))]
	return v, ok
}

// A Table finds items by name, compared case-insensitively (ASCII), as
// AMI compares action and event names. Its index is built on first use.
type Table[T any] struct {
	items []T
	name  func(*T) string
	once  sync.Once
	index map[string]*T
}

// NewTable returns the Table of items, whose names name gives.
func NewTable[T any](items []T, name func(*T) string) *Table[T] {
	return &Table[T]{items: items, name: name}
}

// Lookup returns the item called name, case ignored.
func (t *Table[T]) Lookup(name string) (*T, bool) {
	t.once.Do(func() {
		t.index = make(map[string]*T, len(t.items))
		for i := range t.items {
			t.index[string(AppendLower(nil, t.name(&t.items[i])))] = &t.items[i]
		}
	})
	return Index(t.index, name)
}

// All returns a pointer to every item, in order.
func (t *Table[T]) All() []*T {
	out := make([]*T, len(t.items))
	for i := range t.items {
		out[i] = &t.items[i]
	}
	return out
}
