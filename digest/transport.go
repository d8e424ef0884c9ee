package digest

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// DefaultMaxIdleNonces is the default of Transport.MaxIdleNonces.
const DefaultMaxIdleNonces = 32

// DefaultColdStartRealm is the realm Transport.ColdStart assumes by
// default: Asterisk's, unless asterisk.conf sets a systemname.
const DefaultColdStartRealm = "asterisk"

// maxDrain bounds what is read of a 401 body before a retry, so that the
// connection can be reused.
const maxDrain = 64 << 10

// Transport is an [http.RoundTripper] that authenticates requests with
// HTTP digest access authentication (RFC 7616), as Asterisk's /arawman,
// /amxml and /amanager endpoints require.
//
// The first request to an origin goes out without credentials; the 401
// answer carries a challenge, which the Transport answers by sending the
// request again, signed. It keeps the nonce and signs every later request
// to that origin at once: one round trip each. Of several challenges it
// picks the strongest algorithm it supports (SHA-512-256, SHA-256, MD5,
// then their -sess forms) and prefers qop=auth; auth-int, when it is the
// only qop offered, hashes the request body. A 401 to a signed request (a
// stale or forgotten nonce) gets one retry with the new challenge, if the
// body can be sent again ([http.Request.GetBody], which
// [http.NewRequest] sets for in-memory bodies); then the 401 goes back to
// the caller, so wrong credentials cost two requests and never a loop. A
// request whose body cannot be sent again gets the 401 back instead, which
// with Asterisk happens to such a request about every 62 s, when its nonce
// goes stale: give requests a GetBody.
//
// Asterisk accepts a nonce's count (nc) only if it is greater than every
// count it accepted before for that nonce, and answers any other with a
// new nonce, failing the requests in flight with the old one. So the
// Transport never lets two requests use one nonce at the same time: each
// request takes a nonce from a pool kept per origin and gives it back when
// its answer arrives. The pool grows to the number of requests in flight,
// each new nonce costing one challenge (with Asterisk, each nonce is also a
// session of its own, which no action minds). A sequential caller always
// uses the same nonce, hence one server-side session: a WaitEvent loop,
// whose events belong to its session, should have a Transport of its own
// and send one request at a time.
//
// A Transport is safe for concurrent use. Its fields must not change after
// the first request.
type Transport struct {
	// Username and Password are the credentials. With Asterisk the
	// username must be spelled as in manager.conf: the hash uses it.
	Username string
	Password string

	// Base sends the requests; nil means [http.DefaultTransport].
	Base http.RoundTripper

	// ColdStart makes a request that finds no nonce to spare sign at once
	// with a nonce the Transport makes up (8 random hex digits, realm
	// ColdStartRealm, MD5, qop=auth) instead of paying a 401 first: one
	// round trip even for the first request, which suits a serverless
	// function that starts cold on every call. It relies on a behaviour of
	// Asterisk's manager, which accepts any nonce and starts a session for
	// it; a server that does not answers 401 and the Transport falls back
	// to its challenge. Off by default.
	ColdStart bool

	// ColdStartRealm is the realm ColdStart signs with; "" means
	// DefaultColdStartRealm.
	ColdStartRealm string

	// MaxIdleNonces bounds the nonces kept per origin between requests;
	// 0 means DefaultMaxIdleNonces. A nonce beyond it is dropped, and a
	// later request needs a new challenge.
	MaxIdleNonces int

	mu    sync.Mutex
	pools map[string][]*nonceState // idle nonces by origin, last used last
}

// A nonceState is one nonce of a server's challenge, used by one request
// at a time.
type nonceState struct {
	c   Challenge
	alg algorithm
	qop string // chosen: "auth", "auth-int" or "" (RFC 2069)
	nc  uint32 // the last nonce count sent
}

// Client returns an [http.Client] that sends its requests through t.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// CloseIdleConnections closes the idle connections of the base transport,
// if it can.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// base returns the transport requests go through.
func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip sends req, signed with a cached nonce when there is one, and
// answers a digest challenge once. It does not modify req, and it closes
// req.Body, as the RoundTripper contract requires. A 401 that it cannot or
// may not answer again is returned as is.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	origin := originOf(req.URL)
	st := t.acquire(origin)
	resp, err := t.send(req, req.Body, st)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.release(origin, st)
		return resp, err
	}
	chs, _ := ParseChallenges(resp.Header.Values("Www-Authenticate")...)
	next := t.choose(chs)
	if next == nil {
		t.release(origin, st) // not a digest challenge we can answer
		return resp, nil
	}
	if !replayable(req) {
		t.release(origin, next) // the next request signs with the new nonce
		return resp, nil
	}
	body := req.Body
	if body != nil && body != http.NoBody {
		if body, err = req.GetBody(); err != nil {
			t.release(origin, next)
			return resp, nil
		}
	}
	drain(resp.Body)
	resp, err = t.send(req, body, next)
	t.release(origin, next)
	return resp, err
}

