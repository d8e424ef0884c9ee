package httpamitest

import (
	"errors"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// A Request is an action as a [HandlerFunc] sees it.
type Request struct {
	// Action is the action name as sent.
	Action string
	// Params holds every parameter of the request, in order, as the AMI
	// headers Asterisk makes of them (the Action parameter included).
	Params rawman.Message
	// User is the configured name of the session's user.
	User string
}

// A HandlerFunc answers an action in place of the fake's own code. The
// messages it returns make the body, in order: typically one response,
// or a list acknowledgement, its items and the completion event. If the
// request carried an ActionID and the first message has none, the server
// puts it second, as Asterisk does.
type HandlerFunc func(r *Request) []*rawman.Message

// Handle makes h answer every later request for action (compared
// case-insensitively), on every endpoint, after the checks Asterisk
// makes first (login and write permission: an action the fake does not
// know needs no class). A nil h restores the fake's own answer.
func (s *Server) Handle(action string, h HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.handlers, strings.ToLower(action))
		return
	}
	s.handlers[strings.ToLower(action)] = h
}

func (s *Server) handler(action string) HandlerFunc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handlers[strings.ToLower(action)]
}

func (m *manager) runHandler(a *actx, h HandlerFunc, name string) {
	r := &Request{Action: name, User: a.ss.username}
	for _, p := range a.params {
		r.Params.Add(p.name, p.value)
	}
	msgs := h(r)
	id := a.actionID()
	for i, msg := range msgs {
		if msg == nil || msg.Len() == 0 {
			continue
		}
		if i == 0 && id != "" && !msg.Has("ActionID") {
			c := msg.Clone()
			c.Fields = append(c.Fields[:1], append([]rawman.Field{{Key: "ActionID", Value: id}}, c.Fields[1:]...)...)
			msg = c
		}
		b, err := rawman.Append(nil, msg)
		if err != nil {
			a.fail("httpamitest: handler answer not encodable: " + err.Error())
			continue
		}
		a.out.Write(b)
	}
}

// ErrNotEvent is returned by [Server.Emit] for a message without an Event
// field.
var ErrNotEvent = errors.New("httpamitest: message has no Event field")

// Emit queues an event as if Asterisk had published it: every session
// whose read permission, event mask and filters let it through receives
// it in its next WaitEvent answer, and waiting WaitEvents wake at once.
// The event's class comes from its Privilege field ("call,all"; class
// user if there is none or it names no class); the server writes Event, Privilege and, with
// timestampevents, Timestamp first, then the other fields in order.
func (s *Server) Emit(msg *rawman.Message) error {
	name := msg.Get("Event")
	if name == "" {
		return ErrNotEvent
	}
	class := 64
	if p, ok := msg.Lookup("Privilege"); ok {
		class = parseClasses(strings.TrimSuffix(strings.TrimSuffix(p, "all"), ","))
		if class == allClasses || class == 0 {
			class = 64 // "all" alone, or no known class: user
		}
	}
	var body rawman.Message
	for _, f := range msg.Fields {
		if strings.EqualFold(f.Key, "Event") || strings.EqualFold(f.Key, "Privilege") || strings.EqualFold(f.Key, "Timestamp") {
			continue
		}
		body.Fields = append(body.Fields, f)
	}
	var text []byte
	if body.Len() > 0 {
		b, err := rawman.Append(nil, &body)
		if err != nil {
			return err
		}
		text = b[:len(b)-2] // without the message's final empty line
	}
	s.ami.publish(name, class, string(text))
	return nil
}

// ExpireSessions ends every session at once, as if each had stayed idle
// past httptimeout and been purged: the next request with its cookie runs
// on a new session and gets "Permission denied"; a digest nonce starts a
// new session. Queued events stay queued for the sessions to come.
func (s *Server) ExpireSessions() {
	m := s.ami
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, ss := range m.sessions {
		if ss.waiter != nil {
			ss.waiter.signal()
		}
		ss.gone = true
		delete(m.sessions, id)
	}
}

// RotateNonces gives every digest session a new nonce now, as Asterisk
// does 62 s after issuing one: the next request signed with the old
// nonce gets 401 with stale=true and the new one.
func (s *Server) RotateNonces() {
	m := s.ami
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.clock.Now()
	var digest []*session
	for _, ss := range m.sessions {
		if ss.digest {
			digest = append(digest, ss)
		}
	}
	for _, ss := range digest {
		m.rotateLocked(ss, now)
	}
}
