package transcript

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A Recorder records one group folder in the format of testdata/asterisk-23
// (see the README there): for each step, the exact bytes written on a raw
// TCP connection (NNN-name.req), the exact bytes read back (NNN-name.resp)
// and their description (NNN-name.meta).
//
// Requests are built as the reference recordings were: a request line with
// HTTP/1.1, Host, User-Agent: amihttp-capture, Accept: */*, the session's
// Cookie exactly as the last Set-Cookie of that session gave it, and for a
// POST a form body. An answer is read to its Content-Length (no body for
// HEAD below 400) and, when the server said Connection: close, on to the
// close.
//
// Steps are numbered in the order they are sent. [Recorder.Start] returns
// once the request is written, so a step (such as a long WaitEvent) may
// still be waiting for its answer on one connection while later steps run
// on others. Files of a step are written once it and every step before it
// have ended (gap_ms needs the end of the previous step). A Recorder is safe
// for concurrent use.
type Recorder struct {
	// Timeout bounds each exchange, from the write to the end of the
	// answer; zero means two minutes. Set it before the first step.
	Timeout time.Duration

	dir    string
	group  string
	scheme string
	host   string // as sent in Host and dialled

	mu      sync.Mutex
	conns   map[string]*recConn // by the caller's connection name
	nconns  int
	cookies map[string]string // session → Cookie header value
	steps   []*Pending        // in number order
	flushed int               // steps whose files are written
	err     error             // first error writing files
}

// A Request is one step to record.
type Request struct {
	// Name is the file stem after "NNN-", such as "login-mxml".
	Name string
	// Method is GET (the default), POST or HEAD.
	Method string
	// Path is the request path, such as "/mxml".
	Path string
	// Params are the encoded parameters (see [Params]): the query string
	// of a GET or HEAD, the form body of a POST. They are sent as given.
	Params string
	// Session names the cookie session ("" is the default one): the
	// request carries the Cookie of the last Set-Cookie answered to a step
	// of that session, and none before the first.
	Session string
	// NoCookie sends no Cookie header and ignores the answer's
	// Set-Cookie.
	NoCookie bool
	// Conn names the client connection ("" is the default one). The
	// first step on a name dials it; a connection the server closed is
	// dialled anew on its next use. Each dialled connection is recorded
	// as c1, c2, … in the order they are opened.
	Conn string
	// Header holds extra header lines ("Name: value"), sent after the
	// Cookie.
	Header []string
	// Notes and Variable go to the .meta file as they are.
	Notes    string
	Variable []string
}

