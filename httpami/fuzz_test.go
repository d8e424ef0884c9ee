package httpami

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/internal/transcript"
)

// actionIDIn finds the first ActionID a body carries, in either
// encoding, so that the fuzzer reaches past the ActionID check.
var actionIDIn = regexp.MustCompile(`(?i)actionid(?:: |=')([^\r\n']*)`)

// FuzzAnswer feeds answer bodies to the decoding and sorting of
// answers: it must never panic, must fail only with a *ProtocolError,
// and on success must account for every message of the body once, with
// the answer first-class and lists whole. Seeded with every 200 body of
// the recordings.
func FuzzAnswer(f *testing.F) {
	for _, x := range transcript.MustLoad(f) {
		resp, body, err := x.Response()
		if err != nil || resp.StatusCode != 200 || len(body) == 0 {
			continue
		}
		name := "X"
		if strings.Contains(x.Name, "waitevent") {
			name = "WaitEvent"
		}
		f.Add(body, name, strings.HasSuffix(x.Name, "mxml"))
	}
	f.Fuzz(func(t *testing.T, body []byte, name string, xml bool) {
		enc := Rawman
		if xml {
			enc = MXML
		}
		id := "none"
		if m := actionIDIn.FindSubmatch(body); m != nil {
			id = string(m[1])
		}
		c := &Client{cfg: Config{Encoding: enc}}
		r := &request{name: name, actionID: id}
		resp, err := c.decode(r, body)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *ProtocolError", err, err)
			}
			return
		}
		all, derr := new(decoded).decodeBody(body, enc)
		if derr != nil {
			t.Fatalf("decode succeeded on a body decodeBody refuses: %v", derr)
		}
		n := 1 + len(resp.Events) + len(resp.Other)
		if resp.Complete != nil {
			n++
		}
		if n != len(all) {
			t.Fatalf("%d messages sorted, %d in the body", n, len(all))
		}
		if !resp.Answer.IsResponse() || trimBlanks(resp.Answer.ActionID()) != trimBlanks(id) {
			t.Fatalf("answer %v for ActionID %q", resp.Answer, id)
		}
		if strings.EqualFold(resp.Answer.Get("EventList"), "start") {
			if resp.Complete == nil {
				t.Fatal("list without completion accepted")
			}
			if s := resp.Complete.Get("ListItems"); s != "" {
				if want, _ := strconv.Atoi(s); want != len(resp.Events) {
					t.Fatalf("ListItems %s, %d items", s, len(resp.Events))
				}
			}
		}
		for _, e := range resp.Events {
			if !e.IsEvent() {
				t.Fatalf("list item without Event: %v", e)
			}
		}
	})
}
