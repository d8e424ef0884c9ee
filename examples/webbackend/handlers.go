package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/amihttp/amihttp/httpami"
)

// static holds the page's template, script and style.
//
//go:embed static
var static embed.FS

// Limits of the HTTP side.
const (
	// sseWriteTimeout bounds each write to a browser's event stream: a
	// browser that stops reading is cut off after it, even when its
	// buffer in the hub never fills (no events).
	sseWriteTimeout = 10 * time.Second
	// maxFormBytes bounds the body of /originate.
	maxFormBytes = 4 << 10
	// originateTimeout bounds the Originate action (Async: Asterisk
	// answers at once).
	originateTimeout = 10 * time.Second
	// callTimeout is how long the caller's phone may ring.
	callTimeout = 30 * time.Second
)

// contentSecurityPolicy lets the page load only its own script, style
// and event stream: no inline script (so injected markup cannot run),
// no framing (clickjacking), forms posted only here.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// extenRE is the strict charset of an extension in the form: digits,
// letters and the dial pad's * # +, nothing that Asterisk gives a
// meaning to in a channel name or dial string (/ @ & , | ( ) $ { } :
// spaces, CR, LF).
var extenRE = regexp.MustCompile(`^[0-9A-Za-z*#+]{1,32}$`)

// parsePage parses the page's template.
func parsePage() (*template.Template, error) {
	return template.ParseFS(static, "static/index.html")
}

// pageData is what the page's template renders.
type pageData struct {
	Channels []Channel
	Allow    string
}

// handler returns the backend's HTTP handler:
//
//	GET  /           the page (html/template)
//	GET  /app.js     its script; GET /app.css its style
//	GET  /events     the Server-Sent Events stream of channels
//	POST /originate  start a call (token, allow-list, same origin)
//
// Every answer carries the security headers, and unless cfg.Public,
// requests must name a loopback host (against DNS rebinding).
func (b *backend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", b.servePage)
	mux.HandleFunc("GET /app.js", serveStatic("static/app.js"))
	mux.HandleFunc("GET /app.css", serveStatic("static/app.css"))
	mux.HandleFunc("GET /events", b.serveEvents)
	mux.HandleFunc("POST /originate", b.serveOriginate)
	var h http.Handler = mux
	if !b.cfg.Public {
		h = loopbackHostOnly(h)
	}
	return securityHeaders(h)
}

// securityHeaders sets the headers that keep the page from being
// framed, sniffed or made to run foreign script.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// loopbackHostOnly refuses requests whose Host is not a loopback
// address or localhost. A server on 127.0.0.1 is otherwise reachable
// from any web page through DNS rebinding (evil.example resolving to
// 127.0.0.1), with evil.example's origin: the page would read the
// channel list.
func loopbackHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		ip := net.ParseIP(host)
		if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			httpError(w, http.StatusMisdirectedRequest, "this server answers only to a loopback host name")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// servePage renders the page with the channels known now; the script
// then keeps the list current from the event stream.
func (b *backend) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	data := pageData{Channels: b.hub.list(), Allow: b.cfg.AllowText}
	if err := b.page.Execute(w, data); err != nil {
		b.logger.Warn("rendering the page", "err", err)
	}
}

// serveStatic serves one embedded file, its type by its extension.
func serveStatic(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, name)
	}
}

