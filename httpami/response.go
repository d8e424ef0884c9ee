package httpami

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/amihttp/amihttp/encoding/mxml"
	"github.com/amihttp/amihttp/encoding/rawman"
)

// A Response is Asterisk's answer to one action: the message with the
// "Response:" field, and the other messages of the same body, sorted.
type Response struct {
	Action   string // the action's name
	ActionID string // the ActionID it was sent with, echoed by Answer

	// Answer is the message with the Response field (Success, Error,
	// Goodbye, or Follows for Command on Asterisk 13).
	Answer *rawman.Message

	// Events are the items of an event list (an answer with "EventList:
	// start", such as Status or CoreShowChannels), or the events of a
	// WaitEvent, in order.
	Events []*rawman.Message
	// Complete is the event that ended the list ("EventList: Complete",
	// such as StatusComplete), or WaitEventComplete; nil otherwise.
	Complete *rawman.Message
	// Other holds the events of the body that belong to no list, such
	// as the FullyBooted event Asterisk writes beside a Login answer.
	// They are never mistaken for the answer.
	Other []*rawman.Message

	// Renewed is set when the session was found lost and the action was
	// sent again after a new Login: events queued for the old session
	// are gone.
	Renewed bool
}

// Get returns the value of the answer's first field named key (compared
// as the answer's lookups do, see rawman.Message), or "".
func (r *Response) Get(key string) string { return r.Answer.Get(key) }

// Values returns the values of the answer's fields named key, in order.
func (r *Response) Values(key string) iter.Seq[string] { return r.Answer.Values(key) }

// Status returns the answer's Response field: "Success", "Error",
// "Goodbye" or "Follows".
func (r *Response) Status() string { return r.Answer.Response() }

// Message returns the answer's Message field, Asterisk's text.
func (r *Response) Message() string { return r.Answer.Get("Message") }

// err returns the *ActionError of an Error answer.
func (r *Response) err() error {
	if !strings.EqualFold(r.Answer.Response(), "Error") {
		return nil
	}
	return &ActionError{Action: r.Action, ActionID: r.ActionID, Message: r.Answer.Get("Message"), Response: r}
}

// decode decodes an answer's body and sorts its messages.
func (c *Client) decode(r *request, body []byte) (*Response, error) {
	// perr reports an answer that could not be read: the outcome of an
	// action with effects is then unknown.
	perr := func(reason string, err error) error {
		return &ProtocolError{Action: r.name, ActionID: r.actionID, Reason: reason, Err: err, MaybeRun: !r.safe}
	}
	// lerr reports a list that does not add up, under an answer that
	// says what happened.
	lerr := func(reason string) error {
		return &ProtocolError{Action: r.name, ActionID: r.actionID, Reason: reason}
	}
	x := new(decoded)
	msgs, err := x.decodeBody(body, c.cfg.Encoding)
	if err != nil {
		return nil, perr("undecodable "+string(c.cfg.Encoding)+" body", err)
	}
	if len(msgs) == 0 {
		return nil, &ProtocolError{Action: r.name, ActionID: r.actionID, Reason: "empty body", kind: ErrEmptyBody}
	}
	resp := &x.resp
	*resp = Response{Action: r.name, ActionID: r.actionID}
	i := 0
	for i < len(msgs) && !msgs[i].IsResponse() {
		i++
	}
	if i == len(msgs) {
		return nil, perr("no Response message in the body", nil)
	}
	resp.Answer = msgs[i]
	if i > 0 {
		resp.Other = msgs[:i:i]
	}
	if got := resp.Answer.ActionID(); got != r.actionID && trimBlanks(got) != trimBlanks(r.actionID) {
		return nil, perr(fmt.Sprintf("answer carries ActionID %.80q", got), nil)
	}
	rest := msgs[i+1:]
	list := strings.EqualFold(resp.Answer.Get("EventList"), "start")
	wait := strings.EqualFold(r.name, "WaitEvent") && strings.EqualFold(resp.Answer.Response(), "Success")
	if !list && !wait {
		resp.Other = append(resp.Other, rest...)
		return resp, nil
	}
	for j, m := range rest {
		if list && strings.EqualFold(m.Get("EventList"), "Complete") ||
			wait && strings.EqualFold(m.Event(), "WaitEventComplete") {
			resp.Complete = m
			resp.Other = append(resp.Other, rest[j+1:]...)
			break
		}
		if !m.IsEvent() {
			return nil, lerr("a second Response message inside the list")
		}
		resp.Events = append(resp.Events, m)
	}
	if resp.Complete == nil {
		return nil, lerr("list without its completion event")
	}
	if n := resp.Complete.Get("ListItems"); list && n != "" {
		if want, err := strconv.Atoi(n); err != nil || want != len(resp.Events) {
			return nil, lerr(fmt.Sprintf("ListItems %.20q but %d items", n, len(resp.Events)))
		}
	}
	return resp, nil
}

