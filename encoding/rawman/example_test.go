package rawman_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
)

func ExampleDecoder_Decode() {
	// The body of a WaitEvent answer from /rawman, as Asterisk 23 sends it.
	body := "Response: Success\r\n" +
		"ActionID: w1\r\n" +
		"Message: Waiting for Event completed.\r\n" +
		"\r\n" +
		"Event: UserEvent\r\n" +
		"Privilege: user,all\r\n" +
		"UserEvent: Keep\r\n" +
		"X: 1\r\n" +
		"\r\n" +
		"Event: WaitEventComplete\r\n" +
		"ActionID: w1\r\n" +
		"\r\n"

	dec := rawman.NewDecoder(strings.NewReader(body))
	var m rawman.Message
	for {
		err := dec.Decode(&m)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("decode:", err)
			return
		}
		switch {
		case m.IsResponse():
			fmt.Printf("response %s to %s\n", m.Response(), m.ActionID())
		case m.IsEvent():
			fmt.Printf("event %s with %d fields, X=%q\n", m.Event(), m.Len(), m.Get("x"))
		}
	}
	// Output:
	// response Success to w1
	// event UserEvent with 4 fields, X="1"
	// event WaitEventComplete with 2 fields, X=""
}

// Command output reaches the caller the same way from every Asterisk
// version: one Output field per line.
func ExampleMessage_Values() {
	for _, body := range []string{
		// Asterisk 14 and later
		"Response: Success\r\nMessage: Command output follows\r\nOutput: Asterisk 23.4.1\r\nOutput: built by root\r\n\r\n",
		// Asterisk 13
		"Response: Follows\r\nPrivilege: Command\r\nAsterisk 13.38.3\nbuilt by root\n--END COMMAND--\r\n\r\n",
	} {
		var m rawman.Message
		if err := rawman.NewDecoder(strings.NewReader(body)).Decode(&m); err != nil {
			fmt.Println(err)
			return
		}
		for line := range m.Values("Output") {
			fmt.Println(line)
		}
	}
	// Output:
	// Asterisk 23.4.1
	// built by root
	// Asterisk 13.38.3
	// built by root
}

func ExampleEncoder_Encode() {
	var out strings.Builder
	enc := rawman.NewEncoder(&out)
	var m rawman.Message
	m.Add("Response", "Success")
	m.Add("ActionID", "a1")
	m.Add("Ping", "Pong")
	if err := enc.Encode(&m); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%q\n", out.String())

	// A value with a line break would inject a header: it is refused.
	m.Set("ActionID", "a2\r\nInjected: yes")
	err := enc.Encode(&m)
	fmt.Println(errors.Is(err, rawman.ErrInvalidField), err)
	// Output:
	// "Response: Success\r\nActionID: a1\r\nPing: Pong\r\n\r\n"
	// true rawman: cannot encode field 1 (key "ActionID"): value contains CR or LF
}

func ExampleSyntaxError() {
	dec := rawman.NewDecoder(strings.NewReader("Event: A\r\nHuge: " + strings.Repeat("x", 100) + "\r\n\r\nEvent: B\r\n\r\n"))
	dec.SetLimits(rawman.Limits{MaxLineBytes: 64})
	var m rawman.Message
	err := dec.Decode(&m)
	var se *rawman.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(errors.Is(err, rawman.ErrLineTooLong), se.Line, se.Offset)
	}
	// The Decoder goes on with the next message.
	if err := dec.Decode(&m); err == nil {
		fmt.Println(m.Event())
	}
	// Output:
	// true 2 10
	// B
}

// A message as JSON: fields in order, repeated keys as arrays.
func ExampleMessage_MarshalJSON() {
	var m rawman.Message
	m.Add("Event", "VarSet")
	m.Add("Variable", "a=1")
	m.Add("Channel", "Local/100@test-00000001;1")
	m.Add("Variable", "b=2")
	out, _ := json.Marshal(&m)
	fmt.Println(string(out))

	var back rawman.Message
	_ = json.Unmarshal(out, &back)
	fmt.Println(back.Len(), back.Get("Channel"))
	// Output:
	// {"Event":"VarSet","Variable":["a=1","b=2"],"Channel":"Local/100@test-00000001;1"}
	// 4 Local/100@test-00000001;1
}
