// Command eventbus publishes the events of one Asterisk, polled over its
// HTTP manager, to NATS, so that any number of backend instances consume
// them: one poller, one session, every event once on
// <prefix>.events.<Event> as JSON, and a gap notice on <prefix>.gaps
// whenever events may be missing. With JetStream (when the server has it)
// every message is stored in a stream under an id that makes a
// republished message a duplicate, so a NATS outage loses nothing.
//
//	cd examples
//	go run ./eventbus --embedded-nats     # a NATS server in the process, a fake Asterisk
//	go run ./eventbus --consume           # in another terminal: print what arrives
//
// AMIHTTP_URL names a real Asterisk (http://user:secret@pbx:8088/);
// without it a fake one runs in the process and a demo call is made every
// few seconds. See README.md for subjects, payloads and consumer recipes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/amihttp/amihttp/examples/internal/pbx"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/poller"
	"github.com/nats-io/nats.go"
)

// EnvNATSURL is the environment variable that gives --nats its default.
const EnvNATSURL = "NATS_URL"

// config holds the command line.
type config struct {
	natsURL        string
	prefix         string
	stream         string
	noJetStream    bool
	embedded       bool
	mask           string
	originateEvery time.Duration
	consume        bool
	queue          string
	durable        string
	verbose        bool
}

// main runs the command until SIGINT or SIGTERM.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "eventbus:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("eventbus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsDefault := os.Getenv(EnvNATSURL)
	if natsDefault == "" {
		natsDefault = nats.DefaultURL
	}
	// With the fake Asterisk nothing happens unless we make it happen.
	demoDefault := time.Duration(0)
	if os.Getenv(pbx.EnvURL) == "" {
		demoDefault = 5 * time.Second
	}
	fs.StringVar(&cfg.natsURL, "nats", natsDefault, "NATS server URL(s), comma-separated (env "+EnvNATSURL+")")
	fs.StringVar(&cfg.prefix, "subject-prefix", DefaultPrefix, "first token(s) of every subject")
	fs.StringVar(&cfg.stream, "stream", DefaultStream, "JetStream stream to create when none captures <prefix>.>")
	fs.BoolVar(&cfg.noJetStream, "no-jetstream", false, "publish with core NATS even if the server has JetStream")
	fs.BoolVar(&cfg.embedded, "embedded-nats", false, "start a NATS server (with JetStream) in the process if --nats cannot be reached")
	fs.StringVar(&cfg.mask, "events", "on", `event mask: "on" or classes such as "call,user"`)
	fs.DurationVar(&cfg.originateEvery, "originate-every", demoDefault, "originate a demo call to 100@test this often; 0 never (the default with AMIHTTP_URL set)")
	fs.BoolVar(&cfg.consume, "consume", false, "consume instead: print every message on <prefix>.>")
	fs.StringVar(&cfg.queue, "queue", "", "with --consume: join this queue group (load sharing)")
	fs.StringVar(&cfg.durable, "durable", "", "with --consume: read through this JetStream durable consumer")
	fs.BoolVar(&cfg.verbose, "v", false, "log debug lines")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.queue != "" && cfg.durable != "" {
		return cfg, errors.New("--queue and --durable exclude each other")
	}
	return cfg, validPrefix(cfg.prefix)
}

// run is main without the process around it: it returns when ctx ends
// (nil) or on failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	nc, closeNATS, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeNATS()
	if cfg.consume {
		return consume(ctx, nc, cfg, stdout, logger)
	}
	err = bridge(ctx, nc, cfg, logger)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// bridge polls the Asterisk and publishes its events until ctx ends or
// the poller stops.
func bridge(ctx context.Context, nc *nats.Conn, cfg config, logger *slog.Logger) error {
	amiURL, release := pbx.URL("", logger)
	defer release()
	c, err := httpami.Dial(ctx, amiURL)
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	}()
	b, err := NewBridge(ctx, nc, Options{Prefix: cfg.prefix, Stream: cfg.stream, NoJetStream: cfg.noJetStream, Logger: logger})
	if err != nil {
		return err
	}
	p, err := poller.New(c, poller.WithEventMask(cfg.mask), poller.WithLogger(logger))
	if err != nil {
		return err
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	defer p.Close()

	var wg sync.WaitGroup
	demoCtx, stopDemo := context.WithCancel(ctx)
	if cfg.originateEvery > 0 {
		wg.Go(func() { originateEvery(demoCtx, c, cfg.originateEvery, logger) })
	}
	logger.Info("bridging AMI events to NATS", "events", cfg.prefix+".events.<Event>", "gaps", b.GapSubject(), "run", b.RunID())
	err = b.Run(ctx, p.Events())
	stopDemo()
	wg.Wait()
	_ = p.Close()
	st := b.Stats()
	logger.Info("stopped", "events", st.Events, "gaps", st.Gaps, "duplicates", st.Duplicates, "retries", st.Retries, "refused", st.Refused)
	if err == nil {
		err = p.Err() // the poller stopped by itself: why
	}
	return err
}

// originateEvery makes a demo call every d until ctx ends: Local/100@test
// answers, sends a UserEvent and hangs up (the fake's default dialplan and
// the reference configuration of a real one).
func originateEvery(ctx context.Context, c *httpami.Client, d time.Duration, logger *slog.Logger) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := c.Originate(ctx, httpami.Originate{Channel: "Local/100@test", Context: "test", Exten: "100", Priority: "1", Async: true})
		if err != nil && ctx.Err() == nil {
			logger.Warn("demo call failed", "err", err)
		}
	}
}

// connect connects to cfg.natsURL, reconnecting forever after a loss;
// with cfg.embedded it starts a NATS server in the process if none
// answers. The function it returns drains the connection and stops that
// server.
func connect(ctx context.Context, cfg config, logger *slog.Logger) (*nats.Conn, func(), error) {
	closed := make(chan struct{})
	opts := []nats.Option{
		nats.Name("amihttp eventbus"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		nats.DrainTimeout(5 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("NATS connection lost: reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("NATS connection back", "server", redact(nc.ConnectedUrl()))
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	}
	nc, err := nats.Connect(cfg.natsURL, opts...)
	stopServer := func() {}
	if err != nil && cfg.embedded && !cfg.consume {
		logger.Info("no NATS server answers: starting one in the process", "err", err)
		var clientURL string
		clientURL, stopServer, err = startEmbedded(ctx, cfg.natsURL, !cfg.noJetStream, logger)
		if err != nil {
			return nil, nil, err
		}
		nc, err = nats.Connect(clientURL, opts...)
	}
	if err != nil {
		stopServer()
		return nil, nil, fmt.Errorf("connect to NATS: %w", err)
	}
	logger.Info("connected to NATS", "server", redact(nc.ConnectedUrl()))
	return nc, func() {
		if err := nc.Drain(); err != nil {
			nc.Close()
		}
		<-closed // Drain ends within its DrainTimeout
		stopServer()
	}, nil
}

// redact returns a NATS URL without its user information (a user and
// password, or a token), for logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}
