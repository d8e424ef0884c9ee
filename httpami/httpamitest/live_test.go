package httpamitest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/digest"
	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/livetest"
)

// A liveStep is one request sent alike to the live Asterisk and to the
// fake.
type liveStep struct {
	name   string
	method string // default GET
	path   string // endpoint, "/rawman" or "/mxml"
	params string // query string, or form body for POST
	// ours, when set, keeps only the messages of an answer that this test
	// caused: the live Asterisk has other clients whose events would show.
	ours func(m *rawman.Message) bool
}

// TestLiveMatchesFake sends the same requests to the live Asterisk named
// by AMIHTTP_TEST_URL and to a fake configured like it, and compares the
// answers as TestTranscripts does. It covers what the recordings do not:
// Events, Filter, Challenge errors, Setvar and Getvar errors, Command
// errors, HEAD and the answers of the mxml endpoint to them.
func TestLiveMatchesFake(t *testing.T) {
	target := livetest.Get(t)
	var opts []Option
	for _, u := range referenceUsers() {
		opts = append(opts, WithUser(u))
	}
	fake := NewServer(opts...)
	defer fake.Close()

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	mine := func(m *rawman.Message) bool {
		return !m.IsEvent() || m.Event() == "WaitEventComplete" || m.Get("Run") == run
	}
	var steps []liveStep
	for _, path := range []string{"/rawman", "/mxml"} {
		steps = append(steps,
			liveStep{name: "login", path: path, params: "Action=Login&Username=hello&Secret=world"},
			liveStep{name: "drain", path: path, params: "Action=WaitEvent&Timeout=0", ours: mine},
			liveStep{name: "ping", path: path, params: "Action=Ping&ActionID=p1"},
			liveStep{name: "events-off", path: path, params: "Action=Events&EventMask=off&ActionID=e1"},
			liveStep{name: "events-on", path: path, params: "Action=Events&EventMask=on"},
			liveStep{name: "events-bogus", path: path, params: "Action=Events&EventMask=bogus"},
			liveStep{name: "events-class", path: path, params: "Action=Events&EventMask=call,user"},
			liveStep{name: "events-empty", path: path, params: "Action=Events&EventMask="},
			liveStep{name: "filter", path: path, params: "Action=Filter&Operation=Add&Filter=Run:+" + run},
			liveStep{name: "filter-bad-op", path: path, params: "Action=Filter&Operation=Remove&Filter=x"},
			liveStep{name: "filter-no-op", path: path, params: "Action=Filter&Filter=x"},
			liveStep{name: "filter-empty", path: path, params: "Action=Filter&Operation=add&Filter="},
			liveStep{name: "filter-bad-regex", path: path, params: "Action=Filter&Operation=Add&Filter=a(b"},
			liveStep{name: "filter-exclude", path: path, params: "Action=Filter&Operation=Add&Filter=!Event:+Nothing"},
			liveStep{name: "challenge-bogus", path: path, params: "Action=Challenge&AuthType=SHA1"},
			liveStep{name: "getvar-none", path: path, params: "Action=Getvar"},
			liveStep{name: "getvar-unset", path: path, params: "Action=Getvar&Variable=NOPE_" + run},
			liveStep{name: "setvar-none", path: path, params: "Action=Setvar&Value=x"},
			liveStep{name: "setvar", path: path, params: "Action=Setvar&Variable=LIVE_VAR&Value=" + run},
			liveStep{name: "getvar", path: path, params: "Action=Getvar&Variable=LIVE_VAR"},
			liveStep{name: "getvar-global-func", path: path, params: "Action=Getvar&Variable=GLOBAL(LIVE_VAR)&ActionID=g2"},
			liveStep{name: "command-none", path: path, params: "Action=Command"},
			liveStep{name: "command-blacklisted", path: path, params: "Action=Command&Command=module+load+foo.so"},
			liveStep{name: "command-unknown", path: path, params: "Action=Command&Command=frobnicate+all&ActionID=c9"},
			liveStep{name: "userevent", path: path, method: "POST", params: "Action=UserEvent&UserEvent=Live&Run=" + run + "&A=1&A=2&Empty="},
			liveStep{name: "head-userevent", path: path, method: "HEAD", params: "Action=UserEvent&UserEvent=LiveHead&Run=" + run},
			liveStep{name: "events", path: path, params: "Action=WaitEvent&Timeout=1&ActionID=w1", ours: mine},
			liveStep{name: "userevent-weird", path: path, params: "Action=UserEvent&UserEvent=Weird&Run=" + run +
				"&Markup=%3C%3E%26%22%27&Spaces=++two++&Utf8=h%C3%A9llo&Tab=a%09b&1st-Header=x&Foo-Bar=dash&Foo_Bar=underscore&foo.bar=dot&Ctl=bell%07+soh%01&Line=one%0D%0AInjected%3A+two&NoEquals"},
			liveStep{name: "events-weird", path: path, params: "Action=WaitEvent&Timeout=1", ours: mine},
			liveStep{name: "unknown", path: path, params: "Action=NoSuchThing&ActionID=u1"},
			liveStep{name: "originate-no-channel", path: path, params: "Action=Originate&Exten=100&Context=test&Priority=1"},
			liveStep{name: "originate-bad-tech", path: path, params: "Action=Originate&Channel=Nope/1&Application=Echo&ActionID=o1"},
			liveStep{name: "originate-no-exten", path: path, params: "Action=Originate&Channel=Local/999@test&Application=Echo&ActionID=o2"},
			liveStep{name: "originate-no-app", path: path, params: "Action=Originate&Channel=Local/100@test"},
			liveStep{name: "hangup-none", path: path, params: "Action=Hangup&Channel=Local/nosuch-00000000;1&ActionID=h1"},
			liveStep{name: "redirect-none", path: path, params: "Action=Redirect&Channel=Local/nosuch-00000000;1&Exten=300&Context=test&Priority=1"},
			liveStep{name: "redirect-no-exten", path: path, params: "Action=Redirect&Channel=Local/nosuch-00000000;1"},
			liveStep{name: "status-none", path: path, params: "Action=Status&Channel=Local/nosuch-00000000;1"},
			liveStep{name: "channelmap-no-channel", path: path, params: "Action=CoreShowChannelMap&ActionID=m1"},
			liveStep{name: "channelmap-none", path: path, params: "Action=CoreShowChannelMap&Channel=Local/nosuch-00000000;1"},
			liveStep{name: "getvar-no-channel", path: path, params: "Action=Getvar&Channel=Local/nosuch-00000000;1&Variable=X"},
			liveStep{name: "setvar-no-channel", path: path, params: "Action=Setvar&Channel=Local/nosuch-00000000;1&Variable=X&Value=1"},
			liveStep{name: "queuesummary-one", path: path, params: "Action=QueueSummary&Queue=support&ActionID=q1"},
			liveStep{name: "queuestatus-none", path: path, params: "Action=QueueStatus&Queue=nosuch&ActionID=q2"},
			liveStep{name: "agents-id", path: path, params: "Action=Agents&ActionID=a1"},
			liveStep{name: "devicestatelist-id", path: path, params: "Action=DeviceStateList&ActionID=d1"},
			liveStep{name: "showdialplan-id", path: path, params: "Action=ShowDialPlan&Context=test&ActionID=s1"},
			liveStep{name: "showdialplan-none", path: path, params: "Action=ShowDialPlan&Context=nosuch"},
			liveStep{name: "listcategories", path: path, params: "Action=ListCategories&Filename=extensions.conf&ActionID=l1"},
			liveStep{name: "coresettings-id", path: path, params: "Action=CoreSettings&ActionID=cs"},
			liveStep{name: "coreshowchannels", path: path, params: "Action=CoreShowChannels&ActionID=csc"},
			liveStep{name: "status", path: path, params: "Action=Status"},
			liveStep{name: "queuestatus", path: path, params: "Action=QueueStatus&ActionID=qs"},
			liveStep{name: "listcommands", path: path, params: "Action=ListCommands"},
			liveStep{name: "command-version", path: path, params: "Action=Command&Command=core+show+version"},
			liveStep{name: "ajaxdest", path: path, params: "Action=Ping&ajaxdest=dest&ajaxobjtype=obj"},
			liveStep{name: "listcategories-other", path: path, params: "Action=ListCategories&Filename=nosuch.conf"},
			liveStep{name: "logoff", path: path, params: "Action=Logoff&ActionID=bye"},
			liveStep{name: "after-logoff", path: path, params: "Action=Ping"},
		)
	}
	steps = append(steps,
		liveStep{name: "limited-login", path: "/rawman", params: "Action=Login&Username=LIMITED&Secret=limited&Events=on"},
		liveStep{name: "limited-listcommands", path: "/rawman", params: "Action=ListCommands&ActionID=lc"},
		liveStep{name: "limited-command", path: "/rawman", params: "Action=Command&Command=core+show+version"},
		liveStep{name: "limited-events", path: "/rawman", params: "Action=Events&EventMask=on"},
		liveStep{name: "limited-already", path: "/rawman", params: "Action=Login&Username=hello&Secret=world"},
		liveStep{name: "limited-logoff", path: "/rawman", params: "Action=Logoff"},
		liveStep{name: "bad-password", path: "/rawman", params: "Action=Login&Username=hello&Secret=nope&ActionID=bp"},
		liveStep{name: "login-no-username", path: "/mxml", params: "Action=Login&Secret=world"},
		liveStep{name: "put", method: "PUT", path: "/rawman", params: "Action=Ping"},
		liveStep{name: "suffix", path: "/rawman/x", params: "Action=Ping"},
		liveStep{name: "digest-no-auth", path: "/arawman", params: "Action=Ping"},
	)

	live, mock := newLiveClient(t), newLiveClient(t)
	compareSteps(t, live, mock, target.Base, fake.URL, steps)

	// The digest endpoints, through the project's digest transport.
	var dsteps []liveStep
	for _, path := range []string{"/arawman", "/amxml"} {
		dsteps = append(dsteps,
			liveStep{name: "ping", path: path, params: "Action=Ping&ActionID=d1"},
			liveStep{name: "login", path: path, params: "Action=Login&Username=hello&Secret=world"},
			liveStep{name: "userevent", path: path, method: "POST", params: "Action=UserEvent&UserEvent=LiveDigest&Run=" + run},
			liveStep{name: "events", path: path, params: "Action=WaitEvent&Timeout=1", ours: mine},
			liveStep{name: "command-none", path: path, params: "Action=Command"},
			liveStep{name: "logoff", path: path, params: "Action=Logoff"},
			liveStep{name: "after-logoff", path: path, params: "Action=Ping"},
		)
	}
	dlive := &liveClient{c: (&digest.Transport{Username: target.Username, Password: target.Password}).Client()}
	dmock := &liveClient{c: (&digest.Transport{Username: "hello", Password: "world"}).Client()}
	compareSteps(t, dlive, dmock, target.Base, fake.URL, dsteps)
}

