package httpami

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/amihttp/amihttp/digest"
)

// A Client sends AMI actions to one Asterisk over its HTTP manager, in
// one manager session (with digest auth, one per request in flight at a
// time: each nonce of the digest transport is a session to Asterisk).
// It is safe for concurrent use by any number of goroutines; a long
// WaitEvent does not hold up other actions (each request in flight has
// its own connection).
type Client struct {
	cfg       Config
	base      *url.URL // the endpoint, for the cookie jar
	endpoint  string   // the endpoint URL as a string
	lineExtra int      // bytes of a GET request line besides the query
	maxBody   int
	maxResp   int64
	log       *slog.Logger
	hc        *http.Client
	rc        *retryablehttp.Client
	jar       *sessionJar // nil with Digest auth
	idPrefix  string
	seq       atomic.Uint64
	answered  atomic.Bool // an action was answered (digest: a session exists)

	mu       sync.Mutex
	gen      uint64     // logins so far; 0: not logged in
	inflight *loginCall // the Login under way, shared by all who wait
	last     *Response  // the answer to the last Login
	closed   bool

	versionCall *versionCall // the CoreSettings under way
	versionDone bool         // version and versionErr are known
	version     string
	versionErr  error

	closeOnce sync.Once
	closeErr  error
}

// loginCall is one Login exchange that every goroutine finding the
// session lost waits for.
type loginCall struct {
	done chan struct{}
	resp *Response
	err  error
}

