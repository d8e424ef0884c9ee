package transcript

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recorderServer is a trivial server for the Recorder's tests: /login sets
// a session cookie named after ?user=, /echo writes back what it got, /block
// answers once /release is requested, /close answers with Connection:
// close, /drop closes without answering.
func recorderServer(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		id := strings.Repeat(r.URL.Query().Get("user"), 8)[:8]
		w.Header().Set("Set-Cookie", `mansession_id="`+id+`"; Version=1; Max-Age=60`)
		io.WriteString(w, "Response: Success\r\n\r\n")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg := fmt.Sprintf("%s %s\ncookie=%s\nbody=%s\n", r.Method, r.URL.RawQuery, r.Header.Get("Cookie"), body)
		w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
		io.WriteString(w, msg)
	})
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, "released\n")
	})
	mux.HandleFunc("/release", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		close(release)
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye\n")
	})
	mux.HandleFunc("/drop", func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRecorder(t *testing.T) {
	srv := recorderServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := filepath.Join(t.TempDir(), "grp")
	rec, err := NewRecorder(dir, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec.Timeout = 5 * time.Second

	do := func(req Request) *Exchange {
		t.Helper()
		x, err := rec.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", req.Name, err)
		}
		return x
	}
	x := do(Request{Name: "login-a", Path: "/login", Params: Params("user", "a"), Notes: "a <note> & more"})
	wantReq := "GET /login?user=a HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: amihttp-capture\r\nAccept: */*\r\n\r\n"
	if string(x.Req) != wantReq {
		t.Errorf("login request %q, want %q", x.Req, wantReq)
	}
	x = do(Request{Name: "echo-a", Path: "/echo", Params: Params("Action", "Ping", "Value", "a b&c=d/é")})
	wantReq = "GET /echo?Action=Ping&Value=a+b%26c%3Dd%2F%C3%A9 HTTP/1.1\r\nHost: " + host +
		"\r\nUser-Agent: amihttp-capture\r\nAccept: */*\r\nCookie: mansession_id=\"aaaaaaaa\"\r\n\r\n"
	if string(x.Req) != wantReq {
		t.Errorf("echo request %q, want %q", x.Req, wantReq)
	}
	do(Request{Name: "login-b", Path: "/login", Params: "user=b", Session: "b", Conn: "b"})
	x = do(Request{Name: "post-b", Method: "POST", Path: "/echo", Params: Params("Action", "UserEvent", "X", "1 2"), Session: "b", Conn: "b", Variable: []string{"Date header"}})
	wantReq = "POST /echo HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: amihttp-capture\r\nAccept: */*\r\n" +
		"Cookie: mansession_id=\"bbbbbbbb\"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 22\r\n\r\n" +
		"Action=UserEvent&X=1+2"
	if string(x.Req) != wantReq {
		t.Errorf("POST request %q, want %q", x.Req, wantReq)
	}
	if _, body, err := x.Response(); err != nil || !strings.Contains(string(body), `cookie=mansession_id="bbbbbbbb"`) || !strings.Contains(string(body), "body=Action=UserEvent&X=1+2") {
		t.Errorf("POST answer %q, %v", body, err)
	}

	if a, b := rec.Cookie(""), rec.Cookie("b"); a != `mansession_id="aaaaaaaa"` || b != `mansession_id="bbbbbbbb"` {
		t.Errorf("session cookies %q and %q", a, b)
	}

	// A step left waiting on its own connection while another runs.
	blocked := rec.Start(Request{Name: "block", Path: "/block", Conn: "w"})
	do(Request{Name: "release", Path: "/release"})
	if _, err := blocked.Wait(); err != nil {
		t.Fatal(err)
	}
	rec.Sleep(30 * time.Millisecond)
	x = do(Request{Name: "head", Method: "HEAD", Path: "/echo", Params: "a=1", NoCookie: true})
	if bytes.Contains(x.Req, []byte("Cookie:")) || !bytes.HasSuffix(x.Resp, []byte("\r\n\r\n")) {
		t.Errorf("HEAD: request %q, answer %q", x.Req, x.Resp)
	}
	do(Request{Name: "close", Path: "/close"})
	do(Request{Name: "after-close", Path: "/echo"})
	if _, err := rec.Do(Request{Name: "drop", Path: "/drop", Conn: "d"}); err == nil {
		t.Error("drop: no error")
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	xs, err := LoadGroup(filepath.Dir(dir), "grp")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		name    string
		conn    string
		seq     int
		status  int
		closed  bool
		errText string
	}
	wants := []want{
		{"001-login-a", "c1", 1, 200, false, ""},
		{"002-echo-a", "c1", 2, 200, false, ""},
		{"003-login-b", "c2", 1, 200, false, ""},
		{"004-post-b", "c2", 2, 200, false, ""},
		{"005-block", "c3", 1, 200, false, ""},
		{"006-release", "c1", 3, 200, false, ""},
		{"007-head", "c1", 4, 200, false, ""},
		{"008-close", "c1", 5, 200, true, ""},
		{"009-after-close", "c4", 1, 200, false, ""},
		{"010-drop", "c5", 1, 0, true, "connection closed before any response byte"},
	}
	if len(xs) != len(wants) {
		t.Fatalf("%d steps recorded, want %d", len(xs), len(wants))
	}
	for i, w := range wants {
		m := xs[i].Meta
		if xs[i].Name != w.name || m.Conn != w.conn || m.ConnSeq != w.seq || m.Status != w.status || m.ServerClosed != w.closed || m.Error != w.errText {
			t.Errorf("step %d: %s %s/%d status %d closed %v error %q, want %+v", i+1, xs[i].Name, m.Conn, m.ConnSeq, m.Status, m.ServerClosed, m.Error, w)
		}
		if m.SentAt.Location() != time.UTC {
			t.Errorf("%s: sent_at %v not in UTC", xs[i].Name, m.SentAt)
		}
		if i > 0 && m.SentAt.Before(xs[i-1].Meta.SentAt) {
			t.Errorf("%s sent before the step before it", xs[i].Name)
		}
		if m.TotalMS < m.FirstByteMS {
			t.Errorf("%s: total_ms %v < first_byte_ms %v", xs[i].Name, m.TotalMS, m.FirstByteMS)
		}
		if w.status == 200 && !bytes.HasPrefix(xs[i].Resp, []byte("HTTP/1.1 200 OK\r\n")) {
			t.Errorf("%s: answer %q", xs[i].Name, xs[i].Resp)
		}
	}
	if xs[0].Meta.GapMS != 0 {
		t.Errorf("first gap_ms %v, want 0", xs[0].Meta.GapMS)
	}
	// 006 was sent while 005 waited: the gap is negative.
	if g := xs[5].Meta.GapMS; g >= 0 {
		t.Errorf("gap_ms of the step sent during the blocked one is %v, want < 0", g)
	}
	if g := xs[6].Meta.GapMS; g < 30 {
		t.Errorf("gap_ms after a 30 ms sleep is %v", g)
	}
	if xs[4].Meta.FirstByteMS < 15 {
		t.Errorf("blocked step answered after %v ms, want at least the 20 ms of /release", xs[4].Meta.FirstByteMS)
	}
	if xs[0].Meta.URL != srv.URL+"/login?user=a" || xs[3].Meta.URL != srv.URL+"/echo" || xs[3].Meta.Method != "POST" {
		t.Errorf("urls %q %q %q", xs[0].Meta.URL, xs[3].Meta.URL, xs[3].Meta.Method)
	}
	if !strings.HasSuffix(string(xs[7].Resp), "bye\n") {
		t.Errorf("Connection: close answer not read to the close: %q", xs[7].Resp)
	}
	if len(xs[9].Resp) != 0 {
		t.Errorf("dropped step has an answer %q", xs[9].Resp)
	}

	// The .meta files are written as the recordings are: indented, HTML
	// characters as they are, error and variable only when set.
	meta, err := os.ReadFile(filepath.Join(dir, "001-login-a.meta"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(meta)
	if !strings.HasPrefix(s, "{\n  \"url\": ") || !strings.HasSuffix(s, "}\n") || !strings.Contains(s, `"notes": "a <note> & more"`) ||
		strings.Contains(s, `"error"`) || strings.Contains(s, `"variable"`) {
		t.Errorf("001 meta:\n%s", s)
	}
	meta, _ = os.ReadFile(filepath.Join(dir, "004-post-b.meta"))
	if !strings.Contains(string(meta), "\"variable\": [\n    \"Date header\"\n  ],") {
		t.Errorf("004 meta:\n%s", meta)
	}
	meta, _ = os.ReadFile(filepath.Join(dir, "010-drop.meta"))
	if !strings.Contains(string(meta), `"error": "connection closed before any response byte"`) {
		t.Errorf("010 meta:\n%s", meta)
	}
}

func TestNewRecorderRefusesRecordedFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "001-x.meta"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRecorder(dir, "http://127.0.0.1:1"); err == nil {
		t.Error("NewRecorder accepted a folder that holds a recording")
	}
	if _, err := NewRecorder(filepath.Join(dir, "new"), "ftp://x"); err == nil {
		t.Error("NewRecorder accepted an ftp URL")
	}
}

func TestRecorderDialError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	rec, err := NewRecorder(filepath.Join(t.TempDir(), "g"), base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Do(Request{Name: "ping", Path: "/rawman", Params: "Action=Ping"}); err == nil {
		t.Error("no error dialling a closed port")
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	xs, err := LoadGroup(filepath.Dir(rec.Dir()), "g")
	if err != nil || len(xs) != 1 || !strings.HasPrefix(xs[0].Meta.Error, "dial: ") || len(xs[0].Resp) != 0 {
		t.Fatalf("dial error recorded as %+v, %v", xs, err)
	}
}

func TestParams(t *testing.T) {
	got := Params("Action", "UserEvent", "Line", "one\r\nInjected: two", "Tab", "a\tb", "Empty", "")
	want := "Action=UserEvent&Line=one%0D%0AInjected%3A+two&Tab=a%09b&Empty="
	if got != want {
		t.Errorf("Params = %q, want %q", got, want)
	}
}
