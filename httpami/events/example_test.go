package events_test

import (
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/events"
)

func ExampleDecode() {
	// A WaitEvent answer, as Asterisk 23 sends it.
	body := "Response: Success\r\nMessage: Waiting for Event completed.\r\n\r\n" +
		"Event: DialBegin\r\nPrivilege: call,all\r\nDestChannel: Local/100@test-00000002;1\r\nDestUniqueid: 1796035312.6\r\nDialString: 100@test\r\n\r\n" +
		"Event: Hangup\r\nPrivilege: call,all\r\nChannel: Local/100@test-00000002;1\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n" +
		"Event: MyModuleEvent\r\nFoo: bar\r\n\r\n" +
		"Event: WaitEventComplete\r\n\r\n"
	d := rawman.NewDecoder(strings.NewReader(body))
	for {
		var m rawman.Message
		if err := d.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			log.Fatal(err)
		}
		v, err := events.Decode(&m)
		if err != nil {
			fmt.Println("not an event:", m.Get("Response"))
			continue
		}
		switch e := v.(type) {
		case *events.DialBegin:
			fmt.Println("dialing", e.Dest.Channel, "with", e.DialString)
		case *events.Hangup:
			fmt.Println(e.Channel, "hung up:", e.CauseTxt)
		case events.Event:
			fmt.Printf("%T\n", e)
		case *rawman.Message:
			fmt.Println("unknown event", e.Event(), e.Get("Foo"))
		}
	}
	// Output:
	// not an event: Success
	// dialing Local/100@test-00000002;1 with 100@test
	// Local/100@test-00000002;1 hung up: Normal Clearing
	// unknown event MyModuleEvent bar
	// *events.WaitEventComplete
}
