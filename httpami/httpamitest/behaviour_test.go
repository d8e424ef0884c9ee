package httpamitest_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amihttp/amihttp/encoding/mxml"
	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/httpamitest"
)

// ---------------------------------------------------------------------------
// Helpers

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// refUsers are the users of the manager.conf the recordings were made with
// (testdata/asterisk-23/README.md).
func refUsers(more ...httpamitest.Option) []httpamitest.Option {
	return append([]httpamitest.Option{
		httpamitest.WithUser(httpamitest.User{Name: "hello", Secret: "world", Read: "all", Write: "all"}),
		httpamitest.WithUser(httpamitest.User{Name: "limited", Secret: "limited", Read: "system,call", Write: "originate"}),
		httpamitest.WithUser(httpamitest.User{Name: "filtered", Secret: "filtered", Read: "all", Write: "all",
			EventFilters: []string{"Event: UserEvent", "!UserEvent: Drop"}}),
	}, more...)
}

// start starts a server on a fake clock reading t0.
func start(t *testing.T, opts ...httpamitest.Option) (*httpamitest.Server, *httpamitest.FakeClock) {
	t.Helper()
	clk := httpamitest.NewFakeClock(t0)
	srv := httpamitest.NewServer(append([]httpamitest.Option{httpamitest.WithClock(clk)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv, clk
}

func hostOf(srv *httpamitest.Server) string {
	u, err := url.Parse(srv.URL)
	if err != nil {
		panic(err)
	}
	return u.Host
}

// q builds a query string keeping the order of its name/value pairs.
func q(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// A client is one cookie session's HTTP client. It does not keep
// connections alive: the server's idle-connection timers run on the fake
// clock, so a kept connection would be closed by every Advance.
type client struct {
	t   *testing.T
	srv *httpamitest.Server
	hc  *http.Client
}

func newClient(t *testing.T, srv *httpamitest.Server) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, srv: srv, hc: &http.Client{
		Jar:       jar,
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}}
}

type result struct {
	status    int
	header    http.Header
	body      []byte
	msgs      []*rawman.Message
	decodeErr error
}

var cookieRE = regexp.MustCompile(`^mansession_id="([0-9a-f]{8})"; Version=1; Max-Age=(\d+)$`)

// cookieID returns the session id of the answer's Set-Cookie, or "".
func (r *result) cookieID() string {
	m := cookieRE.FindStringSubmatch(r.header.Get("Set-Cookie"))
	if m == nil {
		return ""
	}
	return m[1]
}

// msg returns the i-th message of the body, or an empty one.
func (r *result) msg(i int) *rawman.Message {
	if i < len(r.msgs) {
		return r.msgs[i]
	}
	return &rawman.Message{}
}

// events returns the names of the events in the body, "UserEvent:<name>"
// for UserEvents, leaving out WaitEventComplete and security events.
func (r *result) events() []string {
	var out []string
	for _, m := range r.msgs {
		if !m.IsEvent() {
			continue
		}
		switch ev := m.Event(); {
		case ev == "WaitEventComplete":
		case strings.HasPrefix(m.Get("Privilege"), "security"):
		case ev == "UserEvent":
			out = append(out, "UserEvent:"+m.Get("UserEvent"))
		default:
			out = append(out, ev)
		}
	}
	return out
}

func (r *result) event(name string) *rawman.Message {
	for _, m := range r.msgs {
		if m.Event() == name || m.Event() == "UserEvent" && m.Get("UserEvent") == name {
			return m
		}
	}
	return nil
}

func decodeBody(contentType string, body []byte) ([]*rawman.Message, error) {
	var out []*rawman.Message
	var decode func(*rawman.Message) error
	switch contentType {
	case "text/plain":
		decode = rawman.NewDecoder(bytes.NewReader(body)).Decode
	case "text/xml":
		decode = mxml.NewDecoder(bytes.NewReader(body)).Decode
	default:
		return nil, nil
	}
	for {
		m := new(rawman.Message)
		err := decode(m)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func (c *client) try(method, path, query, contentType string, body io.Reader, hdr ...string) (*result, error) {
	u := c.srv.URL + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r := &result{status: resp.StatusCode, header: resp.Header, body: b}
	if err != nil {
		return r, err
	}
	if resp.StatusCode == 200 {
		r.msgs, r.decodeErr = decodeBody(resp.Header.Get("Content-type"), b)
	}
	return r, nil
}

func (c *client) must(r *result, err error) *result {
	c.t.Helper()
	if err != nil {
		c.t.Fatalf("request failed: %v", err)
	}
	if r.decodeErr != nil {
		c.t.Fatalf("body %q: %v", r.body, r.decodeErr)
	}
	return r
}

func (c *client) get(path, query string) *result {
	c.t.Helper()
	return c.must(c.try("GET", path, query, "", nil))
}

func (c *client) post(path, contentType, body string) *result {
	c.t.Helper()
	return c.must(c.try("POST", path, "", contentType, strings.NewReader(body)))
}

const form = "application/x-www-form-urlencoded"

// login logs the client in as user on path (/rawman or /mxml).
func (c *client) login(path, user, secret string, extra ...string) *result {
	c.t.Helper()
	r := c.get(path, q(append([]string{"Action", "Login", "Username", user, "Secret", secret}, extra...)...))
	if got := r.msg(0).Get("Message"); got != "Authentication accepted" {
		c.t.Fatalf("login as %s: %q", user, r.body)
	}
	return r
}

// drain empties the session's event queue with a WaitEvent that does not
// wait.
func (c *client) drain(path string) *result {
	c.t.Helper()
	r := c.get(path, q("Action", "WaitEvent", "Timeout", "0"))
	if r.msg(0).Get("Message") != "Waiting for Event completed." {
		c.t.Fatalf("drain: %q", r.body)
	}
	return r
}

// cookie returns the session id the jar holds for the server.
func (c *client) cookie() string {
	u, _ := url.Parse(c.srv.URL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "mansession_id" {
			return strings.Trim(ck.Value, `"`)
		}
	}
	return ""
}

type reply struct {
	r   *result
	err error
}

// goGet sends a GET in its own goroutine.
func (c *client) goGet(path, query string) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		r, err := c.try("GET", path, query, "", nil)
		ch <- reply{r, err}
	}()
	return ch
}

// recv waits (in real time) for the answer of a goGet.
func recv(t *testing.T, ch <-chan reply) *result {
	t.Helper()
	select {
	case rp := <-ch:
		if rp.err != nil {
			t.Fatalf("request failed: %v", rp.err)
		}
		if rp.r.decodeErr != nil {
			t.Fatalf("body %q: %v", rp.r.body, rp.r.decodeErr)
		}
		return rp.r
	case <-time.After(5 * time.Second):
		t.Fatal("no answer within 5 s (real time)")
	}
	return nil
}

// pending checks that no answer arrives within a short real-time wait.
func pending(t *testing.T, ch <-chan reply) {
	t.Helper()
	select {
	case rp := <-ch:
		if rp.err != nil {
			t.Fatalf("answer arrived too early: error %v", rp.err)
		}
		t.Fatalf("answer arrived too early: %q", rp.r.body)
	case <-time.After(50 * time.Millisecond):
	}
}

// waitParked polls until n requests wait on the server's clock.
func waitParked(t *testing.T, srv *httpamitest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Waiting() != n {
		if time.Now().After(deadline) {
			t.Fatalf("Waiting() = %d after 5 s, want %d", srv.Waiting(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// digestAuth is an RFC 2617 Authorization header with qop=auth.
func digestAuth(user, secret, realm, nonce, method, uri string, nc int, cnonce string) string {
	ha1 := md5hex(user + ":" + realm + ":" + secret)
	ha2 := md5hex(method + ":" + uri)
	ncs := fmt.Sprintf("%08x", nc)
	resp := md5hex(ha1 + ":" + nonce + ":" + ncs + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, response="%s", qop=auth, nc=%s, cnonce="%s", opaque="%s"`,
		user, realm, nonce, uri, resp, ncs, cnonce, nonce)
}

var challengeRE = regexp.MustCompile(`^Digest algorithm=MD5, realm="([^"]*)", nonce="([0-9a-f]{8})", qop="auth", opaque="([0-9a-f]{8})"(, stale=true)?$`)

type digestAnswer struct {
	*result
	nonce string
	stale bool
}

// digest sends a GET with digest credentials (none when nonce is "").
func (c *client) digest(path, query, user, secret, nonce string, nc int) digestAnswer {
	c.t.Helper()
	var hdr []string
	if nonce != "" {
		uri := path
		if query != "" {
			uri += "?" + query
		}
		hdr = []string{"Authorization", digestAuth(user, secret, "asterisk", nonce, "GET", uri, nc, "0a4f113b")}
	}
	r := c.must(c.try("GET", path, query, "", nil, hdr...))
	return parseDigestAnswer(c.t, r)
}

func parseDigestAnswer(t *testing.T, r *result) digestAnswer {
	t.Helper()
	a := digestAnswer{result: r}
	if r.status == 401 {
		m := challengeRE.FindStringSubmatch(r.header.Get("WWW-Authenticate"))
		if m == nil {
			t.Fatalf("401 with challenge %q", r.header.Get("WWW-Authenticate"))
		}
		if m[2] != m[3] {
			t.Errorf("nonce %s and opaque %s differ", m[2], m[3])
		}
		a.nonce, a.stale = m[2], m[4] != ""
	}
	return a
}

// raw sends bytes on a new connection and reads one answer (to the close
// when the server says Connection: close).
func raw(t *testing.T, srv *httpamitest.Server, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", hostOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	head := strings.HasPrefix(req, "HEAD ")
	resp, err := readResponse(br, head)
	if err != nil {
		t.Fatalf("reading answer: %v (read %q)", err, resp)
	}
	if strings.Contains(resp, "\r\nConnection: close\r\n") {
		// The server closes; a reset (it left part of the request unread)
		// is a close too.
		rest, err := io.ReadAll(br)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("after Connection: close: %v", err)
		}
		if len(rest) > 0 {
			t.Fatalf("bytes after a Connection: close answer: %q", rest)
		}
	}
	return resp
}

// readResponse reads one HTTP answer: its headers and Content-Length bytes
// of body (none for HEAD below 400).
func readResponse(br *bufio.Reader, head bool) (string, error) {
	var b strings.Builder
	n, status := 0, 0
	for {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String(), err
		}
		if status == 0 {
			f := strings.Fields(line)
			if len(f) > 1 {
				status, _ = strconv.Atoi(f[1])
			}
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "\r\n" {
			break
		}
	}
	if head && status < 400 {
		return b.String(), nil
	}
	body := make([]byte, n)
	_, err := io.ReadFull(br, body)
	b.Write(body)
	return b.String(), err
}

var maskers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?m)^Date: [^\r]*`), "Date: X"},
	{regexp.MustCompile(`mansession_id="[0-9a-f]{8}"`), `mansession_id="X"`},
	{regexp.MustCompile(`(?m)^Timestamp: [0-9.]+`), "Timestamp: X"},
	{regexp.MustCompile(`(nonce|opaque)="[0-9a-f]{8}"`), `$1="X"`},
}

// mask hides what changes from run to run.
func mask(s string) string {
	for _, m := range maskers {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return s
}

func recording(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "asterisk-23", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replay sends a recorded request, with its cookie replaced by id, and
// compares the answer with the recorded one, variable parts masked.
func replay(t *testing.T, srv *httpamitest.Server, name, id string) string {
	t.Helper()
	req := recording(t, name+".req")
	req = regexp.MustCompile(`mansession_id="[0-9a-f]{8}"`).ReplaceAllString(req, `mansession_id="`+id+`"`)
	got := raw(t, srv, req)
	if want := recording(t, name+".resp"); mask(got) != mask(want) {
		t.Errorf("%s: answer differs from the recording\ngot:  %q\nwant: %q", name, mask(got), mask(want))
	}
	return got
}

func timestamp(tm time.Time) string { return fmt.Sprintf("%d.%06d", tm.Unix(), tm.Nanosecond()/1000) }

// ---------------------------------------------------------------------------
// Parameters

func TestDigestHelperMatchesRecording(t *testing.T) {
	// digest/002-digest-ok-nc1-arawman.req, answered 200 by Asterisk.
	got := digestAuth("hello", "world", "asterisk", "392c71d0", "GET", "/arawman?Action=Ping", 1, "0a4f113b")
	want := `Digest username="hello", realm="asterisk", nonce="392c71d0", uri="/arawman?Action=Ping", algorithm=MD5, response="0ec9a15d7bfef2b6576eb877c937f137", qop=auth, nc=00000001, cnonce="0a4f113b", opaque="392c71d0"`
	if got != want {
		t.Fatalf("digestAuth =\n%s\nwant\n%s", got, want)
	}
}

func TestParametersGetQueryVersusPostForm(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")

	tests := []struct {
		name        string
		method      string
		query       string
		contentType string
		body        string
		chunked     bool
		wantResp    string
		wantMessage string // or the Ping header when empty
	}{
		{name: "GET query", method: "GET", query: "Action=Ping", wantResp: "Success"},
		{name: "GET ignores a form body", method: "GET", query: "Action=Ping", contentType: form, body: "Action=UserEvent&UserEvent=X", wantResp: "Success"},
		{name: "POST form", method: "POST", contentType: form, body: "Action=Ping", wantResp: "Success"},
		{name: "POST ignores the query", method: "POST", query: "Action=Ping", contentType: form, body: "Action=UserEvent&UserEvent=FromBody", wantResp: "Success", wantMessage: "Event Sent"},
		{name: "POST with only a query", method: "POST", query: "Action=Ping", contentType: form, body: "", wantResp: "Error", wantMessage: "Missing action in request"},
		{name: "POST form charset", method: "POST", contentType: form + "; charset=UTF-8", body: "Action=Ping", wantResp: "Success"},
		{name: "POST form upper case", method: "POST", contentType: "APPLICATION/X-WWW-FORM-URLENCODED", body: "Action=Ping", wantResp: "Success"},
		{name: "POST form blank before ;", method: "POST", contentType: form + " ; charset=UTF-8", body: "Action=Ping", wantResp: "Error", wantMessage: "Missing action in request"},
		{name: "POST text/plain", method: "POST", contentType: "text/plain", body: "Action=Ping", wantResp: "Error", wantMessage: "Missing action in request"},
		{name: "POST json", method: "POST", contentType: "application/json", body: `{"Action":"Ping"}`, wantResp: "Error", wantMessage: "Missing action in request"},
		{name: "POST multipart", method: "POST", contentType: "multipart/form-data; boundary=x", body: "--x\r\nContent-Disposition: form-data; name=\"Action\"\r\n\r\nPing\r\n--x--\r\n", wantResp: "Error", wantMessage: "Missing action in request"},
		{name: "POST no content type", method: "POST", query: "Action=Ping", body: "Action=Ping", wantResp: "Error", wantMessage: "Missing action in request"},
		{name: "POST chunked form", method: "POST", contentType: form, body: "Action=Ping", chunked: true, wantResp: "Success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" || tt.method == "POST" {
				body = strings.NewReader(tt.body)
				if tt.chunked {
					body = io.MultiReader(body) // unknown length: sent chunked
				}
			}
			r := c.must(c.try(tt.method, "/rawman", tt.query, tt.contentType, body))
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			m := r.msg(0)
			if m.Response() != tt.wantResp {
				t.Fatalf("Response = %q, want %q (body %q)", m.Response(), tt.wantResp, r.body)
			}
			if tt.wantMessage != "" {
				if got := m.Get("Message"); got != tt.wantMessage {
					t.Fatalf("Message = %q, want %q", got, tt.wantMessage)
				}
			} else if m.Get("Ping") != "Pong" {
				t.Fatalf("not a Ping answer: %q", r.body)
			}
		})
	}

	// The POST that ignored its query ran the UserEvent of its body.
	r := c.drain("/rawman")
	if ev := r.event("FromBody"); ev == nil {
		t.Fatalf("UserEvent of the POST body not queued: %v", r.events())
	}
	if slices.Contains(r.events(), "UserEvent:X") {
		t.Fatal("the body of a GET was taken as parameters")
	}
}

func TestParametersCaseInsensitive(t *testing.T) {
	srv, _ := start(t)
	for _, path := range []string{"/rawman", "/mxml"} {
		t.Run(path, func(t *testing.T) {
			c := newClient(t, srv)
			r := c.get(path, "ACTION=login&USERNAME=HELLO&SECRET=world")
			if got := r.msg(0).Get("Message"); got != "Authentication accepted" {
				t.Fatalf("upper-case names, lower-case action: %q", r.body)
			}
			r = c.get(path, "aCtIoN=PING&actionID=mixed")
			if r.msg(0).Get("Ping") != "Pong" || r.msg(0).ActionID() != "mixed" {
				t.Fatalf("mixed-case Ping: %q", r.body)
			}
			r = c.get(path, "action=userevent&USEREVENT=Cased&Foo=1")
			if r.msg(0).Get("Message") != "Event Sent" {
				t.Fatalf("UserEvent: %q", r.body)
			}
			if ev := c.drain(path).event("Cased"); ev == nil {
				t.Fatal("UserEvent named by an upper-case USEREVENT parameter not delivered")
			}
		})
	}
}

func TestParametersRepeatedKeptInOrder(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	c.drain("/rawman")

	// info/021-userevent-plus-and-repeat-rawman: '+' is a space, %2B a '+',
	// repeats are kept, an empty value and a bare name give empty headers.
	r := c.get("/rawman", "Action=UserEvent&UserEvent=Rep&X=1&X=2&Y=3&X=4&Empty=&NoEquals&Plus=a+b&Enc=a%2Bb")
	if r.msg(0).Get("Message") != "Event Sent" {
		t.Fatalf("UserEvent: %q", r.body)
	}
	ev := c.drain("/rawman").event("Rep")
	if ev == nil {
		t.Fatal("UserEvent Rep not delivered")
	}
	var got []string
	seen := false
	for k, v := range ev.All() {
		if k == "UserEvent" {
			seen = true
		}
		if seen {
			got = append(got, k+": "+v)
		}
	}
	want := []string{"UserEvent: Rep", "X: 1", "X: 2", "Y: 3", "X: 4", "Empty: ", "NoEquals: ", "Plus: a b", "Enc: a+b"}
	if !slices.Equal(got, want) {
		t.Fatalf("event fields\n got %q\nwant %q", got, want)
	}

	// Single-valued lookups take the first occurrence.
	r = c.get("/rawman", "Action=Ping&ActionID=first&ActionID=second")
	if got := r.msg(0).ActionID(); got != "first" {
		t.Fatalf("ActionID = %q, want the first one", got)
	}
	// Action is the first non-empty occurrence.
	r = c.get("/rawman", "action=&action=Ping&action=Logoff")
	if r.msg(0).Get("Ping") != "Pong" {
		t.Fatalf("action=&action=Ping&action=Logoff did not run Ping: %q", r.body)
	}
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Response() != "Success" {
		t.Fatalf("session lost after the repeated-action request: %q", r.body)
	}
}

func TestParametersCutAt128(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	c.drain("/rawman")

	headers := func(from, to int) []string {
		var kv []string
		for i := from; i <= to; i++ {
			kv = append(kv, fmt.Sprintf("H%03d", i), fmt.Sprintf("v%d", i))
		}
		return kv
	}
	tests := []struct {
		name    string
		params  []string
		post    bool
		wantMsg string
		wantLen int // H headers in the event, when sent
	}{
		// errors/012 and 014: 129 parameters, the 129th dropped.
		{"129 GET", append([]string{"Action", "UserEvent", "UserEvent", "Many"}, headers(3, 129)...), false, "Event Sent", 126},
		{"129 POST", append([]string{"Action", "UserEvent", "UserEvent", "Many"}, headers(3, 129)...), true, "Event Sent", 126},
		// errors/016: Action as the 129th parameter is lost.
		{"Action 129th", append(append([]string{"UserEvent", "Many"}, headers(2, 128)...), "Action", "UserEvent"), false, "Missing action in request", 0},
		// errors/017: Action as the 128th is kept.
		{"Action 128th", append(append([]string{"UserEvent", "Many"}, headers(2, 127)...), "Action", "UserEvent"), false, "Event Sent", 126},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *result
			if tt.post {
				r = c.post("/rawman", form, q(tt.params...))
			} else {
				r = c.get("/rawman", q(tt.params...))
			}
			if got := r.msg(0).Get("Message"); got != tt.wantMsg {
				t.Fatalf("Message = %q, want %q", got, tt.wantMsg)
			}
			w := c.drain("/rawman")
			ev := w.event("Many")
			if tt.wantLen == 0 {
				if ev != nil {
					t.Fatal("an event was sent although Action was dropped")
				}
				return
			}
			if ev == nil {
				t.Fatal("no UserEvent Many")
			}
			n := 0
			for k := range ev.All() {
				if strings.HasPrefix(k, "H") {
					n++
				}
			}
			if n != tt.wantLen {
				t.Errorf("%d H headers reached the event, want %d", n, tt.wantLen)
			}
			if ev.Has("H129") {
				t.Error("the 129th parameter reached the event")
			}
		})
	}
}

// ---------------------------------------------------------------------------
// HTTP layer

func TestPostBodyLimit(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	id := c.cookie()

	// errors/019: exactly 40960 bytes are accepted.
	got := replay(t, srv, "errors/019-post-body-40960-rawman", id)
	if !strings.Contains(got, "Ping: Pong") {
		t.Errorf("40960-byte body: %q", got)
	}
	// errors/020: 40961 bytes give 413 and Connection: close (raw checks
	// that the server closes right after the answer).
	got = replay(t, srv, "errors/020-post-body-40961-rawman", id)
	if !strings.HasPrefix(got, "HTTP/1.1 413 Request Entity Too Large\r\n") || !strings.Contains(got, "\r\nConnection: close\r\n") {
		t.Errorf("40961-byte body: %q", got)
	}
	if strings.Contains(got, "Set-Cookie") {
		t.Error("413 carries a Set-Cookie")
	}
}

func TestRequestLineLimit(t *testing.T) {
	srv, _ := start(t)
	line := func(n int) string {
		const pre, post = "GET /rawman?Action=Ping&Pad=", " HTTP/1.1\r\n"
		return pre + strings.Repeat("a", n-len(pre)-len(post)) + post
	}
	tests := []struct {
		size   int
		status string
	}{
		{4095, "HTTP/1.1 200 OK\r\n"},
		{4096, "HTTP/1.1 400 Bad Request\r\n"},
		{5000, "HTTP/1.1 400 Bad Request\r\n"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.size), func(t *testing.T) {
			l := line(tt.size)
			if len(l) != tt.size {
				t.Fatalf("built a %d-byte line", len(l))
			}
			got := raw(t, srv, l+"Host: x\r\n\r\n")
			if !strings.HasPrefix(got, tt.status) {
				t.Fatalf("%d-byte request line: %q", tt.size, got)
			}
			if strings.HasPrefix(tt.status, "HTTP/1.1 400") {
				if !strings.Contains(got, "\r\nConnection: close\r\n") || !strings.Contains(got, "<p>Request line too long</p>") {
					t.Fatalf("400 answer: %q", got)
				}
			}
		})
	}
	// errors/078: the recorded 5000-byte request line.
	replay(t, srv, "errors/078-long-query-5000", "00000000")
}

func TestHeadRunsActionWithoutBody(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	c.drain("/rawman")

	conn, err := net.Dial("tcp", hostOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	cookie := `Cookie: mansession_id="` + c.cookie() + `"` + "\r\n"
	io.WriteString(conn, "HEAD /rawman?Action=UserEvent&UserEvent=FromHead HTTP/1.1\r\nHost: x\r\n"+cookie+"\r\n")
	br := bufio.NewReader(conn)
	head, err := readResponse(br, true)
	if err != nil {
		t.Fatal(err)
	}
	// errors/028: Content-Length of the body not sent.
	if want := recording(t, "errors/028-head-userevent-rawman.resp"); mask(head) != mask(want) {
		t.Errorf("HEAD answer\n got %q\nwant %q", mask(head), mask(want))
	}
	// The next bytes on the connection are the next answer: no body came.
	io.WriteString(conn, "GET /rawman?Action=WaitEvent&Timeout=0 HTTP/1.1\r\nHost: x\r\n"+cookie+"\r\n")
	next, err := readResponse(br, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(next, "HTTP/1.1 200 OK\r\n") {
		t.Fatalf("after HEAD the connection held %q", next)
	}
	// errors/029: the HEAD fired the UserEvent.
	if !strings.Contains(next, "UserEvent: FromHead\r\n") {
		t.Fatalf("HEAD did not run its action: %q", next)
	}
}

func TestNotFound(t *testing.T) {
	srv, _ := start(t)
	// Recorded 404s, byte for byte (Date masked).
	for _, name := range []string{
		"errors/073-unknown-path",
		"errors/074-root-path",
		"errors/075-httpstatus",
		"errors/034-path-with-suffix-rawman",
		"errors/070-path-with-suffix-mxml",
		"errors/030-head-unknown-path-rawman", // body sent to HEAD for status >= 400
	} {
		t.Run(name, func(t *testing.T) {
			got := replay(t, srv, name, "00000000")
			if !strings.HasPrefix(got, "HTTP/1.1 404 Not Found\r\n") {
				t.Fatalf("%q", got)
			}
		})
	}
	// Paths are case-insensitive and take one trailing slash.
	c := newClient(t, srv)
	for _, p := range []string{"/RAWMAN", "/rawman/", "/MxMl/"} {
		r := c.get(p, "Action=Ping")
		if r.status != 200 || r.msg(0).Get("Message") != "Permission denied" {
			t.Errorf("%s: status %d body %q", p, r.status, r.body)
		}
	}
	// A doubled slash or anything after the endpoint name: 404.
	for _, p := range []string{"//rawman", "/rawman/x/"} {
		if r := c.must(c.try("GET", p, "", "", nil)); r.status != 404 {
			t.Errorf("%s: status %d, want 404", p, r.status)
		}
	}
}

func TestUnsupportedMethods(t *testing.T) {
	srv, _ := start(t)
	// errors/031-033: 501, the connection stays open.
	for _, name := range []string{"errors/031-put-rawman", "errors/032-delete-rawman", "errors/033-options-rawman", "errors/067-put-mxml"} {
		t.Run(name, func(t *testing.T) {
			got := replay(t, srv, name, "00000000")
			if !strings.HasPrefix(got, "HTTP/1.1 501 Not Implemented\r\n") || strings.Contains(got, "Connection: close") {
				t.Fatalf("%q", got)
			}
		})
	}
	t.Run("keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", hostOf(srv))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(conn)
		for _, m := range []string{"PUT", "patch", "GET"} {
			io.WriteString(conn, m+" /arawman HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := readResponse(br, false)
			if err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			want := "HTTP/1.1 501 "
			if m == "GET" {
				want = "HTTP/1.1 401 " // method checked before digest
			}
			if !strings.HasPrefix(resp, want) {
				t.Fatalf("%s: %q", m, resp)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// Cookie sessions

func TestSetCookieFormat(t *testing.T) {
	tests := []struct {
		name   string
		opts   []httpamitest.Option
		path   string
		ctype  string
		maxAge string
	}{
		{"rawman default", nil, "/rawman", "text/plain", "60"},
		{"mxml default", nil, "/mxml", "text/xml", "60"},
		{"rawman httptimeout 15", []httpamitest.Option{httpamitest.WithHTTPTimeout(15 * time.Second)}, "/rawman", "text/plain", "15"},
		{"mxml httptimeout 300", []httpamitest.Option{httpamitest.WithHTTPTimeout(300 * time.Second)}, "/mxml", "text/xml", "300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := start(t, tt.opts...)
			c := newClient(t, srv)
			for _, query := range []string{
				q("Action", "Ping"), // unauthenticated
				q("Action", "Login", "Username", "hello", "Secret", "world"), // login
				q("Action", "Ping"),
				q("Action", "NoSuchAction"), // AMI error
			} {
				r := c.get(tt.path, query)
				sc := r.header.Values("Set-Cookie")
				if len(sc) != 1 {
					t.Fatalf("%s: Set-Cookie %q, want exactly one", query, sc)
				}
				m := cookieRE.FindStringSubmatch(sc[0])
				if m == nil || m[2] != tt.maxAge {
					t.Fatalf("%s: Set-Cookie %q, want mansession_id=\"%%08x\"; Version=1; Max-Age=%s", query, sc[0], tt.maxAge)
				}
				if got := r.header.Get("Pragma"); got != "SuppressEvents" {
					t.Errorf("Pragma = %q", got)
				}
				if got := r.header.Get("Content-Type"); got != tt.ctype {
					t.Errorf("Content-type = %q, want %q", got, tt.ctype)
				}
			}
		})
	}
}

func TestPermissionDeniedWithoutSession(t *testing.T) {
	srv, _ := start(t)
	logged := newClient(t, srv)
	logged.login("/rawman", "hello", "world")
	live := logged.cookie()

	cookies := []struct {
		name, header string
	}{
		{"no cookie", ""},
		{"unknown cookie", `mansession_id="0badc0de"`},
		{"id zero", `mansession_id="00000000"`},
		{"not hex", `mansession_id="zzzz"`},
		{"other cookie name", `session_id="` + live + `"`},
	}
	formats := []struct {
		path      string
		want      string
		wantNoAID string
	}{
		{"/rawman", "Response: Error\r\nActionID: 42\r\nMessage: Permission denied\r\n\r\n", "Response: Error\r\nMessage: Permission denied\r\n\r\n"},
		{"/mxml",
			"<ajax-response>\n<response type='object' id='unknown'><generic response='Error' actionid='42' message='Permission denied' /></response>\n</ajax-response>\n",
			"<ajax-response>\n<response type='object' id='unknown'><generic response='Error' message='Permission denied' /></response>\n</ajax-response>\n"},
	}
	for _, ck := range cookies {
		for _, f := range formats {
			t.Run(ck.name+f.path, func(t *testing.T) {
				c := newClient(t, srv)
				var hdr []string
				if ck.header != "" {
					hdr = []string{"Cookie", ck.header}
				}
				r := c.must(c.try("GET", f.path, "action=Ping&actionid=42", "", nil, hdr...))
				if r.status != 200 || string(r.body) != f.want {
					t.Fatalf("status %d body %q, want 200 %q", r.status, r.body, f.want)
				}
				id := r.cookieID()
				if id == "" || id == "00000000" || strings.Contains(ck.header, id) || id == live {
					t.Fatalf("Set-Cookie %q: want a new session id", r.header.Get("Set-Cookie"))
				}
				r = c.must(c.try("GET", f.path, "Action=Ping", "", nil, hdr...))
				if string(r.body) != f.wantNoAID {
					t.Fatalf("without ActionID: %q", r.body)
				}
			})
		}
	}
	if r := logged.get("/rawman", "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
		t.Fatalf("the logged-in session was disturbed: %q", r.body)
	}
}

func TestSessionExpiryRefreshedByEachRequest(t *testing.T) {
	for _, timeout := range []int{60, 15} {
		t.Run(strconv.Itoa(timeout), func(t *testing.T) {
			srv, clk := start(t, httpamitest.WithHTTPTimeout(time.Duration(timeout)*time.Second))
			c := newClient(t, srv)
			c.login("/rawman", "hello", "world")
			id := c.cookie()
			// Alive after httptimeout-1 s idle, again and again (expiry/003, 004).
			for i := range 5 {
				clk.Advance(time.Duration(timeout-1) * time.Second)
				r := c.get("/rawman", "Action=Ping")
				if r.msg(0).Get("Ping") != "Pong" || r.cookieID() != id {
					t.Fatalf("Ping %d after %d s idle: cookie %s body %q", i+1, timeout-1, r.cookieID(), r.body)
				}
			}
			// Gone after httptimeout + 2.5 s idle (expiry/008): a new
			// unauthenticated session answers.
			clk.Advance(time.Duration(timeout)*time.Second + 2500*time.Millisecond)
			r := c.get("/rawman", "Action=Ping")
			if r.msg(0).Get("Message") != "Permission denied" {
				t.Fatalf("session alive %d.5 s after its last request: %q", timeout+2, r.body)
			}
			if r.cookieID() == id || r.cookieID() == "" {
				t.Fatalf("no new cookie after expiry: %q", r.header.Get("Set-Cookie"))
			}
		})
	}
}

func TestFailedLoginTakesOneSecond(t *testing.T) {
	tests := []struct {
		name      string
		challenge bool
		query     func(challenge string) string
	}{
		{"bad secret", false, func(string) string { return q("Action", "Login", "Username", "hello", "Secret", "wrong") }},
		{"unknown user", false, func(string) string { return q("Action", "Login", "Username", "nobody", "Secret", "world") }},
		{"secret case", false, func(string) string { return q("Action", "Login", "Username", "hello", "Secret", "WORLD") }},
		{"md5 without challenge", false, func(string) string {
			return q("Action", "Login", "Username", "hello", "AuthType", "MD5", "Key", md5hex("world"))
		}},
		{"md5 wrong key", true, func(ch string) string {
			return q("Action", "Login", "Username", "hello", "AuthType", "MD5", "Key", md5hex(ch+"wrong"))
		}},
		{"md5 key upper case", true, func(ch string) string {
			return q("Action", "Login", "Username", "hello", "AuthType", "MD5", "Key", strings.ToUpper(md5hex(ch+"world")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clk := start(t)
			c := newClient(t, srv)
			ch := ""
			if tt.challenge {
				ch = c.get("/rawman", "Action=Challenge&AuthType=MD5").msg(0).Get("Challenge")
			}
			done := c.goGet("/rawman", tt.query(ch))
			waitParked(t, srv, 1)
			clk.Advance(999 * time.Millisecond)
			pending(t, done)
			if srv.Waiting() != 1 {
				t.Fatalf("Waiting() = %d before the second is over", srv.Waiting())
			}
			clk.Advance(time.Millisecond)
			r := recv(t, done)
			if string(r.body) != "Response: Error\r\nMessage: Authentication failed\r\n\r\n" {
				t.Fatalf("body %q", r.body)
			}
			dead := r.cookieID()
			if dead == "" {
				t.Fatal("no Set-Cookie on the failed login")
			}
			// The session is destroyed: its cookie now gets a new session.
			r = c.get("/rawman", "Action=Ping")
			if r.msg(0).Get("Message") != "Permission denied" || r.cookieID() == dead {
				t.Fatalf("after a failed login the cookie %s gave %s and %q", dead, r.cookieID(), r.body)
			}
		})
	}
}

func TestLogoff(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"/rawman", "Response: Goodbye\r\nActionID: bye\r\nMessage: Thanks for all the fish.\r\n\r\n"},
		{"/mxml", "<ajax-response>\n<response type='object' id='unknown'><generic response='Goodbye' actionid='bye' message='Thanks for all the fish.' /></response>\n</ajax-response>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			srv, _ := start(t)
			c := newClient(t, srv)
			c.login(tt.path, "hello", "world")
			id := c.cookie()
			r := c.get(tt.path, "Action=Logoff&ActionID=bye")
			if r.status != 200 || string(r.body) != tt.want {
				t.Fatalf("Logoff: %d %q", r.status, r.body)
			}
			if r.cookieID() != id {
				t.Fatalf("Logoff's Set-Cookie names %s, want the session just destroyed %s", r.cookieID(), id)
			}
			r = c.get(tt.path, "Action=Ping")
			if r.msg(0).Get("Message") != "Permission denied" || r.cookieID() == id {
				t.Fatalf("after Logoff: cookie %s body %q", r.cookieID(), r.body)
			}
		})
	}
}

// Spec §2.5 and §5.4: a Logoff while a WaitEvent of the same session waits
// wakes the waiter, which answers normally; then the session is destroyed.
func TestLogoffEndsPendingWaitEvent(t *testing.T) {
	srv, clk := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	c.drain("/rawman")
	done := c.goGet("/rawman", "Action=WaitEvent&Timeout=30&ActionID=w")
	waitParked(t, srv, 1)
	if r := c.get("/rawman", "Action=Logoff"); r.msg(0).Response() != "Goodbye" {
		t.Fatalf("Logoff: %q", r.body)
	}
	select {
	case rp := <-done:
		if rp.err != nil {
			t.Fatal(rp.err)
		}
		want := "Response: Success\r\nActionID: w\r\nMessage: Waiting for Event completed.\r\n\r\nEvent: WaitEventComplete\r\nActionID: w\r\n\r\n"
		if string(rp.r.body) != want {
			t.Errorf("WaitEvent woken by Logoff answered %q, want %q", rp.r.body, want)
		}
	case <-time.After(time.Second):
		t.Error("Logoff did not wake the session's pending WaitEvent (it still waits on the clock)")
		clk.Advance(30 * time.Second)
		<-done
	}
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Message") != "Permission denied" {
		t.Fatalf("session alive after Logoff and WaitEvent ended: %q", r.body)
	}
}

func TestChallengeMD5Login(t *testing.T) {
	for _, path := range []string{"/rawman", "/mxml"} {
		t.Run(path, func(t *testing.T) {
			srv, clk := start(t)
			c := newClient(t, srv)
			r := c.get(path, "Action=Challenge&AuthType=MD5&ActionID=c1")
			m := r.msg(0)
			ch := m.Get("Challenge")
			if m.Response() != "Success" || m.ActionID() != "c1" || !regexp.MustCompile(`^[0-9]{1,9}$`).MatchString(ch) {
				t.Fatalf("Challenge answer %q", r.body)
			}
			if path == "/rawman" {
				want := "Response: Success\r\nActionID: c1\r\nChallenge: " + ch + "\r\n\r\n"
				if string(r.body) != want {
					t.Fatalf("Challenge body %q, want %q", r.body, want)
				}
			}
			// The challenge is made once per session.
			if again := c.get(path, "Action=Challenge&AuthType=md5").msg(0).Get("Challenge"); again != ch {
				t.Fatalf("second Challenge %q, want the same %q", again, ch)
			}
			if bad := c.get(path, "Action=Challenge&AuthType=plain").msg(0); bad.Get("Message") != "Must specify AuthType" {
				t.Fatalf("Challenge AuthType=plain: %v", bad)
			}
			// Within the 5 s of an unauthenticated session.
			clk.Advance(4 * time.Second)
			r = c.get(path, q("Action", "Login", "Username", "hello", "AuthType", "MD5", "Key", md5hex(ch+"world")))
			if r.msg(0).Get("Message") != "Authentication accepted" {
				t.Fatalf("MD5 login: %q", r.body)
			}
			if r := c.get(path, "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
				t.Fatalf("Ping after MD5 login: %q", r.body)
			}
			if srv.Waiting() != 0 {
				t.Fatal("a successful login waited on the clock")
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Digest

func TestDigestChallengeFormat(t *testing.T) {
	srv, _ := start(t)
	// digest/001: exact 401.
	got := replay(t, srv, "digest/001-no-auth-arawman", "")
	if !strings.Contains(got, "\r\nWWW-authenticate: Digest algorithm=MD5, realm=\"asterisk\", nonce=\"") {
		t.Fatalf("header spelling: %q", got)
	}
	replay(t, srv, "digest/022-no-auth-amxml", "")

	c := newClient(t, srv)
	a := c.digest("/arawman", "Action=Ping", "", "", "", 0)
	if a.status != 401 || a.stale || a.header.Get("Set-Cookie") != "" || a.header.Get("Connection") == "close" {
		t.Fatalf("no Authorization: %d stale=%v headers %v", a.status, a.stale, a.header)
	}
	b := c.must(c.try("GET", "/arawman", "Action=Ping", "", nil, "Authorization", `Basic aGVsbG86d29ybGQ=`))
	if nb := parseDigestAnswer(t, b); nb.status != 401 || nb.stale || nb.nonce == a.nonce {
		t.Fatalf("Basic: status %d stale %v nonce %s (first %s)", nb.status, nb.stale, nb.nonce, a.nonce)
	}

	t.Run("systemname realm", func(t *testing.T) {
		srv, _ := start(t, httpamitest.WithSystemName("pbx1"))
		c := newClient(t, srv)
		r := c.must(c.try("GET", "/amxml", "Action=Ping", "", nil))
		m := challengeRE.FindStringSubmatch(r.header.Get("WWW-Authenticate"))
		if r.status != 401 || m == nil || m[1] != "pbx1" {
			t.Fatalf("challenge %q", r.header.Get("WWW-Authenticate"))
		}
		nonce := m[2]
		h := digestAuth("hello", "world", "pbx1", nonce, "GET", "/amxml?Action=Ping", 1, "abc")
		r = c.must(c.try("GET", "/amxml", "Action=Ping", "", nil, "Authorization", h))
		if r.status != 200 || r.msg(0).Get("Ping") != "Pong" {
			t.Fatalf("digest with realm pbx1: %d %q", r.status, r.body)
		}
	})
}

func TestDigestNonceCount(t *testing.T) {
	for _, path := range []string{"/arawman", "/amxml"} {
		t.Run(path, func(t *testing.T) {
			srv, _ := start(t)
			c := newClient(t, srv)
			nonce := c.digest(path, "Action=Ping", "", "", "", 0).nonce
			ok := func(step string, a digestAnswer) {
				t.Helper()
				if a.status != 200 || a.msg(0).Get("Ping") != "Pong" {
					t.Fatalf("%s: %d %q", step, a.status, a.body)
				}
				if a.header.Get("Set-Cookie") != "" || a.header.Get("Pragma") != "" {
					t.Fatalf("%s: digest answer with cookie headers %v", step, a.header)
				}
			}
			ok("nc=1", c.digest(path, "Action=Ping", "hello", "world", nonce, 1))
			ok("nc=2", c.digest(path, "Action=Ping", "hello", "world", nonce, 2))
			ok("nc=5 (gaps allowed)", c.digest(path, "Action=Ping", "hello", "world", nonce, 5))
			// POST: A2 = POST:<uri>.
			h := digestAuth("hello", "world", "asterisk", nonce, "POST", path, 6, "0a4f113b")
			r := c.must(c.try("POST", path, "", form, strings.NewReader("Action=Ping&ActionID=p6"), "Authorization", h))
			if r.status != 200 || r.msg(0).ActionID() != "p6" {
				t.Fatalf("POST nc=6: %d %q", r.status, r.body)
			}

			// A replayed nc rotates the nonce: 401 stale=true, new nonce.
			st := c.digest(path, "Action=Ping", "hello", "world", nonce, 6)
			if st.status != 401 || !st.stale || st.nonce == nonce {
				t.Fatalf("nc replay: %d stale=%v nonce %s (old %s)", st.status, st.stale, st.nonce, nonce)
			}
			cur := st.nonce
			ok("new nonce nc=1", c.digest(path, "Action=Ping", "hello", "world", cur, 1))
			// The previous nonce: stale with the CURRENT nonce.
			old := c.digest(path, "Action=Ping", "hello", "world", nonce, 7)
			if old.status != 401 || !old.stale || old.nonce != cur {
				t.Fatalf("previous nonce: %d stale=%v nonce %s, want stale with %s", old.status, old.stale, old.nonce, cur)
			}
			// Wrong password, unknown user: 401, fresh nonce, no stale.
			for _, u := range [][2]string{{"hello", "wrong"}, {"nobody", "world"}} {
				w := c.digest(path, "Action=Ping", u[0], u[1], cur, 2)
				if w.status != 401 || w.stale || w.nonce == cur {
					t.Fatalf("%s/%s: %d stale=%v nonce %s", u[0], u[1], w.status, w.stale, w.nonce)
				}
			}
			ok("current nonce still valid nc=2", c.digest(path, "Action=Ping", "hello", "world", cur, 2))
		})
	}
}

func TestDigestNonceAge(t *testing.T) {
	srv, clk := start(t)
	c := newClient(t, srv)
	kept := c.digest("/arawman", "Action=Ping", "", "", "", 0).nonce
	idle := c.digest("/arawman", "Action=Ping", "", "", "", 0).nonce
	ping := func(nonce string, nc int) digestAnswer {
		t.Helper()
		return c.digest("/arawman", "Action=Ping", "hello", "world", nonce, nc)
	}
	for _, n := range []string{kept, idle} {
		if a := ping(n, 1); a.status != 200 {
			t.Fatalf("t=0: %d", a.status)
		}
	}
	// digest/051-056: the kept session is used at t=20, 40, 58 (and the
	// spec's t=61); the nonce keeps ageing.
	nc := 1
	for _, at := range []time.Duration{20, 40, 58, 61} {
		clk.Set(t0.Add(at * time.Second))
		nc++
		if a := ping(kept, nc); a.status != 200 {
			t.Fatalf("kept nonce at t=%ds: %d", at, a.status)
		}
	}
	// digest/057: t=64, nonce issued 64 s ago: 401 stale=true, new nonce.
	clk.Set(t0.Add(64 * time.Second))
	a := ping(kept, nc+1)
	if a.status != 401 || !a.stale || a.nonce == kept {
		t.Fatalf("kept nonce at t=64: %d stale=%v nonce %s", a.status, a.stale, a.nonce)
	}
	// digest/058: the new nonce works at once with nc=1.
	if b := ping(a.nonce, 1); b.status != 200 {
		t.Fatalf("new nonce: %d", b.status)
	}
	// digest/059: the idle session (no request for 64 s) expired; its
	// nonce is accepted again as a new session, without stale.
	if b := ping(idle, 2); b.status != 200 {
		t.Fatalf("idle nonce at t=64: %d stale=%v", b.status, b.stale)
	}
}

func TestDigestLooseChecks(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	// digest/012: a nonce the server never issued.
	if a := c.digest("/arawman", "Action=Ping", "hello", "world", "0badc0de", 1); a.status != 200 {
		t.Fatalf("client-made nonce: %d", a.status)
	}
	// Login on a digest session: already authenticated.
	if a := c.digest("/arawman", "Action=Login&Username=hello&Secret=world", "hello", "world", "0badc0de", 2); a.msg(0).Get("Message") != "Already authenticated" {
		t.Fatalf("Login over digest: %q", a.body)
	}
	// digest/016: uri= is not compared with the request target.
	h := digestAuth("hello", "world", "asterisk", "0badc0de", "GET", "/somewhere/else", 3, "x")
	r := c.must(c.try("GET", "/arawman", "Action=Ping", "", nil, "Authorization", h))
	if r.status != 200 {
		t.Fatalf("wrong uri: %d", r.status)
	}
	// Username matches case-insensitively, but the hash uses the
	// configured spelling.
	h = digestAuth("HELLO", "world", "asterisk", "0badc0de", "GET", "/x", 4, "x")
	if r := c.must(c.try("GET", "/arawman", "Action=Ping", "", nil, "Authorization", h)); r.status != 401 {
		t.Fatalf("hash over HELLO accepted: %d", r.status)
	}
	ha1 := md5hex("hello:asterisk:world")
	resp := md5hex(ha1 + ":0badc0de:00000005:x:auth:" + md5hex("GET:/x"))
	h = `Digest username="HELLO", realm="asterisk", nonce="0badc0de", uri="/x", response="` + resp + `", qop=auth, nc=00000005, cnonce="x"`
	if r := c.must(c.try("GET", "/arawman", "Action=Ping", "", nil, "Authorization", h)); r.status != 200 {
		t.Fatalf("username HELLO hashed as hello: %d", r.status)
	}
	// A digest request with a valid rawman cookie ignores it (digest/011).
	cc := newClient(t, srv)
	cc.login("/rawman", "hello", "world")
	h = digestAuth("hello", "world", "asterisk", "0badc0de", "GET", "/x", 6, "x")
	r = cc.must(cc.try("GET", "/arawman", "Action=Ping", "", nil, "Authorization", h))
	if r.status != 200 || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("digest with cookie: %d %v", r.status, r.header)
	}
}

// ---------------------------------------------------------------------------
// WaitEvent

func TestWaitEventTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout int // httptimeout
		gap     time.Duration
		query   string
		want    time.Duration // -1: answers without waiting
	}{
		{"no Timeout", 60, 0, "Action=WaitEvent", 50 * time.Second},
		{"Timeout empty", 60, 0, "Action=WaitEvent&Timeout=", 50 * time.Second},
		{"Timeout 120 capped", 60, 0, "Action=WaitEvent&Timeout=120", 50 * time.Second},
		{"Timeout -5 is forever, capped", 60, 0, "Action=WaitEvent&Timeout=-5", 50 * time.Second},
		{"Timeout 5", 60, 0, "Action=WaitEvent&Timeout=5", 5 * time.Second},
		{"Timeout hex", 60, 0, "Action=WaitEvent&Timeout=0x3", 3 * time.Second},
		{"Timeout octal", 60, 0, "Action=WaitEvent&Timeout=010", 8 * time.Second},
		{"3 s after the previous answer", 60, 3 * time.Second, "Action=WaitEvent", 47 * time.Second},
		{"httptimeout 15", 15, 0, "Action=WaitEvent", 5 * time.Second},
		{"httptimeout 15 Timeout 30", 15, 0, "Action=WaitEvent&Timeout=30", 5 * time.Second},
		{"Timeout 0", 60, 0, "Action=WaitEvent&Timeout=0", -1},
		{"httptimeout 10", 10, 0, "Action=WaitEvent", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clk := start(t, httpamitest.WithHTTPTimeout(time.Duration(tt.timeout)*time.Second))
			c := newClient(t, srv)
			c.login("/rawman", "hello", "world")
			c.drain("/rawman")
			clk.Advance(tt.gap)
			done := c.goGet("/rawman", tt.query+"&ActionID=w")
			if tt.want >= 0 {
				waitParked(t, srv, 1)
				clk.Advance(tt.want - time.Millisecond)
				pending(t, done)
				clk.Advance(time.Millisecond)
			}
			r := recv(t, done)
			want := "Response: Success\r\nActionID: w\r\nMessage: Waiting for Event completed.\r\n\r\nEvent: WaitEventComplete\r\nActionID: w\r\n\r\n"
			if string(r.body) != want {
				t.Fatalf("body %q, want %q", r.body, want)
			}
			if tt.want < 0 && srv.Waiting() != 0 {
				t.Fatal("parked although it should not wait")
			}
		})
	}
}

func TestWaitEventWakesAtOnce(t *testing.T) {
	tests := []struct {
		name string
		fire func(t *testing.T, srv *httpamitest.Server, other *client)
		want []string
	}{
		{"UserEvent from another session", func(t *testing.T, _ *httpamitest.Server, other *client) {
			other.get("/rawman", "Action=UserEvent&UserEvent=Wake&X=1")
		}, []string{"UserEvent:Wake"}},
		{"Emit", func(t *testing.T, srv *httpamitest.Server, _ *client) {
			if err := srv.Emit(&rawman.Message{Fields: []rawman.Field{{Key: "Event", Value: "Newchannel"}, {Key: "Privilege", Value: "call,all"}, {Key: "Channel", Value: "Local/1@x"}}}); err != nil {
				t.Fatal(err)
			}
		}, []string{"Newchannel"}},
		{"Setvar from another session", func(t *testing.T, _ *httpamitest.Server, other *client) {
			other.get("/rawman", "Action=Setvar&Variable=G&Value=1")
		}, []string{"VarSet"}},
	}
	for _, tt := range tests {
		for _, path := range []string{"/rawman", "/mxml"} {
			t.Run(tt.name+path, func(t *testing.T) {
				srv, clk := start(t)
				a, b := newClient(t, srv), newClient(t, srv)
				a.login(path, "hello", "world")
				b.login("/rawman", "hello", "world")
				a.drain(path)
				done := a.goGet(path, "Action=WaitEvent&Timeout=30")
				waitParked(t, srv, 1)
				tt.fire(t, srv, b)
				r := recv(t, done)
				if got := r.events(); !slices.Equal(got, tt.want) {
					t.Fatalf("events %v, want %v (body %q)", got, tt.want, r.body)
				}
				if !clk.Now().Equal(t0) {
					t.Fatal("the clock moved")
				}
			})
		}
	}
}

func TestWaitEventWokenByEventItCannotSee(t *testing.T) {
	tests := []struct {
		user, secret string
		fire         string
	}{
		// waitevent/040: limited cannot read class user.
		{"limited", "limited", "Action=UserEvent&UserEvent=Keep"},
		// waitevent/036: filtered drops UserEvent Drop.
		{"filtered", "filtered", "Action=UserEvent&UserEvent=Drop"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			srv, _ := start(t, refUsers()...)
			a, b := newClient(t, srv), newClient(t, srv)
			b.login("/rawman", "hello", "world")
			a.login("/rawman", tt.user, tt.secret)
			a.drain("/rawman")
			done := a.goGet("/rawman", "Action=WaitEvent&Timeout=10")
			waitParked(t, srv, 1)
			b.get("/rawman", tt.fire)
			r := recv(t, done)
			if string(r.body) != "Response: Success\r\nMessage: Waiting for Event completed.\r\n\r\nEvent: WaitEventComplete\r\n\r\n" {
				t.Fatalf("body %q, want an empty WaitEvent answer", r.body)
			}
		})
	}
}

func TestWaitEventKickedBySecond(t *testing.T) {
	tests := []struct {
		path, kicked string
	}{
		{"/rawman", ""}, // waitevent/013
		{"/mxml", "<ajax-response>\n</ajax-response>\n"}, // waitevent/027
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			srv, clk := start(t)
			c := newClient(t, srv)
			c.login(tt.path, "hello", "world")
			c.drain(tt.path)
			first := c.goGet(tt.path, "Action=WaitEvent&Timeout=20&ActionID=first")
			waitParked(t, srv, 1)
			second := c.goGet(tt.path, "Action=WaitEvent&Timeout=3&ActionID=second")
			r := recv(t, first)
			if r.status != 200 || string(r.body) != tt.kicked {
				t.Fatalf("kicked WaitEvent: %d %q, want %q", r.status, r.body, tt.kicked)
			}
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(tt.kicked)) {
				t.Fatalf("Content-Length %q", got)
			}
			if r.cookieID() != c.cookie() {
				t.Fatalf("kicked answer Set-Cookie %q", r.header.Get("Set-Cookie"))
			}
			waitParked(t, srv, 1)
			clk.Advance(3*time.Second - time.Millisecond)
			pending(t, second)
			clk.Advance(time.Millisecond)
			r = recv(t, second)
			if r.msg(0).ActionID() != "second" || r.msg(1).Event() != "WaitEventComplete" {
				t.Fatalf("second WaitEvent: %q", r.body)
			}
		})
	}
}

func TestWaitEventAnswerFormat(t *testing.T) {
	srv, _ := start(t, httpamitest.WithTimestampEvents(false))
	a, b := newClient(t, srv), newClient(t, srv)
	a.login("/rawman", "hello", "world")
	b.login("/rawman", "hello", "world")
	a.drain("/rawman")
	b.get("/rawman", "Action=UserEvent&UserEvent=Keep&X=1")
	r := a.get("/rawman", "Action=WaitEvent&Timeout=5&ActionID=w1")
	// Spec §5.3 example.
	want := "Response: Success\r\nActionID: w1\r\nMessage: Waiting for Event completed.\r\n\r\n" +
		"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: Keep\r\nX: 1\r\n\r\n" +
		"Event: WaitEventComplete\r\nActionID: w1\r\n\r\n"
	if string(r.body) != want {
		t.Fatalf("body\n%q\nwant\n%q", r.body, want)
	}

	srv, _ = start(t)
	a, b = newClient(t, srv), newClient(t, srv)
	a.login("/rawman", "hello", "world")
	b.login("/rawman", "hello", "world")
	a.drain("/rawman")
	b.get("/rawman", "Action=UserEvent&UserEvent=Keep")
	ev := a.drain("/rawman").event("Keep")
	if ev == nil || ev.Fields[2].Key != "Timestamp" || ev.Fields[2].Value != timestamp(t0) {
		t.Fatalf("timestampevents: event %v, want Timestamp %s third", ev, timestamp(t0))
	}
}

func TestWaitEventDropsOldEvents(t *testing.T) {
	srv, clk := start(t) // httptimeout 60: events live 150 s
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	c.drain("/rawman")
	emit := func(name string) {
		t.Helper()
		if err := srv.Emit(&rawman.Message{Fields: []rawman.Field{{Key: "Event", Value: name}}}); err != nil {
			t.Fatal(err)
		}
	}
	emit("Old") // t=0
	clk.Advance(2 * time.Second)
	emit("Mid") // t=2
	// Keep the session alive without reading events.
	for range 3 {
		clk.Advance(49 * time.Second)
		if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
			t.Fatalf("session lost: %q", r.body)
		}
	}
	clk.Advance(4 * time.Second) // t=153: Old is 153 s old, Mid 151 s
	emit("Young")
	r := c.drain("/rawman")
	if got, want := r.events(), []string{"Young"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v: events older than 2.5 × httptimeout are dropped", got, want)
	}

	// An event 149 s old is still delivered.
	emit("Kept")
	clk.Advance(49 * time.Second)
	c.get("/rawman", "Action=Ping")
	clk.Advance(49 * time.Second)
	c.get("/rawman", "Action=Ping")
	clk.Advance(51 * time.Second)
	if got := c.drain("/rawman").events(); !slices.Equal(got, []string{"Kept"}) {
		t.Fatalf("events %v, want [Kept] (149 s old)", got)
	}
}

var secrets = map[string]string{"hello": "world", "limited": "limited", "filtered": "filtered"}

func TestEventPermissionsAndFilters(t *testing.T) {
	tests := []struct {
		name   string
		user   string
		digest bool
		want   []string
	}{
		{"hello cookie", "hello", false, []string{"UserEvent:Keep", "UserEvent:Drop", "VarSet", "CallThing", "AgentThing"}},
		// read=system,call
		{"limited cookie", "limited", false, []string{"CallThing"}},
		// waitevent/035: eventfilter = Event: UserEvent, !UserEvent: Drop
		{"filtered cookie", "filtered", false, []string{"UserEvent:Keep"}},
		// digest/021: user eventfilters are not applied over digest
		{"filtered digest", "filtered", true, []string{"UserEvent:Keep", "UserEvent:Drop", "VarSet", "CallThing", "AgentThing"}},
		{"limited digest", "limited", true, []string{"CallThing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := start(t, refUsers()...)
			fire := newClient(t, srv)
			fire.login("/rawman", "hello", "world")
			subj := newClient(t, srv)
			var wait func() *result
			if tt.digest {
				nonce := fmt.Sprintf("%08x", 0x1234abcd)
				nc := 1
				subj.digest("/arawman", "Action=Ping", tt.user, secrets[tt.user], nonce, nc)
				wait = func() *result {
					nc++
					a := subj.digest("/arawman", "Action=WaitEvent&Timeout=0", tt.user, secrets[tt.user], nonce, nc)
					if a.status != 200 {
						t.Fatalf("digest WaitEvent: %d", a.status)
					}
					return a.result
				}
			} else {
				subj.login("/rawman", tt.user, secrets[tt.user])
				wait = func() *result { return subj.drain("/rawman") }
			}
			wait()
			fire.get("/rawman", "Action=UserEvent&UserEvent=Keep")
			fire.get("/rawman", "Action=UserEvent&UserEvent=Drop")
			fire.get("/rawman", "Action=Setvar&Variable=G&Value=1")
			srv.Emit(&rawman.Message{Fields: []rawman.Field{{Key: "Event", Value: "CallThing"}, {Key: "Privilege", Value: "call,all"}}})
			srv.Emit(&rawman.Message{Fields: []rawman.Field{{Key: "Event", Value: "AgentThing"}, {Key: "Privilege", Value: "agent,all"}}})
			if got := wait().events(); !slices.Equal(got, tt.want) {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEventsAction(t *testing.T) {
	tests := []struct {
		mask     string
		wantResp string // Events: value, or the error message
		want     []string
	}{
		{"on", "On", []string{"UserEvent:U", "CallThing"}},
		{"off", "Off", []string{"UserEvent:U", "CallThing"}}, // WaitEvent turns 0 into all
		{"call", "On", []string{"CallThing"}},
		{"user", "On", []string{"UserEvent:U"}},
		{"call,user", "On", []string{"UserEvent:U", "CallThing"}},
		{"bogus", "Off", []string{"UserEvent:U", "CallThing"}},
		{"", "Invalid event mask", []string{"UserEvent:U", "CallThing"}},
	}
	for _, tt := range tests {
		t.Run(tt.mask, func(t *testing.T) {
			srv, _ := start(t)
			c := newClient(t, srv)
			c.login("/rawman", "hello", "world")
			c.drain("/rawman")
			r := c.get("/rawman", q("Action", "Events", "EventMask", tt.mask, "ActionID", "e"))
			var want string
			if strings.HasPrefix(tt.wantResp, "O") {
				want = "Response: Success\r\nActionID: e\r\nEvents: " + tt.wantResp + "\r\n\r\n"
			} else {
				want = "Response: Error\r\nActionID: e\r\nMessage: " + tt.wantResp + "\r\n\r\n"
			}
			if string(r.body) != want {
				t.Fatalf("Events answer %q, want %q", r.body, want)
			}
			c.get("/rawman", "Action=UserEvent&UserEvent=U")
			srv.Emit(&rawman.Message{Fields: []rawman.Field{{Key: "Event", Value: "CallThing"}, {Key: "Privilege", Value: "call,all"}}})
			if got := c.drain("/rawman").events(); !slices.Equal(got, tt.want) {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
		})
	}

	// session/015-020: Login Events=on puts FullyBooted in the Login answer.
	srv, _ := start(t)
	for _, ev := range []string{"on", "off", ""} {
		c := newClient(t, srv)
		var extra []string
		if ev != "" {
			extra = []string{"Events", ev}
		}
		r := c.login("/rawman", "hello", "world", extra...)
		fb := r.event("FullyBooted")
		if (fb != nil) != (ev == "on") {
			t.Fatalf("Login Events=%q: FullyBooted present=%v", ev, fb != nil)
		}
		if fb != nil && (fb.Get("Privilege") != "system,all" || fb.Get("Status") != "Fully Booted" || fb.Get("Uptime") != "0" || fb.Has("Timestamp")) {
			t.Fatalf("FullyBooted %v", fb)
		}
	}
}

// ---------------------------------------------------------------------------
// Test API

func TestHandleOverridesAction(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)

	var seen *httpamitest.Request
	srv.Handle("ping", func(r *httpamitest.Request) []*rawman.Message {
		seen = r
		return []*rawman.Message{{Fields: []rawman.Field{{Key: "Response", Value: "Success"}, {Key: "Ping", Value: "Custom"}}}}
	})
	// Login and permission checks come first.
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Message") != "Permission denied" || seen != nil {
		t.Fatalf("handler ran for an unauthenticated session: %q", r.body)
	}
	c.login("/rawman", "hello", "world")
	r := c.get("/rawman", "Action=PING&ActionID=h1&X=1&X=2")
	if string(r.body) != "Response: Success\r\nActionID: h1\r\nPing: Custom\r\n\r\n" {
		t.Fatalf("handled Ping: %q", r.body)
	}
	if seen == nil || seen.Action != "Ping" || seen.User != "hello" || seen.Params.Get("actionid") != "h1" || slices.Collect(seen.Params.Values("X"))[1] != "2" {
		t.Fatalf("handler saw %+v", seen)
	}
	if r := c.get("/mxml", "Action=Ping&ActionID=h2"); string(r.body) != "<ajax-response>\n<response type='object' id='unknown'><generic response='Success' actionid='h2' ping='Custom' /></response>\n</ajax-response>\n" {
		t.Fatalf("handled Ping in mxml: %q", r.body)
	}

	// An action the fake does not know, answered as an event list.
	srv.Handle("MyList", func(r *httpamitest.Request) []*rawman.Message {
		return []*rawman.Message{
			{Fields: []rawman.Field{{Key: "Response", Value: "Success"}, {Key: "EventList", Value: "start"}, {Key: "Message", Value: "Items follow"}}},
			{Fields: []rawman.Field{{Key: "Event", Value: "Item"}, {Key: "ActionID", Value: r.Params.Get("ActionID")}, {Key: "N", Value: "1"}}},
			{Fields: []rawman.Field{{Key: "Event", Value: "MyListComplete"}, {Key: "EventList", Value: "Complete"}, {Key: "ListItems", Value: "1"}}},
		}
	})
	r = c.get("/rawman", "Action=MyList&ActionID=L")
	want := "Response: Success\r\nActionID: L\r\nEventList: start\r\nMessage: Items follow\r\n\r\n" +
		"Event: Item\r\nActionID: L\r\nN: 1\r\n\r\n" +
		"Event: MyListComplete\r\nEventList: Complete\r\nListItems: 1\r\n\r\n"
	if string(r.body) != want {
		t.Fatalf("list: %q", r.body)
	}

	// A nil handler restores the fake's own answer.
	srv.Handle("Ping", nil)
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
		t.Fatalf("after Handle(nil): %q", r.body)
	}
	srv.Handle("MyList", nil)
	if r := c.get("/rawman", "Action=MyList"); !strings.HasPrefix(r.msg(0).Get("Message"), "Invalid/unknown command: MyList.") {
		t.Fatalf("unregistered action: %q", r.body)
	}
}

func TestEmit(t *testing.T) {
	srv, clk := start(t, refUsers()...)
	hello, limited := newClient(t, srv), newClient(t, srv)
	hello.login("/rawman", "hello", "world")
	limited.login("/rawman", "limited", "limited")
	hello.drain("/rawman")
	limited.drain("/rawman")
	clk.Advance(1500 * time.Millisecond)

	err := srv.Emit(&rawman.Message{Fields: []rawman.Field{
		{Key: "Event", Value: "AgentCalled"},
		{Key: "Timestamp", Value: "1.0"}, // replaced by the server's
		{Key: "Queue", Value: "support"},
		{Key: "Privilege", Value: "agent,all"},
		{Key: "Member", Value: "a"},
		{Key: "Member", Value: "b"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Emit(&rawman.Message{Fields: []rawman.Field{{Key: "Event", Value: "Plain"}, {Key: "A", Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Emit(&rawman.Message{Fields: []rawman.Field{{Key: "Queue", Value: "x"}}}); !errors.Is(err, httpamitest.ErrNotEvent) {
		t.Fatalf("Emit without Event: %v, want ErrNotEvent", err)
	}
	r := hello.drain("/rawman")
	ts := timestamp(t0.Add(1500 * time.Millisecond))
	want := "Event: AgentCalled\r\nPrivilege: agent,all\r\nTimestamp: " + ts + "\r\nQueue: support\r\nMember: a\r\nMember: b\r\n\r\n" +
		"Event: Plain\r\nPrivilege: user,all\r\nTimestamp: " + ts + "\r\nA: 1\r\n\r\n"
	if !strings.Contains(string(r.body), want) {
		t.Fatalf("body %q does not contain %q", r.body, want)
	}
	if got := limited.drain("/rawman").events(); len(got) != 0 {
		t.Fatalf("limited (read=system,call) received %v", got)
	}
}

func TestRestartForgetsSessions(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	id := c.cookie()
	d := newClient(t, srv)
	if a := d.digest("/arawman", "Action=Ping", "hello", "world", "0badc0de", 1); a.status != 200 {
		t.Fatal(a.status)
	}
	if a := d.digest("/arawman", "Action=Ping", "hello", "world", "0badc0de", 2); a.status != 200 {
		t.Fatal(a.status)
	}
	if a := d.digest("/arawman", "Action=Ping", "hello", "world", "0badc0de", 2); a.status != 401 || !a.stale {
		t.Fatalf("nc replay before Restart: %d", a.status)
	}
	srv.Restart()
	r := c.get("/rawman", "Action=Ping")
	if r.msg(0).Get("Message") != "Permission denied" || r.cookieID() == id {
		t.Fatalf("cookie session survived Restart: %q", r.body)
	}
	// The rotated digest session is gone: its first nonce starts a new one.
	if a := d.digest("/arawman", "Action=Ping", "hello", "world", "0badc0de", 1); a.status != 200 {
		t.Fatalf("digest after Restart: %d stale=%v", a.status, a.stale)
	}
	c.login("/rawman", "hello", "world")
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
		t.Fatalf("login after Restart: %q", r.body)
	}
}

func TestRequestsCounters(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.get("/rawman", "Action=Ping")
	c.get("/RAWMAN", "Action=Ping")
	c.get("/rawman/", "Action=Ping")
	c.must(c.try("PUT", "/rawman", "", "", nil))
	c.must(c.try("HEAD", "/mxml", "Action=Ping", "", nil))
	c.must(c.try("GET", "/arawman", "", "", nil))
	c.must(c.try("GET", "/Foo", "", "", nil))
	want := map[string]int{"/rawman": 4, "/RAWMAN": 4, "/mxml": 1, "/arawman": 1, "/amxml": 0, "/foo": 1, "": 7}
	for p, n := range want {
		if got := srv.Requests(p); got != n {
			t.Errorf("Requests(%q) = %d, want %d", p, got, n)
		}
	}
}

// Requests: "how many requests the server has read on path ..., whatever
// their answer": a request refused at the HTTP layer was read too.
func TestRequestsCountsRefusedRequests(t *testing.T) {
	srv, _ := start(t)
	body := "Action=Ping&Pad=" + strings.Repeat("x", 41000)
	raw(t, srv, fmt.Sprintf("POST /rawman HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", form, len(body), body))
	if got := srv.Requests("/rawman"); got != 1 {
		t.Errorf("Requests(/rawman) = %d after a 413 on /rawman, want 1", got)
	}
}

func TestInjectFault(t *testing.T) {
	srv, clk := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	c.drain("/rawman")
	n := 0
	// fire sends a UserEvent on /rawman and reports whether it was queued,
	// as a WaitEvent on /mxml (faults below are limited to /rawman when
	// they last more than one request) shows.
	fire := func() (*result, error, bool) {
		n++
		name := fmt.Sprintf("F%d", n)
		r, err := c.try("GET", "/rawman", "Action=UserEvent&UserEvent="+name, "", nil)
		ran := c.drain("/mxml").event(name) != nil
		return r, err, ran
	}

	t.Run("status 503", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus})
		r, err, ran := fire()
		if err != nil || r.status != 503 || ran {
			t.Fatalf("err %v status %d ran %v", err, r.status, ran)
		}
		if !bytes.Contains(r.body, []byte("<title>503 Service Unavailable</title>")) || r.header.Get("Set-Cookie") != "" {
			t.Fatalf("503 page %q", r.body)
		}
		if r, _, ran := fire(); r.status != 200 || !ran {
			t.Fatal("the fault applied to more than one request")
		}
	})
	t.Run("status 500 twice", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus, Status: 500, Times: 2, Path: "/rawman"})
		for i := range 2 {
			if r, err, _ := fire(); err != nil || r.status != 500 {
				t.Fatalf("request %d: %v %v", i, err, r)
			}
		}
		if r, _, _ := fire(); r.status != 200 {
			t.Fatalf("third request: %d", r.status)
		}
	})
	t.Run("path", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus, Path: "/mxml"})
		if r := c.get("/rawman", "Action=Ping"); r.status != 200 {
			t.Fatalf("fault for /mxml hit /rawman: %d", r.status)
		}
		if r := c.must(c.try("GET", "/MXML", "Action=Ping", "", nil)); r.status != 503 {
			t.Fatalf("/mxml: %d", r.status)
		}
		if r := c.get("/mxml", "Action=Ping"); r.status != 200 {
			t.Fatalf("second /mxml request: %d", r.status)
		}
	})
	t.Run("drop", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultDrop})
		_, err, ran := fire()
		if !errors.Is(err, io.EOF) || ran {
			t.Fatalf("err %v ran %v, want EOF and no action", err, ran)
		}
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultDrop})
		conn, err := net.Dial("tcp", hostOf(srv))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "GET /rawman?Action=Ping HTTP/1.1\r\nHost: x\r\n\r\n")
		if b, err := io.ReadAll(conn); err != nil || len(b) != 0 {
			t.Fatalf("raw read after drop: %q %v, want a clean EOF with no byte", b, err)
		}
	})
	for name, k := range map[string]httpamitest.FaultKind{"cut": httpamitest.FaultCut, "truncate": httpamitest.FaultTruncate} {
		t.Run(name, func(t *testing.T) {
			srv.InjectFault(httpamitest.Fault{Kind: k})
			r, err, ran := fire()
			if !errors.Is(err, io.ErrUnexpectedEOF) || r == nil || r.status != 200 || !ran {
				t.Fatalf("err %v result %v ran %v, want a 200 whose body read fails, action run", err, r, ran)
			}
			if cl, _ := strconv.Atoi(r.header.Get("Content-Length")); cl <= len(r.body) {
				t.Fatalf("Content-Length %d, body %d bytes", cl, len(r.body))
			}
		})
	}
	t.Run("garbage", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultGarbage, Path: "/rawman"})
		r, err, ran := fire()
		if err != nil || r.status != 200 || !ran {
			t.Fatalf("err %v status %v ran %v", err, r, ran)
		}
		for _, m := range r.msgs {
			if m.IsResponse() {
				t.Fatalf("garbage decoded to a response: %v", m)
			}
		}
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultGarbage})
		x, err := c.try("GET", "/mxml", "Action=Ping", "", nil)
		if err != nil || x.decodeErr == nil {
			t.Fatalf("garbage on /mxml decoded: %v %q", err, x.body)
		}
	})
	t.Run("stall", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStall, Stall: 7 * time.Second})
		done := c.goGet("/rawman", "Action=Ping")
		waitParked(t, srv, 1)
		clk.Advance(7*time.Second - time.Millisecond)
		pending(t, done)
		clk.Advance(time.Millisecond)
		r := recv(t, done)
		if r.msg(0).Get("Ping") != "Pong" || r.msg(0).Get("Timestamp") != timestamp(clk.Now()) {
			t.Fatalf("stalled Ping: %q (clock %v)", r.body, clk.Now())
		}
	})
	t.Run("in order", func(t *testing.T) {
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus, Status: 502})
		srv.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus, Status: 504})
		for _, want := range []int{502, 504, 200} {
			if r := c.must(c.try("GET", "/rawman", "Action=Ping", "", nil)); r.status != want {
				t.Fatalf("status %d, want %d", r.status, want)
			}
		}
	})
}

func TestRefuseConnections(t *testing.T) {
	srv, clk := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	srv.RefuseConnections(10 * time.Second)
	dial := func() error {
		conn, err := net.DialTimeout("tcp", hostOf(srv), time.Second)
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := dial(); err == nil {
		t.Fatal("dial succeeded while refusing")
	}
	if _, err := c.try("GET", "/rawman", "Action=Ping", "", nil); err == nil {
		t.Fatal("request succeeded while refusing")
	}
	clk.Advance(10*time.Second - time.Millisecond)
	if err := dial(); err == nil {
		t.Fatal("dial succeeded before the clock passed the refusal")
	}
	clk.Advance(time.Millisecond)
	if err := dial(); err != nil {
		t.Fatalf("dial after the refusal: %v", err)
	}
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
		t.Fatalf("session lost by the refusal: %q", r.body)
	}
}

func TestCloseIsIdempotentAndEndsPendingRequests(t *testing.T) {
	clk := httpamitest.NewFakeClock(t0)
	srv := httpamitest.NewServer(httpamitest.WithClock(clk))
	t.Cleanup(srv.Close) // a third Close
	c, d := newClient(t, srv), newClient(t, srv)
	c.login("/rawman", "hello", "world")
	badLogin := d.goGet("/rawman", "Action=Login&Username=hello&Secret=no")
	waitParked(t, srv, 1)
	c.drain("/rawman") // the failed login's security event
	wait := c.goGet("/rawman", "Action=WaitEvent&Timeout=40")
	waitParked(t, srv, 2)

	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a WaitEvent and a failed Login waited on the clock")
	}
	for _, ch := range []<-chan reply{wait, badLogin} {
		select {
		case <-ch: // an answer or a connection error: either way it ended
		case <-time.After(5 * time.Second):
			t.Fatal("a pending request did not end on Close")
		}
	}
	if srv.Waiting() != 0 {
		t.Fatalf("Waiting() = %d after Close", srv.Waiting())
	}
	done := make(chan struct{})
	go func() {
		srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("second Close blocked")
	}
	if _, err := c.try("GET", "/rawman", "Action=Ping", "", nil); err == nil {
		t.Fatal("request succeeded after Close")
	}
}

func TestStartTLS(t *testing.T) {
	clk := httpamitest.NewFakeClock(t0)
	srv := httpamitest.NewUnstartedServer(httpamitest.WithClock(clk))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") || srv.Certificate() == nil {
		t.Fatalf("URL %q certificate %v", srv.URL, srv.Certificate())
	}
	if _, err := http.Get(srv.URL + "/rawman?Action=Ping"); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}
	hc := srv.Client()
	jar, _ := cookiejar.New(nil)
	hc.Jar = jar
	c := &client{t: t, srv: srv, hc: hc}
	// tls/001-003
	c.login("/rawman", "hello", "world")
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
		t.Fatalf("Ping over TLS: %q", r.body)
	}
	if r := c.get("/mxml", "Action=Logoff"); r.msg(0).Response() != "Goodbye" {
		t.Fatalf("Logoff over TLS: %q", r.body)
	}
	nonce := c.digest("/arawman", "", "", "", "", 0).nonce
	if a := c.digest("/arawman", "Action=Ping", "hello", "world", nonce, 1); a.status != 200 {
		t.Fatalf("digest over TLS: %d", a.status)
	}
}
