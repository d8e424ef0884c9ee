package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amihttp/amihttp/examples/internal/pbx"
	"github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/syncbuf"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun runs the program as a user would: the bridge with an embedded
// NATS server and the fake Asterisk making demo calls, and a consumer
// reading them through a JetStream durable consumer. Both stop on
// cancel, leaving no goroutine behind, and no log line holds a secret.
func TestRun(t *testing.T) {
	leakcheck.Check(t)
	t.Setenv(pbx.EnvURL, "")
	t.Setenv(EnvNATSURL, "")
	port := freePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	withSecret := fmt.Sprintf("nats://s3cr3t-token@127.0.0.1:%d", port)

	ctx, cancel := context.WithCancel(t.Context())
	var bridgeLog syncbuf.Buffer
	bridgeDone := make(chan error, 1)
	go func() {
		bridgeDone <- run(ctx, []string{"--embedded-nats", "--nats", withSecret, "--originate-every", "100ms"}, &bridgeLog, &bridgeLog)
	}()
	stopBridge := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-bridgeDone:
			assert.NoError(t, err, "bridge")
		case <-time.After(10 * time.Second):
			t.Fatalf("the bridge did not stop; log:\n%s", &bridgeLog)
		}
	})
	defer stopBridge()

	// A Hangup of a demo call comes through.
	var nc *nats.Conn
	require.Eventually(t, func() bool {
		var err error
		nc, err = nats.Connect(natsURL)
		return err == nil
	}, wait, 20*time.Millisecond, "the embedded NATS server never answered")
	defer nc.Close()
	sub, err := nc.SubscribeSync("ami.events.Hangup")
	require.NoError(t, err)
	m, err := sub.NextMsg(wait)
	require.NoError(t, err, "no Hangup event; log:\n%s", bridgeLog.String())
	assert.Contains(t, string(m.Data), `"Event":"Hangup"`)

	// The consumer reads the stream from the start: the start notice
	// first, then the events of the calls.
	cctx, ccancel := context.WithCancel(t.Context())
	var out, consumeLog syncbuf.Buffer
	consumeDone := make(chan error, 1)
	go func() {
		consumeDone <- run(cctx, []string{"--consume", "--durable", "test", "--nats", natsURL}, &out, &consumeLog)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "ami.events.Hangup seq=") }, wait, 20*time.Millisecond,
		"consumer output:\n%s\nlog:\n%s", &out, &consumeLog)
	ccancel()
	select {
	case err := <-consumeDone:
		assert.NoError(t, err, "consumer")
	case <-time.After(wait):
		t.Fatal("the consumer did not stop")
	}
	assert.True(t, strings.HasPrefix(out.String(), "ami.gaps seq=0 {\"Reason\":\"bridge started\""), "consumer output:\n%s", &out)
	nc.Close()

	stopBridge()
	log := bridgeLog.String()
	assert.Contains(t, log, "embedded NATS server running")
	assert.Contains(t, log, "publishing with JetStream")
	for _, secret := range []string{"s3cr3t", ":world@"} {
		assert.NotContains(t, log, secret, "a secret in the log")
	}
}

// TestFlags checks the command line's refusals.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--subject-prefix", "a.*"},
		{"--consume", "--queue", "q", "--durable", "d"},
		{"extra"},
	} {
		var stderr bytes.Buffer
		if _, err := parseFlags(args, &stderr); err == nil {
			t.Errorf("parseFlags(%q) = nil error, want one", args)
		}
	}
}

// TestRedact checks that NATS URLs lose their credentials in logs.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"nats://user:pass@host:4222": "nats://host:4222",
		"nats://token@host:4222":     "nats://host:4222",
		"nats://host:4222":           "nats://host:4222",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
