package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"strings"
)

// An algorithm is one of the hash algorithms of RFC 7616.
type algorithm struct {
	sum  func(data []byte, out *[64]byte) []byte // the digest of data, in out
	sess bool                                    // the -sess variant: HA1 includes the nonce and cnonce
	rank int                                     // higher is stronger
}

func md5Sum(b []byte, out *[64]byte) []byte {
	s := md5.Sum(b)
	return append(out[:0], s[:]...)
}

func sha256Sum(b []byte, out *[64]byte) []byte {
	s := sha256.Sum256(b)
	return append(out[:0], s[:]...)
}

func sha512_256Sum(b []byte, out *[64]byte) []byte {
	s := sha512.Sum512_256(b)
	return append(out[:0], s[:]...)
}

// algorithms are the supported algorithms by upper-case name.
var algorithms = map[string]algorithm{
	"MD5":              {md5Sum, false, 2},
	"MD5-SESS":         {md5Sum, true, 1},
	"SHA-256":          {sha256Sum, false, 4},
	"SHA-256-SESS":     {sha256Sum, true, 3},
	"SHA-512-256":      {sha512_256Sum, false, 6},
	"SHA-512-256-SESS": {sha512_256Sum, true, 5},
}

// lookupAlgorithm returns the algorithm a challenge names; no name means MD5.
func lookupAlgorithm(name string) (algorithm, bool) {
	if name == "" {
		name = "MD5"
	}
	a, ok := algorithms[strings.ToUpper(name)]
	return a, ok
}

// hexHash returns the lower-case hex digest of the parts joined by ':'.
func (a algorithm) hexHash(parts ...string) string {
	var buf [512]byte
	data := buf[:0]
	for i, p := range parts {
		if i > 0 {
			data = append(data, ':')
		}
		data = append(data, p...)
	}
	return a.hexHashBytes(data)
}

// hexHashBytes returns the lower-case hex digest of b.
func (a algorithm) hexHashBytes(b []byte) string {
	var sum [64]byte
	return hex.EncodeToString(a.sum(b, &sum))
}

// A credentials is what one Authorization header answers with.
type credentials struct {
	alg       algorithm
	algName   string // as the challenge wrote it; "" if it named none
	username  string
	password  string
	realm     string
	nonce     string
	opaque    string
	qop       string // "auth", "auth-int" or "" (RFC 2069)
	nc        uint32
	cnonce    string
	method    string
	uri       string
	bodyHash  string // H(entity-body), for auth-int
	userhash  bool
	hasOpaque bool
}

// ncString returns the nonce count as the 8 hex digits sent.
func (c *credentials) ncString() string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := range b {
		b[i] = digits[c.nc>>(28-4*i)&0xf]
	}
	return string(b[:])
}

// response returns the request-digest of RFC 7616 section 3.4.1.
func (c *credentials) response() string {
	a := c.alg
	ha1 := a.hexHash(c.username, c.realm, c.password)
	if a.sess {
		ha1 = a.hexHash(ha1, c.nonce, c.cnonce)
	}
	var ha2 string
	if c.qop == "auth-int" {
		ha2 = a.hexHash(c.method, c.uri, c.bodyHash)
	} else {
		ha2 = a.hexHash(c.method, c.uri)
	}
	if c.qop == "" {
		return a.hexHash(ha1, c.nonce, ha2)
	}
	return a.hexHash(ha1, c.nonce, c.ncString(), c.cnonce, c.qop, ha2)
}

// header returns the Authorization header value.
func (c *credentials) header() string {
	var b strings.Builder
	b.Grow(256 + len(c.uri))
	b.WriteString("Digest ")
	switch {
	case c.userhash:
		b.WriteString("username=")
		writeQuoted(&b, c.alg.hexHash(c.username, c.realm))
		b.WriteString(", userhash=true")
	case needsExtended(c.username):
		b.WriteString("username*=UTF-8''")
		b.WriteString(encodeExtended(c.username))
	default:
		b.WriteString("username=")
		writeQuoted(&b, c.username)
	}
	b.WriteString(", realm=")
	writeQuoted(&b, c.realm)
	b.WriteString(", nonce=")
	writeQuoted(&b, c.nonce)
	b.WriteString(", uri=")
	writeQuoted(&b, c.uri)
	if c.algName != "" {
		b.WriteString(", algorithm=")
		b.WriteString(c.algName)
	}
	b.WriteString(", response=")
	writeQuoted(&b, c.response())
	if c.hasOpaque {
		b.WriteString(", opaque=")
		writeQuoted(&b, c.opaque)
	}
	if c.qop != "" {
		b.WriteString(", qop=")
		b.WriteString(c.qop)
		b.WriteString(", nc=")
		b.WriteString(c.ncString())
		b.WriteString(", cnonce=")
		writeQuoted(&b, c.cnonce)
	}
	return b.String()
}

// needsExtended reports whether a username cannot be sent as a plain
// quoted string: it holds a byte outside printable ASCII (RFC 7616 section
// 3.4.4).
func needsExtended(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return true
		}
	}
	return false
}

// encodeExtended percent-encodes s as the value of an RFC 8187 ext-value.
func encodeExtended(s string) string {
	const upperhex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&0xf])
	}
	return b.String()
}

// isAttrChar reports whether c is an attr-char of RFC 8187.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