// New returns a Client for cfg. It does no I/O: with cookie or MD5
// auth, the first action logs in (Dial logs in at once, and reports
// wrong credentials then).
func New(cfg Config) (*Client, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Encoding == "" {
		cfg.Encoding = Rawman
	}
	if cfg.Auth == "" {
		cfg.Auth = Cookie
	}
	c := &Client{cfg: cfg, maxBody: cfg.MaxBodyBytes, maxResp: cfg.MaxResponseBytes, log: cfg.Logger}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.maxResp <= 0 {
		c.maxResp = DefaultMaxResponseBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	u, _ := url.Parse(cfg.URL) // checked
	path := strings.TrimSuffix(u.Path, "/") + "/"
	if cfg.Auth == Digest {
		path += "a"
	}
	u.Path, u.RawPath = path+string(cfg.Encoding), ""
	c.base, c.endpoint = u, u.String()
	c.lineExtra = len("GET ") + len(u.EscapedPath()) + len("?") + len(" HTTP/1.1\r\n")

	base, err := cfg.roundTripper()
	if err != nil {
		return nil, err
	}
	c.hc = &http.Client{}
	if cfg.HTTPClient != nil {
		c.hc.Timeout, c.hc.CheckRedirect = cfg.HTTPClient.Timeout, cfg.HTTPClient.CheckRedirect
	}
	if cfg.Auth == Digest {
		c.hc.Transport = &digest.Transport{Username: cfg.Username, Password: cfg.Secret, Base: base, ColdStart: cfg.ColdStart, ColdStartRealm: cfg.Realm}
	} else {
		c.jar = newSessionJar()
		c.hc.Transport = base
	}
	retryMax := cfg.RetryMax
	if retryMax == 0 {
		retryMax = DefaultRetryMax
	} else if retryMax < 0 {
		retryMax = 0
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:     c.hc,
		RetryMax:       retryMax,
		RetryWaitMin:   orDefault(cfg.RetryWaitMin, DefaultRetryWaitMin),
		RetryWaitMax:   orDefault(cfg.RetryWaitMax, DefaultRetryWaitMax),
		CheckRetry:     checkRetry,
		Backoff:        backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: c.logAttempt,
		// Logger stays nil: retryablehttp would log URLs, and a GET's
		// query holds the action's values.
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	c.idPrefix = hex.EncodeToString(b[:]) + "-"
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// roundTripper returns the transport under the Client's auth layer.
func (c *Config) roundTripper() (http.RoundTripper, error) {
	var rt http.RoundTripper
	switch {
	case c.Transport != nil:
		rt = c.Transport
	case c.HTTPClient != nil && c.HTTPClient.Transport != nil:
		rt = c.HTTPClient.Transport
	default:
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.IdleConnTimeout = DefaultIdleConnTimeout
		t.MaxIdleConnsPerHost = 64
		if c.TLSConfig != nil {
			t.TLSClientConfig = c.TLSConfig.Clone()
		}
		return t, nil
	}
	if c.TLSConfig != nil {
		t, ok := rt.(*http.Transport)
		if !ok {
			return nil, errors.New("httpami: TLSConfig needs the default transport or an *http.Transport")
		}
		t = t.Clone()
		t.TLSClientConfig = c.TLSConfig.Clone()
		rt = t
	}
	return rt, nil
}

// Dial parses rawURL (see ParseURL), makes a Client and logs in, so that
// wrong credentials or an unreachable server are reported at once. With
// digest auth it sends a Ping, which needs no Login.
func Dial(ctx context.Context, rawURL string) (*Client, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := c.Login(ctx); err != nil {
		c.hc.CloseIdleConnections()
		return nil, err
	}
	return c, nil
}

// Login logs in now and returns Asterisk's answer, with the events
// Asterisk put beside it (FullyBooted, with Config.Events set) in
// Response.Other. The Client logs in by itself when it needs to; Login
// is for callers who want to know at once that the credentials work.
// If other goroutines are logging in at the same time, it waits for
// their Login rather than sending another. With digest auth it sends a
// Ping, which checks the credentials.
func (c *Client) Login(ctx context.Context) (*Response, error) {
	if c.jar == nil {
		return c.Do(ctx, Action{Name: "Ping"})
	}
	c.mu.Lock()
	g := c.gen
	c.mu.Unlock()
	return c.heal(ctx, g)
}

// Config returns a copy of the configuration c was made with, its
// defaults filled in (Encoding, Auth), the Secret included, as pgx's
// Conn.Config does. New(c.Config()) makes a Client with the same
// settings and a session of its own, which is how package poller gets
// the WaitEvent session it keeps apart from c's.
func (c *Client) Config() Config { return c.cfg }

// Generation counts the logins of the Client's session: it changes
// when the Client logged in again because the session was lost, which
// tells a caller that the session's state (queued events, filters,
// event mask) was lost with it. It is 0 before the first Login, and
// stays 0 with digest auth, whose sessions Asterisk renews silently.
func (c *Client) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Close logs off, forgets the session and closes idle connections.
// ctx bounds the Logoff; the rest happens anyway. Close may be called
// more than once; only the first call does anything, and later
// actions return ErrClosed.
func (c *Client) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		loggedIn := c.gen > 0
		c.mu.Unlock()
		var live bool // a session to log off
		if c.jar == nil {
			live = c.answered.Load()
		} else {
			live = loggedIn && c.jar.current() != ""
		}
		if live {
			r, err := encode(&Action{Name: "Logoff"}, c.nextID, c.maxBody, 0)
			if err == nil {
				_, err = c.send(ctx, r, &attempt{})
			}
			c.closeErr = err
		}
		if c.jar != nil {
			c.jar.forget(c.base)
		}
		c.hc.CloseIdleConnections()
	})
	return c.closeErr
}

// CloseIdleConnections closes the connections kept alive and now idle,
// as http.Client's method does. Requests in flight are not touched.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// nextID returns a new ActionID, unique to this Client.
func (c *Client) nextID() string {
	var b [48]byte
	return string(strconv.AppendUint(append(b[:0], c.idPrefix...), c.seq.Add(1), 10))
}

// Action sends the action name with parameters as key, value pairs; see
// NewAction and Do.
func (c *Client) Action(ctx context.Context, name string, keyvals ...string) (*Response, error) {
	return c.Do(ctx, NewAction(name, keyvals...))
}

