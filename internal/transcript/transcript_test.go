package transcript

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoad(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	all, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 300 {
		t.Fatalf("Load found %d exchanges, want the whole recorded set (over 300)", len(all))
	}
	var rawman int
	for _, x := range all {
		if x.Endpoint() == "rawman" && x.Meta.Status == 200 && x.Meta.Method != "HEAD" {
			resp, body, err := x.Response()
			if err != nil {
				t.Errorf("%s: %v", x.ID(), err)
				continue
			}
			if got := resp.Header.Get("Content-Type"); got != "text/plain" {
				t.Errorf("%s: Content-Type %q, want text/plain", x.ID(), got)
			}
			if int64(len(body)) != resp.ContentLength {
				t.Errorf("%s: body %d bytes, Content-Length %d", x.ID(), len(body), resp.ContentLength)
			}
			rawman++
		}
	}
	if rawman == 0 {
		t.Fatal("no /rawman exchange found")
	}
}

// TestTranscriptsUnchanged guards the rule that recorded files are copied,
// never edited: where the shared originals are present beside the project,
// every copy must be identical.
func TestTranscriptsUnchanged(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(dir, "..", "..", "..", "shared", "testdata", "asterisk-23")
	if _, err := os.Stat(shared); err != nil {
		t.Skip("no shared transcripts beside the project")
	}
	if n := CheckCopy(t, dir, shared); n < 100 {
		t.Errorf("compared %d files, want the whole recording set", n)
	}
}
