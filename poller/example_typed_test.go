package poller_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/httpami/events"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/poller"
)

// Place a call with a typed action and follow it with typed events, to
// its hangup.
func Example_typed() {
	srv := httpamitest.NewServer() // a fake Asterisk, user hello/world
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.Dial(ctx, "http://hello:world@"+strings.TrimPrefix(srv.URL, "http://")+"/")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	p, err := poller.New(c, poller.WithEventMask("call,user"))
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	// The client checks the action against the catalog before sending:
	// a missing Channel, or a misspelled parameter, never leaves.
	_, err = c.Send(ctx, &actions.Originate{
		Channel: "Local/101@test", Application: "Echo", Async: "true",
		Variable: map[string]string{"a": "1", "b": "2"},
	})
	if err != nil {
		log.Fatal(err)
	}

	hangups := 0
	for ev := range p.Events() {
		if ev.Gap != nil {
			log.Fatal(ev.Gap)
		}
		v, err := events.Decode(ev.Message)
		if err != nil {
			log.Fatal(err)
		}
		switch e := v.(type) {
		case *events.Newchannel:
			fmt.Println("new channel", e.Channel, e.ChannelStateDesc)
		case *events.DialBegin:
			fmt.Println("dialing", e.Dest.Channel)
		case *events.UserEvent:
			fmt.Println("user event", e.UserEvent, e.Headers)
		case *events.Hangup:
			fmt.Println("hangup", e.Channel, e.CauseTxt)
			hangups++
		}
		if hangups == 2 {
			break
		}
	}
	// Output:
	// new channel Local/101@test-00000000;1 Down
	// new channel Local/101@test-00000000;2 Ring
	// dialing Local/101@test-00000000;1
	// user event VarCheck [{A 1} {B 2}]
	// hangup Local/101@test-00000000;2 Normal Clearing
	// hangup Local/101@test-00000000;1 Normal Clearing
}
