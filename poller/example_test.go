package poller_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/poller"
)

// Follow a call from its Originate to the UserEvent its dialplan sends.
func Example() {
	srv := httpamitest.NewServer() // a fake Asterisk, user hello/world
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.Dial(ctx, "http://hello:world@"+strings.TrimPrefix(srv.URL, "http://")+"/")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// The poller logs in a session of its own, which receives the
	// events of classes call and user only.
	p, err := poller.New(c, poller.WithEventMask("call,user"))
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	// Extension 100 of context test answers, sends a UserEvent, waits
	// 2 s and hangs up.
	_, err = c.Originate(ctx, httpami.Originate{
		Channel:     "Local/100@test",
		Application: "Echo",
		Async:       true,
	})
	if err != nil {
		log.Fatal(err)
	}

	for ev := range p.Events() {
		if ev.Gap != nil {
			log.Fatal(ev.Gap) // events may be missing
		}
		if ch := ev.Message.Get("Channel"); ch != "" {
			fmt.Println(ev.Name(), ch)
		} else {
			fmt.Println(ev.Name())
		}
		if ev.Name() == "UserEvent" {
			fmt.Println(ev.Message.Get("UserEvent"), ev.Message.Get("Foo"))
			break
		}
	}
	// Output:
	// Newchannel Local/100@test-00000000;1
	// Newchannel Local/100@test-00000000;2
	// LocalBridge
	// DialBegin
	// Newstate Local/100@test-00000000;2
	// Newstate Local/100@test-00000000;1
	// DialEnd
	// OriginateResponse Local/100@test-00000000;1
	// DeviceStateChange
	// DeviceStateChange
	// UserEvent Local/100@test-00000000;2
	// TestEvent bar
}

func ExamplePoller_Start() {
	srv := httpamitest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.Dial(ctx, "http://hello:world@"+strings.TrimPrefix(srv.URL, "http://")+"/")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// Keep the UserEvents only.
	p, err := poller.New(c, poller.WithFilter(func(m *rawman.Message) bool {
		return m.Event() == "UserEvent"
	}))
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Start(ctx); err != nil { // logs in
		log.Fatal(err)
	}
	defer p.Close()

	_, err = c.UserEvent(ctx, "Deploy", rawman.Field{Key: "Version", Value: "1.2.3"})
	if err != nil {
		log.Fatal(err)
	}
	for ev := range p.Events() {
		if ev.Gap != nil {
			// Events may be missing: rebuild what derives from them.
			fmt.Println("gap:", ev.Gap.Reason)
			continue
		}
		fmt.Println(ev.Name(), ev.Message.Get("UserEvent"), ev.Message.Get("Version"))
		break
	}
	// Output: UserEvent Deploy 1.2.3
}

func ExamplePoller_Await() {
	srv := httpamitest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.Dial(ctx, "http://hello:world@"+strings.TrimPrefix(srv.URL, "http://")+"/")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// Nobody reads Events here: with DropOldest the poller never waits
	// for a reader, and Await sees every event anyway.
	p, err := poller.New(c, poller.WithEventMask("call"), poller.WithPolicy(poller.DropOldest))
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	resp, err := c.Originate(ctx, httpami.Originate{
		Channel:     "Local/100@test",
		Application: "Echo",
		Async:       true,
		ActionID:    "call-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Message())

	// The outcome comes later, as an event with the Originate's ActionID.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ev, err := p.Await(ctx, resp.ActionID, "OriginateResponse")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.Event(), ev.ActionID(), ev.Get("Response"), ev.Get("Channel"), ev.Get("Reason"))
	// Output:
	// Originate successfully queued
	// OriginateResponse call-1 Success Local/100@test-00000000;1 4
}
