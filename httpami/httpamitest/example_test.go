package httpamitest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/httpamitest"
)

func ExampleNewServer() {
	srv := httpamitest.NewServer() // user hello, secret world
	defer srv.Close()

	// The session lives in the mansession_id cookie: keep it in a jar.
	jar, err := cookiejar.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	get := func(query string) []*rawman.Message {
		resp, err := client.Get(srv.URL + "/rawman?" + query)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		var msgs []*rawman.Message
		dec := rawman.NewDecoder(resp.Body)
		for {
			msg := new(rawman.Message)
			if err := dec.Decode(msg); err == io.EOF {
				return msgs
			} else if err != nil {
				log.Fatal(err)
			}
			msgs = append(msgs, msg)
		}
	}

	login := get("Action=Login&Username=hello&Secret=world")
	fmt.Println("Login:", login[0].Get("Message"))

	sent := get("Action=UserEvent&UserEvent=Greeting&Text=hello+there")
	fmt.Println("UserEvent:", sent[0].Get("Message"))

	// The event is already queued, so WaitEvent answers at once. The
	// session's own SuccessfulAuth security event comes along too.
	for _, msg := range get("Action=WaitEvent&Timeout=1&ActionID=w1") {
		switch {
		case msg.IsResponse():
			fmt.Println("Response:", msg.Response(), msg.ActionID())
		case msg.Event() == "UserEvent":
			fmt.Println("Event:", msg.Event(), msg.Get("UserEvent"), msg.Get("Privilege"), msg.Get("Text"))
		case msg.Event() == "WaitEventComplete":
			fmt.Println("Event:", msg.Event(), msg.ActionID())
		}
	}
	// Output:
	// Login: Authentication accepted
	// UserEvent: Event Sent
	// Response: Success w1
	// Event: UserEvent Greeting user,all hello there
	// Event: WaitEventComplete w1
}
