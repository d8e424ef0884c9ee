package digest

import (
	"reflect"
	"testing"
)

// FuzzParseChallenges feeds arbitrary header values to the parser, seeded
// with Asterisk's challenge and the forms of the table tests: no panic,
// every Digest challenge returned has a nonce, and its String form parses
// back to the same challenge.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Digest algorithm=MD5, realm="asterisk", nonce="62f1a8e9", qop="auth", opaque="62f1a8e9", stale=true`,
		`Basic realm="x", Digest realm="r\"q\", b", nonce="1", algorithm=SHA-256, Negotiate abc==, Bearer`,
		"Digest realm=\"r\",\tnonce=n, qop=\"auth-int, auth\", userhash=true, charset=UTF-8, domain=\"/a /b\"",
		`Digest realm="r", nonce="1`,
		`Digest realm=, nonce="1"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		chs, _ := ParseChallenges(value)
		for _, c := range chs {
			if c.Nonce == "" {
				t.Fatalf("%q: a challenge without a nonce: %+v", value, c)
			}
			again, err := ParseChallenges(c.String())
			if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], c) {
				t.Fatalf("%q: %+v formats as %q, which parses as %+v, %v", value, c, c.String(), again, err)
			}
		}
	})
}
