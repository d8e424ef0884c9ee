package readbuf

import "io"

// Size returns the size of a decoder's first buffer: def, or if r tells
// its remaining length (bytes.Reader, strings.Reader, bytes.Buffer) that
// length plus one, so that the end of input is seen without a second
// buffer, between 64 and maxSized bytes.
func Size(r io.Reader, def, maxSized int) int {
	if l, ok := r.(interface{ Len() int }); ok {
		return min(max(l.Len()+1, 64), maxSized)
	}
	return def
}

// Room returns a buffer with room after the unread input of the full
// buffer buf, which is buf[rpos:]: that input moved to the front of buf, or
// to a new buffer when buf is shared (its bytes must not be written again)
// or more than half of it is unread, in which case the new buffer is twice
// as large. The unread input starts at index 0 of the result and ends at
// len(buf)-rpos.
func Room(buf []byte, rpos int, shared bool) []byte {
	unread := buf[rpos:]
	size := len(buf)
	if 2*len(unread) > size {
		size *= 2
	}
	if !shared && size == len(buf) {
		copy(buf, unread)
		return buf
	}
	nb := make([]byte, size)
	copy(nb, unread)
	return nb
}

// maxEmptyReads is how many reads returning nothing Read tolerates.
const maxEmptyReads = 100

// Read reads into p, which must not be empty, until it gets at least one
// byte or an error. A reader that returns no byte and no error 100 times in
// a row gives [io.ErrNoProgress].
func Read(r io.Reader, p []byte) (int, error) {
	for range maxEmptyReads {
		n, err := r.Read(p)
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}
