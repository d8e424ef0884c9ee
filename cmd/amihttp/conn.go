package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
)

// envURL is the environment variable that names the Asterisk to talk to
// when --url is not given.
const envURL = "AMIHTTP_URL"

// fromEnv is the default of --url of the commands that read envURL.
const fromEnv = "$" + envURL

// defaultTimeout bounds each action unless --timeout says otherwise.
const defaultTimeout = 30 * time.Second

// connFlagNames are the flags that every command talking to Asterisk
// takes; help lists them apart.
var connFlagNames = []string{"url", "timeout", "verbose", "v", "cacert"}

// connFlags are the connection flags of a command.
type connFlags struct {
	url     string
	timeout time.Duration
	verbose bool
	cacert  string
}

// register adds the connection flags to fs; urlDefault says what a
// missing --url means.
func (f *connFlags) register(fs *flag.FlagSet, urlDefault string) {
	fs.StringVar(&f.url, "url", "", "Asterisk's HTTP manager as `URL` http[s]://user:secret@host[:port][/prefix][?encoding=…&auth=…];\nthe default is "+urlDefault)
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout, "how long each action may take, as a `duration`")
	fs.BoolVar(&f.verbose, "verbose", false, "log the client's requests (debug level) to stderr")
	fs.BoolVar(&f.verbose, "v", false, "log the client's requests (debug level) to stderr")
	fs.StringVar(&f.cacert, "cacert", "", "trust the PEM certificates in `file` for https (such as the one 'amihttp fake --tls' writes)")
}

// config returns the client configuration the flags and the environment
// give. A missing or malformed URL is a usage error.
func (f *connFlags) config(e *env) (httpami.Config, error) {
	raw, from := f.url, "--url"
	if raw == "" {
		raw, from = e.getenv(envURL), envURL
	}
	if raw == "" {
		return httpami.Config{}, usagef("no Asterisk to talk to: give --url or set %s (such as http://user:secret@127.0.0.1:8088/)", envURL)
	}
	return f.parse(e, raw, from)
}

// parse returns the client configuration of the URL raw, taken from the
// flag or variable from, and of the other flags.
func (f *connFlags) parse(e *env, raw, from string) (httpami.Config, error) {
	if f.timeout <= 0 {
		return httpami.Config{}, usagef("--timeout must be positive, not %v", f.timeout)
	}
	cfg, err := httpami.ParseURL(raw)
	if err != nil { // ParseURL never quotes the secret
		return cfg, &usageError{fmt.Errorf("%s: %w", from, err)}
	}
	if f.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if f.cacert != "" {
		pem, err := os.ReadFile(f.cacert)
		if err != nil {
			return cfg, &usageError{fmt.Errorf("--cacert: %w", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return cfg, usagef("--cacert: no PEM certificate in %s", f.cacert)
		}
		cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// client returns a Client made from the flags, which does no I/O yet.
func (f *connFlags) client(e *env) (*httpami.Client, error) {
	cfg, err := f.config(e)
	if err != nil {
		return nil, err
	}
	return httpami.New(cfg)
}

// closeClient closes c, bounding its Logoff by a few seconds even when ctx
// has ended (Ctrl-C).
func closeClient(ctx context.Context, c *httpami.Client) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// parseKV splits "Key=Value" at the first '='. The key must not be empty.
func parseKV(s string) (rawman.Field, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return rawman.Field{}, fmt.Errorf("%q is not Key=Value", s)
	}
	return rawman.Field{Key: k, Value: v}, nil
}

// kvFlag is a repeatable flag of Key=Value pairs.
type kvFlag []rawman.Field

// String returns the pairs as given, for the flag package.
func (f *kvFlag) String() string {
	if f == nil {
		return ""
	}
	s := make([]string, len(*f))
	for i, kv := range *f {
		s[i] = kv.Key + "=" + kv.Value
	}
	return strings.Join(s, " ")
}

// Set adds one Key=Value pair.
func (f *kvFlag) Set(s string) error {
	kv, err := parseKV(s)
	if err != nil {
		return err
	}
	*f = append(*f, kv)
	return nil
}

// listFlag is a repeatable flag of strings.
type listFlag []string

// String returns the values given, for the flag package.
func (f *listFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(*f, " ")
}

// Set adds one value.
func (f *listFlag) Set(s string) error {
	*f = append(*f, s)
	return nil
}

// countingTransport counts the HTTP round trips of a Client, for the
// demo's per-step counts.
type countingTransport struct {
	base *http.Transport
	n    atomic.Int64
}

// newCountingTransport returns a counting transport with the settings the
// Client's default transport has (idle connections closed within
// Asterisk's 15 s keep-alive) and tlsConf.
func newCountingTransport(tlsConf *tls.Config) *countingTransport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.IdleConnTimeout = httpami.DefaultIdleConnTimeout
	if tlsConf != nil {
		base.TLSClientConfig = tlsConf.Clone()
	}
	return &countingTransport{base: base}
}

// RoundTrip counts the request and sends it.
func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport.
func (t *countingTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// interrupted reports whether ctx ended (by a signal, or by the test
// that ran the command).
func interrupted(ctx context.Context) bool { return ctx.Err() != nil }
