package httpamitest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// nonceLifetime is how long a digest nonce serves its session before
// Asterisk rotates it with stale=true, however busy the session is.
const nonceLifetime = 62 * time.Second

// digestParams is the Authorization header as ast_parse_digest() reads it.
type digestParams struct {
	username, realm, nonce, uri, response, cnonce, nc, qop, algorithm string
	hasNC                                                             bool
}

func parseDigest(h string) (digestParams, bool) {
	var d digestParams
	if len(h) < 7 || !strings.EqualFold(h[:7], "Digest ") {
		return d, false
	}
	rest := h[7:]
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var val string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				b.WriteByte(after[i])
			}
			val, rest = b.String(), after[min(i+1, len(after)):]
		} else {
			val, rest, _ = strings.Cut(after, ",")
			val = strings.TrimSpace(val)
		}
		switch key {
		case "username":
			d.username = val
		case "realm":
			d.realm = val
		case "nonce":
			d.nonce = val
		case "uri":
			d.uri = val
		case "response":
			d.response = val
		case "cnonce":
			d.cnonce = val
		case "nc":
			d.nc, d.hasNC = val, true
		case "qop":
			d.qop = val
		case "algorithm":
			d.algorithm = val
		}
	}
	if d.algorithm != "" && !strings.EqualFold(d.algorithm, "MD5") {
		return d, false
	}
	if d.realm == "" || d.nonce == "" || d.username == "" || d.uri == "" || d.response == "" {
		return d, false
	}
	if strings.EqualFold(d.qop, "auth") {
		if d.cnonce == "" || d.nc == "" {
			return d, false
		}
		if _, err := strconv.ParseUint(d.nc, 16, 64); err != nil {
			return d, false
		}
	}
	return d, true
}

// challenge builds the 401 answer with a digest challenge for nonce.
func (m *manager) challenge(nonce uint32, stale bool) *httpResponse {
	resp := m.s.errorPage(401, "", false)
	v := fmt.Sprintf(`Digest algorithm=MD5, realm="%s", nonce="%08x", qop="auth", opaque="%08x"`, m.cfg.realm, nonce, nonce)
	if stale {
		v += ", stale=true"
	}
	resp.headers = append([]header{{"WWW-authenticate", v}}, resp.headers...)
	return resp
}

// serveDigest is auth_http_callback(): /arawman and /amxml.
func (m *manager) serveDigest(req *httpRequest, ep endpoint) *httpResponse {
	params := m.s.params(req)
	fresh := func() *httpResponse {
		m.mu.Lock()
		id := m.newIDLocked()
		m.mu.Unlock()
		return m.challenge(id, false)
	}
	auth, _ := req.header("Authorization")
	d, ok := parseDigest(auth)
	if !ok {
		return fresh()
	}
	u := m.cfg.user(d.username)
	if u == nil {
		return fresh()
	}
	nonce := scanHex(d.nonce)
	ha1 := md5hex(u.Name + ":" + m.cfg.realm + ":" + u.Secret)
	ha2 := md5hex(req.method + ":" + d.uri)
	var want string
	qop := strings.EqualFold(d.qop, "auth")
	if qop {
		want = md5hex(fmt.Sprintf("%s:%08x:%s:%s:auth:%s", ha1, nonce, d.nc, d.cnonce, ha2))
	} else {
		want = md5hex(fmt.Sprintf("%s:%08x:%s", ha1, nonce, ha2))
	}
	if len(d.response) < 32 || !strings.EqualFold(d.response[:32], want) {
		return fresh()
	}

	now := m.cfg.clock.Now()
	m.mu.Lock()
	m.purgeLocked(now)
	var ss *session
	for _, c := range m.sessions {
		if !c.needDestroy && strings.EqualFold(c.username, u.Name) && (c.id == nonce || c.hasOld && c.oldNonce == nonce) {
			ss = c
			break
		}
	}
	switch {
	case ss == nil:
		if old := m.sessions[nonce]; old != nil { // the id is taken by another user's session
			m.mu.Unlock()
			return fresh()
		}
		ss = m.newSessionLocked(nonce)
		ss.digest = true
		ss.authed = true
		ss.username = u.Name
		ss.readPerm, ss.writePerm = parseClasses(u.Read), parseClasses(u.Write)
		ss.sendEvents = allClasses
		ss.nonceTime = now
		ss.startTV = now
	case ss.id != nonce: // the previous nonce
		cur := ss.id
		m.mu.Unlock()
		return m.challenge(cur, true)
	default:
		// Without qop Asterisk compares an nc it never parsed (an
		// uninitialised variable); the fake accepts, as the recordings
		// show for a repeated RFC 2069 request.
		nc := ss.nc + 1
		if qop {
			nc, _ = strconv.ParseUint(d.nc, 16, 64)
		}
		if ss.nc >= nc || now.Sub(ss.nonceTime) > nonceLifetime {
			m.rotateLocked(ss, now)
			cur := ss.id
			m.mu.Unlock()
			return m.challenge(cur, true)
		}
		ss.nc = nc
	}
	ss.timeout = now.Add(time.Duration(max(m.cfg.httpTimeout, 5)) * time.Second)
	ss.local, ss.remote = addrString(req.conn.LocalAddr()), addrString(req.conn.RemoteAddr())
	ss.inuse++
	m.mu.Unlock()

	out, destroy := m.process(ss, params, req)

	m.mu.Lock()
	ss.inuse--
	if destroy && m.sessions[ss.id] == ss {
		delete(m.sessions, ss.id)
		ss.gone = true
	}
	m.mu.Unlock()
	return &httpResponse{
		status:  200,
		headers: []header{{"Content-type", contentType(ep.format)}},
		body:    m.render(out, ep.format, params),
	}
}

// rotateLocked gives a digest session a new nonce, keeping the old one
// to answer it with stale=true.
func (m *manager) rotateLocked(ss *session, now time.Time) {
	delete(m.sessions, ss.id)
	ss.oldNonce, ss.hasOld = ss.id, true
	ss.id = m.newIDLocked()
	ss.nc = 0
	ss.nonceTime = now
	m.sessions[ss.id] = ss
}
