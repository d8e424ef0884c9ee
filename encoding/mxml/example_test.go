package mxml_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/amihttp/amihttp/encoding/mxml"
	"github.com/amihttp/amihttp/encoding/rawman"
)

// A WaitEvent answer from /mxml, as Asterisk 23 writes it.
const waitEventBody = `<ajax-response>
<response type='object' id='unknown'><generic response='Success' actionid='w1' message='Waiting for Event completed.' /></response>
<response type='object' id='unknown'><generic event='Hangup' privilege='call,all' channel='PJSIP/100-00000001' cause='16' cause_txt='Normal Clearing' /></response>
<response type='object' id='unknown'><generic event='WaitEventComplete' actionid='w1' /></response>
</ajax-response>
`

func ExampleDecoder() {
	d := mxml.NewDecoder(strings.NewReader(waitEventBody))
	var m rawman.Message
	for {
		err := d.Decode(&m)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if m.IsEvent() {
			fmt.Printf("event %s (ActionID %q)\n", m.Event(), m.ActionID())
		} else {
			fmt.Printf("response %s (ActionID %q)\n", m.Response(), m.ActionID())
		}
	}
	// Output:
	// response Success (ActionID "w1")
	// event Hangup (ActionID "")
	// event WaitEventComplete (ActionID "w1")
}

// Lookups take the header names of the AMI documentation, whichever
// encoding the message came in: Asterisk's mxml wrote Cause-txt as cause_txt.
func ExampleDecoder_lookups() {
	d := mxml.NewDecoder(strings.NewReader(waitEventBody))
	var m rawman.Message
	for d.Decode(&m) == nil {
		if m.Event() == "Hangup" {
			fmt.Println(m.Keys, m.Get("Cause-txt"), m.Get("Channel"))
		}
	}
	// Output:
	// KeysXML Normal Clearing PJSIP/100-00000001
}

// Repeated headers come back as repeated keys: Asterisk's "-2", "-3"
// suffixes are removed.
func ExampleDecoder_repeats() {
	body := `<ajax-response>
<response type='object' id='unknown'><generic response='Success' message='Command output follows' output='Asterisk 23.4.1' output-2='built on linux' /></response>
</ajax-response>
`
	var m rawman.Message
	if err := mxml.NewDecoder(strings.NewReader(body)).Decode(&m); err != nil {
		log.Fatal(err)
	}
	for line := range m.Values("Output") {
		fmt.Println(line)
	}
	// Output:
	// Asterisk 23.4.1
	// built on linux
}

func ExampleEncoder() {
	e := mxml.NewEncoder(os.Stdout)
	m := &rawman.Message{Fields: []rawman.Field{
		{Key: "Response", Value: "Success"},
		{Key: "ActionID", Value: "a<1>"},
		{Key: "Output", Value: "one"},
		{Key: "Output", Value: "two"},
	}}
	if err := e.Encode(m); err != nil {
		log.Fatal(err)
	}
	if err := e.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// <ajax-response>
	// <response type='object' id='unknown'><generic response='Success' actionid='a&lt;1&gt;' output='one' output-2='two' /></response>
	// </ajax-response>
}