// send sends a copy of req with the given body, signed with st unless it
// is nil.
func (t *Transport) send(req *http.Request, body io.ReadCloser, st *nonceState) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Body = body
	if st != nil {
		auth, err := t.authorization(r, st)
		if err != nil {
			if r.Body != nil {
				r.Body.Close()
			}
			return nil, err
		}
		r.Header.Set("Authorization", auth)
	}
	return t.base().RoundTrip(r)
}

// authorization counts one more use of st and returns the Authorization
// header for r. For qop=auth-int it reads r.Body, to hash it, and puts the
// bytes back.
func (t *Transport) authorization(r *http.Request, st *nonceState) (string, error) {
	st.nc++
	c := credentials{
		alg:       st.alg,
		algName:   st.c.Algorithm,
		username:  t.Username,
		password:  t.Password,
		realm:     st.c.Realm,
		nonce:     st.c.Nonce,
		opaque:    st.c.Opaque,
		hasOpaque: st.c.Opaque != "",
		qop:       st.qop,
		nc:        st.nc,
		method:    r.Method,
		uri:       r.URL.RequestURI(),
		userhash:  st.c.UserHash,
	}
	if c.method == "" {
		c.method = http.MethodGet
	}
	if c.qop != "" {
		c.cnonce = rand.Text()
	}
	if c.qop == "auth-int" {
		var b []byte
		if r.Body != nil {
			var err error
			if b, err = io.ReadAll(r.Body); err != nil {
				return "", err // the caller closes r.Body
			}
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		c.bodyHash = c.alg.hexHashBytes(b)
	}
	return c.header(), nil
}

// choose returns a new nonce state for the strongest challenge of chs that
// the Transport can answer, or nil.
func (t *Transport) choose(chs []Challenge) *nonceState {
	var best *nonceState
	for _, c := range chs {
		alg, ok := lookupAlgorithm(c.Algorithm)
		if !ok {
			continue
		}
		qop, ok := chooseQOP(c.QOP)
		if !ok {
			continue
		}
		if best == nil || alg.rank > best.alg.rank {
			best = &nonceState{c: c, alg: alg, qop: qop}
		}
	}
	return best
}

// chooseQOP picks auth if offered, else auth-int, else none for a
// challenge that offers no qop (RFC 2069); ok is false if only unknown
// options are offered.
func chooseQOP(offered []string) (qop string, ok bool) {
	if len(offered) == 0 {
		return "", true
	}
	for _, o := range offered {
		if strings.EqualFold(o, "auth") {
			return "auth", true
		}
	}
	for _, o := range offered {
		if strings.EqualFold(o, "auth-int") {
			return "auth-int", true
		}
	}
	return "", false
}

// acquire takes an idle nonce of origin for one request, or makes one up
// with ColdStart, or returns nil.
func (t *Transport) acquire(origin string) *nonceState {
	t.mu.Lock()
	idle := t.pools[origin]
	if n := len(idle); n > 0 {
		st := idle[n-1]
		idle[n-1] = nil
		t.pools[origin] = idle[:n-1]
		t.mu.Unlock()
		return st
	}
	t.mu.Unlock()
	if !t.ColdStart {
		return nil
	}
	var b [4]byte
	for b == [4]byte{} { // nonce 0 means "no session" to Asterisk
		rand.Read(b[:])
	}
	nonce := hex.EncodeToString(b[:])
	return &nonceState{
		c: Challenge{
			Realm:     cmp.Or(t.ColdStartRealm, DefaultColdStartRealm),
			Nonce:     nonce,
			Opaque:    nonce,
			Algorithm: "MD5",
			QOP:       []string{"auth"},
		},
		alg: algorithms["MD5"],
		qop: "auth",
	}
}

// release gives a nonce back to the pool of origin, to be used by the
// next request.
func (t *Transport) release(origin string, st *nonceState) {
	if st == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pools[origin]) >= cmp.Or(t.MaxIdleNonces, DefaultMaxIdleNonces) {
		return
	}
	if t.pools == nil {
		t.pools = make(map[string][]*nonceState)
	}
	t.pools[origin] = append(t.pools[origin], st)
}

// replayable reports whether req can be sent again: it has no body, or a
// GetBody to get a fresh copy of it.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// drain reads and closes a response body that is not returned.
func drain(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, maxDrain))
	body.Close()
}

// originOf returns the scheme, host and port of u, which identify the
// server whose nonces apply.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
