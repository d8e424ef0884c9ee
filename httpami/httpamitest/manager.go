package httpamitest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amihttp/amihttp/encoding/mxml"
	"github.com/amihttp/amihttp/encoding/rawman"
)

// Event classes (manager.h EVENT_FLAG_*), in the order authority_to_str
// prints them.
var classNames = []struct {
	name string
	bit  int
}{
	{"system", 1}, {"call", 2}, {"log", 4}, {"verbose", 8}, {"command", 16},
	{"agent", 32}, {"user", 64}, {"config", 128}, {"dtmf", 256},
	{"reporting", 512}, {"cdr", 1024}, {"dialplan", 2048}, {"originate", 4096},
	{"agi", 8192}, {"cc", 32768}, {"aoc", 65536}, {"test", 131072},
	{"security", 262144}, {"message", 1073741824},
}

const allClasses = -1

// parseClasses reads a manager.conf class list ("system,call", "all").
func parseClasses(s string) int {
	mask := 0
	for w := range strings.SplitSeq(s, ",") {
		w = strings.TrimSpace(w)
		if strings.EqualFold(w, "all") {
			return allClasses
		}
		for _, c := range classNames {
			if strings.EqualFold(w, c.name) {
				mask |= c.bit
			}
		}
	}
	return mask
}

// classString is authority_to_str: every class word set, then "all";
// "<none>" for no class.
func classString(mask int) string {
	var b strings.Builder
	for _, c := range classNames {
		if mask&c.bit != 0 {
			b.WriteString(c.name + ",")
		}
	}
	if b.Len() == 0 {
		return "<none>"
	}
	return b.String() + "all"
}

// An event is one entry of Asterisk's global event queue.
type event struct {
	seq   uint64
	at    time.Time
	class int
	text  string // formatted, with its final empty line
}

type session struct {
	id          uint32
	digest      bool
	authed      bool
	username    string
	readPerm    int
	writePerm   int
	sendEvents  int
	filters     []eventFilter
	cursor      uint64
	timeout     time.Time
	inuse       int
	needDestroy bool
	gone        bool
	challenge   string
	startTV     time.Time
	ptr         string
	waiter      *waiter
	// digest
	nc        uint64
	oldNonce  uint32
	hasOld    bool
	nonceTime time.Time
	// the connection of the current request, for security events
	local, remote string
}

type eventFilter struct {
	exclude bool
	re      *regexp.Regexp
}

// A parker is a request waiting on the server's clock or on an event.
// Whoever wakes it takes it off the server's count of parked requests at
// once, so that a test driving a FakeClock never sees the server idle
// while a woken request is yet to run.
type parker struct {
	s      *Server
	mu     sync.Mutex
	parked bool
	wake   chan struct{}
}

func newParker(s *Server) *parker { return &parker{s: s, wake: make(chan struct{}, 1)} }

func (p *parker) park() {
	p.mu.Lock()
	if !p.parked {
		p.parked = true
		p.s.parked.Add(1)
	}
	p.mu.Unlock()
}

func (p *parker) unpark() {
	p.mu.Lock()
	if p.parked {
		p.parked = false
		p.s.parked.Add(-1)
	}
	p.mu.Unlock()
}