// decoded holds an answer and its messages in one allocation, which
// suffices for the one or two messages of most answers.
type decoded struct {
	resp   Response
	rd     bytes.Reader
	msgs   [2]rawman.Message
	ptrs   [2]*rawman.Message
	fields [6]rawman.Field // room for the first message, most answers' only one
}

// decodeBody decodes every message of an answer's body; their strings
// share the body's bytes. Beyond the first message, the messages and
// their fields are cut from arrays sized by counting the body's lines
// (or mxml attributes): a long WaitEvent answer or event list costs a
// few allocations, not a few per message.
func (x *decoded) decodeBody(body []byte, enc Encoding) ([]*rawman.Message, error) {
	x.rd.Reset(body)
	var dec interface{ Decode(*rawman.Message) error }
	var nfields, nmsgs int
	if enc == MXML {
		dec = mxml.NewDecoder(&x.rd)
		nfields, nmsgs = bytes.Count(body, []byte("='")), bytes.Count(body, []byte("<generic"))
	} else {
		dec = rawman.NewDecoder(&x.rd)
		nfields = bytes.Count(body, []byte("\n"))
		nmsgs = bytes.Count(body, []byte("\n\r\n")) + bytes.Count(body, []byte("\n\n"))
	}
	store := x.msgs[:0]
	if nmsgs > len(x.msgs) {
		store = make([]rawman.Message, 0, nmsgs+1)
	}
	var pool []rawman.Field
	if nmsgs > 1 {
		pool = make([]rawman.Field, 0, nfields)
	}
	var err error
	for {
		var m rawman.Message
		switch {
		case len(store) == 0:
			m.Fields = x.fields[:0]
		case cap(pool) > len(pool):
			m.Fields = pool[len(pool):]
		}
		store = append(store, m)
		mp := &store[len(store)-1]
		if err = dec.Decode(mp); err != nil {
			store = store[:len(store)-1]
			break
		}
		if n := len(mp.Fields); n > 0 && len(store) > 1 && len(pool)+n <= cap(pool) && &mp.Fields[0] == &pool[:len(pool)+1][len(pool)] {
			pool = pool[:len(pool)+n]
			mp.Fields = mp.Fields[:n:n] // an append by the caller copies
		}
	}
	if err == io.EOF {
		err = nil
	}
	if len(store) == 0 {
		return nil, err
	}
	out := x.ptrs[:0]
	if len(store) > len(x.ptrs) {
		out = make([]*rawman.Message, 0, len(store))
	}
	for i := range store {
		out = append(out, &store[i])
	}
	return out, err
}

// trimBlanks removes what Asterisk takes for blanks (bytes up to 0x20)
// at both ends: it skips them before an echoed value, and mxml drops
// them at both ends.
func trimBlanks(s string) string {
	for len(s) > 0 && s[0] <= ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] <= ' ' {
		s = s[:len(s)-1]
	}
	return s
}
