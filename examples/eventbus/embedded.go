package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startEmbedded starts a NATS server in the process on the host and port
// of the first URL of natsURLs (127.0.0.1:4222 if it has none), with
// JetStream storing in a temporary directory when jetStream is set.
// It returns the URL clients connect to and a function that stops the
// server and removes the directory.
func startEmbedded(ctx context.Context, natsURLs string, jetStream bool, logger *slog.Logger) (string, func(), error) {
	host, port := "127.0.0.1", 4222
	first, _, _ := strings.Cut(natsURLs, ",")
	if u, err := url.Parse(strings.TrimSpace(first)); err == nil && u.Hostname() != "" {
		host = u.Hostname()
		if p, err := strconv.Atoi(u.Port()); err == nil {
			port = p
		}
	}
	dir, err := os.MkdirTemp("", "eventbus-nats-")
	if err != nil {
		return "", nil, err
	}
	ns, err := server.NewServer(&server.Options{
		Host:      host,
		Port:      port,
		JetStream: jetStream,
		StoreDir:  dir,
		NoSigs:    true,
		NoLog:     true,
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	go ns.Start()
	stop := func() {
		ns.Shutdown()
		ns.WaitForShutdown()
		os.RemoveAll(dir)
	}
	wait := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d))
	}
	if !ns.ReadyForConnections(wait) {
		stop()
		return "", nil, errors.New("embedded NATS server not ready (is " + net.JoinHostPort(host, strconv.Itoa(port)) + " taken?)")
	}
	logger.Info("embedded NATS server running", "url", ns.ClientURL(), "jetstream", jetStream)
	return ns.ClientURL(), stop, nil
}
