package httpamitest

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/livetest"
	"github.com/amihttp/amihttp/internal/transcript"
)

// TestLiveRecordReplay proves the fake on recordings it was not built
// from: it records, now, from the live Asterisk named by AMIHTTP_TEST_URL,
// groups that mirror info/, lists/ and originate/ of testdata/asterisk-23,
// mostly on /mxml where those use /rawman, into a temporary folder, and
// replays each against a fresh fake as TestTranscripts does (nothing is
// excused: the known_differences file is not consulted).
//
// The async Echo call of originate/002–007 is not among them: which
// WaitEvent answer its UserEvent step and its Wait step land in depends
// on 13 to 71 µs between two of Asterisk's threads, and live runs mostly
// show the outcome the committed recording does not. Its events are
// compared channel by channel, whatever answer they come in, by
// TestLiveCallMatchesFake.
//
// The live Asterisk must run the reference configuration (the README of
// testdata/asterisk-23) with no call up. With AMIHTTP_LIVEREC_DIR set, the
// recorded groups are also copied there.
func TestLiveRecordReplay(t *testing.T) {
	target := livetest.Get(t)
	if target.Username != "hello" || target.Password != "world" {
		t.Skip("the replay's fake knows the reference users only: AMIHTTP_TEST_URL must use hello:world")
	}
	dir := t.TempDir()
	side := newLiveClient(t)
	sideGet := func(params string) []*rawman.Message {
		body := side.do(t, target.Base, liveStep{path: "/rawman", params: params})
		msgs, err := decodeBody("text/plain", splitResponse(body).body)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	// A session outside the recordings, to see when the live Asterisk is
	// idle: logged in before any recorded session so that its login event
	// reaches none of them.
	if m := sideGet("Action=Login&Username=hello&Secret=world"); len(m) == 0 || m[0].Response() != "Success" {
		t.Fatalf("cannot log in to the live Asterisk: %v", m)
	}
	settle := func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := 0
			for _, m := range sideGet("Action=CoreShowChannels") {
				if m.Event() == "CoreShowChannel" {
					n++
				}
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the live Asterisk still has %d channels up: these recordings need it idle", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Device states and security events come from threads of their own.
		time.Sleep(300 * time.Millisecond)
	}

	groups := []struct {
		name string
		run  func(*liveRecorder)
	}{
		{"info-mxml", recordInfo},
		{"lists-mxml", recordLists},
		{"redirect-mxml", recordRedirect},
	}
	began := time.Now()
	for _, g := range groups {
		settle()
		rec, err := transcript.NewRecorder(filepath.Join(dir, g.name), target.Base)
		if err != nil {
			t.Fatal(err)
		}
		rec.Timeout = 30 * time.Second
		g.run(&liveRecorder{t: t, rec: rec})
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	sideGet("Action=Logoff")
	t.Logf("recorded in %v into %s", time.Since(began).Round(time.Millisecond), dir)
	if out := os.Getenv("AMIHTTP_LIVEREC_DIR"); out != "" {
		if err := copyTree(dir, out); err != nil {
			t.Error(err)
		}
	}

	for _, g := range groups {
		xs, err := transcript.LoadGroup(dir, g.name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(g.name, func(t *testing.T) {
			replay(t, xs, map[string]string{})
		})
	}
}

// A liveRecorder records the steps of one group, failing the test on a
// recorder error.
type liveRecorder struct {
	t   *testing.T
	rec *transcript.Recorder
}

func (l *liveRecorder) do(req transcript.Request) []*rawman.Message {
	l.t.Helper()
	x, err := l.rec.Do(req)
	if err != nil {
		l.t.Fatalf("%s: %v", req.Name, err)
	}
	return messages(l.t, x)
}

// get records a GET of params on path.
func (l *liveRecorder) get(name, path, params, notes string) []*rawman.Message {
	l.t.Helper()
	return l.do(transcript.Request{Name: name, Path: path, Params: params, Notes: notes})
}

// login logs the group's session in and, after the login's own security
// event had time to arrive, drains the session's queue.
func (l *liveRecorder) login(path, format string) {
	l.t.Helper()
	l.get("login-"+format, path, "Action=Login&Username=hello&Secret=world", "Login as hello (setup for the steps that follow)")
	l.rec.Sleep(200 * time.Millisecond)
	l.get("drain-"+format, path, "Action=WaitEvent&Timeout=1", "WaitEvent Timeout=1: empties the session's queue (its own SuccessfulAuth)")
}

func messages(t *testing.T, x *transcript.Exchange) []*rawman.Message {
	t.Helper()
	resp, body, err := x.Response()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := decodeBody(resp.Header.Get("Content-Type"), body)
	if err != nil {
		t.Fatalf("%s: %v", x.ID(), err)
	}
	return msgs
}

// awkwardUserEvents are the UserEvents of info/013–022, with names and
// values that show how each encoding copes.
var awkwardUserEvents = []struct{ name, params, notes string }{
	{"weird-values", transcript.Params("Action", "UserEvent", "UserEvent", "WeirdValues", "Markup", `<>&"'`, "Equals", "a=b==c",
		"Percent", "100% %41 %zz", "Spaces", "  two leading, two trailing  ", "Utf8", "héllo wörld € 日本", "Tab", "before\tafter",
		"1st-Header", "name starts with a digit and has a dash"),
		"UserEvent whose header values hold <>&\"' = % spaces UTF-8 and a tab, plus a header name 1st-Header"},
	{"crlf-in-value", transcript.Params("Action", "UserEvent", "UserEvent", "CRLF", "Line", "one\r\nInjected: two"),
		"a value with CR LF inside (header injection into the event)"},
	{"name-collisions", transcript.Params("Action", "UserEvent", "UserEvent", "Collide", "Foo-Bar", "dash", "Foo_Bar", "underscore",
		"foo.bar", "dot", "FOO BAR", "space", "Ctl", "bell\x07 del\x7f soh\x01", "CData", "]]> <![CDATA[ x"),
		"header names that fold to the same mxml attribute (foo_bar), and control bytes in a value"},
	{"plus-and-repeat", "Action=UserEvent&UserEvent=PlusRepeat&Plus=a+b%2Bc&Rep=1&Rep=2&Empty=&NoEquals",
		"hand-written query: '+' vs %2B, a repeated name, an empty value and a name without '='"},
}

// recordInfo mirrors info/: settings, commands, variables, and awkward
// UserEvents each followed by the WaitEvent that shows the event, on
// /mxml, with a few /rawman twins on the same session, and a WaitEvent
// that another connection's UserEvent wakes.
func recordInfo(l *liveRecorder) {
	const mx = "/mxml"
	l.login(mx, "mxml")
	l.get("coresettings-mxml", mx, "Action=CoreSettings", "CoreSettings")
	l.get("listcommands-mxml", mx, "Action=ListCommands", "ListCommands")
	l.get("command-core-show-version-mxml", mx, "Action=Command&Command=core+show+version", "Command core show version")
	l.get("command-unknown-mxml", mx, "Action=Command&Command=no+such+command+here", "Command with an unknown CLI command")
	l.get("getvar-global-mxml", mx, "Action=Getvar&Variable=GLOBALVAR", "Getvar of a global set in extensions.conf [globals]")
	l.get("getvar-global-unset-mxml", mx, "Action=Getvar&Variable=NOT_SET_ANYWHERE", "Getvar of a global that does not exist")
	l.get("setvar-global-mxml", mx, "Action=Setvar&Variable=CAPTURE_MXML&Value=x+y%3Dz", "Setvar of a global with a space and = in the value")
	l.get("getvar-after-setvar-mxml", mx, "Action=Getvar&Variable=CAPTURE_MXML", "Getvar reads back the Setvar")
	l.get("getvar-function-mxml", mx, "Action=Getvar&Variable=GLOBAL%28GLOBALVAR%29", "Getvar of a dialplan function")
	for _, ue := range awkwardUserEvents {
		l.get("userevent-"+ue.name+"-mxml", mx, ue.params, ue.notes+" (GET)")
		l.get("waitevent-"+ue.name+"-mxml", mx, "Action=WaitEvent&Timeout=1", "the UserEvent as the session receives it")
	}
	l.do(transcript.Request{Name: "userevent-weird-values-post-mxml", Method: "POST", Path: mx, Params: awkwardUserEvents[0].params,
		Notes: "the same UserEvent sent as a POST form body"})
	l.get("waitevent-weird-values-post-mxml", mx, "Action=WaitEvent&Timeout=1", "the POSTed UserEvent as received")

	// rawman twins, on the same session.
	const rm = "/rawman"
	l.get("command-core-show-version-rawman", rm, "Action=Command&Command=core+show+version&ActionID=cv-rawman", "Command core show version")
	l.get("getvar-after-setvar-rawman", rm, "Action=Getvar&Variable=CAPTURE_MXML&ActionID=gv-rawman", "Getvar of the global the mxml Setvar set")
	for _, ue := range awkwardUserEvents[:3] {
		l.get("userevent-"+ue.name+"-rawman", rm, ue.params, ue.notes+" (GET)")
		l.get("waitevent-"+ue.name+"-rawman", rm, "Action=WaitEvent&Timeout=1", "the UserEvent as the session receives it")
	}

	// A WaitEvent waiting on a connection of its own, woken 1 s later by
	// a UserEvent from the same session on the first connection.
	wait := l.rec.Start(transcript.Request{Name: "midwait-mxml", Path: mx, Params: "Action=WaitEvent&Timeout=10&ActionID=mid",
		Conn: "wait", Notes: "WaitEvent Timeout=10 with nothing queued, on a second connection"})
	l.rec.Sleep(time.Second)
	l.get("midwait-fire-userevent-mxml", mx, "Action=UserEvent&UserEvent=MidWait&Foo=bar", "UserEvent from the first connection 1 s into the wait")
	if _, err := wait.Wait(); err != nil {
		l.t.Fatal(err)
	}
	l.get("after-midwait-mxml", mx, "Action=WaitEvent&Timeout=1", "WaitEvent Timeout=1 after the woken one: nothing left")
}

// recordLists mirrors lists/: the list actions with no call up, then with
// two Local/200@test calls (4 channels), and a Hangup by /regex/.
func recordLists(l *liveRecorder) {
	const mx = "/mxml"
	l.login(mx, "mxml")
	l.get("coreshowchannels-0ch-mxml", mx, "Action=CoreShowChannels&ActionID=csc-1", "CoreShowChannels, no live channel")
	l.get("status-0ch-mxml", mx, "Action=Status&ActionID=st-1", "Status (all channels), no live channel")
	l.get("queuestatus-0ch-mxml", mx, "Action=QueueStatus&ActionID=qs-1", "QueueStatus (queue support, no members)")
	l.get("queuesummary-0ch-mxml", mx, "Action=QueueSummary", "QueueSummary")
	l.get("agents-0ch-mxml", mx, "Action=Agents", "Agents (agent 1001)")
	l.get("showdialplan-0ch-mxml", mx, "Action=ShowDialPlan&Context=test", "ShowDialPlan Context=test")
	l.get("devicestatelist-0ch-mxml", mx, "Action=DeviceStateList", "DeviceStateList")
	l.get("listcategories-0ch-mxml", mx, "Action=ListCategories&Filename=extensions.conf", "ListCategories of extensions.conf")
	for i, id := range []string{"live-1", "live-2"} {
		l.get("originate-wait30-"+strconv.Itoa(i+1)+"-mxml", mx,
			"Action=Originate&Channel=Local%2F200%40test&Application=Wait&Data=30&Async=true&ActionID="+id,
			"Originate Local/200@test Application=Wait Data=30 Async=true (setup: live channels)")
	}
	// Answer() on ;2 waits 500 ms for a first frame from the moment its
	// thread starts, a little after the Originate: look well after that,
	// even on a loaded machine.
	l.rec.Sleep(1500 * time.Millisecond)
	csc := l.get("coreshowchannels-4ch-mxml", mx, "Action=CoreShowChannels&ActionID=csc-1", "CoreShowChannels, 2 calls = 4 Local channels up")
	if n := countEvents(csc, "CoreShowChannel"); n != 4 {
		l.t.Errorf("live CoreShowChannels lists %d channels, want 4", n)
	}
	l.get("status-4ch-mxml", mx, "Action=Status&ActionID=st-1", "Status (all channels), 4 Local channels up")
	l.get("coreshowchannels-4ch-rawman", "/rawman", "Action=CoreShowChannels&ActionID=csc-2", "CoreShowChannels on /rawman, same session")
	l.get("status-4ch-rawman", "/rawman", "Action=Status&ActionID=st-2", "Status on /rawman, same session")
	l.get("command-core-show-channels-4ch-mxml", mx, "Action=Command&Command=core+show+channels", "Command core show channels with 4 channels up")
	// Only the ;1 halves: hanging up a ;1 tears its ;2 down from another
	// thread, so a regex matching both halves lists 3 or 4 of them as
	// that thread happens to run.
	l.get("hangup-regex-mxml", mx, transcript.Params("Action", "Hangup", "Channel", `/^Local\/200@test-.*;1$/`),
		"Hangup with a /regex/ channel: hangs up every ;1")
}

// localName matches the name of a half of a Local channel pair.
var localName = regexp.MustCompile(`^Local/\d+@test-[0-9a-f]{8};[12]$`)

// recordRedirect mirrors originate/022–029: a Wait(30) pair redirected
// with ExtraChannel to 300@test, its ;1 hung up by name, and the
// WaitEvents that gather the call's events. It is a group of its own so
// that the replay of the one before, whose WaitEvents split a call's
// events as Asterisk's threads happened to run, cannot shift this one.
func recordRedirect(l *liveRecorder) {
	const mx = "/mxml"
	l.login(mx, "mxml")
	l.get("originate-for-redirect-mxml", mx, "Action=Originate&Channel=Local%2F200%40test&Application=Wait&Data=30&Async=true&ActionID=orig-redir-mxml",
		"Originate Local/200@test Application=Wait Data=30 Async=true (call to redirect)")
	l.rec.Sleep(300 * time.Millisecond)
	var one, two string
	for _, m := range l.get("coreshowchannels-before-redirect-mxml", mx, "Action=CoreShowChannels&ActionID=csc-redir",
		"CoreShowChannels: the names of the pair to redirect") {
		name := m.Get("Channel")
		if m.Event() != "CoreShowChannel" || !strings.HasPrefix(name, "Local/200@test-") || !localName.MatchString(name) {
			continue
		}
		if strings.HasSuffix(name, ";1") {
			one = name
		} else {
			two = name
		}
	}
	if one == "" || two == "" {
		l.t.Fatalf("the Local/200@test pair is not up (;1 %q, ;2 %q)", one, two)
	}
	l.get("redirect-with-extrachannel-mxml", mx, transcript.Params("Action", "Redirect", "Channel", two, "Context", "test", "Exten", "300",
		"Priority", "1", "ExtraChannel", one, "ExtraContext", "test", "ExtraExten", "300", "ExtraPriority", "1", "ActionID", "redir-mxml"),
		"Redirect ;2 to 300@test with ExtraChannel ;1 (both to 300@test, Echo)")
	l.rec.Sleep(500 * time.Millisecond)
	l.get("coreshowchannels-after-redirect-mxml", mx, "Action=CoreShowChannels", "CoreShowChannels after the redirect: both halves in 300@test Echo")
	l.get("coreshowchannelmap-mxml", mx, transcript.Params("Action", "CoreShowChannelMap", "Channel", one, "ActionID", "map"),
		"CoreShowChannelMap of ;1: a Local pair is in no bridge")
	l.get("hangup-by-name-mxml", mx, transcript.Params("Action", "Hangup", "Channel", one, "ActionID", "hup-mxml"), "Hangup of ;1 by name")
	// Let every thread publish its part of the teardown (device states
	// come last, later still on a loaded machine) before looking: which
	// answer a racing event lands in is not what this group checks.
	l.rec.Sleep(500 * time.Millisecond)
	l.waitHangups("waitevent-after-redirect-hangup", "Local/200@test-", 3)
}

// waitHangups records WaitEvents (Timeout=timeout) until both halves of
// the Local pair whose names start with prefix have hung up.
func (l *liveRecorder) waitHangups(name, prefix string, timeout int) {
	l.t.Helper()
	hangups := 0
	for i := 1; hangups < 2; i++ {
		if i > 8 {
			l.t.Fatalf("%s: %d of 2 hangups after %d WaitEvents", name, hangups, i-1)
		}
		msgs := l.get(name+"-"+strconv.Itoa(i)+"-mxml", "/mxml", "Action=WaitEvent&Timeout="+strconv.Itoa(timeout),
			"WaitEvent: the call's events collected so far")
		for _, m := range msgs {
			if m.Event() == "Hangup" && strings.HasPrefix(m.Get("Channel"), prefix) {
				hangups++
			}
		}
	}
}

func countEvents(msgs []*rawman.Message, event string) int {
	n := 0
	for _, m := range msgs {
		if m.Event() == event {
			n++
		}
	}
	return n
}

// copyTree copies the files of the folder src into dst, which must not
// hold them yet.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if de.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, in); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}
