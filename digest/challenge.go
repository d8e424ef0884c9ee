package digest

import (
	"errors"
	"fmt"
	"strings"
)

// A Challenge is one Digest challenge of a WWW-Authenticate header
// (RFC 7616 section 3.3).
type Challenge struct {
	Realm     string
	Nonce     string
	Opaque    string   // echoed back as is; "" if absent
	Algorithm string   // as sent ("MD5", "SHA-256-sess" ...); "" means MD5
	QOP       []string // the qop options offered ("auth", "auth-int"); none for RFC 2069
	Stale     bool     // the nonce, not the credentials, was refused
	UserHash  bool     // the server accepts a hashed username
	Charset   string   // "UTF-8" if the server announced it
	Domain    string   // space-separated URIs of the protection space, if sent
}

// String returns the challenge as a WWW-Authenticate header value, in the
// order and form Asterisk writes it (algorithm first, unquoted when it is a
// token).
func (c *Challenge) String() string {
	var b strings.Builder
	b.WriteString("Digest ")
	sep := ""
	param := func(name, value string, quote bool) {
		b.WriteString(sep)
		sep = ", "
		b.WriteString(name)
		b.WriteByte('=')
		if quote || value == "" || tokenEnd(value, 0) != len(value) {
			writeQuoted(&b, value)
		} else {
			b.WriteString(value)
		}
	}
	if c.Algorithm != "" {
		param("algorithm", c.Algorithm, false)
	}
	param("realm", c.Realm, true)
	param("nonce", c.Nonce, true)
	if len(c.QOP) > 0 {
		param("qop", strings.Join(c.QOP, ","), true)
	}
	if c.Opaque != "" {
		param("opaque", c.Opaque, true)
	}
	if c.Domain != "" {
		param("domain", c.Domain, true)
	}
	if c.Charset != "" {
		param("charset", c.Charset, false)
	}
	if c.UserHash {
		param("userhash", "true", false)
	}
	if c.Stale {
		param("stale", "true", false)
	}
	return b.String()
}

// writeQuoted writes s as an HTTP quoted-string.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// A ChallengeError reports a WWW-Authenticate header value that does not
// follow the syntax of RFC 7235, or a Digest challenge without a realm or a
// nonce. It quotes no part of the header.
type ChallengeError struct {
	Offset int    // byte offset in the header value of the problem
	Msg    string // what is wrong
}

// Error describes the problem and where it is.
func (e *ChallengeError) Error() string {
	return fmt.Sprintf("digest: malformed WWW-Authenticate challenge at byte %d: %s", e.Offset, e.Msg)
}

