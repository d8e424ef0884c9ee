package httpami

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/internal/transcript"
)

// TestLostSessionEvidence runs the lost-session rule over every
// recorded "Permission denied" of a real Asterisk: the answers to a
// session that expired, was logged off, was unknown or was never sent
// are lost sessions (Asterisk set a new cookie); those to the limited
// user's live session are real permission errors (same cookie).
func TestLostSessionEvidence(t *testing.T) {
	seen := map[bool]int{}
	for _, x := range transcript.MustLoad(t) {
		if x.Group == "manager" || !bytes.Contains(x.Resp, []byte("Permission denied")) {
			continue
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(x.Req)))
		if err != nil {
			t.Fatalf("%s: %v", x.ID(), err)
		}
		if err := req.ParseForm(); err != nil {
			t.Fatalf("%s: %v", x.ID(), err)
		}
		actionID, action := "", ""
		for k, v := range req.Form {
			switch strings.ToLower(k) {
			case "actionid":
				actionID = v[0]
			case "action":
				action = v[0]
			}
		}
		sent := ""
		if ck, err := req.Cookie(cookieName); err == nil {
			sent = ck.Value
		}
		resp, body, err := x.Response()
		if err != nil {
			t.Fatalf("%s: %v", x.ID(), err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))

		enc := Rawman
		if strings.HasSuffix(x.Endpoint(), "mxml") {
			enc = MXML
		}
		c := &Client{cfg: Config{Encoding: enc}, jar: newSessionJar()}
		c.jar.id = sent // the Client logged in with the cookie it sent
		st := &attempt{name: action, actionID: actionID, jar: c.jar, sent: sent, maxBody: 1 << 20}
		if err := st.read(resp); err != nil {
			t.Fatalf("%s: %v", x.ID(), err)
		}
		answer, err := c.decode(&request{name: action, actionID: actionID}, st.body)
		if err != nil {
			t.Fatalf("%s: %v", x.ID(), err)
		}
		want := x.Group != "errors"
		if got := c.lost(answer, st); got != want {
			t.Errorf("%s: lost = %v, want %v (sent %q, got %q)", x.ID(), got, want, sent, st.setID)
		}
		seen[want]++
	}
	if seen[true] < 8 || seen[false] < 4 {
		t.Fatalf("too few recorded cases: %v", seen)
	}
}
