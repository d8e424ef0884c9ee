package httpami

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"

	"golang.org/x/net/publicsuffix"
)

const cookieName = "mansession_id"

// sessionJar is the cookie jar of a cookie-auth Client. It keeps every
// cookie as net/http/cookiejar does (a load balancer's affinity cookie
// included), except the session cookie: Asterisk answers a request
// whose session is gone with a new, unauthenticated mansession_id, and
// a jar that took it would make every later request fail until the
// next Login. The jar only takes the session id the Client logged in
// with (adopt), and refreshes its Max-Age from later answers.
type sessionJar struct {
	jar *cookiejar.Jar
	mu  sync.Mutex
	id  string // the logged-in session id; "" when none
}

func newSessionJar() *sessionJar {
	jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
	return &sessionJar{jar: jar}
}

func (j *sessionJar) Cookies(u *url.URL) []*http.Cookie { return j.jar.Cookies(u) }

func (j *sessionJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	id := j.id
	j.mu.Unlock()
	keep := cookies[:0:0]
	for _, c := range cookies {
		if c.Name != cookieName || (c.Value == id && id != "") {
			keep = append(keep, c)
		}
	}
	if len(keep) > 0 {
		j.jar.SetCookies(u, keep)
	}
}

// adopt makes c the session cookie.
func (j *sessionJar) adopt(u *url.URL, c *http.Cookie) {
	j.mu.Lock()
	j.id = c.Value
	j.mu.Unlock()
	j.jar.SetCookies(u, []*http.Cookie{c})
}

// forget drops the session cookie.
func (j *sessionJar) forget(u *url.URL) {
	j.mu.Lock()
	j.id = ""
	j.mu.Unlock()
	j.jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: "x", MaxAge: -1}})
}

// current returns the session id the jar would send to u, "" if none
// (never logged in, or expired by its Max-Age).
func (j *sessionJar) current(u *url.URL) string {
	for _, c := range j.jar.Cookies(u) {
		if c.Name == cookieName {
			return c.Value
		}
	}
	return ""
}

// sessionTransport adds the jar's cookies to each request, replacing
// any Cookie header the request had unless the attempt asks for its
// own (the Login exchange), notes which session id was sent, and hands
// the answer's cookies to the jar.
type sessionTransport struct {
	jar  *sessionJar
	base http.RoundTripper
}

func (t *sessionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := attemptFrom(req.Context())
	r := req.Clone(req.Context())
	r.Header.Del("Cookie")
	sent := ""
	login := st != nil && st.login
	for _, c := range t.jar.Cookies(r.URL) {
		if c.Name == cookieName {
			if login {
				continue // a Login starts from its own session
			}
			sent = c.Value
		}
		r.AddCookie(c)
	}
	if login && st.cookie != nil {
		r.AddCookie(st.cookie)
		sent = st.cookie.Value
	}
	if st != nil {
		st.sent = sent
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		if rc := resp.Cookies(); len(rc) > 0 {
			t.jar.SetCookies(r.URL, rc)
		}
	}
	return resp, err
}

func (t *sessionTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// attempt is the state of one request through the retry loop, carried
// in its context so that the retry policy and the transport see it.
type attempt struct {
	name, actionID string
	safe           bool
	login          bool         // a Login exchange: send cookie, not the jar's
	cookie         *http.Cookie // the Login exchange's session, if any
	sent           string       // session id sent by the last attempt
	setCookie      *http.Cookie // the session cookie of the last answer
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
