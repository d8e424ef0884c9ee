// Command serverless is a click-to-call function for a function platform
// (Google Cloud Functions, AWS Lambda behind an HTTP adapter, Vercel…):
// an http.HandlerFunc, ClickToCall, that asks Asterisk over its HTTP
// manager to ring a caller's phone and connect it to a number, with one
// asynchronous Originate signed with HTTP digest. It logs in nowhere and
// keeps no session state, so that every invocation, cold or warm, costs
// one HTTP round trip to Asterisk.
//
// Run as a program, it serves the function on a local address for trying
// it, against the Asterisk AMIHTTP_URL names or, when that is unset, an
// in-process fake Asterisk:
//
//	cd examples && go run ./serverless [-addr 127.0.0.1:8080]
//
// It then prints a curl command that places a call. See the README for
// the settings, the security notes and the measured round trips.
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
	"syscall"
	"time"

	"github.com/amihttp/amihttp/examples/internal/pbx"
)

// main serves the function until SIGINT or SIGTERM; see run.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, logger); err != nil {
		logger.Error("serverless", "err", err)
		os.Exit(1)
	}
}

// run serves the click-to-call function on -addr until ctx ends. The
// manager URL is getenv's AMIHTTP_URL, or an in-process fake Asterisk
// when it is unset; the token is CLICK_TO_CALL_TOKEN, or, with the fake
// only, a throwaway one that run makes up. The curl line that tries the
// function goes to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("serverless", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "the address to serve the function on")
	if err := fs.Parse(args); err != nil {
		return err
	}

	env := map[string]string{}
	token := getenv(EnvToken)
	tokenShown := "$" + EnvToken
	if getenv(pbx.EnvURL) == "" {
		u, closeFake := pbx.URL("auth=digest&coldstart=true", logger)
		defer closeFake()
		env[EnvURL] = u
		if token == "" {
			// A fake PBX places no real call: a throwaway token will do,
			// and the curl line shows it.
			token = rand.Text()
			env[EnvToken], tokenShown = token, token
		}
	}
	if token == "" {
		return fmt.Errorf("%s is not set: the function would refuse every request", EnvToken)
	}
	cfg, err := ConfigFromEnv(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	}, logger)
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = cfg.Client.Close(ctx)
	}()
	h, err := NewHandler(cfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "curl -i -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"from\":\"100\",\"to\":\"200\"}' http://%s/\n", tokenShown, ln.Addr())

	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
