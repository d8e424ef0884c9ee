package digest

import (
	"bufio"
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/internal/transcript"
)

// TestKnownAnswers checks the request digest against published vectors.
func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		name, alg                        string
		user, pass, realm, nonce, cnonce string
		nc                               uint32
		qop, method, uri, want           string
	}{
		{
			name: "RFC 7616 3.9.1 MD5", alg: "MD5",
			user: "Mufasa", pass: "Circle of Life", realm: "http-auth@example.org",
			nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			nc: 1, qop: "auth", method: "GET", uri: "/dir/index.html",
			want: "8ca523f5e9506fed4657c9700eebdbec",
		},
		{
			name: "RFC 7616 3.9.1 SHA-256", alg: "SHA-256",
			user: "Mufasa", pass: "Circle of Life", realm: "http-auth@example.org",
			nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			nc: 1, qop: "auth", method: "GET", uri: "/dir/index.html",
			want: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		},
		{
			name: "the Asterisk book's example", alg: "MD5",
			user: "hello", pass: "world", realm: "asterisk",
			nonce: "55b30b6d", cnonce: "MTQ0MTQ5",
			nc: 1, qop: "auth", method: "GET", uri: "/arawman?action=ping",
			want: "df8edf75f3571ad425cacb975d09280b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alg, ok := lookupAlgorithm(tt.alg)
			if !ok {
				t.Fatalf("algorithm %s not supported", tt.alg)
			}
			c := credentials{alg: alg, algName: tt.alg, username: tt.user, password: tt.pass, realm: tt.realm,
				nonce: tt.nonce, cnonce: tt.cnonce, nc: tt.nc, qop: tt.qop, method: tt.method, uri: tt.uri}
			if got := c.response(); got != tt.want {
				t.Errorf("response = %s, want %s", got, tt.want)
			}
			h := c.header()
			if !strings.Contains(h, `response="`+tt.want+`"`) || !strings.Contains(h, "nc=00000001") ||
				!strings.Contains(h, `cnonce="`+tt.cnonce+`"`) || strings.Contains(h, tt.pass) {
				t.Errorf("header %s", h)
			}
		})
	}
}

// authParam matches one name=value pair of a recorded Authorization header.
var authParamRE = regexp.MustCompile(`([a-z]+)=("([^"]*)"|[^, ]*)`)

// secrets are the passwords of the users in the recordings' manager.conf.
var secrets = map[string]string{"hello": "world", "filtered": "filtered"}

// TestRecordedResponses recomputes the response of every Authorization
// header a real Asterisk 23 accepted (status 200) in the recordings, and
// requires the digest that was sent; the ones it refused for a wrong
// password must not match.
func TestRecordedResponses(t *testing.T) {
	checked := 0
	for _, x := range transcript.MustLoadGroup(t, "digest") {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(x.Req)))
		if err != nil {
			continue
		}
		auth := req.Header.Get("Authorization")
		if auth == "" || x.Meta.Status != 200 && !strings.Contains(x.Name, "wrong-password") {
			continue
		}
		p := map[string]string{}
		for _, m := range authParamRE.FindAllStringSubmatch(strings.TrimPrefix(auth, "Digest "), -1) {
			v := m[2]
			if strings.HasPrefix(v, `"`) {
				v = m[3]
			}
			p[m[1]] = v
		}
		pass, ok := secrets[p["username"]]
		if !ok {
			t.Fatalf("%s: unknown user %q", x.ID(), p["username"])
		}
		var nc uint64
		for _, c := range p["nc"] {
			nc = nc*16 + uint64(strings.IndexRune("0123456789abcdef", c|0x20))
		}
		c := credentials{alg: algorithms["MD5"], username: p["username"], password: pass, realm: p["realm"],
			nonce: p["nonce"], cnonce: p["cnonce"], nc: uint32(nc), qop: p["qop"], method: req.Method, uri: p["uri"]}
		got := c.response()
		if match := strings.EqualFold(got, p["response"]); match != (x.Meta.Status == 200) {
			t.Errorf("%s (status %d): computed %s, sent %s", x.ID(), x.Meta.Status, got, p["response"])
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d recorded Authorization headers checked", checked)
	}
	t.Logf("%d recorded Authorization headers recomputed", checked)
}

// TestRecordedChallenges parses every challenge a real Asterisk 23 sent.
func TestRecordedChallenges(t *testing.T) {
	n := 0
	for _, x := range transcript.MustLoad(t) {
		if x.Meta.Status != http.StatusUnauthorized {
			continue
		}
		resp, _, err := x.Response()
		if err != nil {
			t.Fatal(err)
		}
		chs, err := ParseChallenges(resp.Header.Values("WWW-Authenticate")...)
		if err != nil || len(chs) != 1 {
			t.Fatalf("%s: %v, %d challenges", x.ID(), err, len(chs))
		}
		c := chs[0]
		if c.Realm != "asterisk" || len(c.Nonce) != 8 || c.Opaque != c.Nonce || c.Algorithm != "MD5" ||
			len(c.QOP) != 1 || c.QOP[0] != "auth" {
			t.Errorf("%s: %+v", x.ID(), c)
		}
		stale := strings.Contains(x.Name, "stale") || strings.Contains(x.Name, "replay") || strings.Contains(x.Name, "old-nonce")
		if c.Stale != stale {
			t.Errorf("%s: Stale = %v", x.ID(), c.Stale)
		}
		// Challenge.String writes Asterisk's header back byte for byte.
		if got, want := c.String(), resp.Header.Get("WWW-Authenticate"); got != want {
			t.Errorf("%s: String() = %s\nrecorded      %s", x.ID(), got, want)
		}
		n++
	}
	if n < 10 {
		t.Errorf("only %d challenges", n)
	}
}

// TestUsernameForms checks how the username is sent: quoted with escapes,
// in RFC 8187 extended form when it is not printable ASCII (RFC 7616
// section 3.4.4, the charset=UTF-8 case), or hashed with userhash.
func TestUsernameForms(t *testing.T) {
	md5 := algorithms["MD5"]
	tests := []struct {
		user     string
		userhash bool
		want     string
	}{
		{"hello", false, `username="hello"`},
		{`a"b\c`, false, `username="a\"b\\c"`},
		{"J\u00e4s\u00f8n Doe", false, `username*=UTF-8''J%C3%A4s%C3%B8n%20Doe`},
		{"tab\there", false, `username*=UTF-8''tab%09here`},
		{"J\u00e4s\u00f8n Doe", true, `username="` + md5.hexHash("J\u00e4s\u00f8n Doe", "r") + `", userhash=true`},
	}
	for _, tt := range tests {
		c := credentials{alg: md5, username: tt.user, password: "p", realm: "r", nonce: "n", method: "GET", uri: "/", userhash: tt.userhash}
		h := c.header()
		if !strings.HasPrefix(h, "Digest "+tt.want+", realm=") {
			t.Errorf("%q (userhash %v): %s, want it to start with %s", tt.user, tt.userhash, h, tt.want)
		}
	}
}
