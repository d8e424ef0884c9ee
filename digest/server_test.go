package digest

import (
	"cmp"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// asteriskServer is an http.Handler that checks digest authentication as
// Asterisk 23's manager does (http-ami-spec section 3): the nonce is the
// session id, nc must strictly increase, a nonce is rotated with stale=true
// after MaxNonceAge or an nc replay, and a nonce the client made up starts a
// session. Its hashing and parsing are its own, not the package's, so that
// the tests check the Transport's hashes independently. It is stricter than
// Asterisk in one point: the uri parameter must be the request target.
type asteriskServer struct {
	Users              map[string]string // nil: hello/world
	Algorithms         []string          // one challenge each, in order; nil: MD5
	SplitChallenges    bool              // one WWW-authenticate line per challenge
	QOP                string            // the only qop offered; "": auth
	UserHash           bool              // announce userhash=true and require it
	AcceptClientNonces bool              // accept nonces it never issued, as Asterisk does
	MaxNonceAge        time.Duration     // 0: 62 s
	NoAuth             bool              // answer every request at once (benchmark baseline)
	NoLog              bool              // keep no per-request log
	now                func() time.Time  // nil: time.Now

	count    atomic.Int64
	mu       sync.Mutex
	sessions map[string]*asteriskSession // by current and previous nonce
	issued   map[string]bool             // nonces challenged with, not yet used
	log      []requestInfo
}

// An asteriskSession is a digest session: Asterisk's mansession.
type asteriskSession struct {
	nonce, old string // current and previous nonce
	nc         uint64 // the last nc accepted; the first request's is not stored
	since      time.Time
}

// requestInfo is what the server saw of one request.
type requestInfo struct {
	Method string
	Body   string
	Params map[string]string // of the Authorization header; nil if none or not Digest
	Status int
	Stale  bool
}

// unauthorizedPage is the body of Asterisk's 401 (spec section 3.1).
const unauthorizedPage = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n<html><head>\r\n" +
	"<title>401 Unauthorized</title>\r\n</head><body>\r\n<h1>Unauthorized</h1>\r\n<p></p>\r\n" +
	"<hr />\r\n<address>Asterisk/23.4.1</address>\r\n</body></html>\r\n"

func (s *asteriskServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.count.Add(1)
	body, _ := io.ReadAll(r.Body)
	info := requestInfo{Method: r.Method, Body: string(body), Status: http.StatusOK}
	var nonce string
	if !s.NoAuth {
		info.Params = parseAuthorization(r.Header.Get("Authorization"))
		nonce, info.Stale = s.check(r, body, info.Params)
		if nonce != "" {
			info.Status = http.StatusUnauthorized
		}
	}
	if !s.NoLog {
		s.mu.Lock()
		s.log = append(s.log, info)
		s.mu.Unlock()
	}
	if nonce != "" {
		s.challenge(w, nonce, info.Stale)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "Response: Success\r\nPing: Pong\r\n")
	if r.Method == http.MethodPost {
		fmt.Fprintf(w, "Body-Length: %d\r\n", len(body))
	}
	io.WriteString(w, "\r\n")
}

// challenge answers 401 with Asterisk's header, one challenge per algorithm.
func (s *asteriskServer) challenge(w http.ResponseWriter, nonce string, stale bool) {
	var hs []string
	for _, alg := range s.algorithms() {
		c := fmt.Sprintf(`Digest algorithm=%s, realm="asterisk", nonce="%s", qop="%s", opaque="%s"`,
			alg, nonce, s.qop(), nonce)
		if s.UserHash {
			c += ", userhash=true"
		}
		if stale {
			c += ", stale=true"
		}
		hs = append(hs, c)
	}
	if !s.SplitChallenges {
		hs = []string{strings.Join(hs, ", ")}
	}
	w.Header()["WWW-authenticate"] = hs // Asterisk's spelling, written as is
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, unauthorizedPage)
}

