package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amihttp/amihttp/httpami"
)

// The environment variables that configure the function (see ConfigFromEnv).
const (
	EnvURL         = "AMIHTTP_URL"                // the manager URL, auth=digest
	EnvToken       = "CLICK_TO_CALL_TOKEN"        // the shared secret callers send
	EnvChannel     = "CLICK_TO_CALL_CHANNEL"      // the caller's channel, with {from}
	EnvContext     = "CLICK_TO_CALL_CONTEXT"      // the dialplan context of the destination
	EnvFromPattern = "CLICK_TO_CALL_FROM_PATTERN" // what a caller's extension looks like
	EnvToPattern   = "CLICK_TO_CALL_TO_PATTERN"   // the destinations allowed
)

// Defaults of the settings, chosen to work against the fake Asterisk (its
// dialplan context "test") and to allow nothing but internal extensions
// of 3 or 4 digits as destinations, none starting with 0, 1 or 9, so that
// emergency and service numbers (000, 112, 911, 999…) and outside lines
// are out by default.
const (
	DefaultChannel     = "Local/{from}@test"
	DefaultContext     = "test"
	DefaultFromPattern = `[0-9]{2,6}`
	DefaultToPattern   = `[2-8][0-9]{2,3}`
	DefaultTimeout     = 5 * time.Second
)

// Limits of the input, checked before any pattern.
const (
	// MaxBodyBytes bounds a request's body: {"from":…,"to":…} fits many
	// times over.
	MaxBodyBytes = 1 << 10
	// MaxNumberLen bounds from and to, in bytes (E.164 numbers have at
	// most 15 digits, international prefixes add a few).
	MaxNumberLen = 20
	// MinTokenLen is the shortest shared secret NewHandler accepts.
	MinTokenLen = 16
)

// idleLimit is how long a kept-alive connection to Asterisk may have
// been idle before an invocation: past it the handler drops idle
// connections first. It is httpami's own idle timeout, under Asterisk's
// 15 s keep-alive; the client's timer does not run while a function
// platform freezes the instance between invocations, so the handler
// checks the clock itself.
const idleLimit = httpami.DefaultIdleConnTimeout

// Config configures the click-to-call handler.
type Config struct {
	// Client sends the Originate. It should use digest auth with
	// ColdStart (see NewClient): no Login and no session state, so that
	// an invocation costs one HTTP round trip to Asterisk, cold or warm.
	Client *httpami.Client
	// Token is the shared secret that callers send as "Authorization:
	// Bearer <token>"; at least MinTokenLen bytes.
	Token string
	// Channel is the channel of the caller's phone, which Asterisk
	// calls first; "{from}" is replaced by the request's from. Empty
	// means DefaultChannel.
	Channel string
	// Context is the dialplan context where the request's to is dialled
	// once the caller answers. Empty means DefaultContext.
	Context string
	// From and To are the patterns from and to must match as a whole,
	// after the handler's own check that they are digits (to may start
	// with "+"). To is the allow-list of destinations. Nil means
	// DefaultFromPattern and DefaultToPattern.
	From, To *regexp.Regexp
	// Timeout bounds an invocation's exchange with Asterisk, within the
	// request's own deadline; 0 means DefaultTimeout.
	Timeout time.Duration
	// Logger receives a line per invocation; nil discards them. No line
	// holds the token or the manager's secret.
	Logger *slog.Logger
}

// NewClient returns a client for the manager URL rawURL, set up as the
// handler needs it: digest auth (the URL may say auth=digest, or
// nothing) with ColdStart, so that even the first request of a cold
// function is signed at once. It refuses auth=cookie and auth=md5,
// whose Login costs a round trip and keeps session state. It does no I/O.
func NewClient(rawURL string, logger *slog.Logger) (*httpami.Client, error) {
	cfg, err := httpami.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	switch cfg.Auth {
	case "", httpami.Digest:
	default:
		return nil, fmt.Errorf("%s: auth=%s keeps session state: use auth=digest", EnvURL, cfg.Auth)
	}
	cfg.Auth, cfg.ColdStart, cfg.Logger = httpami.Digest, true, logger
	return httpami.New(cfg)
}

