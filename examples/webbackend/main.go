// Command webbackend is a web page of an Asterisk's live channels,
// kept current over Server-Sent Events, with a form that places a call.
//
// One httpami.Client and one poller.Poller serve every browser: the
// poller's call events update a list of live channels, which a hub fans
// out to each browser's event stream with a bounded buffer, so that a
// slow browser never holds up the others. The list is rebuilt from
// CoreShowChannels at start and after every gap in the events.
//
// Placing calls from a web page is how PBXs get robbed (toll fraud), so
// the server binds 127.0.0.1 by default and answers only to loopback
// host names, and /originate requires a token, a same-origin request,
// extensions of a strict charset that an allow-list accepts, and stays
// under a rate limit. The page renders data only as text and runs under
// a Content-Security-Policy without inline script.
//
// Usage:
//
//	cd examples && go run ./webbackend [-addr 127.0.0.1:8081] [-allow '100|200|300']
//
// then open http://127.0.0.1:8081/. Without AMIHTTP_URL it runs against
// an in-process fake Asterisk; see README.md.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/amihttp/amihttp/examples/internal/pbx"
	"github.com/amihttp/amihttp/httpami"
)

// Environment variables read by the command. The token is read from the
// environment only: a flag would show it in ps.
const (
	envToken   = "WEBBACKEND_TOKEN"
	envAddr    = "WEBBACKEND_ADDR"
	envAllow   = "WEBBACKEND_ALLOW"
	envChannel = "WEBBACKEND_CHANNEL"
	envContext = "WEBBACKEND_CONTEXT"
)

// Defaults of the settings.
const (
	defaultAddr      = "127.0.0.1:8081"
	defaultAllow     = "100|200|300" // the fake's test extensions
	defaultChannel   = "Local/{from}@test"
	defaultContext   = "test"
	defaultBuffer    = 1024
	defaultKeepalive = 15 * time.Second
	defaultBurst     = 5
	defaultRefill    = 10 * time.Second
	minTokenLen      = 16
	shutdownTimeout  = 10 * time.Second
)

// config holds the command's settings.
type config struct {
	Addr   string // where to listen
	Public bool   // allow a non-loopback Addr and any Host header

	Token          string // the token /originate requires
	TokenGenerated bool   // Token was made up at start, to be shown once

	Allow     *regexp.Regexp // anchored: extensions that may be called or call
	AllowText string         // the allow-list as given
	Channel   string         // the caller's channel, {from} replaced
	Context   string         // the dialplan context of the destination

	Buffer    int           // SSE frames a browser may fall behind
	Keepalive time.Duration // SSE keep-alive comment period
	Burst     int           // calls placed at once at most
	Refill    time.Duration // then one per Refill
}

// parseConfig reads the flags in args, with defaults from the
// environment (getenv), and checks them. The error never quotes the
// token.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	envOr := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	cfg := config{
		Buffer:    defaultBuffer,
		Keepalive: defaultKeepalive,
		Burst:     defaultBurst,
		Refill:    defaultRefill,
	}
	fs := flag.NewFlagSet("webbackend", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", envOr(envAddr, defaultAddr), "address to listen on (env "+envAddr+")")
	fs.BoolVar(&cfg.Public, "public", false, "allow listening on a non-loopback address and any Host name")
	fs.StringVar(&cfg.AllowText, "allow", envOr(envAllow, defaultAllow), "regular expression that every extension of a call must match whole (env "+envAllow+")")
	fs.StringVar(&cfg.Channel, "channel", envOr(envChannel, defaultChannel), "the caller's channel, {from} replaced by the form's from (env "+envChannel+")")
	fs.StringVar(&cfg.Context, "context", envOr(envContext, defaultContext), "dialplan context of the destination (env "+envContext+")")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("webbackend: unexpected arguments %q", fs.Args())
	}

	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return config{}, fmt.Errorf("webbackend: -addr: %w", err)
	}
	if !cfg.Public && !isLoopback(host) {
		return config{}, fmt.Errorf("webbackend: -addr %s is not a loopback address: anyone who reaches it could watch calls; give -public to mean it", cfg.Addr)
	}
	re, err := regexp.Compile(`^(?:` + cfg.AllowText + `)$`)
	if err != nil {
		return config{}, fmt.Errorf("webbackend: -allow: %w", err)
	}
	cfg.Allow = re
	if !strings.Contains(cfg.Channel, "{from}") || strings.ContainsAny(cfg.Channel, "\r\n") {
		return config{}, fmt.Errorf("webbackend: -channel %q must contain {from} and no line break", cfg.Channel)
	}
	if cfg.Context == "" || strings.ContainsAny(cfg.Context, "\r\n") {
		return config{}, errors.New("webbackend: -context must be a context name")
	}
	cfg.Token = getenv(envToken)
	switch {
	case cfg.Token == "":
		cfg.Token = rand.Text()
		cfg.TokenGenerated = true
	case len(cfg.Token) < minTokenLen:
		return config{}, fmt.Errorf("webbackend: %s must be at least %d characters long", envToken, minTokenLen)
	}
	return cfg, nil
}

