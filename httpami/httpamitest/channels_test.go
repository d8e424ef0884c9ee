package httpamitest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
)

var chT0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// chTestDialplan is the reference dialplan plus extensions that make
// the synchronous Originate wait.
func chTestDialplan() Dialplan {
	d := DefaultDialplan()
	d.Contexts[0].Extensions = append(d.Contexts[0].Extensions,
		Extension{Exten: "400", Steps: []Step{Wait(2 * time.Second), Answer(), Echo()}},
		Extension{Exten: "401", Steps: []Step{Wait(time.Second), Hangup()}},
		Extension{Exten: "402", Steps: []Step{Answer(), {App: "NoOp", Data: "x"}}},
	)
	return d
}

type chSession struct {
	t      *testing.T
	srv    *Server
	clk    *FakeClock
	hc     *http.Client
	cookie string
}

func chStart(t *testing.T) *chSession {
	t.Helper()
	clk := NewFakeClock(chT0)
	srv := NewServer(WithClock(clk), WithDialplan(chTestDialplan()))
	t.Cleanup(srv.Close)
	s := &chSession{t: t, srv: srv, clk: clk, hc: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	if m := s.do("Action", "Login", "Username", "hello", "Secret", "world"); m[0].Get("Response") != "Success" {
		t.Fatalf("login: %v", m)
	}
	s.do("Action", "WaitEvent", "Timeout", "0") // drain SuccessfulAuth
	return s
}

var chCookieRe = regexp.MustCompile(`mansession_id="([0-9a-f]+)"`)

// raw sends one rawman request and returns its body.
func (s *chSession) raw(kv ...string) string {
	s.t.Helper()
	b, err := s.try(kv...)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *chSession) try(kv ...string) (string, error) {
	var q []string
	for i := 0; i+1 < len(kv); i += 2 {
		q = append(q, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
	}
	req, err := http.NewRequest("GET", s.srv.URL+"/rawman?"+strings.Join(q, "&"), nil)
	if err != nil {
		return "", err
	}
	if s.cookie != "" {
		req.Header.Set("Cookie", `mansession_id="`+s.cookie+`"`)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if m := chCookieRe.FindStringSubmatch(resp.Header.Get("Set-Cookie")); m != nil {
		s.cookie = m[1]
	}
	return string(b), nil
}

func chDecode(t *testing.T, body string) []*rawman.Message {
	t.Helper()
	msgs, err := decodeBody("text/plain", []byte(body))
	if err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return msgs
}

func (s *chSession) do(kv ...string) []*rawman.Message {
	s.t.Helper()
	return chDecode(s.t, s.raw(kv...))
}

// events drains the session's queue and returns "Event ChannelSuffix"
// descriptions of the events (the channel half, when there is one).
func (s *chSession) events() []string {
	s.t.Helper()
	var out []string
	for _, m := range s.do("Action", "WaitEvent", "Timeout", "0")[1:] {
		e := m.Get("Event")
		if e == "WaitEventComplete" {
			continue
		}
		if ch := m.Get("Channel"); ch != "" {
			if i := strings.LastIndexByte(ch, ';'); i >= 0 {
				e += " " + ch[i:]
			}
		}
		out = append(out, e)
	}
	return out
}

// eventMsgs drains the queue and returns the events themselves.
func (s *chSession) eventMsgs() []*rawman.Message {
	s.t.Helper()
	ms := s.do("Action", "WaitEvent", "Timeout", "0")
	return ms[1 : len(ms)-1]
}

// background sends a request that blocks and returns a channel with its
// answer, once the server has parked it.
func (s *chSession) background(kv ...string) <-chan []*rawman.Message {
	s.t.Helper()
	ch := make(chan []*rawman.Message, 1)
	before := s.srv.Waiting()
	c2 := *s
	go func() {
		b, _ := c2.try(kv...)
		ms, _ := decodeBody("text/plain", []byte(b))
		ch <- ms
	}()
	deadline := time.Now().Add(5 * time.Second)
	for s.srv.Waiting() <= before {
		select {
		case m := <-ch:
			ch <- m
			return ch
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatal("request never parked")
		}
		time.Sleep(time.Millisecond)
	}
	return ch
}

func chExpect(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestOriginateErrors(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
		resp string
		msg  string
	}{
		{"no channel", []string{"Application", "Wait"}, "Error", "Channel not specified"},
		{"bad priority", []string{"Channel", "Local/100@test", "Priority", "x"}, "Error", "Invalid priority"},
		{"bad timeout", []string{"Channel", "Local/100@test", "Application", "Echo", "Timeout", "x"}, "Error", "Invalid timeout"},
		{"no slash", []string{"Channel", "Local", "Application", "Echo"}, "Error", "Invalid channel"},
		{"no such priority", []string{"Channel", "Local/100@test", "Context", "test", "Exten", "100", "Priority", "9"}, "Error", "Extension does not exist."},
		{"exten needs context", []string{"Channel", "Local/100@test"}, "Error", "Originate with 'Exten' requires 'Context' and 'Priority'"},
		{"bad tech sync", []string{"Channel", "Nope/xyz", "Application", "Wait", "Data", "1"}, "Error", "Originate failed"},
		{"bad exten sync", []string{"Channel", "Local/999@test", "Application", "Wait", "Data", "1"}, "Error", "Originate failed"},
		{"bad tech async", []string{"Channel", "Nope/xyz", "Application", "Wait", "Async", "yes"}, "Success", "Originate successfully queued"},
	}
	s := chStart(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := s.do(append([]string{"Action", "Originate", "ActionID", "x1"}, tt.kv...)...)
			if len(m) != 1 || m[0].Get("Response") != tt.resp || m[0].Get("Message") != tt.msg || m[0].Get("ActionID") != "x1" {
				t.Errorf("got %v, want %s / %s", m, tt.resp, tt.msg)
			}
		})
	}
	// events of the failures: the Local/999 pair, the async OriginateResponse
	ev := s.eventMsgs()
	var names []string
	for _, e := range ev {
		names = append(names, e.Get("Event"))
	}
	chExpect(t, "failure events", names, []string{"Newchannel", "Newchannel", "Newexten", "Hangup", "Hangup",
		"DeviceStateChange", "DeviceStateChange", "OriginateResponse"})
	last := ev[len(ev)-1]
	if last.Get("Response") != "Failure" || last.Get("Channel") != "Nope/xyz" || last.Get("Reason") != "0" || last.Get("Uniqueid") != "<unknown>" || last.Fields[3].Key != "ActionID" {
		t.Errorf("OriginateResponse %v", last)
	}
	if ev[5].Get("State") != "INVALID" {
		t.Errorf("DeviceStateChange %v", ev[5])
	}
	c := s.srv.ami.chans
	if c.localSeq != 1 || c.uniqSeq != 2 || c.processed != 0 {
		t.Errorf("counters local %d uniq %d processed %d, want 1 2 0", c.localSeq, c.uniqSeq, c.processed)
	}
}

func TestOriginateAsyncEcho(t *testing.T) {
	s := chStart(t)
	m := s.do("Action", "Originate", "Channel", "Local/100@test", "Application", "Echo", "Async", "true", "ActionID", "o1")
	if m[0].Get("Message") != "Originate successfully queued" {
		t.Fatalf("%v", m)
	}
	chExpect(t, "setup", s.events(), []string{
		"Newchannel ;1", "Newchannel ;2", "Newexten ;1", "LocalBridge", "DialBegin", "Newexten ;2",
		"Newstate ;2", "Newstate ;1", "DialEnd", "OriginateResponse ;1", "DeviceStateChange", "DeviceStateChange"})
	steps := []struct {
		d    time.Duration
		want []string
	}{
		{500 * time.Millisecond, []string{"Newexten ;2", "UserEvent ;2"}},
		{echoGap, []string{"Newexten ;2"}},
		{2 * time.Second, []string{"Newexten ;2", "SoftHangupRequest ;2", "HangupRequest ;1", "Hangup ;2", "DeviceStateChange"}},
		{laterBatch, []string{"Hangup ;1", "DeviceStateChange"}},
	}
	for i, st := range steps {
		s.clk.Advance(st.d)
		chExpect(t, "step "+string(rune('0'+i)), s.events(), st.want)
	}
	c := s.srv.ami.chans
	if len(c.live) != 0 || c.processed != 1 || c.localSeq != 1 || c.uniqSeq != 2 {
		t.Errorf("live %d processed %d local %d uniq %d", len(c.live), c.processed, c.localSeq, c.uniqSeq)
	}
}

func TestOriginateVariablesAndUserEvent(t *testing.T) {
	s := chStart(t)
	s.do("Action", "Originate", "Channel", "Local/101@test", "Application", "Wait", "Data", "1",
		"Variable", "a=1", "Variable", "b=2", "Async", "1")
	ev := s.eventMsgs()
	var vs []string
	for _, e := range ev {
		if e.Get("Event") == "VarSet" {
			vs = append(vs, e.Get("Channel")[len(e.Get("Channel"))-2:]+" "+e.Get("Variable")+"="+e.Get("Value"))
		}
	}
	chExpect(t, "VarSets", vs, []string{";1 b=2", ";1 a=1", ";2 a=1", ";2 b=2"})
	s.clk.Advance(500 * time.Millisecond)
	ev = s.eventMsgs()
	if len(ev) != 3 || ev[1].Get("UserEvent") != "VarCheck" || ev[1].Get("A") != "1" || ev[1].Get("B") != "2" ||
		ev[0].Get("AppData") != "VarCheck,A: 1,B: 2" || ev[2].Get("Application") != "Wait" {
		t.Errorf("priority 2/3 events: %v", ev)
	}
	if v := s.do("Action", "Getvar", "Channel", "Local/101@test-00000000;2", "Variable", "b"); v[0].Get("Value") != "2" {
		t.Errorf("Getvar: %v", v)
	}
	s.clk.Advance(500 * time.Millisecond) // ;1's Wait(1) ends
	chExpect(t, "teardown", s.events(), []string{"HangupRequest ;2", "Hangup ;1", "DeviceStateChange", "SoftHangupRequest ;2", "Hangup ;2"})
	s.clk.Advance(time.Millisecond)
	chExpect(t, "last", s.events(), []string{"DeviceStateChange"})
}

func TestOriginateSync(t *testing.T) {
	s := chStart(t)
	// answered at once: the second INUSE comes after the answer
	m := s.do("Action", "Originate", "Channel", "Local/100@test", "Application", "Wait", "Data", "1")
	if m[0].Get("Response") != "Success" {
		t.Fatalf("%v", m)
	}
	chExpect(t, "sync setup", s.events(), []string{"Newchannel ;1", "Newchannel ;2", "Newexten ;1", "LocalBridge",
		"DialBegin", "Newexten ;2", "Newstate ;2", "Newstate ;1", "DeviceStateChange", "DialEnd"})
	s.clk.Advance(syncDeviceState)
	chExpect(t, "second INUSE", s.events(), []string{"DeviceStateChange"})
	s.clk.Advance(2 * time.Second)
	s.events()

	// answered 2 s later: the request waits on the clock
	done := s.background("Action", "Originate", "Channel", "Local/400@test", "Application", "Echo")
	s.clk.Advance(time.Second)
	select {
	case m := <-done:
		t.Fatalf("answered before the channel was: %v", m)
	default:
	}
	s.clk.Advance(time.Second)
	if m := <-done; m[0].Get("Response") != "Success" {
		t.Errorf("delayed answer: %v", m)
	}

	// never answered within Timeout
	done = s.background("Action", "Originate", "Channel", "Local/400@test", "Application", "Echo", "Timeout", "1000")
	s.clk.Advance(time.Second)
	if m := <-done; m[0].Get("Message") != "Originate failed" {
		t.Errorf("timeout: %v", m)
	}

	// hung up before the answer
	done = s.background("Action", "Originate", "Channel", "Local/401@test", "Application", "Echo")
	s.clk.Advance(time.Second + laterBatch)
	if m := <-done; m[0].Get("Message") != "Originate failed" {
		t.Errorf("hung up: %v", m)
	}
}

func TestOriginateShutdownWakesSync(t *testing.T) {
	s := chStart(t)
	done := s.background("Action", "Originate", "Channel", "Local/400@test", "Application", "Echo")
	go s.srv.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("sync Originate still waiting after Close")
	}
}

