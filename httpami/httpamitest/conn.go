package httpamitest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits of Asterisk's HTTP server (main/http.c).
const (
	maxLine          = 4096 // buffer size: a line with its CRLF must fit in 4095 bytes
	maxHeaders       = 100
	keepAliveIdle    = 15 * time.Second
	firstRequestIdle = 15 * time.Second // max(session_keep_alive, 10 s)
)

type header struct{ name, value string }

// An httpRequest is one request as Asterisk's HTTP server parses it.
type httpRequest struct {
	method  string // upper-cased
	target  string
	path    string
	query   string
	headers []header
	body    []byte
	close   bool // Connection: close
	conn    net.Conn
	fault   FaultKind // applied to the answer
}

func (r *httpRequest) header(name string) (string, bool) {
	for _, h := range r.headers {
		if strings.EqualFold(h.name, name) {
			return h.value, true
		}
	}
	return "", false
}

// An httpResponse is written with Asterisk's header order: status line,
// Server, Date, Connection: close when closing, Cache-Control, then the
// handler's headers, then Content-Length.
type httpResponse struct {
	status  int
	headers []header
	body    []byte
	close   bool
	head    bool      // HEAD request: no body below status 400
	cut     FaultKind // FaultCut or FaultTruncate: send part of the body
}

type errTooLong string

func (e errTooLong) Error() string { return string(e) }

// readLine reads one line ended by LF (CR before it dropped), refusing a
// line whose length with its end reaches maxLine.
func readLine(br *bufio.Reader, what string) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) >= maxLine {
			return "", errTooLong(what + " line too long")
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return "", err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i] // Asterisk reads the line as a C string
	}
	return string(line), nil
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer s.forget(c)
	br := bufio.NewReaderSize(c, maxLine)
	idle, first := firstRequestIdle, true
	for {
		// Asterisk closes a connection that stays idle too long between
		// requests; the wait runs on the server's clock.
		t := s.cfg.clock.AfterFunc(idle, func() { c.Close() })
		if first {
			s.accepted.Add(1)
			first = false
		}
		_, err := br.Peek(1)
		t.Stop()
		if err != nil {
			return
		}
		idle = keepAliveIdle
		s.received.Add(1)
		s.busy.Add(1)
		req, resp := s.readRequest(br, c)
		if resp == nil {
			resp = s.handle(req)
		} else if req != nil {
			s.countPath(req.path) // refused while being read: counted all the same
		}
		if resp == nil { // fault: drop the connection without an answer
			s.busy.Add(-1)
			return
		}
		if req != nil && req.close {
			resp.close = true
		}
		if s.afterWrite != nil {
			s.afterWrite(c.RemoteAddr().String(), s.cfg.clock.Now())
		}
		ok := s.writeResponse(c, resp)
		s.busy.Add(-1)
		if !ok || resp.close {
			return
		}
	}
}

// readRequest reads a request; on a protocol error it returns the error
// answer to send (with close set) instead.
func (s *Server) readRequest(br *bufio.Reader, c net.Conn) (*httpRequest, *httpResponse) {
	line, err := readLine(br, "Request")
	if err != nil {
		return nil, s.lineError(err, "Invalid Request")
	}
	method, rest, _ := strings.Cut(strings.TrimLeft(line, " \t"), " ")
	rest = strings.TrimLeft(rest, " \t")
	target, _, _ := strings.Cut(rest, " ")
	if method == "" || target == "" {
		return nil, s.errorPage(400, "Invalid Request", true)
	}
	req := &httpRequest{method: strings.ToUpper(method), target: target, conn: c}
	req.path, req.query, _ = strings.Cut(target, "?")
	n := 0
	for {
		h, err := readLine(br, "Header")
		if err != nil {
			return req, s.lineError(err, "Timeout")
		}
		if h == "" {
			break
		}
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		value = strings.TrimSpace(value)
		if !ok || value == "" || name == "" {
			continue
		}
		if n++; n > maxHeaders {
			return req, s.errorPage(413, "Too many headers", true)
		}
		req.headers = append(req.headers, header{name, value})
	}
	if v, ok := req.header("Connection"); ok && strings.EqualFold(v, "close") {
		req.close = true
	}
	if resp := s.readBody(br, req); resp != nil {
		return req, resp
	}
	return req, nil
}