// Do sends a and returns Asterisk's answer. An action that fails the
// catalog's check (see Config.Validate) is refused first, with an
// *InvalidActionError that wraps the *actions.ValidationError. A "Response: Error" answer
// is returned together with an *ActionError. A lost session is
// healed by one Login shared with every other goroutine that found it
// lost, and a is then sent once more: Asterisk refused it without
// running it. See the package documentation for what is retried.
func (c *Client) Do(ctx context.Context, a Action) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lineExtra := 0
	if c.cfg.Get {
		lineExtra = c.lineExtra
	}
	x := new(struct { // one allocation for the call's state
		r  request
		st attempt
	})
	r, st := &x.r, &x.st
	if err := r.encode(&a, c.nextID, c.maxBody, lineExtra); err != nil {
		return nil, err
	}
	if err := c.validate(ctx, &a); err != nil {
		return nil, err
	}
	renewed := false
	for {
		gen, err := c.session(ctx)
		if err != nil {
			return nil, err
		}
		*st = attempt{}
		resp, err := c.send(ctx, r, st)
		if err != nil {
			return nil, err
		}
		resp.Renewed = renewed
		if !c.lost(resp, st) {
			return resp, resp.err()
		}
		if renewed {
			return resp, fmt.Errorf("%w: %s (ActionID %s) refused again after a new Login", ErrSessionLost, r.name, r.actionID)
		}
		c.log.Warn("httpami: session lost, logging in again", "action", r.name, "actionid", r.actionID)
		if _, err := c.heal(ctx, gen); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSessionLost, err)
		}
		renewed = true
	}
}

// session returns the session generation to send with, logging in
// first if the Client never did or its cookie expired.
func (c *Client) session(ctx context.Context) (uint64, error) {
	c.mu.Lock()
	g, closed := c.gen, c.closed
	c.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	if c.jar == nil || (g > 0 && c.jar.current() != "") {
		return g, nil
	}
	if _, err := c.heal(ctx, g); err != nil {
		if g > 0 {
			err = fmt.Errorf("%w: %w", ErrSessionLost, err)
		}
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, nil
}

// heal logs in unless someone did since generation seen, sharing one
// Login among every goroutine that calls it meanwhile.
func (c *Client) heal(ctx context.Context, seen uint64) (*Response, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		if c.gen != seen && c.gen > 0 {
			last := c.last
			c.mu.Unlock()
			return last, nil
		}
		call := c.inflight
		if call == nil {
			call = &loginCall{done: make(chan struct{})}
			c.inflight = call
			c.mu.Unlock()
			call.resp, call.err = c.login(ctx)
			if call.err == nil {
				c.mu.Lock()
				c.gen++
				c.last = call.resp
				c.mu.Unlock()
				call.err = c.afterLogin(ctx)
			}
			c.mu.Lock()
			c.inflight = nil
			c.mu.Unlock()
			close(call.done)
			return call.resp, call.err
		}
		c.mu.Unlock()
		if ctx.Value(afterLoginKey{}) == call {
			// An action of AfterLogin found the new session lost: the
			// Login it runs after cannot be waited for.
			return nil, errors.New("httpami: session lost during AfterLogin")
		}
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if call.err == nil {
			return call.resp, nil
		}
		if ctx.Err() == nil && (errors.Is(call.err, context.Canceled) || errors.Is(call.err, context.DeadlineExceeded)) {
			continue // the leader gave up on its own context: try ourselves
		}
		return nil, call.err
	}
}

// afterLoginKey marks the context of Config.AfterLogin with the Login
// it follows.
type afterLoginKey struct{}

// afterLogin runs Config.AfterLogin after a Login; if it fails, the new
// session is forgotten, so that the next action logs in again.
func (c *Client) afterLogin(ctx context.Context) error {
	hook := c.cfg.AfterLogin
	if hook == nil {
		return nil
	}
	c.mu.Lock()
	call := c.inflight
	c.mu.Unlock()
	if err := hook(context.WithValue(ctx, afterLoginKey{}, call), c); err != nil {
		c.jar.forget(c.base)
		c.log.Warn("httpami: AfterLogin failed; the next action logs in again", "err", err)
		return err
	}
	return nil
}