// Params encodes name/value pairs, in the order given, as a query string
// or form body: each name and value escaped as url.QueryEscape does (a
// space as "+"). It panics if kv holds an odd number of strings.
func Params(kv ...string) string {
	if len(kv)%2 != 0 {
		panic("transcript.Params: odd number of arguments")
	}
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

type recConn struct {
	name    string // c1, c2, …
	seq     int    // requests sent on it
	c       net.Conn
	br      *bufio.Reader
	pending *Pending // the step waiting for its answer on it
	closed  bool     // by the server
}

// A Pending is a step sent and perhaps not yet answered.
type Pending struct {
	r       *Recorder
	x       *Exchange
	rc      *recConn
	session string
	keep    bool // keep the answer's Set-Cookie for session
	sent    time.Time
	end     time.Time
	err     error
	done    chan struct{}
	ended   bool // under r.mu
}

// NewRecorder returns a Recorder that writes into the group folder dir,
// creating it, and sends to base, the server's URL ("http://host:port" or
// "https://host:port"; a user or a path in it is ignored). It refuses a
// folder that already holds recorded steps: recordings are never edited.
func NewRecorder(dir, base string) (*Recorder, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("transcript: recorder base %q: %w", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("transcript: recorder base %q: want http://host:port or https://host:port", base)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.meta"))
	if err != nil {
		return nil, err
	}
	if len(old) > 0 {
		return nil, fmt.Errorf("transcript: %s already holds a recording", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	return &Recorder{
		dir:     dir,
		group:   filepath.Base(dir),
		scheme:  u.Scheme,
		host:    host,
		conns:   map[string]*recConn{},
		cookies: map[string]string{},
	}, nil
}

// Dir returns the group folder.
func (r *Recorder) Dir() string { return r.dir }

// Cookie returns the Cookie header value the next step of session would
// send, or "".
func (r *Recorder) Cookie(session string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cookies[session]
}

// Sleep pauses the recording for d: the next step's gap_ms shows it.
func (r *Recorder) Sleep(d time.Duration) { time.Sleep(d) }

// Do records req and returns it once answered; see [Pending.Wait].
func (r *Recorder) Do(req Request) (*Exchange, error) {
	return r.Start(req).Wait()
}

// Start sends req and returns without waiting for the answer. If the
// connection req names is still waiting for the answer to an earlier step,
// Start first waits for that answer, as an HTTP/1.1 client without
// pipelining does.
func (r *Recorder) Start(req Request) *Pending {
	method := req.Method
	if method == "" {
		method = "GET"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		rc := r.conns[req.Conn]
		if rc == nil || rc.pending == nil {
			break
		}
		p := rc.pending
		r.mu.Unlock()
		<-p.done
		r.mu.Lock()
	}
	p := &Pending{r: r, session: req.Session, keep: !req.NoCookie, done: make(chan struct{})}
	x := &Exchange{Group: r.group}
	x.Name = fmt.Sprintf("%03d-%s", len(r.steps)+1, req.Name)
	x.Meta = Meta{URL: r.scheme + "://" + r.host + req.Path, Method: method, Notes: req.Notes, Variable: req.Variable}
	if method != "POST" && req.Params != "" {
		x.Meta.URL += "?" + req.Params
	}
	p.x = x
	r.steps = append(r.steps, p)

	rc := r.conns[req.Conn]
	if rc == nil || rc.closed {
		rc = &recConn{}
		r.nconns++
		rc.name = "c" + strconv.Itoa(r.nconns)
		r.conns[req.Conn] = rc
		d := net.Dialer{Timeout: 10 * time.Second}
		var err error
		if r.scheme == "https" {
			rc.c, err = tls.DialWithDialer(&d, "tcp", r.host, &tls.Config{InsecureSkipVerify: true})
		} else {
			rc.c, err = d.Dial("tcp", r.host)
		}
		if err != nil {
			rc.closed = true
			rc.seq++
			x.Meta.Conn, x.Meta.ConnSeq = rc.name, rc.seq
			p.rc = rc
			p.sent = time.Now()
			r.endLocked(p, fmt.Errorf("dial: %w", err))
			return p
		}
		rc.br = bufio.NewReader(rc.c)
	}
	rc.seq++
	x.Meta.Conn, x.Meta.ConnSeq = rc.name, rc.seq
	p.rc = rc
	x.Req = r.build(req, method)

	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	p.sent = time.Now()
	x.Meta.SentAt = p.sent.UTC()
	rc.c.SetDeadline(p.sent.Add(timeout))
	if _, err := rc.c.Write(x.Req); err != nil {
		rc.closed = true
		rc.c.Close()
		r.endLocked(p, fmt.Errorf("write: %w", err))
		return p
	}
	rc.pending = p
	go p.read()
	return p
}

// build returns the request bytes. It runs under r.mu.
func (r *Recorder) build(req Request, method string) []byte {
	var b bytes.Buffer
	target := req.Path
	if target == "" {
		target = "/"
	}
	if method != "POST" && req.Params != "" {
		target += "?" + req.Params
	}
	b.WriteString(method + " " + target + " HTTP/1.1\r\n")
	b.WriteString("Host: " + r.host + "\r\n")
	b.WriteString("User-Agent: amihttp-capture\r\n")
	b.WriteString("Accept: */*\r\n")
	if c := r.cookies[req.Session]; c != "" && !req.NoCookie {
		b.WriteString("Cookie: " + c + "\r\n")
	}
	for _, h := range req.Header {
		b.WriteString(h + "\r\n")
	}
	if method == "POST" {
		b.WriteString("Content-Type: application/x-www-form-urlencoded\r\n")
		b.WriteString("Content-Length: " + strconv.Itoa(len(req.Params)) + "\r\n")
	}
	b.WriteString("\r\n")
	if method == "POST" {
		b.WriteString(req.Params)
	}
	return b.Bytes()
}

// read reads the answer of p, then ends it.
func (p *Pending) read() {
	rc := p.rc
	resp, first, closed, err := ReadAnswer(rc.br, p.x.Meta.Method)
	p.end = time.Now()
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	x := p.x
	x.Resp = resp
	if !first.IsZero() {
		x.Meta.FirstByteMS = ms(first.Sub(p.sent))
	}
	x.Meta.Status = statusOf(resp)
	x.Meta.ServerClosed = closed
	if closed || err != nil {
		rc.closed = true
		rc.c.Close()
	}
	if err == nil && p.keep {
		if c := setCookie(resp); c != "" {
			r.cookies[p.session] = c
		}
	}
	if rc.pending == p {
		rc.pending = nil
	}
	r.endLocked(p, err)
}

// endLocked marks p ended with err and writes the files of every step
// that can now be written.
func (r *Recorder) endLocked(p *Pending, err error) {
	if p.end.IsZero() {
		p.end = time.Now()
	}
	if p.x.Meta.SentAt.IsZero() {
		p.x.Meta.SentAt = p.sent.UTC()
	}
	p.x.Meta.TotalMS = ms(p.end.Sub(p.sent))
	if err != nil {
		p.err = err
		p.x.Meta.Error = err.Error()
	}
	p.ended = true
	for r.flushed < len(r.steps) && r.steps[r.flushed].ended {
		q := r.steps[r.flushed]
		if r.flushed > 0 {
			q.x.Meta.GapMS = ms(q.sent.Sub(r.steps[r.flushed-1].end))
		}
		if werr := r.write(q.x); werr != nil && r.err == nil {
			r.err = werr
		}
		r.flushed++
	}
	close(p.done)
}

// Wait waits for the answer and returns the recorded exchange. The error
// is that of the recorder (a close before any byte, a timeout, a failed
// dial); the exchange is recorded all the same, with the error in its
// .meta.
func (p *Pending) Wait() (*Exchange, error) {
	<-p.done
	return p.x, p.err
}

// Close waits for every step still waiting for an answer, closes the
// connections and returns the first error met writing files.
func (r *Recorder) Close() error {
	r.mu.Lock()
	steps := append([]*Pending(nil), r.steps...)
	r.mu.Unlock()
	for _, p := range steps {
		<-p.done
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rc := range r.conns {
		if rc.c != nil {
			rc.c.Close()
		}
	}
	return r.err
}

func (r *Recorder) write(x *Exchange) error {
	stem := filepath.Join(r.dir, x.Name)
	m := x.Meta
	var meta bytes.Buffer
	enc := json.NewEncoder(&meta)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(m)
	if err != nil {
		return err
	}
	if err := os.WriteFile(stem+".req", x.Req, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(stem+".resp", x.Resp, 0o644); err != nil {
		return err
	}
	return os.WriteFile(stem+".meta", meta.Bytes(), 0o644)
}

// ReadAnswer reads one answer byte for byte: the head, then Content-Length
// bytes (none for HEAD below 400), then, if the server said Connection:
// close, everything to the close. It returns the bytes read, when the first
// of them came, and whether the server closed the connection.
func ReadAnswer(br *bufio.Reader, method string) (resp []byte, first time.Time, closed bool, err error) {
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) || isReset(err) {
			return nil, time.Time{}, true, errors.New("connection closed before any response byte")
		}
		return nil, time.Time{}, false, err
	}
	first = time.Now()
	var out bytes.Buffer
	n, closing, status := 0, false, 0
	for i := 0; ; i++ {
		line, err := br.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			return out.Bytes(), first, errors.Is(err, io.EOF), fmt.Errorf("reading the head: %w", err)
		}
		l := strings.TrimRight(line, "\r\n")
		if i == 0 {
			if f := strings.Fields(l); len(f) > 1 {
				status, _ = strconv.Atoi(f[1])
			}
			continue
		}
		if l == "" {
			break
		}
		name, value, _ := strings.Cut(l, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			n, _ = strconv.Atoi(value)
		case "connection":
			closing = strings.EqualFold(value, "close")
		}
	}
	if method == "HEAD" && status < 400 {
		n = 0
	}
	body := make([]byte, n)
	k, err := io.ReadFull(br, body)
	out.Write(body[:k])
	if err != nil {
		return out.Bytes(), first, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), fmt.Errorf("reading the body: %w", err)
	}
	if closing {
		rest, err := io.ReadAll(br)
		out.Write(rest)
		if err != nil && !isReset(err) {
			return out.Bytes(), first, false, fmt.Errorf("reading to the close: %w", err)
		}
		return out.Bytes(), first, true, nil
	}
	return out.Bytes(), first, false, nil
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET)
}

// statusOf returns the status code of a recorded answer, or 0.
func statusOf(resp []byte) int {
	line, _, _ := bytes.Cut(resp, []byte("\r\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// setCookie returns the cookie of the answer's last Set-Cookie header as
// a Cookie header value (the part before the first ';', quotes kept), or "".
func setCookie(resp []byte) string {
	head, _, _ := bytes.Cut(resp, []byte("\r\n\r\n"))
	var c string
	for _, l := range strings.Split(string(head), "\r\n")[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "Set-Cookie") {
			continue
		}
		v, _, _ := strings.Cut(strings.TrimSpace(value), ";")
		c = strings.TrimSpace(v)
	}
	return c
}

// ms returns d in milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
