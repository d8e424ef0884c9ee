package httpamitest_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amihttp/amihttp/httpami/httpamitest"
)

func TestPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok, no []string // paths answered by the manager, and 404s
	}{
		{"", []string{"/rawman", "/rawman/", "/RAWMAN"}, []string{"/asterisk/rawman", "//rawman"}},
		{"asterisk", []string{"/asterisk/rawman", "/ASTERISK/RawMan", "/asterisk/mxml/"}, []string{"/rawman", "/asterisk/rawman/x", "/asteriskrawman"}},
		// Asterisk puts a "/" in front of the configured text.
		{"/asterisk", []string{"//asterisk/rawman"}, []string{"/asterisk/rawman"}},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			srv, _ := start(t, httpamitest.WithPrefix(tc.prefix))
			c := newClient(t, srv)
			for _, p := range tc.ok {
				if r := c.get(p, "Action=Ping"); r.status != 200 || r.msg(0).Get("Message") != "Permission denied" {
					t.Errorf("%s: %d %q, want the manager's Permission denied", p, r.status, r.body)
				}
			}
			for _, p := range tc.no {
				if r := c.get(p, "Action=Ping"); r.status != 404 {
					t.Errorf("%s: %d, want 404", p, r.status)
				}
			}
			if got := srv.Requests("/rawman"); got < 1 {
				t.Errorf("Requests(/rawman) = %d, want the prefixed requests counted by endpoint", got)
			}
		})
	}
}

func TestAsterisk13(t *testing.T) {
	srv, _ := start(t, httpamitest.WithVersion(httpamitest.Asterisk13))
	c := newClient(t, srv)
	login := c.login("/rawman", "hello", "world", "Events", "on")
	boot := login.event("FullyBooted")
	if boot == nil || boot.Has("Uptime") || boot.Has("LastReload") || boot.Get("Status") != "Fully Booted" {
		t.Errorf("FullyBooted of 13.x has no Uptime or LastReload: %q", login.body)
	}
	if got := login.header.Get("Server"); got != "Asterisk/13.38.3" {
		t.Errorf("Server %q", got)
	}

	// Command answers "Follows" with the raw output and --END COMMAND--.
	r := c.get("/rawman", "Action=Command&Command=core+show+version&ActionID=c1")
	body := string(r.body)
	if !strings.HasPrefix(body, "Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nAsterisk 13.38.3 built by ") ||
		!strings.HasSuffix(body, "\n--END COMMAND--\r\n\r\n") {
		t.Errorf("13.x Command body %q", body)
	}
	if out := r.msg(0).Get("Output"); !strings.HasPrefix(out, "Asterisk 13.38.3") {
		t.Errorf("decoded Output %q", out)
	}
	// An unknown command is Follows too.
	if r := c.get("/rawman", "Action=Command&Command=no+such"); r.msg(0).Get("Response") != "Follows" {
		t.Errorf("unknown command: %q", r.body)
	}
	// mxml keeps a leading digit, as 13.x did.
	c.get("/rawman", "Action=UserEvent&UserEvent=Digit&1st=x")
	xml := string(c.get("/mxml", "Action=WaitEvent&Timeout=0").body)
	if !strings.Contains(xml, " 1st='x'") {
		t.Errorf("13.x mxml name: %q", xml)
	}

	// POST bodies are limited to 4096 bytes.
	form := "Action=Ping&Pad=" + strings.Repeat("a", 4096-len("Action=Ping&Pad="))
	if r := c.post("/rawman", "application/x-www-form-urlencoded", form); r.status != 200 {
		t.Errorf("4096-byte body: %d", r.status)
	}
	req := "POST /rawman HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4097\r\n\r\n" + form + "a"
	if resp := raw(t, srv, req); !strings.HasPrefix(resp, "HTTP/1.1 413 Request Entity Too Large\r\n") {
		t.Errorf("4097-byte body: %q, want 413", resp)
	}
}

func TestGlobals(t *testing.T) {
	srv, _ := start(t, httpamitest.WithGlobal("MYVAR", "x y"))
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	for _, tc := range []struct{ variable, want string }{
		{"MYVAR", "x y"},
		{"GLOBAL(MYVAR)", "x y"},
		{"GLOBALVAR", "hello-global"}, // the default of the reference configuration
		{"NOPE", ""},
	} {
		r := c.get("/rawman", q("Action", "Getvar", "Variable", tc.variable))
		if m := r.msg(0); m.Get("Response") != "Success" || m.Get("Variable") != tc.variable || m.Get("Value") != tc.want {
			t.Errorf("Getvar %s: %q", tc.variable, r.body)
		}
	}
	c.get("/rawman", q("Action", "Setvar", "Variable", "GLOBAL(MYVAR)", "Value", "z"))
	if r := c.get("/rawman", q("Action", "Getvar", "Variable", "MYVAR")); r.msg(0).Get("Value") != "z" {
		t.Errorf("after Setvar GLOBAL(MYVAR): %q", r.body)
	}
	if r := c.drain("/rawman"); r.event("VarSet") == nil || r.event("VarSet").Get("Variable") != "MYVAR" {
		t.Errorf("Setvar of a global publishes VarSet: %q", r.body)
	}
}