// ConfigFromEnv reads the handler's settings from the environment
// variables named by the Env constants, through getenv (os.Getenv), and
// makes the client for AMIHTTP_URL with NewClient. Unset variables get
// the defaults; an unset token is left for NewHandler to refuse.
func ConfigFromEnv(getenv func(string) string, logger *slog.Logger) (Config, error) {
	rawURL := getenv(EnvURL)
	if rawURL == "" {
		return Config{}, fmt.Errorf("%s is not set", EnvURL)
	}
	c, err := NewClient(rawURL, logger)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Client:  c,
		Token:   getenv(EnvToken),
		Channel: getenv(EnvChannel),
		Context: getenv(EnvContext),
		Logger:  logger,
	}
	for _, p := range []struct {
		env string
		re  **regexp.Regexp
	}{{EnvFromPattern, &cfg.From}, {EnvToPattern, &cfg.To}} {
		if s := getenv(p.env); s != "" {
			if *p.re, err = wholeMatch(s); err != nil {
				return Config{}, fmt.Errorf("%s: %w", p.env, err)
			}
		}
	}
	return cfg, nil
}

// wholeMatch compiles pattern so that it must match a whole string.
func wholeMatch(pattern string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + pattern + `)$`)
}

// contextName is what a dialplan context name may hold here.
var contextName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,79}$`)

// handler is the state one click-to-call function keeps between
// invocations: the client (its digest nonce and kept-alive connection),
// the settings, and when Asterisk was last used.
type handler struct {
	c         *httpami.Client
	tokenHash [sha256.Size]byte
	channel   string
	dialplan  string // the context of the destination
	from, to  *regexp.Regexp
	timeout   time.Duration
	log       *slog.Logger

	now      func() time.Time // time.Now; tests move it
	lastUsed atomic.Int64     // UnixNano of the last exchange with Asterisk
}

// NewHandler returns the click-to-call function for cfg: an
// http.HandlerFunc that takes a POST with from and to (a JSON object or
// a form), checks the bearer token and the input, and asks Asterisk to
// call from's phone and connect it to to, with an asynchronous
// Originate. It answers 202 {"status":"queued","actionId":…}, or an
// {"error":…} with 400, 401, 403, 405, 413 or 415 for a refused request
// (which never reaches Asterisk), 502 when Asterisk fails or refuses,
// 504 when it does not answer in time. Both 502 and 504 carry
// "outcome":"unknown" when the call may have been queued all the same.
//
// NewHandler refuses a Config without a client or with a token shorter
// than MinTokenLen, a channel without {from}, or a context with
// characters other than letters, digits, '-' and '_'.
func NewHandler(cfg Config) (http.HandlerFunc, error) {
	h, err := newHandler(cfg)
	if err != nil {
		return nil, err
	}
	return h.ServeHTTP, nil
}

// newHandler checks cfg, fills in its defaults and returns the handler.
func newHandler(cfg Config) (*handler, error) {
	if cfg.Client == nil {
		return nil, errors.New("clicktocall: no client")
	}
	if len(cfg.Token) < MinTokenLen {
		return nil, fmt.Errorf("clicktocall: %s must be set, at least %d bytes: every request would be refused", EnvToken, MinTokenLen)
	}
	h := &handler{
		c:         cfg.Client,
		tokenHash: sha256.Sum256([]byte(cfg.Token)),
		channel:   cmp.Or(cfg.Channel, DefaultChannel),
		dialplan:  cmp.Or(cfg.Context, DefaultContext),
		from:      cfg.From,
		to:        cfg.To,
		timeout:   cfg.Timeout,
		log:       cfg.Logger,
		now:       time.Now,
	}
	if !strings.Contains(h.channel, "{from}") {
		return nil, fmt.Errorf("clicktocall: channel %q has no {from}", h.channel)
	}
	if strings.ContainsAny(h.channel, "\r\n") {
		return nil, errors.New("clicktocall: channel holds CR or LF")
	}
	if !contextName.MatchString(h.dialplan) {
		return nil, fmt.Errorf("clicktocall: context %q is not a plain context name", h.dialplan)
	}
	if h.from == nil {
		h.from, _ = wholeMatch(DefaultFromPattern)
	}
	if h.to == nil {
		h.to, _ = wholeMatch(DefaultToPattern)
	}
	if h.timeout <= 0 {
		h.timeout = DefaultTimeout
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// callRequest is the body of a request.
type callRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// answer is the JSON body of every reply.
type answer struct {
	Status   string `json:"status,omitempty"`   // "queued"
	ActionID string `json:"actionId,omitempty"` // the Originate's ActionID
	Error    string `json:"error,omitempty"`    // what went wrong, for people
	Outcome  string `json:"outcome,omitempty"`  // "unknown": the call may have been queued
}

// ServeHTTP is the function: it refuses what it must before anything
// reaches Asterisk, then sends one Originate.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, answer{Error: "use POST"})
		return
	}
	if !h.authorized(r) {
		h.log.Warn("click-to-call unauthorized", "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="click-to-call"`)
		reply(w, http.StatusUnauthorized, answer{Error: "missing or wrong bearer token"})
		return
	}
	req, status, msg := readRequest(w, r)
	if status != 0 {
		reply(w, status, answer{Error: msg})
		return
	}
	if status, msg := h.check(req); status != 0 {
		h.log.Info("click-to-call refused", "status", status, "reason", msg)
		reply(w, status, answer{Error: msg})
		return
	}
	h.originate(w, r, req)
}