// login runs the Login exchange of cookie or MD5 auth, and adopts its
// session cookie.
func (c *Client) login(ctx context.Context) (*Response, error) {
	st := &attempt{login: true}
	params := []string{"Username", c.cfg.Username}
	if c.cfg.Auth == MD5 {
		r, err := encode(&Action{Name: "Challenge", Params: NewAction("", "AuthType", "MD5").Params}, c.nextID, c.maxBody, 0)
		if err != nil {
			return nil, err
		}
		ch, err := c.send(ctx, r, st)
		if err != nil {
			return nil, err
		}
		if err := ch.err(); err != nil {
			return nil, err
		}
		if st.setCookie == nil {
			return nil, &ProtocolError{Action: "Challenge", ActionID: r.actionID, Reason: "answer without a session cookie"}
		}
		sum := md5.Sum([]byte(ch.Get("Challenge") + c.cfg.Secret))
		params = append(params, "AuthType", "MD5", "Key", hex.EncodeToString(sum[:]))
		st = &attempt{login: true, cookie: st.setCookie}
	} else {
		params = append(params, "Secret", c.cfg.Secret)
	}
	if c.cfg.Events != "" {
		params = append(params, "Events", c.cfg.Events)
	}
	a := NewAction("Login", params...)
	a.Idempotent = true // a Login without a session cookie starts a new session
	r, err := encode(&a, c.nextID, c.maxBody, 0)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, r, st)
	if err != nil {
		return nil, err
	}
	if err := resp.err(); err != nil {
		return resp, err
	}
	if st.setCookie == nil {
		return nil, &ProtocolError{Action: "Login", ActionID: r.actionID, Reason: "answer without a session cookie"}
	}
	c.jar.adopt(c.base, st.setCookie)
	c.log.Debug("httpami: logged in", "username", c.cfg.Username)
	return resp, nil
}

// lost reports whether resp is Asterisk's answer to a request that ran
// on a new session because the Client's was gone: "Permission denied"
// with a session cookie other than the one sent (spec §2.4). A real
// permission error keeps the session's cookie.
func (c *Client) lost(resp *Response, st *attempt) bool {
	if c.jar == nil || !strings.EqualFold(resp.Answer.Response(), "Error") || resp.Answer.Get("Message") != msgPermissionDenied {
		return false
	}
	return st.sent == "" || st.setID == "" || st.setID != st.sent
}

// send sends r (with retries as the policy allows) and decodes the
// answer. st tracks the attempts.
func (c *Client) send(ctx context.Context, r *request, st *attempt) (*Response, error) {
	st.name, st.actionID, st.safe, st.maxBody = r.name, r.actionID, r.safe, c.maxResp
	st.jar, st.base = c.jar, c.base
	ctx = context.WithValue(ctx, attemptKey{}, st)
	var (
		rq  *retryablehttp.Request
		err error
	)
	if c.cfg.Get && !st.login {
		rq, err = retryablehttp.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+"?"+string(r.form), nil)
	} else {
		rq, err = retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, r.form)
		if err == nil {
			rq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, &InvalidActionError{Action: r.name, Reason: "cannot build the request"}
	}
	if c.jar != nil {
		var cookie string
		cookie, st.sent = c.jar.cookieHeader(c.base, st.cookie, st.login)
		if cookie != "" {
			rq.Header.Set("Cookie", cookie)
		}
	}
	if r.safe {
		// Lets net/http resend it on a keep-alive connection that the
		// server closed just as it was written (the header is not sent).
		rq.Header["Idempotency-Key"] = nil
	}
	rq.SetResponseHandler(readAnswer)
	resp, err := c.rc.Do(rq)
	if resp != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, c.transportError(ctx, r, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Action: r.name, ActionID: r.actionID, StatusCode: resp.StatusCode, Status: resp.Status,
			MaybeRun: resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && !r.safe}
	}
	if !st.read200 {
		// The answer came after the last retry the policy wanted: read it.
		if err := st.read(resp); err != nil {
			return nil, c.transportError(ctx, r, err)
		}
	}
	c.answered.Store(true)
	return c.decode(r, st.body)
}

// readAnswer is the response handler of every attempt: the attempt's
// read. (A function, not the method value st.read, saves an allocation
// per action.)
func readAnswer(resp *http.Response) error {
	return attemptFrom(resp.Request.Context()).read(resp)
}

