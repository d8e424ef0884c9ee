package httpami

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/amihttp/amihttp/httpami/actions"
)

// Encoding is the body format of the manager endpoint the Client uses.
type Encoding string

// The encodings of Asterisk's HTTP manager that carry AMI messages.
const (
	// Rawman is the classic "Key: Value" text of /rawman and /arawman:
	// lossless, and the default.
	Rawman Encoding = "rawman"
	// MXML is the <ajax-response> XML of /mxml and /amxml, for
	// networks that only let XML through. It loses what spec §4.3 says.
	MXML Encoding = "mxml"
)

// Auth is how the Client authenticates.
type Auth string

// The authentication modes.
const (
	// Cookie logs in with the Login action and its Secret, then keeps
	// the session's mansession_id cookie (/rawman, /mxml). The default.
	Cookie Auth = "cookie"
	// MD5 is Cookie with Challenge and an MD5 Key in place of the
	// Secret, which then never crosses the network.
	MD5 Auth = "md5"
	// Digest signs every request with HTTP digest authentication
	// (/arawman, /amxml): no Login, no cookie, one round trip per request
	// once a nonce is known. Asterisk applies no manager.conf eventfilter
	// to digest sessions.
	Digest Auth = "digest"
)

// Validation is what the Client does with an action that the catalog of
// package actions says Asterisk would refuse or misread: a required
// parameter missing, a parameter the action does not have, or an action
// the server's version does not have.
type Validation string

// The validation modes.
const (
	// ValidateRefuse fails the action with an *InvalidActionError before
	// any request. The default.
	ValidateRefuse Validation = "refuse"
	// ValidateWarn logs a warning and sends the action all the same.
	ValidateWarn Validation = "warn"
	// ValidateOff sends every action unchecked.
	ValidateOff Validation = "off"
)

// Defaults of Config.
const (
	DefaultRetryMax         = 3
	DefaultRetryWaitMin     = 50 * time.Millisecond
	DefaultRetryWaitMax     = 2 * time.Second
	DefaultMaxResponseBytes = 64 << 20
	// DefaultMaxBodyBytes is Asterisk's limit on a POST body since
	// 16.3.0 (13.x takes 4096).
	DefaultMaxBodyBytes = 40960
	// DefaultIdleConnTimeout is under Asterisk's 15 s keep-alive, so
	// that a request is never written to a connection Asterisk is
	// closing.
	DefaultIdleConnTimeout = 10 * time.Second
)

// Limits of Asterisk's HTTP manager (spec §1.5, §1.6, §6.3).
const (
	// MaxParams is the number of parameters Asterisk passes to an
	// action; it drops the rest silently.
	MaxParams = 128
	// MaxRequestLine is the longest request line Asterisk reads (GET).
	MaxRequestLine = 4095
)

// Config configures a Client. The zero value of every field but URL and
// the credentials is a sensible default. A Config is copied by New and
// may be reused.
type Config struct {
	// URL is the base of the manager endpoints: scheme (http or https),
	// host, port and http.conf prefix, such as "http://pbx:8088" or
	// "https://pbx:8089/asterisk". The Client appends /rawman, /mxml,
	// /arawman or /amxml. It must not hold credentials or a query:
	// ParseURL moves those into the other fields.
	URL string

	// Username and Secret are those of a manager.conf user. With Digest
	// auth, Username must be spelled as in manager.conf.
	Username string
	Secret   string

	Encoding Encoding // "" means Rawman
	Auth     Auth     // "" means Cookie

	// Events is the Login action's Events parameter (an event mask such
	// as "on", "off" or "call,user"); "" sends none. It matters for the
	// events a session's WaitEvent returns (spec §5.5).
	Events string

	// ColdStart, with Digest auth, signs the very first request with a
	// nonce the Client makes up, which Asterisk accepts (spec §3.4): one
	// round trip even for the first action of a process, as a serverless
	// function wants. See digest.Transport.ColdStart.
	ColdStart bool
	// Realm is the digest realm ColdStart signs with: asterisk.conf's
	// systemname when it is set, which Asterisk uses as its realm; ""
	// means Asterisk's default, "asterisk". A wrong realm costs the
	// challenge ColdStart saves, nothing more.
	Realm string

	// Validate says what to do with an action that fails the check of
	// actions.Validate; "" means ValidateRefuse. Actions the catalog does
	// not know (those of custom modules) are never refused.
	Validate Validation
	// AsteriskVersion is the server's version, such as "23.4.1", for the
	// validation. When it is empty and the verdict on an action depends
	// on the version (see actions.VersionDependent), the Client asks
	// once with CoreSettings; most actions never need it.
	AsteriskVersion string

	// Get sends actions as GET with a query string in place of POST with
	// a form body. Values then appear in URLs, proxies and access logs,
	// and a request line is limited to 4095 bytes; Login and Challenge
	// are always POSTed.
	Get bool

	// HTTPClient, if set, sends the requests: its Transport, Timeout and
	// CheckRedirect are used; its Jar is not (the Client keeps its own
	// session cookie). Set either HTTPClient or Transport.
	HTTPClient *http.Client
	// Transport, if set, is the RoundTripper under the Client's own
	// session handling.
	Transport http.RoundTripper
	// TLSConfig configures TLS for the default transport (or a
	// caller's *http.Transport, which is then cloned). Certificates are
	// verified unless it says otherwise.
	TLSConfig *tls.Config

	// AfterLogin, if set, is called after every Login of cookie or MD5
	// auth (the first, and each one after a lost session), before the
	// action that needed it is sent (again), and before the other
	// goroutines that found the session lost send theirs; an action
	// begun meanwhile by another goroutine may run first. It is the
	// place to restore what belongs to a session, such as the filters
	// that the Filter action adds, as pgx's AfterConnect sets up a
	// connection. It may send actions
	// with c. If it fails, the Client forgets the new session (the next
	// action logs in again) and the action fails with its error. It is
	// never called with digest auth, whose sessions Asterisk renews
	// without a word.
	AfterLogin func(ctx context.Context, c *Client) error

	// Logger receives debug logs of each attempt and warnings about
	// retries and re-logins; nil discards them. Secrets never appear.
	Logger *slog.Logger

	// RetryMax is how many times a request is sent again when the retry
	// policy allows it (see the package documentation); 0 means
	// DefaultRetryMax, negative means never.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff
	// between attempts, which has jitter; 0 means the defaults.
	RetryWaitMin, RetryWaitMax time.Duration

	// MaxResponseBytes bounds an answer's body; 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MaxBodyBytes bounds a POST body, as Asterisk does; 0 means
	// DefaultMaxBodyBytes. Set 4096 for Asterisk 13.
	MaxBodyBytes int
}

