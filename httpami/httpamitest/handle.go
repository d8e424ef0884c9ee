package httpamitest

import (
	"strings"
	"time"
)

// format is Asterisk's output format of an endpoint.
type format int

const (
	formatRaw format = iota
	formatXML
)

type endpoint struct {
	format format
	digest bool
}

var endpoints = map[string]endpoint{
	"rawman":  {formatRaw, false},
	"mxml":    {formatXML, false},
	"arawman": {formatRaw, true},
	"amxml":   {formatXML, true},
}

// route matches a request path as Asterisk's handle_uri() does: the
// prefix and the handler name compare case-insensitively, one trailing
// "/" is allowed, nothing may follow.
func (s *Server) route(path string) (endpoint, string, bool) {
	p := strings.TrimPrefix(path, "/")
	if s.cfg.prefix != "" {
		pre := s.cfg.prefix + "/"
		if len(p) < len(pre) || !strings.EqualFold(p[:len(pre)], pre) {
			return endpoint{}, "", false
		}
		p = p[len(pre):]
	}
	p = strings.TrimSuffix(p, "/")
	ep, ok := endpoints[strings.ToLower(p)]
	return ep, "/" + strings.ToLower(p), ok
}

func (s *Server) handle(req *httpRequest) *httpResponse {
	ep, name, ok := s.route(req.path)
	s.countPath(req.path)
	if f := s.takeFault(name); f != nil {
		if resp, done := s.applyFault(f, req); done {
			return resp
		}
	}
	if !ok {
		resp := s.errorPage(404, "The requested URL was not found on this server.", false)
		resp.head = req.method == "HEAD"
		return resp
	}
	switch req.method {
	case "GET", "POST", "HEAD":
	default:
		return s.errorPage(501, "Attempt to use unimplemented / unsupported method", false)
	}
	var resp *httpResponse
	if ep.digest {
		resp = s.ami.serveDigest(req, ep)
	} else {
		resp = s.ami.serveCookie(req, ep)
	}
	resp.head = req.method == "HEAD"
	switch req.fault {
	case FaultGarbage:
		resp.body = []byte("\x00\x01<html>garbage: not\r\nAMI\xff</ajax-")
	case FaultCut, FaultTruncate:
		resp.cut = req.fault
		resp.close = true
	}
	return resp
}

// countPath counts a request on the endpoint path names, or on the path
// as sent if it names none.
func (s *Server) countPath(path string) {
	if _, name, ok := s.route(path); ok {
		path = name
	}
	s.count(path)
}

// params returns the request's parameters as Asterisk passes them to the
// action: the query string for GET and HEAD, the form body for POST (the
// query string is then ignored, and a body of another media type gives
// no parameters), decoded, in order, cut at 128.
func (s *Server) params(req *httpRequest) []header {
	var raw string
	if req.method == "POST" {
		ct, _ := req.header("Content-Type")
		mt, _, _ := strings.Cut(ct, ";")
		if !strings.EqualFold(mt, "application/x-www-form-urlencoded") {
			return nil
		}
		raw = string(req.body)
	} else {
		raw = req.query
	}
	if i := strings.IndexByte(raw, 0); i >= 0 {
		raw = raw[:i] // a C string ends at its first NUL
	}
	var out []header
	for item := range strings.SplitSeq(raw, "&") {
		if item == "" {
			continue
		}
		name, value, _ := strings.Cut(item, "=")
		out = append(out, header{uriDecode(name), uriDecode(value)})
		if len(out) == 128 {
			break
		}
	}
	return out
}

// uriDecode is ast_uri_decode with the legacy HTTP rules: "+" is a space,
// %XX a byte, anything else itself; a decoded NUL ends the string.
func uriDecode(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// A FaultKind is a misbehaviour of the server, see [Fault].
type FaultKind int

const (
	// FaultStatus answers with Status (default 503) and Asterisk's HTML
	// error page; the action does not run.
	FaultStatus FaultKind = iota + 1
	// FaultStall holds the request for Stall on the server's clock (or
	// until Close), then handles it normally.
	FaultStall
	// FaultDrop reads the request and closes the connection without an
	// answer; the action does not run.
	FaultDrop
	// FaultCut runs the action, sends the headers and half of the body,
	// then closes the connection.
	FaultCut
	// FaultTruncate runs the action and sends a Content-Length larger than
	// the body it sends, then closes the connection.
	FaultTruncate
	// FaultGarbage runs the action and answers 200 with bytes that are
	// neither rawman nor mxml.
	FaultGarbage
)

// A Fault describes a misbehaviour injected into the next requests.
type Fault struct {
	Kind FaultKind
	// Path limits the fault to one endpoint, such as "/rawman"; empty
	// means any request.
	Path string
	// Times is how many requests get the fault (default 1).
	Times int
	// Status is the HTTP status of FaultStatus (default 503).
	Status int
	// Stall is how long FaultStall holds each request.
	Stall time.Duration
}

type faultRule struct {
	Fault
	left int
}

// InjectFault makes the next matching requests misbehave as f says.
// Faults apply in the order injected.
func (s *Server) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Status == 0 {
		f.Status = 503
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultRule{Fault: f, left: f.Times})
	s.mu.Unlock()
}

// RefuseConnections closes the listener for d on the server's clock: new
// connections are refused by the operating system, as when Asterisk is
// down, then accepted again. Should the address be taken by then, the
// server stays down; call Up to see the error.
func (s *Server) RefuseConnections(d time.Duration) {
	s.Down()
	t := s.cfg.clock.AfterFunc(d, func() { s.Up() })
	s.mu.Lock()
	s.timers = append(s.timers, t)
	s.mu.Unlock()
}

func (s *Server) takeFault(path string) *faultRule {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Path != "" && !strings.EqualFold(f.Path, path) {
			continue
		}
		f.left--
		if f.left <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// applyFault returns the answer to send and true when the fault replaces
// the normal handling.
func (s *Server) applyFault(f *faultRule, req *httpRequest) (*httpResponse, bool) {
	switch f.Kind {
	case FaultStatus:
		return s.errorPage(f.Status, statusText(f.Status), false), true
	case FaultDrop:
		return nil, true
	case FaultStall:
		s.ami.sleep(f.Stall)
		return nil, false
	case FaultCut, FaultTruncate, FaultGarbage:
		req.fault = f.Kind
		return nil, false
	}
	return nil, false
}