// authorized reports whether r carries the token, compared in constant
// time (the hashes make the comparison's time independent of the
// token's length too).
func (h *handler) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	const scheme = "bearer "
	if len(auth) <= len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return false
	}
	got := sha256.Sum256([]byte(auth[len(scheme):]))
	return subtle.ConstantTimeCompare(got[:], h.tokenHash[:]) == 1
}

// readRequest reads from and to from r's body, a JSON object or a form,
// of at most MaxBodyBytes. It returns a status and a message when the
// body is refused.
func readRequest(w http.ResponseWriter, r *http.Request) (callRequest, int, string) {
	var req callRequest
	if r.ContentLength > MaxBodyBytes {
		return req, http.StatusRequestEntityTooLarge, "body too large"
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mediaType {
	case "application/json":
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err = dec.Decode(&req); err == nil && dec.Decode(new(json.RawMessage)) != io.EOF {
			return req, http.StatusBadRequest, "body must be one JSON object"
		}
	case "application/x-www-form-urlencoded":
		if err = r.ParseForm(); err == nil {
			for key, values := range r.PostForm {
				if (key != "from" && key != "to") || len(values) != 1 {
					return req, http.StatusBadRequest, "form must have from and to, once each"
				}
			}
			req.From, req.To = r.PostForm.Get("from"), r.PostForm.Get("to")
		}
	default:
		return req, http.StatusUnsupportedMediaType, "send application/json or application/x-www-form-urlencoded"
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return req, http.StatusRequestEntityTooLarge, "body too large"
	}
	if err != nil {
		return req, http.StatusBadRequest, "body is not valid " + mediaType
	}
	return req, 0, ""
}

// check validates from and to: ASCII digits of bounded length first (to
// may start with "+"), so that nothing else can reach a channel name or
// an extension, then the configured patterns. A destination outside the
// allow-list is 403.
func (h *handler) check(req callRequest) (int, string) {
	if !digits(req.From, false) {
		return http.StatusBadRequest, fmt.Sprintf("from must be 1 to %d digits", MaxNumberLen)
	}
	if !digits(req.To, true) {
		return http.StatusBadRequest, fmt.Sprintf("to must be 1 to %d digits, optionally after a +", MaxNumberLen)
	}
	if !h.from.MatchString(req.From) {
		return http.StatusBadRequest, "from is not an extension of this PBX"
	}
	if !h.to.MatchString(req.To) {
		return http.StatusForbidden, "destination not allowed"
	}
	return 0, ""
}

// digits reports whether s is 1 to MaxNumberLen ASCII digits, after a
// "+" if plus allows one.
func digits(s string, plus bool) bool {
	if plus {
		s = strings.TrimPrefix(s, "+")
	}
	if s == "" || len(s) > MaxNumberLen {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// originate sends the Originate and replies with its outcome.
func (h *handler) originate(w http.ResponseWriter, r *http.Request, req callRequest) {
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	start, now := time.Now(), h.now()
	if last := h.lastUsed.Swap(now.UnixNano()); last != 0 && now.Sub(time.Unix(0, last)) > idleLimit {
		// A frozen instance may hold a connection that Asterisk has
		// closed meanwhile; an Originate written on it would end with
		// its outcome unknown.
		h.c.CloseIdleConnections()
	}
	resp, err := h.c.Originate(ctx, httpami.Originate{
		Channel:  strings.ReplaceAll(h.channel, "{from}", req.From),
		Context:  h.dialplan,
		Exten:    req.To,
		Priority: "1",
		CallerID: fmt.Sprintf("\"Call to %s\" <%s>", req.To, req.From),
		Async:    true,
	})
	if err == nil {
		h.log.Info("click-to-call queued", "from", req.From, "to", req.To, "actionId", resp.ActionID, "took", time.Since(start))
		reply(w, http.StatusAccepted, answer{Status: "queued", ActionID: resp.ActionID})
		return
	}
	a := answer{ActionID: actionID(err), Error: "asterisk failed"}
	status := http.StatusBadGateway
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		status, a.Error = http.StatusGatewayTimeout, "asterisk did not answer in time"
	case errors.Is(err, httpami.ErrAuthentication), errors.Is(err, httpami.ErrPermission):
		a.Error = "asterisk refused the function's credentials"
	default:
		if _, ok := errors.AsType[*httpami.ActionError](err); ok {
			a.Error = "asterisk refused the call"
		} else if _, ok := errors.AsType[*httpami.TransportError](err); ok && !errors.Is(err, httpami.ErrOutcomeUnknown) {
			a.Error = "asterisk could not be reached"
		}
	}
	if errors.Is(err, httpami.ErrOutcomeUnknown) {
		a.Outcome = "unknown"
		a.Error += "; the call may have been queued: do not retry blindly"
	}
	h.log.Warn("click-to-call failed", "from", req.From, "to", req.To, "status", status, "err", err)
	reply(w, status, a)
}

// actionID returns the ActionID that err's action was sent with, if any.
func actionID(err error) string {
	if e, ok := errors.AsType[*httpami.ActionError](err); ok {
		return e.ActionID
	}
	if e, ok := errors.AsType[*httpami.TransportError](err); ok {
		return e.ActionID
	}
	if e, ok := errors.AsType[*httpami.HTTPError](err); ok {
		return e.ActionID
	}
	if e, ok := errors.AsType[*httpami.ProtocolError](err); ok {
		return e.ActionID
	}
	return ""
}

// reply writes a as JSON with status.
func reply(w http.ResponseWriter, status int, a answer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

// clickToCall is the function as a platform runs it: built from the
// environment at its first invocation, then kept, with its client's
// digest nonce and connection, for every warm invocation of the same
// instance. It is package-level state on purpose: function platforms
// keep a process's globals between warm invocations, and that is how a
// function keeps anything.
var clickToCall = fromEnv(os.Getenv, slog.Default())

// ClickToCall is the click-to-call function, configured from the
// environment (see ConfigFromEnv) at its first invocation. Its signature
// is that of an http.HandlerFunc, which Google Cloud Functions
// (functions.HTTP), AWS Lambda through an HTTP adapter, Vercel and most
// function platforms take. While the configuration is missing or wrong
// (no token, say), it answers every request 503 and logs why.
func ClickToCall(w http.ResponseWriter, r *http.Request) { clickToCall(w, r) }

// fromEnv returns a handler built from getenv at its first invocation.
func fromEnv(getenv func(string) string, logger *slog.Logger) http.HandlerFunc {
	build := sync.OnceValues(func() (http.HandlerFunc, error) {
		cfg, err := ConfigFromEnv(getenv, logger)
		if err != nil {
			return nil, err
		}
		return NewHandler(cfg)
	})
	return func(w http.ResponseWriter, r *http.Request) {
		h, err := build()
		if err != nil {
			logger.Error("click-to-call is not configured", "err", err)
			reply(w, http.StatusServiceUnavailable, answer{Error: "click-to-call is not configured"})
			return
		}
		h(w, r)
	}
}