// String describes c without its Secret.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "httpami.Config{URL: %q, Username: %q, Secret: %s, Encoding: %q, Auth: %q", c.URL, c.Username, redacted(c.Secret), c.Encoding, c.Auth)
	if c.Events != "" {
		fmt.Fprintf(&b, ", Events: %q", c.Events)
	}
	if c.Get {
		b.WriteString(", Get: true")
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v hides the Secret too.
func (c Config) GoString() string { return c.String() }

// LogValue logs c without its Secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", c.URL),
		slog.String("username", c.Username),
		slog.String("secret", redacted(c.Secret)),
		slog.String("encoding", string(c.Encoding)),
		slog.String("auth", string(c.Auth)),
	)
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "REDACTED"
}

// ParseURL parses the URL form of a Config, which fits in one
// environment variable:
//
//	http[s]://user:secret@host[:port][/prefix][?encoding=rawman|mxml&auth=cookie|md5|digest&events=mask&method=post|get&coldstart=true&realm=systemname&validate=refuse|warn|off&version=23.4.1]
//
// The path is http.conf's prefix. Username and secret are
// percent-decoded. Unknown query parameters are an error, so that a
// misspelling does not go unnoticed. The error never quotes the secret.
func ParseURL(rawURL string) (Config, error) {
	var c Config
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the URL, secret included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return c, fmt.Errorf("httpami: invalid URL: %w", err)
	}
	if u.Fragment != "" {
		return c, errors.New("httpami: invalid URL: no fragment allowed")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Secret, _ = u.User.Password()
	}
	q := u.Query()
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch strings.ToLower(k) {
		case "encoding":
			c.Encoding = Encoding(strings.ToLower(v))
		case "auth":
			c.Auth = Auth(strings.ToLower(v))
		case "events":
			c.Events = v
		case "coldstart":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("httpami: invalid URL: coldstart=%q", v)
			}
			c.ColdStart = b
		case "realm":
			c.Realm = v
		case "validate":
			c.Validate = Validation(strings.ToLower(v))
		case "version":
			c.AsteriskVersion = v
		case "method":
			switch strings.ToLower(v) {
			case "get":
				c.Get = true
			case "post", "":
			default:
				return c, fmt.Errorf("httpami: invalid URL: method=%q, want post or get", v)
			}
		default:
			return c, fmt.Errorf("httpami: invalid URL: unknown parameter %q", k)
		}
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	c.URL = base.String()
	return c, c.check()
}

// check validates a Config and returns its base URL.
func (c *Config) check() error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("httpami: invalid Config.URL: %w", errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("httpami: invalid Config.URL: scheme %q, want http or https", u.Scheme)
	case u.Host == "":
		return errors.New("httpami: invalid Config.URL: no host")
	case u.User != nil:
		return errors.New("httpami: invalid Config.URL: credentials belong in Username and Secret")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("httpami: invalid Config.URL: no query or fragment allowed")
	}
	switch c.Encoding {
	case "", Rawman, MXML:
	default:
		return fmt.Errorf("httpami: invalid encoding %q, want rawman or mxml", c.Encoding)
	}
	switch c.Auth {
	case "", Cookie, MD5, Digest:
	default:
		return fmt.Errorf("httpami: invalid auth %q, want cookie, md5 or digest", c.Auth)
	}
	switch c.Validate {
	case "", ValidateRefuse, ValidateWarn, ValidateOff:
	default:
		return fmt.Errorf("httpami: invalid validate %q, want refuse, warn or off", c.Validate)
	}
	if c.AsteriskVersion != "" {
		if _, ok := actions.ParseVersion(c.AsteriskVersion); !ok {
			return fmt.Errorf("httpami: invalid AsteriskVersion %q, want a number such as 23.4.1", c.AsteriskVersion)
		}
	}
	if c.Username == "" {
		return errors.New("httpami: no Username")
	}
	if strings.ContainsAny(c.Username, "\r\n") || strings.ContainsAny(c.Events, "\r\n") {
		return errors.New("httpami: CR or LF in Username or Events")
	}
	if c.HTTPClient != nil && c.Transport != nil {
		return errors.New("httpami: set HTTPClient or Transport, not both")
	}
	return nil
}