func TestListsAndHangup(t *testing.T) {
	s := chStart(t)
	for range 2 {
		s.do("Action", "Originate", "Channel", "Local/200@test", "Application", "Wait", "Data", "30", "Async", "true")
	}
	s.clk.Advance(501 * time.Millisecond)
	s.events()

	var order []string
	for _, m := range s.do("Action", "CoreShowChannels", "ActionID", "c")[1:] {
		if m.Get("Event") == "CoreShowChannel" {
			order = append(order, strings.TrimPrefix(m.Get("Channel"), "Local/200@test-0000000"))
			if m.Fields[1].Key != "ActionID" || m.Get("Application") != "Wait" || m.Get("ApplicationData") != "30" {
				t.Errorf("CoreShowChannel %v", m)
			}
		}
	}
	chExpect(t, "CoreShowChannels order", order, []string{"0;1", "1;1", "0;2", "1;2"})

	order = nil
	st := s.do("Action", "Status", "ActionID", "s", "Variables", "x")
	for _, m := range st[1 : len(st)-1] {
		order = append(order, strings.TrimPrefix(m.Get("Channel"), "Local/200@test-0000000"))
		if m.Get("Privilege") != "Call" || m.Fields[m.Len()-1].Key != "ActionID" || m.Get("Variable") != "x=" {
			t.Errorf("Status item %v", m)
		}
	}
	chExpect(t, "Status order", order, []string{"0;1", "0;2", "1;1", "1;2"})
	if c := st[len(st)-1]; c.Get("Items") != "4" || c.Get("ListItems") != "4" {
		t.Errorf("StatusComplete %v", c)
	}
	if m := s.do("Action", "Status", "Channel", "local/200@TEST-00000000;2"); len(m) != 3 || m[1].Get("Priority") != "2" {
		t.Errorf("Status one channel: %v", m)
	}
	if m := s.do("Action", "Status", "Channel", "nope"); m[0].Get("Message") != "No such channel" {
		t.Errorf("Status unknown: %v", m)
	}

	out := s.do("Action", "Command", "Command", "core show channels")[0]
	var lines []string
	for _, f := range out.Fields {
		if f.Key == "Output" {
			lines = append(lines, strings.TrimRight(f.Value, " "))
		}
	}
	chExpect(t, "core show channels", lines[len(lines)-3:], []string{"4 active channels", "2 active calls", "2 calls processed"})
	if want := "Local/200@test-00000001;1" + strings.Repeat(" ", 40) + "200@test:1" + strings.Repeat(" ", 23) + "Up      Wait(30)"; lines[2] != want {
		t.Errorf("row %q, want %q", lines[2], want)
	}
	if cs := s.do("Action", "CoreStatus")[0]; cs.Get("CoreCurrentCalls") != "2" || cs.Get("CoreProcessedCalls") != "2" {
		t.Errorf("CoreStatus %v", cs)
	}

	// Setvar / Getvar on a channel
	if m := s.do("Action", "Setvar", "Channel", "Local/200@test-00000000;1", "Variable", "foo", "Value", "bar"); m[0].Get("Response") != "Success" {
		t.Errorf("Setvar %v", m)
	}
	if ev := s.events(); !slices.Equal(ev, []string{"VarSet ;1"}) {
		t.Errorf("Setvar events %v", ev)
	}
	if m := s.do("Action", "Getvar", "Channel", "Local/200@test-00000000;1", "Variable", "foo"); m[0].Get("Value") != "bar" {
		t.Errorf("Getvar %v", m)
	}
	if m := s.do("Action", "Getvar", "Channel", "nope", "Variable", "foo"); m[0].Get("Message") != "No such channel" {
		t.Errorf("Getvar unknown %v", m)
	}

	// Hangup: errors, by name with a cause, by regex
	hangups := []struct {
		kv       []string
		resp     string
		msg      string
		listed   int
		channels int // left afterwards
	}{
		{[]string{}, "Error", "No channel specified", -1, 4},
		{[]string{"Channel", "Local/nope-00000000;1"}, "Error", "No such channel", -1, 4},
		{[]string{"Channel", "/abc"}, "Error", "Regex format invalid, Channel param should be /regex/", -1, 4},
		{[]string{"Channel", "/a(/"}, "Error", "Regex compile failed on: /a(/", -1, 4},
		{[]string{"Channel", "/^SIP//"}, "Success", "Channels hung up will follow", 0, 4},
		{[]string{"Channel", "Local/200@test-00000001;2", "Cause", "17"}, "Success", "Channel Hungup", -1, 2},
		{[]string{"Channel", `/^Local\/200@test-/`}, "Success", "Channels hung up will follow", 2, 0},
	}
	for _, h := range hangups {
		m := s.do(append([]string{"Action", "Hangup"}, h.kv...)...)
		if m[0].Get("Response") != h.resp || m[0].Get("Message") != h.msg {
			t.Errorf("Hangup %q: %v", h.kv, m)
		}
		if h.listed >= 0 {
			if c := m[len(m)-1]; c.Get("Event") != "ChannelsHungupListComplete" || c.Get("ListItems") != string(rune('0'+h.listed)) {
				t.Errorf("Hangup %q list %v", h.kv, m)
			}
		}
		if n := len(s.srv.ami.chans.live); n != h.channels {
			t.Errorf("Hangup %q leaves %d channels, want %d", h.kv, n, h.channels)
		}
		if len(h.kv) == 4 { // the Cause
			var causes []string
			for _, e := range s.eventMsgs() {
				if e.Get("Event") == "Hangup" || e.Get("Event") == "HangupRequest" {
					causes = append(causes, e.Get("Event")+" "+e.Get("Cause")+" "+e.Get("Cause-txt"))
				}
			}
			chExpect(t, "causes", causes, []string{"HangupRequest 17 ", "Hangup 17 User busy"})
		}
	}
	s.clk.Advance(time.Millisecond)
	if m := s.do("Action", "CoreShowChannels"); len(m) != 2 || m[1].Get("ListItems") != "0" {
		t.Errorf("channels left: %v", m)
	}
}

