package xmlname

// Byte returns the attribute-name byte Asterisk writes for the name byte c:
// c lowered if it is an ASCII letter, c if it is an ASCII digit, else '_'.
func Byte(c byte) byte {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return c
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return '_'
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Append appends the attribute name of the header name to dst.
func Append(dst []byte, name string) []byte {
	if name != "" && isDigit(name[0]) {
		dst = append(dst, '_')
	}
	for i := 0; i < len(name); i++ {
		dst = append(dst, Byte(name[i]))
	}
	return dst
}

// Len returns the length of the attribute name of name.
func Len(name string) int {
	if name != "" && isDigit(name[0]) {
		return len(name) + 1
	}
	return len(name)
}

// at returns byte i of the attribute name of name; i < Len(name).
func at(name string, i int) byte {
	if isDigit(name[0]) {
		if i == 0 {
			return '_'
		}
		return Byte(name[i-1])
	}
	return Byte(name[i])
}

// Equal reports whether a and b have the same attribute name, so that a
// key decoded from mxml ("cause_txt", "_1st_header") equals the header
// name it came from ("Cause-txt", "1st-Header"). A name written by an
// Asterisk older than the leading-digit fix ("1st_header") equals it too.
// It does not allocate.
func Equal(a, b string) bool {
	return Len(a) == Len(b) && hasPrefix(a, b, Len(b))
}

// HasPrefix reports whether the attribute name of s begins with the
// attribute name of prefix.
func HasPrefix(s, prefix string) bool {
	return Len(s) >= Len(prefix) && hasPrefix(s, prefix, Len(prefix))
}

// hasPrefix reports whether the first n bytes of the attribute names of a
// and b are equal; both are at least n long.
func hasPrefix(a, b string, n int) bool {
	for i := 0; i < n; i++ {
		if at(a, i) != at(b, i) {
			return false
		}
	}
	return true
}