// signal unparks p and wakes it.
func (p *parker) signal() {
	p.unpark()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// waitUntil parks until cond holds, re-checking it at every signal; it
// returns false if the server closed first.
func (p *parker) waitUntil(done <-chan struct{}, cond func() bool) bool {
	for !cond() {
		p.park()
		if cond() {
			break
		}
		select {
		case <-p.wake:
		case <-done:
			p.unpark()
			return false
		}
	}
	p.unpark()
	return true
}

type waiter = parker

// The manager is the AMI engine behind the HTTP endpoints: sessions, the
// event queue and the actions.
type manager struct {
	s   *Server
	cfg *config

	mu       sync.Mutex
	sessions map[uint32]*session
	events   []*event
	lastSeq  uint64
	ptrs     uint64
	started  time.Time
	globals  map[string]string
	chans    *channels
	acts     []*action // registered actions, in ListCommands order
	done     chan struct{}
	doneOnce sync.Once
}

func newManager(s *Server) *manager {
	m := &manager{
		s:        s,
		cfg:      &s.cfg,
		sessions: make(map[uint32]*session),
		globals:  make(map[string]string),
		done:     make(chan struct{}),
	}
	for k, v := range s.cfg.globals {
		m.globals[k] = v
	}
	m.chans = newChannels(m)
	m.acts = m.actions()
	return m
}

func (m *manager) start() {
	m.mu.Lock()
	m.started = m.cfg.clock.Now()
	m.mu.Unlock()
}

func (m *manager) shutdown() {
	m.doneOnce.Do(func() { close(m.done) })
	m.chans.shutdown()
}

func (m *manager) restart() {
	m.mu.Lock()
	for _, ss := range m.sessions {
		ss.gone = true
		if ss.waiter != nil {
			ss.waiter.signal()
		}
	}
	m.sessions = make(map[uint32]*session)
	m.events = nil
	m.started = m.cfg.clock.Now()
	m.globals = make(map[string]string)
	for k, v := range m.cfg.globals {
		m.globals[k] = v
	}
	m.mu.Unlock()
	m.chans.reset()
}

// sleep waits d on the server's clock, or until the server closes, parked
// the while.
func (m *manager) sleep(d time.Duration) {
	p := newParker(m.s)
	var elapsed atomic.Bool
	t := m.cfg.clock.AfterFunc(d, func() { elapsed.Store(true); p.signal() })
	defer t.Stop()
	p.waitUntil(m.done, elapsed.Load)
}

// purgeLocked forgets expired sessions and events too old to keep.
// Asterisk's purger runs every 5 s, so it removes an expired session 0 to
// 5 s after its expiry; the fake does it 2.5 s after, deterministically.
func (m *manager) purgeLocked(now time.Time) {
	for id, ss := range m.sessions {
		if ss.inuse == 0 && !ss.timeout.IsZero() && now.Sub(ss.timeout) >= sessionPurgeDelay {
			ss.gone = true
			delete(m.sessions, id)
		}
	}
	maxAge := time.Duration(min(m.cfg.httpTimeout, 3600)) * 2500 * time.Millisecond
	oldest := m.lastSeq
	for _, ss := range m.sessions {
		oldest = min(oldest, ss.cursor)
	}
	i := 0
	for i < len(m.events)-1 {
		e := m.events[i]
		if e.seq > oldest && now.Sub(e.at) <= maxAge {
			break
		}
		i++
	}
	m.events = m.events[i:]
}

const sessionPurgeDelay = 2500 * time.Millisecond

// newID returns an id no session uses, never zero.
func (m *manager) newIDLocked() uint32 {
	for {
		id := m.cfg.ids()
		if _, used := m.sessions[id]; id != 0 && !used {
			return id
		}
	}
}

// newSessionLocked creates a session with its event cursor at the queue's
// tail, as Asterisk's grab_last() does.
func (m *manager) newSessionLocked(id uint32) *session {
	m.ptrs++
	ss := &session{
		id:     id,
		cursor: m.lastSeq,
		ptr:    fmt.Sprintf("0x7f%010x", 0x5800000000+m.ptrs*0x6f0),
	}
	m.sessions[id] = ss
	return ss
}

// publish formats an event, queues it and wakes every waiting WaitEvent.
// fields is the text after the Privilege and Timestamp lines, each line
// ended by CRLF.
func (m *manager) publish(name string, class int, fields string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.publishLocked(name, class, fields)
}

func (m *manager) publishLocked(name string, class int, fields string) {
	now := m.cfg.clock.Now()
	var b strings.Builder
	b.WriteString("Event: " + name + "\r\nPrivilege: " + classString(class) + "\r\n")
	if m.cfg.timestampEvents {
		b.WriteString("Timestamp: " + timestamp(now) + "\r\n")
	}
	b.WriteString(fields)
	b.WriteString("\r\n")
	m.lastSeq++
	m.events = append(m.events, &event{seq: m.lastSeq, at: now, class: class, text: b.String()})
	for _, ss := range m.sessions {
		if ss.waiter != nil {
			ss.waiter.signal()
		}
	}
}

func timestamp(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

func eventTV(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("2006-01-02T15:04:05.000-0700")
}

// cookieID reads the mansession_id cookie as Asterisk does: only the last
// Cookie header counts, the last mansession_id in it wins, quotes and
// blanks are stripped, the value is read as hex with sscanf("%x").
func cookieID(req *httpRequest) uint32 {
	var last string
	for _, h := range req.headers {
		if strings.EqualFold(h.name, "Cookie") {
			last = h.value
		}
	}
	var id uint32
	for part := range strings.SplitSeq(last, ";") {
		name, value, _ := strings.Cut(part, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "mansession_id") {
			continue
		}
		value = strings.TrimSpace(value)
		value = strings.TrimSuffix(strings.TrimPrefix(value, `"`), `"`)
		id = scanHex(value)
	}
	return id
}

// scanHex is sscanf("%x"): optional 0x, hex digits, the rest ignored.
func scanHex(s string) uint32 {
	s = strings.TrimLeft(s, " \t")
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	var v uint64
	for i := 0; i < len(s) && ishex(s[i]); i++ {
		v = v<<4 | uint64(unhex(s[i]))
	}
	return uint32(v)
}

func addrString(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "IPV4/TCP/" + a.String()
	}
	fam := "IPV4"
	if ta.IP.To4() == nil {
		fam = "IPV6"
	}
	return fam + "/TCP/" + ta.IP.String() + "/" + strconv.Itoa(ta.Port)
}

// serveCookie is generic_http_callback(): /rawman and /mxml.
func (m *manager) serveCookie(req *httpRequest, ep endpoint) *httpResponse {
	params := m.s.params(req)
	now := m.cfg.clock.Now()
	m.mu.Lock()
	m.purgeLocked(now)
	id := cookieID(req)
	ss := m.sessions[id]
	if id == 0 || ss == nil || ss.needDestroy {
		ss = m.newSessionLocked(m.newIDLocked())
	}
	ss.inuse++
	ss.local, ss.remote = addrString(req.conn.LocalAddr()), addrString(req.conn.RemoteAddr())
	m.mu.Unlock()

	out, destroy := m.process(ss, params, req)

	m.mu.Lock()
	now = m.cfg.clock.Now()
	if ss.authed {
		ss.timeout = now.Add(time.Duration(m.cfg.httpTimeout) * time.Second)
	} else if m.cfg.httpTimeout >= 5 {
		ss.timeout = now.Add(5 * time.Second)
	}
	if destroy {
		ss.needDestroy = true
		if ss.waiter != nil { // a Logoff ends a pending WaitEvent at once
			ss.waiter.signal()
		}
	}
	ss.inuse--
	if ss.needDestroy && ss.inuse == 0 && m.sessions[ss.id] == ss {
		delete(m.sessions, ss.id)
		ss.gone = true
	}
	m.mu.Unlock()

	return &httpResponse{
		status: 200,
		headers: []header{
			{"Content-type", contentType(ep.format)},
			{"Set-Cookie", fmt.Sprintf(`mansession_id="%08x"; Version=1; Max-Age=%d`, ss.id, m.cfg.httpTimeout)},
			{"Pragma", "SuppressEvents"},
		},
		body: m.render(out, ep.format, params),
	}
}

func contentType(f format) string {
	if f == formatXML {
		return "text/xml"
	}
	return "text/plain"
}

// render turns the AMI text an action wrote into the endpoint's body.
func (m *manager) render(out []byte, f format, params []header) []byte {
	if f == formatRaw {
		return out
	}
	var b bytes.Buffer
	enc := mxml.NewEncoder(&b)
	enc.SetObject(paramValue(params, "ajaxdest"), paramValue(params, "ajaxobjtype"))
	enc.SetLegacyNames(m.cfg.version == Asterisk13)
	dec := rawman.NewDecoder(bytes.NewReader(out))
	var msg rawman.Message
	for dec.Decode(&msg) == nil {
		if err := enc.Encode(&msg); err != nil {
			continue
		}
	}
	enc.Close()
	return b.Bytes()
}

// paramValue is astman_get_header(): the first parameter of that name
// (case-insensitively), leading blanks skipped.
func paramValue(params []header, name string) string {
	for _, p := range params {
		if strings.EqualFold(p.name, name) {
			return strings.TrimLeft(p.value, blanks)
		}
	}
	return ""
}

// blanks are the bytes Asterisk's ast_skip_blanks skips: every byte up to
// and including space.
const blanks = "\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "

// An actx is the context of one action: the session, the parameters and
// the AMI text being written.
type actx struct {
	m      *manager
	ss     *session
	params []header
	req    *httpRequest
	out    bytes.Buffer
}

func (a *actx) get(name string) string { return paramValue(a.params, name) }

func (a *actx) actionID() string { return a.get("ActionID") }

func (a *actx) idLine() string {
	if id := a.actionID(); id != "" {
		return "ActionID: " + id + "\r\n"
	}
	return ""
}

// respond is astman_send_response_full(): Response, ActionID, Message.
func (a *actx) respond(resp, msg string) {
	a.out.WriteString("Response: " + resp + "\r\n" + a.idLine())
	if msg != "" {
		a.out.WriteString("Message: " + msg + "\r\n")
	}
	a.out.WriteString("\r\n")
}

func (a *actx) ack(msg string) { a.respond("Success", msg) }

func (a *actx) fail(msg string) { a.respond("Error", msg) }

// startAck is astman_start_ack(): the response lines without the end of
// the message.
func (a *actx) startAck() { a.out.WriteString("Response: Success\r\n" + a.idLine()) }

// listAck starts an event list.
func (a *actx) listAck(msg string) {
	a.out.WriteString("Response: Success\r\n" + a.idLine() + "EventList: start\r\nMessage: " + msg + "\r\n\r\n")
}

// listComplete ends an event list; extra holds further lines.
func (a *actx) listComplete(name string, items int, extra string) {
	a.out.WriteString("Event: " + name + "\r\n" + a.idLine() + "EventList: Complete\r\nListItems: " + strconv.Itoa(items) + "\r\n" + extra + "\r\n")
}

func (a *actx) write(s string) { a.out.WriteString(s) }

// An action is a registered manager action.
type action struct {
	name      string
	synopsis  string
	authority int
	fn        func(a *actx) int // -1 destroys the session
}

// process is process_message(): it runs the action the parameters name
// on the session and returns the AMI text written, and whether the
// session is to be destroyed.
func (m *manager) process(ss *session, params []header, req *httpRequest) ([]byte, bool) {
	a := &actx{m: m, ss: ss, params: params, req: req}
	name := ""
	for _, p := range params {
		if strings.EqualFold(p.name, "Action") {
			if v := strings.TrimLeft(p.value, blanks); v != "" {
				name = v
				break
			}
		}
	}
	if name == "" {
		m.securityEvent(ss, "RequestBadFormat", "Action: NONE")
		a.fail("Missing action in request")
		return a.out.Bytes(), false
	}
	if !ss.authed && !strings.EqualFold(name, "Login") && !strings.EqualFold(name, "Logoff") && !strings.EqualFold(name, "Challenge") {
		m.securityEvent(ss, "RequestNotAllowed", "Action: "+name)
		a.fail("Permission denied")
		return a.out.Bytes(), false
	}
	act := m.findAction(name)
	if act == nil {
		m.securityEvent(ss, "RequestBadFormat", "Action: "+name)
		a.fail("Invalid/unknown command: " + name + ". Use Action: ListCommands to show available commands.")
		return a.out.Bytes(), false
	}
	if act.authority != 0 && ss.writePerm&act.authority == 0 {
		m.securityEvent(ss, "RequestNotAllowed", "Action: "+name)
		a.fail("Permission denied")
		return a.out.Bytes(), false
	}
	m.s.countRun(act.name)
	if h := m.s.handler(act.name); h != nil {
		m.runHandler(a, h, act.name)
		return a.out.Bytes(), false
	}
	ret := act.fn(a)
	return a.out.Bytes(), ret < 0
}

// securityEvent publishes one of the AMI security events, with the field
// order of Asterisk's security_events.c.
func (m *manager) securityEvent(ss *session, name, requestType string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.securityEventLocked(ss, name, requestType, ss.username)
}

func (m *manager) securityEventLocked(ss *session, name, detail, account string) {
	now := m.cfg.clock.Now()
	severity := "Error"
	if name == "SuccessfulAuth" {
		severity = "Informational"
	}
	version := "1"
	if name == "InvalidPassword" {
		version = "2"
	}
	var b strings.Builder
	b.WriteString("EventTV: " + eventTV(now) + "\r\nSeverity: " + severity + "\r\nService: AMI\r\nEventVersion: " + version + "\r\n")
	where := "SessionID: " + ss.ptr + "\r\nLocalAddress: " + ss.local + "\r\nRemoteAddress: " + ss.remote + "\r\n"
	switch name {
	case "RequestBadFormat":
		b.WriteString(where + "RequestType: " + detail + "\r\nSessionTV: " + eventTV(ss.startTV) + "\r\nAccountID: " + account + "\r\n")
	case "RequestNotAllowed":
		b.WriteString("AccountID: " + account + "\r\n" + where + "RequestType: " + detail + "\r\nSessionTV: " + eventTV(ss.startTV) + "\r\n")
	case "SuccessfulAuth":
		b.WriteString("AccountID: " + account + "\r\n" + where + "UsingPassword: 0\r\nSessionTV: " + eventTV(ss.startTV) + "\r\n")
	default: // InvalidAccountID, InvalidPassword, ChallengeResponseFailed
		b.WriteString("AccountID: " + account + "\r\n" + where + detail + "SessionTV: " + eventTV(ss.startTV) + "\r\n")
	}
	m.publishLocked(name, 262144, b.String())
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}
