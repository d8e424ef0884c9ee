package httpamitest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadRequest feeds arbitrary bytes to the fake's HTTP request parser
// and to everything that reads a parsed request (parameters, cookie,
// digest header), seeded with every recorded request. Whatever the
// bytes, it must answer or refuse, never panic, and keep Asterisk's
// bounds.
func FuzzReadRequest(f *testing.F) {
	reqs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "asterisk-23", "*", "*.req"))
	for _, p := range reqs {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8192 {
			f.Add(b)
		}
	}
	f.Add([]byte("POST /rawman HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nActio\r\n0\r\n\r\n"))
	f.Add([]byte("GET /rawman?a=%zz&%00=x&b=%4 HTTP/1.1\r\nCookie: mansession_id=\"0x1F\"; x=y\r\n\r\n"))
	f.Add([]byte("GET /arawman HTTP/1.1\r\nAuthorization: Digest username=\"a\\\"b\", nc=zz, qop=auth\r\n\r\n"))
	s := NewUnstartedServer()
	defer s.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), maxLine)
		req, resp := s.readRequest(br, nil)
		if resp != nil {
			if resp.status < 400 || !resp.close {
				t.Fatalf("a refused request gets %d, close=%v", resp.status, resp.close)
			}
			return
		}
		if len(req.body) > s.cfg.maxBody() {
			t.Fatalf("body of %d bytes accepted", len(req.body))
		}
		params := s.params(req)
		if len(params) > 128 {
			t.Fatalf("%d parameters kept", len(params))
		}
		for _, p := range params {
			if strings.IndexByte(p.name, 0) >= 0 || strings.IndexByte(p.value, 0) >= 0 {
				t.Fatalf("a NUL survived decoding: %q", p)
			}
		}
		cookieID(req)
		if auth, ok := req.header("Authorization"); ok {
			if d, ok := parseDigest(auth); ok && (d.username == "" || d.nonce == "" || d.response == "") {
				t.Fatalf("incomplete digest accepted: %+v", d)
			}
		}
		s.route(req.path)
	})
}

// FuzzArgs checks the small parsers of action parameters: numbers read
// as sscanf does, event masks, and dialplan application arguments.
func FuzzArgs(f *testing.F) {
	for _, s := range []string{"", "0x1f", "-5", "017", "on", "call,user", `a,"b,c",d\,e`, "TestEvent,Foo: bar,Weird: a<b>&\"c'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		digits := strings.ContainsAny(s, "0123456789")
		if _, ok := scanInt(s); ok && !digits {
			t.Fatalf("scanInt read a number from %q", s)
		}
		if _, ok := scanDecimal(s); ok && !digits {
			t.Fatalf("scanDecimal read a number from %q", s)
		}
		if v := scanHex(s); v != 0 && !strings.ContainsAny(s, "123456789abcdefABCDEF") {
			t.Fatalf("scanHex(%q) = %#x", s, v)
		}
		known := 0
		for _, c := range classNames {
			known |= c.bit
		}
		if m := eventMask(s); m != allClasses && !digits && m&^known != 0 {
			t.Fatalf("eventMask(%q) = %#x", s, m)
		}
		if d := uriDecode(s); len(d) > len(s) {
			t.Fatalf("uriDecode(%q) = %q, longer", s, d)
		}
		for _, a := range appArgs(s) {
			if len(a) > len(s) {
				t.Fatalf("argument %q longer than its input %q", a, s)
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		if got := uriDecode(strings.ReplaceAll(s, "%", "%25")); !strings.Contains(s, "+") && !strings.Contains(s, "\x00") && got != s {
			t.Fatalf("uriDecode(escaped %q) = %q", s, got)
		}
	})
}
