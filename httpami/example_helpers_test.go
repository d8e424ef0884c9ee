package httpami_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
)

func ExampleClient_Originate() {
	// A fake Asterisk whose dialplan has exten 100 in context test.
	srv := httpamitest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.Dial(ctx, "http://hello:world@"+strings.TrimPrefix(srv.URL, "http://")+"/")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// Call Local/100@test and connect it to the Echo application.
	resp, err := c.Originate(ctx, httpami.Originate{
		Channel:     "Local/100@test",
		Application: "Echo",
		Timeout:     20 * time.Second, // sent as 20000 (ms)
		CallerID:    "Example <100>",
		Variable:    map[string]string{"CAMPAIGN": "spring,2026"},
		Async:       true,
		ActionID:    "call-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Message())

	// With Async, the outcome comes as an OriginateResponse event that
	// carries the Originate's ActionID.
	events, err := c.Action(ctx, "WaitEvent", "Timeout", "5")
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events.Events {
		if e.Event() == "OriginateResponse" {
			fmt.Println(e.Event(), e.ActionID(), e.Get("Response"), e.Get("Channel"))
		}
	}
	// Output:
	// Originate successfully queued
	// OriginateResponse call-1 Success Local/100@test-00000000;1
}

func ExampleClient_Command() {
	ctx := context.Background()
	// Asterisk 13 and 23 answer Command in two formats; Command reads both.
	for _, v := range []httpamitest.Version{httpamitest.Asterisk23, httpamitest.Asterisk13} {
		srv := httpamitest.NewServer(httpamitest.WithVersion(v))
		c, err := httpami.Dial(ctx, "http://hello:world@"+strings.TrimPrefix(srv.URL, "http://")+"/")
		if err != nil {
			log.Fatal(err)
		}
		lines, resp, err := c.Command(ctx, "core show channels")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("Asterisk %s answered %q:\n", v, resp.Status())
		for _, line := range lines {
			fmt.Println(strings.TrimRight(line, " "))
		}
		c.Close(ctx)
		srv.Close()
	}
	// Output:
	// Asterisk 23.4.1 answered "Success":
	// Channel                                                          Location                         State   Application(Data)
	// 0 active channels
	// 0 active calls
	// 0 calls processed
	// Asterisk 13.38.3 answered "Follows":
	// Channel                                                          Location                         State   Application(Data)
	// 0 active channels
	// 0 active calls
	// 0 calls processed
}

func ExampleClient_CoreShowChannels() {
	// The fake's calls run on its clock: a FakeClock stops them in time.
	clk := httpamitest.NewFakeClock(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))
	srv := httpamitest.NewServer(httpamitest.WithClock(clk))
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.Dial(ctx, "http://hello:world@"+strings.TrimPrefix(srv.URL, "http://")+"/")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// Exten 100 answers, sends a UserEvent, then runs Wait(2).
	if _, err := c.Originate(ctx, httpami.Originate{Channel: "Local/100@test", Application: "Echo", Async: true}); err != nil {
		log.Fatal(err)
	}
	clk.Advance(time.Second)

	channels, resp, err := c.CoreShowChannels(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, ch := range channels {
		fmt.Printf("%s %s %s,%s,%d %s(%s) %v\n", ch.Channel, ch.ChannelStateDesc,
			ch.Context, ch.Exten, ch.Priority, ch.Application, ch.ApplicationData, ch.Duration)
	}
	fmt.Println(resp.Complete.Event(), resp.Complete.Get("ListItems"))
	// Output:
	// Local/100@test-00000000;2 Up test,100,3 Wait(2) 1s
	// Local/100@test-00000000;1 Up test,100,1 Echo() 1s
	// CoreShowChannelsComplete 2
}
