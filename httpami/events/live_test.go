package events_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/httpami/events"
	"github.com/amihttp/amihttp/internal/livetest"
	"github.com/amihttp/amihttp/poller"
)

// TestLiveEvents follows calls on the live Asterisk of AMIHTTP_TEST_URL,
// in rawman and mxml, and decodes every event into its type with no key
// left over: the catalog checked against traffic the recordings do not
// hold.
func TestLiveEvents(t *testing.T) {
	target := livetest.Get(t)
	for _, enc := range []string{"rawman", "mxml"} {
		t.Run(enc, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, err := httpami.Dial(ctx, target.URL("encoding="+enc))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
			p, err := poller.New(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer p.Close()

			// Extension 100 answers, sends a UserEvent, waits 2 s and hangs
			// up; 101 sends the channel variables a and b in one; the other
			// half of each Local channel runs extension 300, Echo, until then.
			for _, exten := range []string{"100", "101"} {
				_, err := c.Send(ctx, &actions.Originate{
					Channel: "Local/" + exten + "@test", Context: "test", Exten: "300", Priority: "1",
					Async: "true", Variable: map[string]string{"a": "1", "b": "2"},
				})
				if err != nil {
					t.Fatalf("Originate %s: %v", exten, err)
				}
			}
			names := map[string]int{}
			hangups := 0
			for hangups < 4 {
				var ev poller.Event
				select {
				case ev = <-p.Events():
				case <-ctx.Done():
					t.Fatalf("after %d hangups: %v (events %v)", hangups, ctx.Err(), names)
				}
				if ev.Gap != nil {
					t.Fatalf("gap: %v", ev.Gap)
				}
				v, err := events.Decode(ev.Message)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if v == any(ev.Message) {
					t.Errorf("event %s has no type: %v", ev.Name(), ev.Message)
					continue
				}
				names[ev.Name()]++
				checkEvent(t, fmt.Sprintf("live %s %s", enc, ev.Name()), ev.Message, v)
				if _, ok := v.(*events.Hangup); ok {
					hangups++ // the two Local channels of each call
				}
			}
			t.Logf("%d event names decoded: %v", len(names), names)
		})
	}
}