// ParseChallenges parses WWW-Authenticate header values, such as
// resp.Header.Values("WWW-Authenticate"), and returns their Digest
// challenges in order. Challenges of other schemes (Basic, Bearer ...) are
// skipped. A value may hold several challenges. Scheme and parameter names
// are case-insensitive; values are tokens or quoted strings, whose
// backslash escapes are decoded; unknown parameters are ignored, and the
// first of a repeated parameter counts.
//
// A value that cannot be parsed, or a Digest challenge without a realm or
// a nonce, gives a [*ChallengeError]; the challenges of the other values
// (and those before the error in the same value) are still returned.
func ParseChallenges(values ...string) ([]Challenge, error) {
	var (
		out      []Challenge
		firstErr error
	)
	for _, v := range values {
		chs, err := parseHeader(v)
		out = append(out, chs...)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return out, firstErr
}

// An authParam is one name=value pair of a challenge.
type authParam struct{ name, value string }

// parseHeader parses one header value.
func parseHeader(s string) ([]Challenge, error) {
	var (
		out    []Challenge
		scheme string // of the challenge being read
		params []authParam
		start  int // offset of that challenge
	)
	flush := func() error {
		if !strings.EqualFold(scheme, "Digest") {
			return nil
		}
		c, err := digestChallenge(params)
		if err != nil {
			return &ChallengeError{Offset: start, Msg: err.Error()}
		}
		out = append(out, c)
		return nil
	}
	p := 0
	for {
		p = skipListSep(s, p)
		if p == len(s) {
			break
		}
		n := tokenEnd(s, p)
		if n == p {
			return out, &ChallengeError{Offset: p, Msg: fmt.Sprintf("unexpected byte %q", s[p])}
		}
		q := skipOWS(s, n)
		if scheme != "" && q < len(s) && s[q] == '=' {
			// name=value, a parameter of the current challenge.
			value, next, err := paramValue(s, skipOWS(s, q+1))
			if err != nil {
				return out, err
			}
			params = append(params, authParam{s[p:n], value})
			p = next
			if err := expectListEnd(s, p); err != nil {
				return out, err
			}
			continue
		}
		// A new challenge: flush the one before.
		if err := flush(); err != nil {
			return out, err
		}
		scheme, params, start = s[p:n], params[:0], p
		if n < len(s) && s[n] != ' ' && s[n] != '\t' && s[n] != ',' {
			return out, &ChallengeError{Offset: n, Msg: "no space after the auth-scheme"}
		}
		p = skipOWS(s, n)
		if strings.EqualFold(scheme, "Digest") {
			continue // parameters follow; Digest has no token68 form
		}
		if end, ok := token68(s, p); ok {
			p = end // Negotiate, NTLM ...: not ours
		}
	}
	if err := flush(); err != nil {
		return out, err
	}
	return out, nil
}

// digestChallenge builds a Challenge from its parameters.
func digestChallenge(params []authParam) (Challenge, error) {
	var c Challenge
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		name := strings.ToLower(p.name)
		if seen[name] {
			continue
		}
		seen[name] = true
		switch name {
		case "realm":
			c.Realm = p.value
		case "nonce":
			c.Nonce = p.value
		case "opaque":
			c.Opaque = p.value
		case "algorithm":
			c.Algorithm = p.value
		case "qop":
			for o := range strings.SplitSeq(p.value, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.QOP = append(c.QOP, o)
				}
			}
		case "stale":
			c.Stale = strings.EqualFold(p.value, "true")
		case "userhash":
			c.UserHash = strings.EqualFold(p.value, "true")
		case "charset":
			c.Charset = p.value
		case "domain":
			c.Domain = p.value
		}
	}
	switch {
	case !seen["realm"]:
		return c, errors.New("no realm in the Digest challenge")
	case c.Nonce == "":
		return c, errors.New("no nonce in the Digest challenge")
	}
	return c, nil
}

// paramValue reads the token or quoted string at s[p:] and returns it with
// the offset after it.
func paramValue(s string, p int) (string, int, error) {
	if p < len(s) && s[p] == '"' {
		var b strings.Builder
		for i := p + 1; i < len(s); i++ {
			switch c := s[i]; c {
			case '"':
				return b.String(), i + 1, nil
			case '\\':
				if i+1 == len(s) {
					return "", 0, &ChallengeError{Offset: i, Msg: "backslash at the end of the header"}
				}
				i++
				b.WriteByte(s[i])
			default:
				b.WriteByte(c)
			}
		}
		return "", 0, &ChallengeError{Offset: p, Msg: "unterminated quoted string"}
	}
	n := tokenEnd(s, p)
	if n == p {
		return "", 0, &ChallengeError{Offset: p, Msg: "a parameter without a value"}
	}
	return s[p:n], n, nil
}

// expectListEnd checks that only blanks stand between s[p:] and the next
// comma or the end.
func expectListEnd(s string, p int) error {
	p = skipOWS(s, p)
	if p < len(s) && s[p] != ',' {
		return &ChallengeError{Offset: p, Msg: fmt.Sprintf("unexpected byte %q after a parameter", s[p])}
	}
	return nil
}

// token68 reports whether s[p:] starts with a token68 (RFC 7235) that ends
// the challenge, and returns the offset after it.
func token68(s string, p int) (int, bool) {
	n := p
	for n < len(s) && isToken68(s[n]) {
		n++
	}
	if n == p {
		return p, false
	}
	for n < len(s) && s[n] == '=' {
		n++
	}
	if e := skipOWS(s, n); e < len(s) && s[e] != ',' {
		return p, false // "name=value": a parameter
	}
	return n, true
}

// skipListSep skips blanks and the commas of a list.
func skipListSep(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == ',') {
		p++
	}
	return p
}

// skipOWS skips optional white space.
func skipOWS(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	return p
}

// tokenEnd returns the end of the token starting at s[p].
func tokenEnd(s string, p int) int {
	for p < len(s) && isTokenChar(s[p]) {
		p++
	}
	return p
}

// isTokenChar reports whether c is a tchar of RFC 9110.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isToken68 reports whether c may appear in a token68, before its '='s.
func isToken68(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