// read is the response handler of every attempt: it reads a 200
// answer's body whole (the decoded messages share it) and notes the
// session cookie; it discards other bodies.
func (st *attempt) read(resp *http.Response) error {
	defer resp.Body.Close()
	st.setCookie, st.setID, st.read200, st.body = nil, "", false, nil
	if st.jar != nil {
		values := resp.Header.Values("Set-Cookie")
		if id, age, ok := st.jar.sessionCookie(values); ok && (st.jar.refresh(id, age) || id == "") && !st.login {
			st.setID = id // the usual answer: the session goes on
		} else if cookies := resp.Cookies(); len(cookies) > 0 {
			st.setCookie = st.jar.setCookies(st.base, cookies)
			if st.setCookie != nil {
				st.setID = st.setCookie.Value
			}
		}
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	st.read200 = true
	if resp.ContentLength > st.maxBody {
		return errTooLarge
	}
	var b []byte
	var err error
	if resp.ContentLength >= 0 {
		b = make([]byte, resp.ContentLength)
		_, err = io.ReadFull(resp.Body, b)
	} else {
		b, err = io.ReadAll(io.LimitReader(resp.Body, st.maxBody+1))
		if err == nil && int64(len(b)) > st.maxBody {
			err = errTooLarge
		}
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return &readError{err}
	}
	st.body = b
	return nil
}

var errTooLarge = errors.New("answer over MaxResponseBytes")

// readError is a failure to read an answer's body.
type readError struct{ err error }

func (e *readError) Error() string { return "reading the answer: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func (c *Client) transportError(ctx context.Context, r *request, err error) error {
	if err == errTooLarge {
		return &ProtocolError{Action: r.name, ActionID: r.actionID, Reason: fmt.Sprintf("body over %d bytes", c.maxResp), MaybeRun: !r.safe, kind: ErrResponseTooLarge}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message quotes the URL
	}
	if ctxErr := context.Cause(ctx); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return &TransportError{Action: r.name, ActionID: r.actionID, Err: err, MaybeRun: !r.safe && !neverSent(err)}
}

// checkRetry is the retry policy (see the package documentation):
// anything may be sent again when the connection was refused; read-only
// and idempotent actions also after other connection errors, a body cut
// short, and 5xx answers.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := attemptFrom(ctx)
	if ctx.Err() != nil || st == nil {
		return false, nil
	}
	if err != nil {
		if err == errTooLarge || isCertError(err) {
			return false, nil
		}
		return neverSent(err) || st.safe, nil
	}
	if resp.StatusCode == http.StatusUnauthorized {
		// A digest nonce that went stale again while the digest
		// Transport answered its first stale challenge (several
		// rotations in a row): Asterisk checks credentials before it
		// runs anything, so any action may be sent again.
		return staleChallenge(resp), nil
	}
	return resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && st.safe, nil
}

// staleChallenge reports whether a 401 says only that the nonce was
// stale, not that the credentials are wrong.
func staleChallenge(resp *http.Response) bool {
	chs, _ := digest.ParseChallenges(resp.Header.Values("Www-Authenticate")...)
	for _, ch := range chs {
		if ch.Stale {
			return true
		}
	}
	return false
}

// neverSent reports whether err proves that the request never reached
// the server: the connection could not be made.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func isCertError(err error) bool {
	var v *tls.CertificateVerificationError
	var u x509.UnknownAuthorityError
	var h x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &v) || errors.As(err, &u) || errors.As(err, &h) || errors.As(err, &ci)
}

// backoff is exponential from min, capped at max, with jitter over the
// upper half so that clients that failed together do not retry together.
func backoff(minWait, maxWait time.Duration, n int, _ *http.Response) time.Duration {
	d := maxWait
	if n < 30 && minWait<<n < maxWait && minWait<<n > 0 {
		d = minWait << n
	}
	return d/2 + mrand.N(d/2+1)
}

func (c *Client) logAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	st := attemptFrom(req.Context())
	if st == nil {
		return
	}
	st.tries = i + 1
	if i == 0 {
		if !c.log.Enabled(req.Context(), slog.LevelDebug) {
			return
		}
		c.log.Debug("httpami: sending", "action", st.name, "actionid", st.actionID)
		return
	}
	c.log.Warn("httpami: sending again", "action", st.name, "actionid", st.actionID, "attempt", i+1)
}