// lineError is the 400 answer to a line that could not be read: too long,
// or else cut short (text).
func (s *Server) lineError(err error, text string) *httpResponse {
	var tl errTooLong
	if errors.As(err, &tl) {
		text = string(tl)
	}
	return s.errorPage(400, text, true)
}

// readBody reads a Content-Length or chunked body, refusing more than the
// version's limit.
func (s *Server) readBody(br *bufio.Reader, req *httpRequest) *httpResponse {
	limit := s.cfg.maxBody()
	if te, ok := req.header("Transfer-Encoding"); ok {
		if !strings.EqualFold(te, "chunked") {
			return s.errorPage(501, "Unsupported Transfer-Encoding.", true)
		}
		for {
			line, err := readLine(br, "Chunk")
			if err != nil {
				return s.errorPage(400, "Error parsing request body", true)
			}
			sz, _, _ := strings.Cut(line, ";")
			n, err := strconv.ParseInt(strings.TrimSpace(sz), 16, 64)
			if err != nil || n < 0 {
				return s.errorPage(400, "Error parsing request body", true)
			}
			if n == 0 {
				for { // trailer
					if l, err := readLine(br, "Chunk"); err != nil || l == "" {
						break
					}
				}
				return nil
			}
			if int64(len(req.body))+n > int64(limit) {
				return s.errorPage(413, "Body too large", true)
			}
			chunk := make([]byte, n)
			if _, err := io.ReadFull(br, chunk); err != nil {
				return s.errorPage(400, "Error parsing request body", true)
			}
			req.body = append(req.body, chunk...)
			readLine(br, "Chunk") // the CRLF after the data
		}
	}
	cl, ok := req.header("Content-Length")
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(cl)
	if err != nil || n < 0 {
		return s.errorPage(400, "Invalid Content-Length in request!", true)
	}
	if n > limit {
		return s.errorPage(413, "Body too large", true)
	}
	req.body = make([]byte, n)
	if _, err := io.ReadFull(br, req.body); err != nil {
		return s.errorPage(400, "Error parsing request body", true)
	}
	return nil
}

// errorPage builds ast_http_error()'s HTML page.
func (s *Server) errorPage(status int, text string, close bool) *httpResponse {
	title := http.StatusText(status)
	if status == 413 {
		title = "Request Entity Too Large"
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n<html><head>\r\n<title>")
	b.WriteString(strconv.Itoa(status) + " " + title)
	b.WriteString("</title>\r\n</head><body>\r\n<h1>" + title + "</h1>\r\n<p>")
	b.WriteString(htmlEscape(text))
	b.WriteString("</p>\r\n<hr />\r\n")
	b.WriteString("<address>" + s.cfg.serverName() + "</address>\r\n")
	b.WriteString("</body></html>\r\n")
	return &httpResponse{
		status:  status,
		headers: []header{{"Content-type", "text/html"}},
		body:    []byte(b.String()),
		close:   close,
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

func statusText(code int) string {
	if code == 413 {
		return "Request Entity Too Large"
	}
	return http.StatusText(code)
}

func (s *Server) writeResponse(c net.Conn, r *httpResponse) bool {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(r.status) + " " + statusText(r.status) + "\r\n")
	b.WriteString("Server: " + s.cfg.serverName() + "\r\n")
	b.WriteString("Date: " + s.cfg.clock.Now().UTC().Format(http.TimeFormat) + "\r\n")
	if r.close {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("Cache-Control: no-cache, no-store\r\n")
	for _, h := range r.headers {
		b.WriteString(h.name + ": " + h.value + "\r\n")
	}
	body := r.body
	n := len(body)
	switch r.cut {
	case FaultCut:
		body = body[:len(body)/2]
	case FaultTruncate:
		n += 64
	}
	b.WriteString("Content-Length: " + strconv.Itoa(n) + "\r\n\r\n")
	if !r.head || r.status >= 400 {
		b.Write(body)
	}
	_, err := c.Write(b.Bytes())
	return err == nil
}
