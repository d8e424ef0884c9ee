package digest

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	asterisk := Challenge{Realm: "asterisk", Nonce: "62f1a8e9", Opaque: "62f1a8e9", Algorithm: "MD5", QOP: []string{"auth"}}
	stale := asterisk
	stale.Stale = true
	tests := []struct {
		name   string
		values []string
		want   []Challenge
	}{
		{
			name:   "Asterisk's challenge",
			values: []string{`Digest algorithm=MD5, realm="asterisk", nonce="62f1a8e9", qop="auth", opaque="62f1a8e9"`},
			want:   []Challenge{asterisk},
		},
		{
			name:   "stale, names in any case, no blanks",
			values: []string{`DIGEST Algorithm=MD5,REALM="asterisk",Nonce="62f1a8e9",QOP="auth",opaque="62f1a8e9",STALE=TRUE`},
			want:   []Challenge{stale},
		},
		{
			name: "escaped quotes and commas in quoted strings, tabs, unknown parameters",
			values: []string{"Digest realm=\"a \\\"q\\\", b\",\tnonce=\"n,1\" , foo=bar, qop=\"auth-int, auth\"," +
				" domain=\"/a /b\", charset=UTF-8, userhash=true, stale=false"},
			want: []Challenge{{Realm: `a "q", b`, Nonce: "n,1", QOP: []string{"auth-int", "auth"},
				Domain: "/a /b", Charset: "UTF-8", UserHash: true}},
		},
		{
			name: "several challenges in one value, with other schemes",
			values: []string{`Basic realm="x", Digest realm="r", nonce="1", algorithm=SHA-256, ` +
				`Negotiate abc==, Digest realm="r", nonce="2", Bearer`},
			want: []Challenge{{Realm: "r", Nonce: "1", Algorithm: "SHA-256"}, {Realm: "r", Nonce: "2"}},
		},
		{
			name:   "several header lines",
			values: []string{`Digest realm="r", nonce="1", algorithm=MD5`, `Digest realm="r", nonce="2", algorithm=SHA-512-256`},
			want:   []Challenge{{Realm: "r", Nonce: "1", Algorithm: "MD5"}, {Realm: "r", Nonce: "2", Algorithm: "SHA-512-256"}},
		},
		{
			name:   "a repeated parameter: the first counts",
			values: []string{`Digest realm="r", nonce="1", nonce="2"`},
			want:   []Challenge{{Realm: "r", Nonce: "1"}},
		},
		{
			name:   "no Digest challenge",
			values: []string{`Basic realm="x"`, ``, `Negotiate`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChallenges(tt.values...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseChallengesErrors(t *testing.T) {
	tests := []struct {
		value  string
		offset int
		kept   int // challenges returned with the error
	}{
		{`Digest realm="r", nonce="1`, 24, 0},
		{`Digest realm="r" nonce="1"`, 17, 0},
		{`Digest realm=, nonce="1"`, 13, 0},
		{`Digest nonce="1"`, 0, 0},
		{`Digest realm="r"`, 0, 0},
		{`Digest realm="r", nonce="1", Digest realm="s"`, 29, 1},
		{`Digest realm="r\`, 15, 0},
		{`"quoted" first`, 0, 0},
		{`Digest= realm="r"`, 6, 0},
	}
	for _, tt := range tests {
		got, err := ParseChallenges(tt.value)
		var ce *ChallengeError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v, want a *ChallengeError", tt.value, err)
			continue
		}
		if ce.Offset != tt.offset || len(got) != tt.kept {
			t.Errorf("%s: offset %d and %d challenges (%v), want %d and %d", tt.value, ce.Offset, len(got), err, tt.offset, tt.kept)
		}
	}
	// The other values still count.
	got, err := ParseChallenges(`Digest realm=`, `Digest realm="r", nonce="1"`)
	if err == nil || len(got) != 1 || got[0].Nonce != "1" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestChallengeStringRoundTrip(t *testing.T) {
	c := Challenge{Realm: `a "b" \c`, Nonce: "n", Opaque: "o", Algorithm: "SHA-256-sess", QOP: []string{"auth", "auth-int"},
		Stale: true, UserHash: true, Charset: "UTF-8", Domain: "/x /y"}
	got, err := ParseChallenges(c.String())
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], c) {
		t.Errorf("String() = %s parses as %+v, %v", c.String(), got, err)
	}
}