func TestAwaitWaiting(t *testing.T) {
	srv, clk := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	c.drain("/rawman")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := srv.AwaitWaiting(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AwaitWaiting with nothing waiting: %v", err)
	}

	ch := c.goGet("/rawman", "Action=WaitEvent&Timeout=30")
	if err := srv.AwaitWaiting(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	if r := recv(t, ch); r.event("WaitEventComplete") == nil {
		t.Errorf("WaitEvent after its timeout: %q", r.body)
	}
}

func TestCloseClientConnectionsKeepsSessions(t *testing.T) {
	srv, _ := start(t)
	conn, err := net.Dial("tcp", hostOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	srv.CloseClientConnections()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("an open connection survived CloseClientConnections")
	}
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
		t.Errorf("the session did not survive: %q", r.body)
	}
}

func TestDownAndUp(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	srv.Down()
	_, err := net.DialTimeout("tcp", hostOf(srv), time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial while down: %v, want connection refused", err)
	}
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/rawman", "Action=Ping"); r.msg(0).Get("Ping") != "Pong" {
		t.Errorf("after Up the session goes on: %q", r.body)
	}
	srv.Down()
	srv.Close() // Close after Down does not hang
	if _, err := http.Get(srv.URL + "/rawman"); err == nil {
		t.Error("server answered after Close")
	}
}

func TestExpireSessions(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	before := c.cookie()
	srv.ExpireSessions()
	r := c.get("/rawman", "Action=Ping")
	if r.msg(0).Get("Message") != "Permission denied" || r.cookieID() == before {
		t.Errorf("after ExpireSessions: %q with cookie %s (was %s)", r.body, r.cookieID(), before)
	}
}

func TestRotateNonces(t *testing.T) {
	srv, _ := start(t)
	c := newClient(t, srv)
	if a := c.digest("/arawman", "Action=Ping", "hello", "world", "0badc0de", 1); a.status != 200 {
		t.Fatalf("client nonce: %d %q", a.status, a.body)
	}
	srv.RotateNonces()
	a := c.digest("/arawman", "Action=Ping", "hello", "world", "0badc0de", 2)
	if a.status != 401 || !a.stale || a.nonce == "0badc0de" {
		t.Fatalf("after RotateNonces: %d stale=%v nonce %s", a.status, a.stale, a.nonce)
	}
	if b := c.digest("/arawman", "Action=Ping", "hello", "world", a.nonce, 1); b.status != 200 || b.msg(0).Get("Ping") != "Pong" {
		t.Errorf("the new nonce: %d %q", b.status, b.body)
	}
}

func TestQueuesAndAgents(t *testing.T) {
	srv, _ := start(t, httpamitest.WithQueues("sales", "support"), httpamitest.WithAgents(httpamitest.Agent{ID: "7", Name: "Seven"}))
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	var queues []string
	for _, m := range c.get("/rawman", "Action=QueueSummary").msgs {
		if m.Event() == "QueueSummary" {
			queues = append(queues, m.Get("Queue"))
		}
	}
	if strings.Join(queues, ",") != "sales,support" {
		t.Errorf("QueueSummary lists %v", queues)
	}
	r := c.get("/rawman", "Action=Agents")
	if a := r.event("Agents"); a == nil || a.Get("Agent") != "7" || a.Get("Name") != "Seven" || r.event("AgentsComplete").Get("ListItems") != "1" {
		t.Errorf("Agents: %q", r.body)
	}
	var devices []string
	for _, m := range c.get("/rawman", "Action=DeviceStateList").msgs {
		if m.Event() == "DeviceStateChange" {
			devices = append(devices, m.Get("Device"))
		}
	}
	if strings.Join(devices, ",") != "Agent:7,Queue:sales_avail,Queue:support_avail" {
		t.Errorf("DeviceStateList lists %v", devices)
	}
}

func TestCoreShowChannelMap(t *testing.T) {
	srv, clk := start(t)
	c := newClient(t, srv)
	c.login("/rawman", "hello", "world")
	if r := c.get("/rawman", "Action=CoreShowChannelMap&ActionID=m"); r.msg(0).Get("Message") != "CoreShowChannelMap requires a channel." {
		t.Errorf("no channel: %q", r.body)
	}
	c.get("/rawman", "Action=Originate&Channel=Local/200@test&Application=Wait&Data=30&Async=true")
	clk.Advance(time.Second)
	var one string
	for _, m := range c.get("/rawman", "Action=CoreShowChannels").msgs {
		if ch := m.Get("Channel"); strings.HasSuffix(ch, ";1") {
			one = ch
		}
	}
	r := c.get("/rawman", q("Action", "CoreShowChannelMap", "Channel", one, "ActionID", "m"))
	if len(r.msgs) != 2 || r.msg(0).Get("EventList") != "start" || r.msg(1).Event() != "CoreShowChannelMapComplete" ||
		r.msg(1).Get("ListItems") != "0" || r.msg(1).Get("ActionID") != "m" {
		t.Errorf("a Local channel in no bridge (%s): %q", one, r.body)
	}
}

// A Listener replaced before Start, as with httptest, is the one served,
// and URL names its address (amihttp fake listens on a chosen address).
func TestReplacedListener(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		srv := httpamitest.NewUnstartedServer()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener.Close()
		srv.Listener = l
		if tlsOn {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		if !strings.HasSuffix(srv.URL, "://"+l.Addr().String()) {
			t.Errorf("URL %s, want the address %s", srv.URL, l.Addr())
		}
		resp, err := srv.Client().Get(srv.URL + "/rawman?Action=Ping")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || srv.Requests("/rawman") != 1 {
			t.Errorf("status %d, %d requests: want the replaced listener served", resp.StatusCode, srv.Requests("/rawman"))
		}
		srv.Close()
	}
}
