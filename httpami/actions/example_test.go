package actions_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/actions"
)

func ExampleValidate() {
	params := []rawman.Field{{Key: "Exten", Value: "200"}, {Key: "Context", Value: "default"}}
	err := actions.Validate("Originate", params, "23.4.1")
	fmt.Println(err)
	fmt.Println(errors.Is(err, actions.ErrMissingParam))

	// Asterisk 16 has no PJSIPHangup yet.
	err = actions.Validate("PJSIPHangup", []rawman.Field{{Key: "Channel", Value: "PJSIP/100-00000001"}, {Key: "Cause", Value: "486"}}, "16.30.1")
	fmt.Println(err)
	// Output:
	// actions: Originate: missing required parameter Channel
	// true
	// actions: PJSIPHangup is not an action of Asterisk 16.30.1 (it exists since 21.1.0, 20.6.0 and 18.21.0)
}

func ExampleParams() {
	a := &actions.Originate{
		Channel: "PJSIP/100", Context: "default", Exten: "200", Priority: "1",
		Variable: map[string]string{"B": "2", "A": "1"},
	}
	params, err := actions.Params(a)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range params {
		fmt.Printf("%s: %s\n", p.Key, p.Value)
	}
	fmt.Println(actions.Validate(a.ActionName(), params, ""))
	// Output:
	// Channel: PJSIP/100
	// Exten: 200
	// Context: default
	// Priority: 1
	// Variable: A=1
	// Variable: B=2
	// <nil>
}

func ExampleLookup() {
	s, _ := actions.Lookup("pjsiphangup")
	fmt.Println(s.Name, s.Versions, s.Privilege)
	p, _ := s.Param("Cause")
	fmt.Println(p.Name, p.Required)
	// Output:
	// PJSIPHangup [18 20 22 23] [system call]
	// Cause true
}
