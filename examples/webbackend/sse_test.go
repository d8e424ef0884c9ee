package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// An sseEvent is one Server-Sent Event as a browser's EventSource
// would dispatch it.
type sseEvent struct {
	Name string // "message" when the stream gave none
	Data string
}

// An sseStream reads a /events stream in the background, as the page's
// EventSource does.
type sseStream struct {
	events   chan sseEvent // closed at the end of the stream
	comments atomic.Int64  // keep-alive comments seen
	resp     *http.Response
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// openStream opens url's event stream with client and checks its
// headers; the stream is closed when the test ends.
func openStream(t *testing.T, client *http.Client, url string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/events", nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /events: %v", err)
	}
	s := &sseStream{events: make(chan sseEvent, 4096), resp: resp, cancel: cancel}
	t.Cleanup(s.close)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %s", resp.Status)
	}
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-cache",
		"X-Accel-Buffering": "no",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("GET /events: %s = %q, want %q", k, got, want)
		}
	}
	s.wg.Go(s.read)
	return s
}

// read parses the stream: "event:" and "data:" lines make an event,
// dispatched at the empty line; lines starting with ":" are comments.
func (s *sseStream) read() {
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var name string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != nil {
				if name == "" {
					name = "message"
				}
				s.events <- sseEvent{Name: name, Data: strings.Join(data, "\n")}
			}
			name, data = "", nil
		case strings.HasPrefix(line, ":"):
			s.comments.Add(1)
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				name = value
			case "data":
				data = append(data, value)
			}
		}
	}
}

// close ends the stream and waits for its reader.
func (s *sseStream) close() {
	s.cancel()
	s.resp.Body.Close()
	s.wg.Wait()
}

// next returns the next event, failing the test after timeout or at the
// end of the stream.
func (s *sseStream) next(t *testing.T, timeout time.Duration) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
	}
	panic("unreachable")
}

// until reads events, passing each to fn, until fn returns true; it
// fails the test if that takes longer than timeout.
func (s *sseStream) until(t *testing.T, timeout time.Duration, fn func(sseEvent) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("condition not met within %v", timeout)
		}
		if fn(s.next(t, left)) {
			return
		}
	}
}

// await reads events until fn returns true, from any goroutine: it
// returns an error after timeout or at the end of the stream.
func (s *sseStream) await(timeout time.Duration, fn func(sseEvent) bool) error {
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return errors.New("the event stream ended")
			}
			if fn(ev) {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("condition not met within %v", timeout)
		}
	}
}

// A view is the channel list a page builds from the stream: the last
// snapshot with every delta since applied.
type view map[string]Channel // by uniqueid

// apply folds ev into v and reports whether ev changed the channels.
func (v view) apply(t *testing.T, ev sseEvent) bool {
	t.Helper()
	switch ev.Name {
	case "snapshot":
		var snap Snapshot
		if err := json.Unmarshal([]byte(ev.Data), &snap); err != nil {
			t.Fatalf("snapshot %q: %v", ev.Data, err)
		}
		clear(v)
		for _, c := range snap.Channels {
			v[c.UniqueID] = c
		}
		return true
	case "channel":
		d := decodeDelta(t, ev)
		if d.Op == "remove" {
			delete(v, d.Channel.UniqueID)
		} else {
			v[d.Channel.UniqueID] = d.Channel
		}
		return true
	}
	return false
}

// names returns the names of v's channels.
func (v view) names() map[string]bool {
	names := map[string]bool{}
	for _, c := range v {
		names[c.Name] = true
	}
	return names
}

// decodeDelta decodes a "channel" event.
func decodeDelta(t *testing.T, ev sseEvent) Delta {
	t.Helper()
	var d Delta
	if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
		t.Fatalf("channel event %q: %v", ev.Data, err)
	}
	return d
}

// decodeSnapshot decodes a "snapshot" event.
func decodeSnapshot(t *testing.T, ev sseEvent) Snapshot {
	t.Helper()
	if ev.Name != "snapshot" {
		t.Fatalf("event %q, want snapshot", ev.Name)
	}
	var snap Snapshot
	if err := json.Unmarshal([]byte(ev.Data), &snap); err != nil {
		t.Fatalf("snapshot %q: %v", ev.Data, err)
	}
	return snap
}
