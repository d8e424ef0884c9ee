package main

import (
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
)

// fakeCommand is "amihttp fake".
var fakeCommand = &command{
	name:    "fake",
	summary: "run a pretend Asterisk HTTP manager, with simulated calls",
	help: `
Fake runs the fake Asterisk 23 HTTP manager of package httpamitest as a
server of its own, so that programs in any language can be developed
against a pretend PBX: /rawman, /mxml, /arawman and /amxml, cookie, MD5 and
digest sessions, WaitEvent, the common actions, and Local calls run by the
dialplan of the reference configuration (context test, printed at start).
Its one user is hello, secret world, with every class.

It prints the AMIHTTP_URL to use, then runs until Ctrl-C. With --traffic,
it originates a call to itself every interval (Local/100@test, which
answers, sends a UserEvent, waits 2 s and hangs up, and Local/101@test,
which does the same in 1 s with two channel variables, in turn), so that an
event tail has something to show; each call is logged to stderr.

The fake listens on the loopback interface only, since its credentials are
public, unless --public is given.

	amihttp fake
	amihttp fake --addr 127.0.0.1:8089 --tls --traffic 2s
`,
	setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		addr := fs.String("addr", "127.0.0.1:8088", "listen on `host:port` (port 0 picks a free one)")
		public := fs.Bool("public", false, "allow --addr to be an address other than loopback")
		traffic := fs.Duration("traffic", 10*time.Second, "originate a simulated call every `interval` (0: none)")
		httpTimeout := fs.Duration("httptimeout", 60*time.Second, "manager.conf's httptimeout: the idle `duration` after which sessions expire (whole seconds)")
		prefix := fs.String("prefix", "", "http.conf's `prefix`: with asterisk, the endpoints are /asterisk/rawman and so on")
		useTLS := fs.Bool("tls", false, "serve https, with a self-signed certificate for 127.0.0.1 written to --cert")
		certFile := fs.String("cert", "", "with --tls, write the certificate (PEM) to `file`, for clients' --cacert\n(default: amihttp-fake.pem in the temporary directory)")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			switch {
			case *traffic < 0:
				return usagef("--traffic must not be negative")
			case *httpTimeout < time.Second:
				return usagef("--httptimeout must be at least 1s")
			case *certFile != "" && !*useTLS:
				return usagef("--cert needs --tls")
			}
			ln, err := listen(*addr, *public)
			if err != nil {
				return err
			}
			opts := []httpamitest.Option{httpamitest.WithHTTPTimeout(*httpTimeout)}
			if *prefix != "" {
				opts = append(opts, httpamitest.WithPrefix(*prefix))
			}
			srv := httpamitest.NewUnstartedServer(opts...)
			_ = srv.Listener.Close()
			srv.Listener = ln
			if *useTLS {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			clientURL := fakeURL(srv, *prefix)
			var b strings.Builder
			fmt.Fprintf(&b, "amihttp fake: a pretend Asterisk %s HTTP manager on %s (Ctrl-C stops it)\n\n", httpamitest.Asterisk23, srv.URL)
			fmt.Fprintf(&b, "\t%s=%s\n\n", envURL, clientURL)
			if *useTLS {
				path := *certFile
				if path == "" {
					path = filepath.Join(os.TempDir(), "amihttp-fake.pem")
				}
				if err := writeCert(path, srv); err != nil {
					return err
				}
				fmt.Fprintf(&b, "The certificate is self-signed; trust it with --cacert %s\n\n", path)
			}
			fmt.Fprintf(&b, "user       hello, secret world, reads and writes every class\n")
			fmt.Fprintf(&b, "endpoints  /rawman /mxml (cookie or md5 auth), /arawman /amxml (digest auth)\n")
			fmt.Fprintf(&b, "sessions   expire after %v idle\n", *httpTimeout)
			writeDialplan(&b, httpamitest.DefaultDialplan())
			if *traffic > 0 {
				fmt.Fprintf(&b, "traffic    a call every %v, logged to stderr\n", *traffic)
			}
			fmt.Fprintf(&b, "\nTry, in another terminal:\n\n\t%s=%s amihttp events\n\t%s=%s amihttp originate --channel Local/100@test --context test --exten 100\n",
				envURL, clientURL, envURL, clientURL)
			if _, err := fmt.Fprint(e.stdout, b.String()); err != nil {
				return err
			}

			var wg sync.WaitGroup
			if *traffic > 0 {
				c, err := httpami.New(httpami.Config{
					URL: strings.TrimSuffix(clientBase(srv, *prefix), "/"), Username: "hello", Secret: "world",
					HTTPClient: srv.Client(),
				})
				if err != nil {
					return err
				}
				defer closeClient(ctx, c)
				wg.Go(func() { simulate(ctx, e, c, *traffic) })
			}
			<-ctx.Done()
			wg.Wait()
			fmt.Fprintln(e.stderr, "fake: stopped")
			return nil
		}
	},
}

// listen listens on addr, which must be a loopback address unless public.
func listen(addr string, public bool) (net.Listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, &usageError{fmt.Errorf("--addr: %w", err)}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fake: %w", err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() && !public {
		_ = ln.Close()
		return nil, usagef("--addr %s is not a loopback address, and the fake's credentials are public (hello/world); add --public to listen there anyway", addr)
	}
	return ln, nil
}

// clientBase returns the base URL of srv's manager with the user hello:
// its scheme, the credentials, its address and the prefix, ending in "/".
func clientBase(srv *httpamitest.Server, prefix string) string {
	u := srv.URL + "/"
	if prefix != "" {
		u += prefix + "/"
	}
	return u
}

// fakeURL returns the client URL of srv for the user hello, secret world.
func fakeURL(srv *httpamitest.Server, prefix string) string {
	return strings.Replace(clientBase(srv, prefix), "://", "://hello:world@", 1)
}

// writeCert writes the certificate of srv to path as PEM.
func writeCert(path string, srv *httpamitest.Server) error {
	cert := srv.Certificate()
	if cert == nil {
		return errors.New("fake: the server has no certificate")
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("fake: writing the certificate: %w", err)
	}
	return nil
}

// writeDialplan lists the extensions of d.
func writeDialplan(b *strings.Builder, d httpamitest.Dialplan) {
	for _, c := range d.Contexts {
		fmt.Fprintf(b, "dialplan   context %s:\n", c.Name)
		for _, x := range c.Extensions {
			steps := make([]string, len(x.Steps))
			for i, s := range x.Steps {
				steps[i] = s.App + "(" + s.Data + ")"
			}
			fmt.Fprintf(b, "             exten %s: %s\n", x.Exten, strings.Join(steps, ", "))
		}
	}
}

// simulate originates a call through c every interval until ctx ends,
// logging each to stderr.
func simulate(ctx context.Context, e *env, c *httpami.Client, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		o := httpami.Originate{Channel: "Local/100@test", Context: "test", Exten: "100", Priority: "1", Async: true}
		if n%2 == 0 {
			o = httpami.Originate{
				Channel: "Local/101@test", Application: "Wait", Data: "1", Async: true,
				Variable: map[string]string{"a": strconv.Itoa(n), "b": "sim"},
			}
		}
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := c.Originate(actx, o)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			fmt.Fprintf(e.stderr, "fake: call %d to %s: %v\n", n, o.Channel, err)
		default:
			fmt.Fprintf(e.stderr, "fake: call %d to %s: %s\n", n, o.Channel, resp.Message())
		}
	}
}
