package httpami_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/digest"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
)

// BenchmarkPing measures a Ping through the Client against the fake
// in the same process: form encoding, session, retry layer, decoding
// and checks included. Compare with BenchmarkPingBareHTTP in the same
// run.
func BenchmarkPing(b *testing.B) {
	for _, m := range modes {
		if m.auth == httpami.MD5 {
			continue // after its Login, an MD5 session is a cookie session
		}
		b.Run(m.name, func(b *testing.B) {
			srv := httpamitest.NewServer()
			defer srv.Close()
			c, err := httpami.New(httpami.Config{URL: srv.URL, Username: "hello", Secret: "world", Auth: m.auth, Encoding: m.enc})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(context.Background())
			ctx := context.Background()
			ping := httpami.NewAction("Ping")
			if _, err := c.Do(ctx, ping); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Do(ctx, ping)
				if err != nil || resp.Get("Ping") != "Pong" {
					b.Fatal(resp, err)
				}
			}
		})
	}
}

// BenchmarkPingBareHTTP is the baseline of BenchmarkPing: a hand-written
// net/http loop posting the same form to the same server, on a session
// logged in beforehand (the same cookie, or a digest.Transport), reading
// the body and checking for "Pong" without decoding it.
func BenchmarkPingBareHTTP(b *testing.B) {
	for _, m := range modes {
		if m.auth == httpami.MD5 {
			continue
		}
		b.Run(m.name, func(b *testing.B) {
			srv := httpamitest.NewServer()
			defer srv.Close()
			base := http.DefaultTransport.(*http.Transport).Clone()
			defer base.CloseIdleConnections()
			hc := &http.Client{Transport: base}
			endpoint := srv.URL + "/" + string(m.enc)
			cookie := ""
			if m.auth == httpami.Digest {
				hc.Transport = &digest.Transport{Username: "hello", Password: "world", Base: base}
				endpoint = srv.URL + "/a" + string(m.enc)
			} else {
				resp, err := hc.Post(endpoint, "application/x-www-form-urlencoded", strings.NewReader("Action=Login&Username=hello&Secret=world"))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				cookie = resp.Header.Get("Set-Cookie")
				cookie = cookie[:strings.IndexByte(cookie, ';')]
			}
			const form = "Action=Ping&ActionID=0123abcd-1"
			post := func() {
				req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "ong") {
					b.Fatalf("%v %d %q", err, resp.StatusCode, body)
				}
			}
			post()
			b.ReportAllocs()
			for b.Loop() {
				post()
			}
		})
	}
}

// cannedPing is a RoundTripper that answers every request at once, in
// memory, as Asterisk answers a Ping (echoing the ActionID of the form,
// with the session cookie), so that BenchmarkPingInMemory measures the
// client's own work without a network or a server.
type cannedPing struct{}

func (cannedPing) RoundTrip(req *http.Request) (*http.Response, error) {
	form, _ := io.ReadAll(req.Body)
	req.Body.Close()
	id := "0123abcd-1"
	if _, v, ok := strings.Cut(string(form), "ActionID="); ok {
		id, _, _ = strings.Cut(v, "&")
	}
	body := "Response: Success\r\nActionID: " + id + "\r\nPing: Pong\r\nTimestamp: 1796046605.829344\r\n\r\n"
	h := http.Header{}
	h.Set("Set-Cookie", `mansession_id="3a4ca8a0"; Version=1; Max-Age=60`)
	h.Set("Content-Type", "text/plain")
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: h, Request: req,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}, nil
}

// BenchmarkPingInMemory is a cookie-session Ping through the Client
// over cannedPing: the client's own cost per action. Compare with
// BenchmarkPingInMemoryBareHTTP.
func BenchmarkPingInMemory(b *testing.B) {
	c, err := httpami.New(httpami.Config{URL: "http://pbx/", Username: "hello", Secret: "world", Transport: cannedPing{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ping := httpami.NewAction("Ping")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Do(ctx, ping); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPingInMemoryBareHTTP is the baseline of BenchmarkPingInMemory:
// the bare loop of BenchmarkPingBareHTTP over cannedPing.
func BenchmarkPingInMemoryBareHTTP(b *testing.B) {
	hc := &http.Client{Transport: cannedPing{}}
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest(http.MethodPost, "http://pbx/rawman", strings.NewReader("Action=Ping&ActionID=0123abcd-1"))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", `mansession_id="3a4ca8a0"`)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !strings.Contains(string(body), "ong") {
			b.Fatal(err)
		}
	}
}
