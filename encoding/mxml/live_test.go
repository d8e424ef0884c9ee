package mxml

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/livetest"
)

// TestLiveEncoderMatchesAsterisk sends a UserEvent with awkward header
// names and values to the real Asterisk named by AMIHTTP_TEST_URL
// (http://hello:world@127.0.0.1:8088/; skipped without it), receives it
// both in a rawman session and in an mxml session, and requires that the
// Encoder writes, from the rawman event, the very bytes Asterisk wrote in
// mxml. These are the cases the recordings keep aside: colliding names,
// control bytes, blanks around values, repeats, a leading digit.
func TestLiveEncoderMatchesAsterisk(t *testing.T) {
	live := livetest.Get(t)
	base := live.Base
	login := url.Values{"action": {"Login"}, "username": {live.Username}, "secret": {live.Password}}.Encode()

	// session returns a function that sends a query in one cookie
	// session of the endpoint and returns the answer's body.
	session := func(endpoint string) func(query string) []byte {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		return func(query string) []byte {
			t.Helper()
			resp, err := c.Get(base + "/" + endpoint + "?" + query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s?%s: %s %v", endpoint, query, resp.Status, err)
			}
			return body
		}
	}
	rawSession, xmlSession := session("rawman"), session("mxml")
	rawSession(login)
	xmlSession(login)
	drain := "action=WaitEvent&Timeout=1"
	rawSession(drain)
	xmlSession(drain)

	// Header names and values as a hand-written query sends them.
	q := "action=UserEvent&UserEvent=LiveCollide&Foo-Bar=dash&Foo_Bar=underscore&foo.bar=dot" +
		"&Ctl=bell%07%20del%7F%20soh%01x&Spaces=%20%20two%20%20&Rep=1&Rep=2&1st-Header=digit" +
		"&Markup=%3Ca%20href=%22x%22%3E%26'y'%3C/a%3E&Utf8=h%C3%A9llo"
	rawSession(q)

	wait := "action=WaitEvent&Timeout=3"
	rawBody, xmlBody := rawSession(wait), xmlSession(wait)

	var event *rawman.Message
	d := rawman.NewDecoder(bytes.NewReader(rawBody))
	for {
		var m rawman.Message
		if err := d.Decode(&m); err != nil {
			break
		}
		if m.Get("UserEvent") == "LiveCollide" {
			event = &m
		}
	}
	if event == nil {
		t.Fatalf("the UserEvent did not reach the rawman session:\n%s", rawBody)
	}
	var out bytes.Buffer
	e := NewEncoder(&out)
	if err := e.Encode(event); err != nil {
		t.Fatal(err)
	}
	element := strings.TrimPrefix(out.String(), docStart)
	t.Logf("matched %q", element)
	if !bytes.Contains(xmlBody, []byte(element)) {
		t.Errorf("Asterisk's mxml body\n%q\ndoes not hold the encoded event\n%q", xmlBody, element)
	}
}
