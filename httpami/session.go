package httpami

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"
)

const cookieName = "mansession_id"

// sessionJar holds the cookies of a cookie-auth Client: a
// net/http/cookiejar jar with the public suffix list keeps every cookie
// the answers set, under the usual rules (a load balancer's affinity
// cookie, say), and the session cookie is held apart, because Asterisk
// does not use it as browsers do:
//
//   - Asterisk answers a request whose session is gone with a new,
//     unauthenticated mansession_id (spec §2.4). A jar that took it
//     would send it with every later request, each then refused, until
//     the next Login; so only the id the Client logged in with is kept
//     (adopt), and a different one is evidence of a lost session.
//   - Every answer refreshes the session's lifetime (Max-Age), which
//     the jar tracks without parsing the cookie into the jar again.
//
// The session cookie is stored in the jar too when adopted; the fast
// path, taken while no other cookie was ever set, reads neither.
type sessionJar struct {
	jar *cookiejar.Jar

	mu      sync.Mutex
	id      string    // the logged-in session id; "" when none
	header  string    // its Cookie header value
	expires time.Time // when Asterisk forgets the session, by Max-Age
	foreign bool      // the jar holds other cookies too
}

func newSessionJar() *sessionJar {
	jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
	return &sessionJar{jar: jar}
}

// adopt makes c, the cookie of a successful Login, the session cookie.
func (j *sessionJar) adopt(u *url.URL, c *http.Cookie) {
	j.mu.Lock()
	j.id = c.Value
	j.header = requestCookie(c)
	j.expires = expiry(c)
	j.mu.Unlock()
	j.jar.SetCookies(u, []*http.Cookie{c})
}

// requestCookie returns c as a Cookie request header sends it: name and
// value, quoted as Asterisk set it.
func requestCookie(c *http.Cookie) string {
	return (&http.Cookie{Name: c.Name, Value: c.Value, Quoted: c.Quoted}).String()
}

// expiry returns when a cookie set now expires; zero for never.
func expiry(c *http.Cookie) time.Time {
	if c.MaxAge > 0 {
		return time.Now().Add(time.Duration(c.MaxAge) * time.Second)
	}
	return time.Time{}
}

// forget drops the session cookie.
func (j *sessionJar) forget(u *url.URL) {
	j.mu.Lock()
	j.id, j.header = "", ""
	j.mu.Unlock()
	j.jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: "x", MaxAge: -1}})
}

// current returns the session id while the session lives by its
// Max-Age, "" otherwise.
func (j *sessionJar) current() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.id == "" || (!j.expires.IsZero() && time.Now().After(j.expires)) {
		return ""
	}
	return j.id
}

// cookieHeader returns the Cookie header for a request to u, with the
// session cookie, and the session id in it.
// A Login exchange sends the cookie login, or none.
func (j *sessionJar) cookieHeader(u *url.URL, login *http.Cookie, isLogin bool) (header, id string) {
	j.mu.Lock()
	if !isLogin && j.id != "" && (j.expires.IsZero() || time.Now().Before(j.expires)) {
		header, id = j.header, j.id
	}
	foreign := j.foreign
	j.mu.Unlock()
	if login != nil {
		header, id = requestCookie(login), login.Value
	}
	if !foreign {
		return header, id
	}
	var b strings.Builder
	for _, c := range j.jar.Cookies(u) {
		if c.Name != cookieName {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(c.String())
		}
	}
	if header != "" {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(header)
	}
	return b.String(), id
}

// setCookies takes the cookies of an answer to u: the session cookie
// refreshes the session's lifetime if it is the Client's (and is
// returned), the others go to the jar.
func (j *sessionJar) setCookies(u *url.URL, cookies []*http.Cookie) (session *http.Cookie) {
	var others []*http.Cookie
	for _, c := range cookies {
		if c.Name != cookieName {
			others = append(others, c)
			continue
		}
		session = c
		j.mu.Lock()
		if c.Value == j.id && j.id != "" {
			j.expires = expiry(c)
		}
		j.mu.Unlock()
	}
	if len(others) > 0 {
		j.mu.Lock()
		j.foreign = true
		j.mu.Unlock()
		j.jar.SetCookies(u, others)
	}
	return session
}

// sessionCookie reads the session cookie of an answer's Set-Cookie
// headers without parsing them all: Asterisk sends exactly
// `mansession_id="8hex"; Version=1; Max-Age=N`, which refreshes the
// logged-in session on almost every answer. It returns ok false when
// another cookie is set too, for the caller to parse them all.
func (j *sessionJar) sessionCookie(values []string) (id string, maxAge int, ok bool) {
	if len(values) != 1 || !strings.HasPrefix(values[0], cookieName+"=") {
		return "", 0, len(values) == 0
	}
	v, attrs, _ := strings.Cut(values[0][len(cookieName)+1:], ";")
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	for attr := range strings.SplitSeq(attrs, ";") {
		k, n, _ := strings.Cut(strings.TrimSpace(attr), "=")
		if strings.EqualFold(k, "Max-Age") {
			age, err := strconv.Atoi(n)
			if err != nil {
				return "", 0, false
			}
			maxAge = age
		}
	}
	return v, maxAge, true
}

// refresh notes that Asterisk extended the session id by maxAge
// seconds; it reports whether id is the logged-in session.
func (j *sessionJar) refresh(id string, maxAge int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if id == "" || id != j.id {
		return false
	}
	if maxAge > 0 {
		j.expires = time.Now().Add(time.Duration(maxAge) * time.Second)
	}
	return true
}

// attempt is the state of one request through the retry loop, carried
// in its context so that the retry policy and the response handler see
// it.
type attempt struct {
	name, actionID string
	safe           bool
	login          bool         // a Login exchange: no session cookie but cookie
	cookie         *http.Cookie // the Login exchange's session, if any
	sent           string       // session id sent
	setCookie      *http.Cookie // the session cookie of the last answer, parsed when new
	setID          string       // its id
	jar            *sessionJar  // nil with digest auth
	base           *url.URL
	tries          int
	read200        bool   // the last 200 answer's body was read
	body           []byte // the last answer's body
	maxBody        int64
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt {
	st, _ := ctx.Value(attemptKey{}).(*attempt)
	return st
}
