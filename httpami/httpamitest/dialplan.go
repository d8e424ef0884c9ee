package httpamitest

import (
	"strconv"
	"strings"
	"time"
)

// A Dialplan is the simulated extensions.conf: the calls that Originate
// starts run its steps on the server's clock and publish the events a
// real Asterisk would.
type Dialplan struct {
	Contexts []Context
}

// A Context is a dialplan context.
type Context struct {
	Name       string
	Extensions []Extension
}

// An Extension is a numbered list of steps (priorities 1, 2, …).
type Extension struct {
	Exten string
	Steps []Step
}

// A Step is one priority: a dialplan application and its argument, as in
// "exten => 100,1,Answer()". The simulation understands Answer, Echo,
// Hangup, UserEvent, Wait and NoOp; others are listed by ShowDialPlan and
// otherwise behave as NoOp.
type Step struct {
	App  string
	Data string
}

// Answer returns the step Answer().
func Answer() Step { return Step{App: "Answer"} }

// Hangup returns the step Hangup().
func Hangup() Step { return Step{App: "Hangup"} }

// Echo returns the step Echo(): the channel stays up until hung up.
func Echo() Step { return Step{App: "Echo"} }

// Wait returns the step Wait(d), with d in whole seconds or a fraction.
func Wait(d time.Duration) Step {
	return Step{App: "Wait", Data: strconv.FormatFloat(d.Seconds(), 'f', -1, 64)}
}

// UserEvent returns the step UserEvent(name,header1,header2,…), where each
// header is "Name: value".
func UserEvent(name string, headers ...string) Step {
	return Step{App: "UserEvent", Data: strings.Join(append([]string{name}, headers...), ",")}
}

// DefaultDialplan returns the context "test" of the reference
// configuration the recordings were made with:
//
//	exten 100: Answer, UserEvent(TestEvent,Foo: bar,Weird: a<b>&"c'), Wait(2), Hangup
//	exten 101: Answer, UserEvent(VarCheck,A: ${a},B: ${b}), Wait(1), Hangup
//	exten 200: Answer, Wait(30), Hangup
//	exten 300: Answer, Echo
func DefaultDialplan() Dialplan {
	return Dialplan{Contexts: []Context{{
		Name: "test",
		Extensions: []Extension{
			{Exten: "100", Steps: []Step{Answer(), UserEvent("TestEvent", "Foo: bar", `Weird: a<b>&"c'`), Wait(2 * time.Second), Hangup()}},
			{Exten: "101", Steps: []Step{Answer(), UserEvent("VarCheck", "A: ${a}", "B: ${b}"), Wait(time.Second), Hangup()}},
			{Exten: "200", Steps: []Step{Answer(), Wait(30 * time.Second), Hangup()}},
			{Exten: "300", Steps: []Step{Answer(), Echo()}},
		},
	}}}
}

// lookup returns the steps of exten in context, or nil.
func (d *Dialplan) lookup(context, exten string) []Step {
	for _, c := range d.Contexts {
		if !strings.EqualFold(c.Name, context) {
			continue
		}
		for _, e := range c.Extensions {
			if e.Exten == exten {
				return e.Steps
			}
		}
	}
	return nil
}

// An Agent is an agents.conf agent, listed by the Agents action.
type Agent struct {
	ID   string
	Name string
}