func compareSteps(t *testing.T, live, mock *liveClient, liveURL, fakeURL string, steps []liveStep) {
	for _, st := range steps {
		t.Run(strings.TrimPrefix(st.path, "/")+"/"+st.name, func(t *testing.T) {
			want := live.do(t, liveURL, st)
			got := mock.do(t, fakeURL, st)
			if diffs := compareLive(want, got, st); len(diffs) > 0 {
				t.Errorf("%d differences:\n\t%s\n--- live:\n%s\n--- fake:\n%s", len(diffs), strings.Join(diffs, "\n\t"), clip(want), clip(got))
			}
		})
	}
}

type liveClient struct{ c *http.Client }

func newLiveClient(t *testing.T) *liveClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &liveClient{c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// do sends st and returns the answer as bytes: status line, headers in
// the order received is lost by net/http, so they are written sorted.
func (lc *liveClient) do(t *testing.T, base string, st liveStep) []byte {
	method := st.method
	if method == "" {
		method = "GET"
	}
	var req *http.Request
	var err error
	if method == "POST" {
		req, err = http.NewRequest(method, base+st.path, strings.NewReader(st.params))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequest(method, base+st.path+"?"+st.params, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := lc.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %s\r\n", resp.Status)
	for _, k := range []string{"Content-Type", "Set-Cookie", "Pragma", "Www-Authenticate", "Content-Length"} {
		if v := resp.Header.Get(k); v != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(body)
	return []byte(b.String())
}

var (
	liveCookieRe = regexp.MustCompile(`mansession_id="[0-9a-f]{8}"`)
	liveNonceRe  = regexp.MustCompile(`(nonce|opaque)="[0-9a-f]{8}"`)
)

// compareLive compares two answers as compareBodies does, after masking
// session ids and nonces and dropping the messages that are not ours.
func compareLive(want, got []byte, st liveStep) []string {
	w, g := splitResponse(want), splitResponse(got)
	var diffs []string
	if w.status != g.status {
		diffs = append(diffs, fmt.Sprintf("status %q, want %q", g.status, w.status))
	}
	bodies, normalized := compareBodies(filterBody(w, st.ours), filterBody(g, st.ours))
	diffs = append(diffs, bodies...)
	mask := func(s string) string {
		return liveNonceRe.ReplaceAllString(liveCookieRe.ReplaceAllString(s, "<id>"), "$1=<nonce>")
	}
	for i := 0; i < max(len(w.headers), len(g.headers)); i++ {
		var wh, gh header
		if i < len(w.headers) {
			wh = w.headers[i]
		}
		if i < len(g.headers) {
			gh = g.headers[i]
		}
		if wh.name == "Content-Length" && (normalized || st.ours != nil) {
			continue
		}
		if wh.name != gh.name || mask(wh.value) != mask(gh.value) {
			diffs = append(diffs, fmt.Sprintf("header %s: %s, want %s: %s", gh.name, gh.value, wh.name, wh.value))
		}
	}
	return diffs
}

// filterBody keeps the messages keep accepts, as they were written: the
// lines of an mxml body (one message each), the messages of a rawman one.
func filterBody(r splitResp, keep func(*rawman.Message) bool) splitResp {
	if keep == nil || (r.ctype != "text/plain" && r.ctype != "text/xml") {
		return r
	}
	var b []byte
	if r.ctype == "text/xml" {
		for line := range strings.SplitAfterSeq(string(r.body), "\n") {
			msgs, err := decodeBody(r.ctype, []byte("<ajax-response>\n"+line+"</ajax-response>\n"))
			if strings.HasPrefix(line, "<response ") && (err != nil || len(msgs) != 1 || !keep(msgs[0])) {
				continue
			}
			b = append(b, line...)
		}
		return splitResp{status: r.status, headers: r.headers, ctype: r.ctype, body: b}
	}
	msgs, err := decodeBody(r.ctype, r.body)
	if err != nil {
		return r
	}
	for _, m := range msgs {
		if keep(m) {
			b, _ = rawman.Append(b, m)
		}
	}
	return splitResp{status: r.status, headers: r.headers, ctype: r.ctype, body: b}
}

// TestLiveCallMatchesFake originates the same call on the live Asterisk
// and on the fake (on the system clock) and compares every event of the
// call, in order, whatever WaitEvent answer each came in.
func TestLiveCallMatchesFake(t *testing.T) {
	target := livetest.Get(t)
	fake := NewServer()
	defer fake.Close()
	for _, tc := range []struct{ name, params string }{
		{"echo", "Action=Originate&Channel=Local/100@test&Application=Echo&Async=true&ActionID=call-echo"},
		{"variables", "Action=Originate&Channel=Local/101@test&Application=Echo&Async=true&Variable=a=1&Variable=b=2&ActionID=call-vars"},
		{"sync", "Action=Originate&Channel=Local/100@test&Context=test&Exten=300&Priority=1&ActionID=call-sync"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := liveCall(t, target.Base, tc.params)
			got := liveCall(t, fake.URL, tc.params)
			wantBy, gotBy := byChannel(want), byChannel(got)
			for k, w := range wantBy {
				g := gotBy[k]
				delete(gotBy, k)
				ws := splitResp{status: want.status, ctype: "text/plain", body: w}
				gs := splitResp{status: want.status, ctype: "text/plain", body: g}
				if diffs, _ := compareBodies(ws, gs); len(diffs) > 0 {
					t.Errorf("events of %s: %d differences:\n\t%s\n--- live:\n%s\n--- fake:\n%s", k, len(diffs), strings.Join(diffs, "\n\t"), w, g)
				}
			}
			for k, g := range gotBy {
				t.Errorf("events of %s only on the fake:\n%s", k, g)
			}
		})
	}
}

// byChannel splits a call's events by the channel (or device, or
// ActionID) they are about: Asterisk runs each channel in a thread of
// its own, so only the order of one channel's events is fixed.
func byChannel(r splitResp) map[string][]byte {
	msgs, _ := decodeBody(r.ctype, r.body)
	out := map[string][]byte{}
	for _, m := range msgs {
		var k string
		if floating[strings.ToLower(m.Event())] { // threads of their own
			k = "event:" + m.Event()
		}
		for _, f := range []string{"Channel", "LocalOneChannel", "DestChannel", "Device", "ActionID"} {
			if k != "" {
				break
			}
			if v := m.Get(f); v != "" {
				k, _ = normalize(f, v)
				k = f + ":" + k
				break
			}
		}
		out[k], _ = rawman.Append(out[k], m)
	}
	return out
}

// liveCall logs in on base, originates, and gathers the call's events
// until both halves of the Local pair have hung up (or 10 s pass); the
// channels of exten 100/101 hang up by themselves, others are hung up
// after 1 s. It returns them as one rawman body.
func liveCall(t *testing.T, base, originate string) splitResp {
	c := newLiveClient(t)
	get := func(params string) []*rawman.Message {
		body := c.do(t, base, liveStep{path: "/rawman", params: params})
		msgs, err := decodeBody("text/plain", splitResponse(body).body)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	get("Action=Login&Username=hello&Secret=world")
	get("Action=WaitEvent&Timeout=0")
	answer := get(originate)
	var events []byte
	for _, m := range answer {
		events, _ = rawman.Append(events, m)
	}
	ours := func(m *rawman.Message) bool {
		for _, k := range []string{"Channel", "LocalOneChannel", "Device", "DestChannel"} {
			if strings.Contains(m.Get(k), "Local/10") || strings.Contains(m.Get(k), "Local/300") {
				return true
			}
		}
		return strings.HasPrefix(m.Get("ActionID"), "call-")
	}
	hangups, tail := 0, 0 // tail: the WaitEvents after both hangups
	deadline := time.Now().Add(10 * time.Second)
	hungUp := false
	// Device states come from a thread of their own, after the hangups:
	// one more WaitEvent collects them.
	for tail < 2 && time.Now().Before(deadline) {
		wait := "2"
		if hangups >= 2 {
			tail, wait = 2, "1"
		}
		for _, m := range get("Action=WaitEvent&Timeout=" + wait) {
			if !m.IsEvent() || !ours(m) {
				continue
			}
			if m.Event() == "Hangup" {
				hangups++
			}
			events, _ = rawman.Append(events, m)
		}
		if !hungUp && strings.Contains(originate, "Exten=300") {
			time.Sleep(time.Second)
			get("Action=Hangup&Channel=/^Local\\/100@test-.*;1$/")
			hungUp = true
		}
	}
	return splitResp{status: "HTTP/1.1 200 OK", ctype: "text/plain", body: events}
}
