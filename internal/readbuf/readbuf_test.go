package readbuf

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSize(t *testing.T) {
	tests := []struct {
		r    io.Reader
		want int
	}{
		{strings.NewReader("12345"), 64},
		{strings.NewReader(strings.Repeat("x", 1000)), 1001},
		{strings.NewReader(strings.Repeat("x", 5000)), 4096},
		{bytes.NewBufferString("abc"), 64},
		{io.MultiReader(), 512},
	}
	for i, tt := range tests {
		if got := Size(tt.r, 512, 4096); got != tt.want {
			t.Errorf("%d: Size = %d, want %d", i, got, tt.want)
		}
	}
}

func TestRoom(t *testing.T) {
	buf := []byte("0123456789")
	// Not shared, less than half unread: moved within buf.
	got := Room(buf, 7, false)
	if &got[0] != &buf[0] || string(got[:3]) != "789" || len(got) != 10 {
		t.Errorf("unshared: %q (same buffer %v)", got, &got[0] == &buf[0])
	}
	// Shared: a new buffer, the old one untouched.
	buf = []byte("0123456789")
	got = Room(buf, 7, true)
	if &got[0] == &buf[0] || string(got[:3]) != "789" || len(got) != 10 || string(buf) != "0123456789" {
		t.Errorf("shared: %q, old %q", got, buf)
	}
	// More than half unread: twice as large.
	got = Room(buf, 2, false)
	if len(got) != 20 || string(got[:8]) != "23456789" {
		t.Errorf("mostly unread: %q (len %d)", got, len(got))
	}
}

type stuck struct{ calls int }

func (s *stuck) Read([]byte) (int, error) { s.calls++; return 0, nil }

type slowThenData struct{ empty int }

func (s *slowThenData) Read(p []byte) (int, error) {
	if s.empty > 0 {
		s.empty--
		return 0, nil
	}
	return copy(p, "x"), nil
}

func TestRead(t *testing.T) {
	p := make([]byte, 4)
	s := &stuck{}
	if n, err := Read(s, p); n != 0 || !errors.Is(err, io.ErrNoProgress) || s.calls != maxEmptyReads {
		t.Errorf("stuck reader: %d, %v after %d calls", n, err, s.calls)
	}
	if n, err := Read(&slowThenData{empty: 5}, p); n != 1 || err != nil {
		t.Errorf("slow reader: %d, %v", n, err)
	}
	if n, err := Read(strings.NewReader(""), p); n != 0 || err != io.EOF {
		t.Errorf("empty reader: %d, %v", n, err)
	}
}