func TestRedirect(t *testing.T) {
	s := chStart(t)
	s.do("Action", "Originate", "Channel", "Local/200@test", "Application", "Wait", "Data", "30", "Async", "true")
	s.clk.Advance(300 * time.Millisecond)
	s.events()
	one, two := "Local/200@test-00000000;1", "Local/200@test-00000000;2"
	errs := []struct {
		kv  []string
		msg string
	}{
		{[]string{}, "Channel not specified"},
		{[]string{"Channel", two}, "Context not specified"},
		{[]string{"Channel", two, "Context", "test"}, "Exten not specified"},
		{[]string{"Channel", two, "Context", "test", "Exten", "300"}, "Priority not specified"},
		{[]string{"Channel", two, "Context", "test", "Exten", "300", "Priority", "x"}, "Priority is invalid"},
		{[]string{"Channel", two, "Context", "test", "Exten", "300", "Priority", "1", "ExtraChannel", one, "ExtraContext", "test"}, "ExtraExten not specified"},
		{[]string{"Channel", two, "Context", "test", "Exten", "300", "Priority", "1", "ExtraChannel", one, "ExtraContext", "test", "ExtraExten", "300"}, "ExtraPriority not specified"},
		{[]string{"Channel", "Local/nope-00000000;1", "Context", "test", "Exten", "300", "Priority", "1"}, "Channel does not exist: Local/nope-00000000;1"},
		{[]string{"Channel", two, "Context", "test", "Exten", "300", "Priority", "1", "ExtraChannel", "x"}, "ExtraChannel does not exist: x"},
	}
	for _, e := range errs {
		m := s.do(append([]string{"Action", "Redirect"}, e.kv...)...)
		if m[0].Get("Response") != "Error" || m[0].Get("Message") != e.msg {
			t.Errorf("Redirect %q: %v, want %s", e.kv, m, e.msg)
		}
	}
	uniq := s.srv.ami.chans.uniqSeq
	m := s.do("Action", "Redirect", "Channel", two, "Context", "test", "Exten", "300", "Priority", "1",
		"ExtraChannel", one, "ExtraContext", "test", "ExtraExten", "300", "ExtraPriority", "1")
	if m[0].Get("Message") != "Dual Redirect successful" {
		t.Fatalf("%v", m)
	}
	var apps []string
	for _, e := range s.eventMsgs() {
		apps = append(apps, e.Get("Event")+" "+e.Get("Channel")[len(e.Get("Channel"))-2:]+" "+e.Get("Exten")+","+e.Get("Priority")+" "+e.Get("Application"))
	}
	chExpect(t, "redirect events", apps, []string{"Newexten ;2 300,1 Answer", "Newexten ;2 300,2 Echo", "Newexten ;1 300,1 Answer", "Newexten ;1 300,2 Echo"})
	if c := s.srv.ami.chans; c.uniqSeq != uniq+1 || c.processed != 2 {
		t.Errorf("surrogate: uniq %d (was %d), processed %d", c.uniqSeq, uniq, c.processed)
	}
	s.clk.Advance(time.Minute) // no Wait left to end
	if n := len(s.srv.ami.chans.live); n != 2 {
		t.Errorf("%d channels after a minute of Echo", n)
	}
	s.do("Action", "Hangup", "Channel", two)
	s.clk.Advance(time.Millisecond)
	chExpect(t, "hangup", s.events(), []string{"SoftHangupRequest ;2", "HangupRequest ;1", "SoftHangupRequest ;1",
		"Hangup ;2", "DeviceStateChange", "Hangup ;1", "DeviceStateChange"})
	if m := s.do("Action", "Redirect", "Channel", one, "Context", "test", "Exten", "300", "Priority", "1"); m[0].Get("Message") != "Channel does not exist: "+one {
		t.Errorf("redirect of a gone channel: %v", m)
	}
}

