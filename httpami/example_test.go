package httpami_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/httpami/httpamitest"
)

func ExampleDial() {
	srv := httpamitest.NewServer() // a fake Asterisk, user hello/world
	defer srv.Close()
	ctx := context.Background()

	// One URL says it all: credentials, http.conf prefix, encoding, auth.
	url := "http://hello:world@" + strings.TrimPrefix(srv.URL, "http://") + "/?encoding=rawman&auth=md5"
	c, err := httpami.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx) // logs off

	resp, err := c.Action(ctx, "Getvar", "Variable", "GLOBALVAR")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status(), resp.Get("Value"))
	// Output: Success hello-global
}

func ExampleClient_Do() {
	srv := httpamitest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.New(httpami.Config{URL: srv.URL, Username: "hello", Secret: "world"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// Parameters in order; a key may repeat.
	a := httpami.NewAction("UserEvent", "UserEvent", "Deploy", "Host", "a", "Host", "b")
	resp, err := c.Do(ctx, a)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status())
	// Output: Success
}

func ExampleActionError() {
	srv := httpamitest.NewServer(httpamitest.WithUser(httpamitest.User{
		Name: "limited", Secret: "limited", Read: "call", Write: "originate",
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.New(httpami.Config{URL: srv.URL, Username: "limited", Secret: "limited"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	_, err = c.Action(ctx, "Command", "Command", "core show version")
	var ae *httpami.ActionError
	switch {
	case errors.Is(err, httpami.ErrPermission) && errors.As(err, &ae):
		fmt.Println("not allowed:", ae.Action, "-", ae.Message)
	case err != nil:
		log.Fatal(err)
	}

	_, err = c.Action(ctx, "NoSuchAction")
	fmt.Println(errors.Is(err, httpami.ErrUnknownAction))

	_, err = c.Action(ctx, "UserEvent", "UserEvent", "x", "Note", "two\r\nlines")
	fmt.Println(errors.Is(err, httpami.ErrInvalidAction))
	// Output:
	// not allowed: Command - Permission denied
	// true
	// true
}

func ExampleClient_Send() {
	srv := httpamitest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := httpami.New(httpami.Config{URL: srv.URL, Username: "hello", Secret: "world"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	// A typed action: its non-zero fields are its parameters.
	resp, err := c.Send(ctx, &actions.Getvar{Variable: "GLOBALVAR"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Get("Value"))

	// Checked against the catalog before anything is sent.
	_, err = c.Send(ctx, &actions.Setvar{Value: "1"})
	fmt.Println(errors.Is(err, actions.ErrMissingParam), err)
	_, err = c.Action(ctx, "Getvar", "Varible", "GLOBALVAR")
	fmt.Println(err)
	// Output:
	// hello-global
	// true httpami: invalid action Setvar, parameter Variable: missing required parameter
	// httpami: invalid action Getvar, parameter Varible: unknown parameter (did you mean Variable?)
}