// check verifies a request's Authorization parameters p and follows
// find_session_by_nonce(). It returns "" to let the request through, or the
// nonce of the challenge to answer with and whether it is stale.
func (s *asteriskServer) check(r *http.Request, body []byte, p map[string]string) (nonce string, stale bool) {
	ok := s.verify(r, body, p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions, s.issued = make(map[string]*asteriskSession), make(map[string]bool)
	}
	now := time.Now()
	if s.now != nil {
		now = s.now()
	}
	se := s.sessions[p["nonce"]]
	switch {
	case !ok, se == nil && !s.AcceptClientNonces && !s.issued[p["nonce"]]:
		nonce = s.newNonce()
		s.issued[nonce] = true
		return nonce, false
	case se == nil:
		delete(s.issued, p["nonce"])
		s.sessions[p["nonce"]] = &asteriskSession{nonce: p["nonce"], since: now}
		return "", false
	case p["nonce"] == se.old:
		return se.nonce, true
	}
	nc, _ := strconv.ParseUint(p["nc"], 16, 32)
	if se.nc >= nc || now.Sub(se.since) > cmp.Or(s.MaxNonceAge, 62*time.Second) {
		delete(s.sessions, se.old)
		se.old, se.nonce, se.nc, se.since = se.nonce, s.newNonce(), 0, now
		s.sessions[se.nonce] = se
		return se.nonce, true
	}
	se.nc = nc
	return "", false
}

// verify reports whether p holds a correct digest response for r.
func (s *asteriskServer) verify(r *http.Request, body []byte, p map[string]string) bool {
	const realm = "asterisk" // HA1 is the server's: the client's realm is not read
	alg := cmp.Or(p["algorithm"], "MD5")
	offered := slices.ContainsFunc(s.algorithms(), func(a string) bool { return strings.EqualFold(a, alg) })
	if _, err := strconv.ParseUint(p["nc"], 16, 32); !offered || err != nil || p["cnonce"] == "" ||
		p["qop"] != s.qop() || p["uri"] != r.RequestURI || p["nonce"] == "" {
		return false // also for p == nil: no nc
	}
	users := s.Users
	if users == nil {
		users = map[string]string{"hello": "world"}
	}
	user := p["username"]
	if s.UserHash {
		if p["userhash"] != "true" {
			return false
		}
		for u := range users {
			if hexHash(alg, u, realm) == user {
				user = u
			}
		}
	}
	password, ok := users[user]
	if !ok {
		return false
	}
	ha2 := hexHash(alg, r.Method, p["uri"])
	if p["qop"] == "auth-int" {
		ha2 = hexHash(alg, r.Method, p["uri"], hexHash(alg, string(body)))
	}
	want := hexHash(alg, hexHash(alg, user, realm, password), p["nonce"], p["nc"], p["cnonce"], p["qop"], ha2)
	return strings.EqualFold(p["response"], want)
}

// hexHash returns the hex MD5 or SHA-256 of parts joined by ':'.
func hexHash(alg string, parts ...string) string {
	b := []byte(strings.Join(parts, ":"))
	if strings.EqualFold(alg, "SHA-256") {
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// parseAuthorization returns the parameters of a Digest Authorization
// header, names lower-cased, the first of a repeated one kept, quoted
// values with their C-style escapes decoded as Asterisk does; nil if h is
// not Digest or is malformed.
func parseAuthorization(h string) map[string]string {
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return nil
	}
	p := make(map[string]string)
	for rest = strings.TrimLeft(rest, " \t,"); rest != ""; rest = strings.TrimLeft(rest, " \t,") {
		name, value, ok := strings.Cut(rest, "=")
		if !ok {
			return nil
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimLeft(value, " \t")
		if q, err := strconv.QuotedPrefix(value); err == nil && q[0] == '"' {
			rest = value[len(q):]
			value, _ = strconv.Unquote(q)
		} else if strings.HasPrefix(value, `"`) {
			return nil
		} else {
			value, rest, _ = strings.Cut(value, ",")
			value = strings.TrimSpace(value)
		}
		if _, dup := p[name]; !dup {
			p[name] = value
		}
	}
	return p
}

func (s *asteriskServer) qop() string { return cmp.Or(s.QOP, "auth") }

func (s *asteriskServer) algorithms() []string {
	if s.Algorithms == nil {
		return []string{"MD5"}
	}
	return s.Algorithms
}

// newNonce returns a random nonce as Asterisk prints it: %08lx of 31 bits,
// never 0 nor a nonce in use. s.mu must be held.
func (s *asteriskServer) newNonce() string {
	for {
		n := fmt.Sprintf("%08x", 1+rand.Uint32N(1<<31-1))
		if s.sessions[n] == nil && !s.issued[n] {
			return n
		}
	}
}

// requests returns the number of requests received.
func (s *asteriskServer) requests() int { return int(s.count.Load()) }

// entries returns a copy of the request log.
func (s *asteriskServer) entries() []requestInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// raiseNC makes every session's next request an nc replay, as if another
// client had used its nonce up to nc ffffffff.
func (s *asteriskServer) raiseNC() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, se := range s.sessions {
		se.nc = 1<<32 - 1
	}
}

// forget drops every session, as a restart of Asterisk does.
func (s *asteriskServer) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
	clear(s.issued)
}
