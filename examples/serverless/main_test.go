package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/examples/internal/pbx"
	"github.com/amihttp/amihttp/internal/leakcheck"
)

// TestRun runs the program as "go run ./serverless" does with nothing
// set: it serves the function against an in-process fake, prints a curl
// line whose request places a call, and stops cleanly when its context
// ends.
func TestRun(t *testing.T) {
	leakcheck.Check(t)
	t.Setenv(pbx.EnvURL, "") // the fake, whatever the caller's environment says
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, stdout := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(string) string { return "" }, stdout, slog.New(slog.DiscardHandler))
		stdout.Close()
	}()

	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the curl line: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	m := regexp.MustCompile(`^curl -i -H 'Authorization: Bearer ([A-Z2-7]{26})' -H 'Content-Type: application/json' -d '(\{.*\})' (http://127\.0\.0\.1:\d+/)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("curl line %q", line)
	}

	// What the curl line does.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m[3], strings.NewReader(m[2]))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+m[1])
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), `"status":"queued"`) {
		t.Errorf("curl: %s %s, want 202 queued", resp.Status, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

// TestRunNeedsToken: against a real PBX, run refuses to start without a
// token rather than serve a function that refuses everything, and does
// not quote the manager's secret.
func TestRunNeedsToken(t *testing.T) {
	env := map[string]string{pbx.EnvURL: "http://hello:leaky-secret@127.0.0.1:1/?auth=digest"}
	err := run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), EnvToken) || strings.Contains(err.Error(), "leaky-secret") {
		t.Errorf("run = %v, want an error naming %s, without the secret", err, EnvToken)
	}
}
