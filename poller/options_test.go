package poller_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/internal/syncbuf"
	"github.com/amihttp/amihttp/poller"
)

// TestOptionErrors refuses options that cannot work, naming them.
func TestOptionErrors(t *testing.T) {
	c, err := httpami.New(httpami.Config{URL: "http://127.0.0.1:1", Username: "u", Secret: "s"})
	require.NoError(t, err)
	d, err := httpami.New(httpami.Config{URL: "http://127.0.0.1:1", Username: "u", Secret: "s", Auth: httpami.Digest})
	require.NoError(t, err)
	cases := []struct {
		c    *httpami.Client
		opt  poller.Option
		want string
	}{
		{c, poller.WithBuffer(0), "WithBuffer"},
		{c, poller.WithPolicy(7), "WithPolicy"},
		{c, poller.WithHTTPTimeout(0), "WithHTTPTimeout"},
		{c, poller.WithWaitTimeout(-time.Second), "WithWaitTimeout"},
		{c, poller.WithEventMask(""), "WithEventMask"},
		{c, poller.WithEventMask("off"), "turns an off mask on"},
		{c, poller.WithServerFilter("", ""), "WithServerFilter"},
		{c, poller.WithBackoff(time.Second, time.Millisecond), "WithBackoff"},
		{d, poller.WithSharedSession(), "digest"},
	}
	for _, tc := range cases {
		_, err := poller.New(tc.c, tc.opt)
		assert.ErrorContains(t, err, tc.want)
	}
	_, err = poller.New(nil)
	assert.Error(t, err)
}

// TestWaitTimeout checks the Timeout of the poller's WaitEvents: 40 s
// by default, derived from httptimeout, and kept under the Timeout of
// the caller's http.Client.
func TestWaitTimeout(t *testing.T) {
	cases := []struct {
		name string
		hc   *http.Client
		opts []poller.Option
		want string
	}{
		{"default", nil, nil, "40"},
		{"httptimeout 30", nil, []poller.Option{poller.WithHTTPTimeout(30 * time.Second)}, "10"},
		{"httptimeout 12", nil, []poller.Option{poller.WithHTTPTimeout(12 * time.Second)}, "1"},
		{"explicit", nil, []poller.Option{poller.WithWaitTimeout(25500 * time.Millisecond)}, "25"},
		{"poll", nil, []poller.Option{poller.WithWaitTimeout(0)}, "0"},
		{"http.Client", &http.Client{Timeout: 30 * time.Second}, nil, "25"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			var got []string
			var mu sync.Mutex
			f.Handle("WaitEvent", func(r *httpamitest.Request) []*rawman.Message {
				mu.Lock()
				got = append(got, r.Params.Get("Timeout"))
				mu.Unlock()
				ack, done := &rawman.Message{}, &rawman.Message{}
				ack.Add("Response", "Success")
				ack.Add("Message", "Waiting for Event completed.")
				done.Add("Event", "WaitEventComplete")
				done.Add("ActionID", r.Params.Get("ActionID"))
				return []*rawman.Message{ack, done}
			})
			cfg := f.config(httpami.Cookie, httpami.Rawman)
			cfg.HTTPClient = tc.hc
			p := f.start(t, client(t, cfg), tc.opts...)
			require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > 0 }, 10*time.Second, time.Millisecond)
			require.NoError(t, p.Close())
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tc.want, got[0])
		})
	}
}

// TestSlowConsumerWarning: a consumer that holds the poller until the
// session may expire makes it log a warning.
func TestSlowConsumerWarning(t *testing.T) {
	f := newFake(t)
	var buf syncbuf.Buffer
	p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)), poller.WithBuffer(1), poller.WithEventMask("user"),
		poller.WithHTTPTimeout(10*time.Second), // warn at once
		poller.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	blocked(t, f, p)
	require.Eventually(t, func() bool { return bytes.Contains(buf.Bytes(), []byte("consumer has not taken an event")) }, 10*time.Second, time.Millisecond)
}
