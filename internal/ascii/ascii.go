// Package ascii folds the case of AMI names, which Asterisk compares
// ASCII case-insensitively, without allocating for short names.
package ascii

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