func TestRestartForgetsChannels(t *testing.T) {
	s := chStart(t)
	s.do("Action", "Originate", "Channel", "Local/300@test", "Application", "Echo", "Async", "true")
	s.srv.Restart()
	c := s.srv.ami.chans
	cur, done := c.counts()
	if len(c.live) != 0 || cur != 0 || done != 0 || c.localSeq != 0 || c.uniqSeq != 0 {
		t.Errorf("after Restart: live %d current %d processed %d local %d uniq %d", len(c.live), cur, done, c.localSeq, c.uniqSeq)
	}
	if got := c.cliShowChannels(); len(got) != 4 || got[1] != "0 active channels" || got[3] != "0 calls processed" {
		t.Errorf("core show channels: %q", got)
	}
}

func TestAppArgsAndSubstitution(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`TestEvent,Foo: bar,Weird: a<b>&"c'`, []string{"TestEvent", "Foo: bar", "Weird: a<b>&c'"}},
		{`a,"b,c",d`, []string{"a", "b,c", "d"}},
		{`f(x,y),z`, []string{"f(x,y)", "z"}},
		{`a\,b`, []string{"a,b"}},
		{``, []string{""}},
	}
	for _, tt := range tests {
		chExpect(t, tt.in, appArgs(tt.in), tt.want)
	}
	c := &channels{m: &manager{globals: map[string]string{"G": "g"}}}
	ch := &channel{vars: []varKV{{"a", "1"}, {"n", "a"}}}
	for in, want := range map[string]string{
		"A: ${a},B: ${b}": "A: 1,B: ",
		"${G}/${${n}}":    "g/1",
		"${unclosed":      "${unclosed",
	} {
		if got := c.substitute(ch, in); got != want {
			t.Errorf("substitute(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuckets(t *testing.T) {
	// the buckets the recordings' orders imply (see channels-spec §5.4)
	for name, want := range map[string]uint32{
		"Local/200@test-00000000;1": 630, "Local/200@test-00000000;2": 633,
		"Local/200@test-00000001;1": 633, "Local/200@test-00000001;2": 634,
		"Local/200@test-00000006;1": 496, "Local/200@test-00000006;2": 495,
		"LOCAL/200@TEST-0000000D;1": 957,
	} {
		if got := bucket(name); got != want {
			t.Errorf("bucket(%s) = %d, want %d", name, got, want)
		}
	}
}

// TestOriginateChannelID checks ChannelId and OtherChannelId as Asterisk
// 23.4.1 answered them live: the Uniqueids of the two halves (the second
// is ChannelId;2 unless OtherChannelId names it), the Linkedid, a refusal
// of a Uniqueid in use and of one over 149 bytes, whose message Asterisk
// ends with a newline of its own.
func TestOriginateChannelID(t *testing.T) {
	s := chStart(t)
	m := s.do("Action", "Originate", "Channel", "Local/100@test", "Application", "Echo", "ChannelId", strings.Repeat("x", 150), "ActionID", "a1")
	if len(m) != 1 || m[0].Get("Response") != "Error" || m[0].Get("Message") != "Uniqueid length exceeds maximum of 149" {
		t.Fatalf("long ChannelId: %v", m)
	}

	m = s.do("Action", "Originate", "Channel", "Local/100@test", "Application", "Echo", "ChannelId", "dup1", "Async", "1", "ActionID", "a2")
	if m[0].Get("Message") != "Originate successfully queued" {
		t.Fatalf("%v", m)
	}
	ids := map[string]string{}
	for _, e := range s.eventMsgs() {
		if e.Get("Event") == "Newchannel" || e.Get("Event") == "OriginateResponse" {
			ids[e.Get("Event")+" "+e.Get("Channel")[len(e.Get("Channel"))-2:]] = e.Get("Uniqueid") + " " + e.Get("Linkedid")
		}
	}
	want := map[string]string{"Newchannel ;1": "dup1 dup1", "Newchannel ;2": "dup1;2 dup1", "OriginateResponse ;1": "dup1 "}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("Uniqueid and Linkedid %v, want %v", ids, want)
	}

	m = s.do("Action", "Originate", "Channel", "Local/100@test", "Application", "Echo", "ChannelId", "dup1", "ActionID", "a3")
	if m[0].Get("Response") != "Error" || m[0].Get("Message") != "Originate failed" {
		t.Errorf("a Uniqueid in use: %v", m)
	}

	s.do("Action", "Originate", "Channel", "Local/100@test", "Application", "Echo", "ChannelId", "one", "OtherChannelId", "two", "Async", "1")
	var got []string
	for _, e := range s.eventMsgs() {
		if e.Get("Event") == "Newchannel" {
			got = append(got, e.Get("Uniqueid"))
		}
	}
	if fmt.Sprint(got) != "[one two]" {
		t.Errorf("OtherChannelId: Uniqueids %v, want [one two]", got)
	}
}
