package digest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/amihttp/amihttp/digest"
)

// A Transport authenticates every request of its Client. The first request
// costs a challenge; the following ones are signed at once.
func ExampleTransport() {
	t := &digest.Transport{Username: "hello", Password: "world"}
	client := t.Client()
	client.Timeout = 10 * time.Second
	for range 3 {
		resp, err := client.Get("http://127.0.0.1:8088/arawman?action=Ping")
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n%s", resp.Status, body)
	}
}

// With ColdStart, a fresh Transport signs its first request with a nonce it
// makes up, which Asterisk accepts: one round trip for a function that
// starts cold on every call.
func ExampleTransport_coldStart() {
	t := &digest.Transport{Username: "hello", Password: "world", ColdStart: true}
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:8088/arawman?action=CoreStatus", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := t.RoundTrip(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}

func ExampleParseChallenges() {
	h := http.Header{}
	h.Add("WWW-authenticate", `Digest algorithm=MD5, realm="asterisk", nonce="62f1a8e9", qop="auth", opaque="62f1a8e9", stale=true`)
	chs, err := digest.ParseChallenges(h.Values("WWW-Authenticate")...)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range chs {
		fmt.Println(c.Realm, c.Nonce, c.Algorithm, c.QOP, c.Stale)
	}
	// Output:
	// asterisk 62f1a8e9 MD5 [auth] true
}