// serveEvents streams the channels as Server-Sent Events: a snapshot
// first, then a delta per change, a keep-alive comment when nothing
// happens, until the browser goes, falls too far behind, or the server
// shuts down.
func (b *backend) serveEvents(w http.ResponseWriter, r *http.Request) {
	sub := b.hub.subscribe()
	if sub == nil {
		httpError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	defer b.hub.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // no buffering in an nginx in front
	rc := http.NewResponseController(w)
	write := func(p []byte) bool {
		// A server without deadlines (a test's recorder) is no error.
		_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		if _, err := w.Write(p); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	w.WriteHeader(http.StatusOK)
	// EventSource reconnects after this many milliseconds.
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	keepalive := time.NewTicker(b.cfg.Keepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case f, ok := <-sub.frames:
			if !ok || !write(f) {
				return
			}
		case <-keepalive.C:
			if !write([]byte(": keepalive\n\n")) {
				return
			}
		}
	}
}

// serveOriginate starts a call from the form's "from" to its "to".
// The checks come in this order, all before Asterisk hears of it:
// same origin (Sec-Fetch-Site, Origin), a form body of at most 4 KiB,
// the token (Authorization: Bearer, or the form's "token"; never the
// URL), both extensions in the strict charset, both in the allow-list,
// the rate limit. It answers 202 with the Originate's ActionID; the
// outcome comes later as an "originate" event on the stream.
func (b *backend) serveOriginate(w http.ResponseWriter, r *http.Request) {
	if err := b.cop.Check(r); err != nil {
		b.refuse(w, r, http.StatusForbidden, "cross-origin request refused", "cross-origin")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		b.refuse(w, r, http.StatusUnsupportedMediaType, "send a form (application/x-www-form-urlencoded)", "content type")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			b.refuse(w, r, http.StatusRequestEntityTooLarge, "form too large", "form too large")
			return
		}
		b.refuse(w, r, http.StatusBadRequest, "bad form", "bad form")
		return
	}
	if !b.tokenOK(requestToken(r)) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="webbackend"`)
		b.refuse(w, r, http.StatusUnauthorized, "a valid token is required", "no or wrong token")
		return
	}
	from, to := r.PostForm.Get("from"), r.PostForm.Get("to")
	if !extenRE.MatchString(from) || !extenRE.MatchString(to) {
		b.refuse(w, r, http.StatusBadRequest, "from and to must be 1 to 32 of 0-9 A-Z a-z * # +", "bad characters")
		return
	}
	if !b.cfg.Allow.MatchString(from) || !b.cfg.Allow.MatchString(to) {
		b.refuse(w, r, http.StatusForbidden, "extension not in the allow-list", "not allowed: from "+from+" to "+to)
		return
	}
	if wait, ok := b.limiter.take(time.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+1)))
		b.refuse(w, r, http.StatusTooManyRequests, "too many calls: try again later", "rate limit")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), originateTimeout)
	defer cancel()
	resp, err := b.client.Originate(ctx, httpami.Originate{
		Channel:  strings.ReplaceAll(b.cfg.Channel, "{from}", from),
		Context:  b.cfg.Context,
		Exten:    to,
		Priority: "1",
		Timeout:  callTimeout,
		Async:    true,
	})
	if err != nil {
		b.logger.Warn("originate failed", "from", from, "to", to, "err", err)
		if errors.Is(err, httpami.ErrOutcomeUnknown) {
			httpError(w, http.StatusGatewayTimeout, "no answer from Asterisk: the call may or may not have been placed")
			return
		}
		httpError(w, http.StatusBadGateway, "Asterisk did not place the call")
		return
	}
	b.logger.Info("originate", "from", from, "to", to, "actionID", resp.ActionID, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusAccepted, map[string]string{"actionID": resp.ActionID})
}

// refuse answers a refused /originate with status and a short reason,
// and logs why (never the token).
func (b *backend) refuse(w http.ResponseWriter, r *http.Request, status int, msg, why string) {
	b.logger.Warn("originate refused", "why", why, "status", status, "remote", r.RemoteAddr)
	httpError(w, status, msg)
}

// requestToken returns the token of an Authorization: Bearer header,
// or else of the form's token field.
func requestToken(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.PostForm.Get("token")
}

// tokenOK compares tok with the configured token in constant time
// (over their SHA-256, so that not even the length leaks).
func (b *backend) tokenOK(tok string) bool {
	if tok == "" {
		return false
	}
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(b.cfg.Token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// httpError answers status with {"error": msg}.
func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// A limiter is a token bucket bounding the calls placed: burst at once,
// then one per refill. Even with the token, a runaway script cannot
// place calls by the thousand.
type limiter struct {
	burst  float64
	refill time.Duration

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// newLimiter returns a full limiter of burst calls, one more per refill.
func newLimiter(burst int, refill time.Duration) *limiter {
	return &limiter{burst: float64(burst), refill: refill, tokens: float64(burst)}
}

// take takes one call from the bucket at now; if none is left it
// returns false and how long until one is.
func (l *limiter) take(now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.refill))
	}
	l.last = now
	if l.tokens < 1 {
		return time.Duration((1 - l.tokens) * float64(l.refill)), false
	}
	l.tokens--
	return 0, true
}