// isLoopback reports whether host is a loopback address or localhost;
// an empty host (every interface) is not.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// main reads the settings, listens, and runs until SIGINT or SIGTERM.
func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		logger.Error("listen", "err", err)
		os.Exit(1)
	}
	if err := run(ctx, cfg, ln, os.Stdout, logger); err != nil {
		logger.Error("webbackend", "err", err)
		os.Exit(1)
	}
}

// run serves the web backend on ln until ctx ends, then shuts down:
// the HTTP server stops accepting, the event streams end, the poller
// and the client log off, and the fake Asterisk (if one was started)
// closes. The token, if it was made up, is written once to stdout.
func run(ctx context.Context, cfg config, ln net.Listener, stdout io.Writer, logger *slog.Logger) error {
	defer ln.Close()
	if cfg.Public {
		logger.Warn("listening beyond loopback (-public): put it behind TLS and keep the token secret", "addr", ln.Addr())
	}
	amiURL, release := pbx.URL("", logger)
	defer release()
	client, err := dial(ctx, amiURL, logger)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = client.Close(cctx)
	}()
	b, err := newBackend(ctx, client, cfg, logger)
	if err != nil {
		return fmt.Errorf("webbackend: starting the poller: %w", err)
	}
	defer b.Close()

	srv := &http.Server{
		Handler:           b.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// No WriteTimeout: it would cut the event streams, whose every
		// write has a deadline of its own.
	}
	// Shutdown waits for active requests: end the event streams.
	srv.RegisterOnShutdown(b.hub.close)

	if cfg.TokenGenerated {
		fmt.Fprintf(stdout, "webbackend: the originate token is %s (set %s to choose one)\n", cfg.Token, envToken)
	}
	fmt.Fprintf(stdout, "webbackend: open http://%s/\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var stopped error
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		logger.Info("shutting down")
	case <-b.Done():
		// A page that no longer follows Asterisk would lie.
		stopped = errors.New("webbackend: no longer receiving events")
		if err := b.Err(); err != nil {
			stopped = fmt.Errorf("%w: %w", stopped, err)
		}
		logger.Error("shutting down", "err", stopped)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// A stream stuck in a write to a browser that stopped reading:
		// cut it.
		logger.Warn("graceful shutdown timed out: closing connections", "err", err)
		_ = srv.Close()
	}
	<-served // http.ErrServerClosed
	return stopped
}

// dial makes the Client of amiURL with logger, and logs in so that
// wrong credentials show at once.
func dial(ctx context.Context, amiURL string, logger *slog.Logger) (*httpami.Client, error) {
	cfg, err := httpami.ParseURL(amiURL)
	if err != nil {
		return nil, err
	}
	cfg.Logger = logger
	c, err := httpami.New(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := c.Login(ctx); err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}
