package transcript

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Meta is the JSON description of one exchange, written as the recordings
// write it (error and variable only when set).
type Meta struct {
	URL          string    `json:"url"`
	Method       string    `json:"method"`
	Conn         string    `json:"conn"`
	ConnSeq      int       `json:"conn_seq"`
	SentAt       time.Time `json:"sent_at"`
	GapMS        float64   `json:"gap_ms"`
	FirstByteMS  float64   `json:"first_byte_ms"`
	TotalMS      float64   `json:"total_ms"`
	Status       int       `json:"status"`
	ServerClosed bool      `json:"server_closed"`
	Error        string    `json:"error,omitempty"`
	Variable     []string  `json:"variable,omitempty"`
	Notes        string    `json:"notes"`
}

// An Exchange is one recorded step.
type Exchange struct {
	Group string // folder, e.g. "session"
	Name  string // file stem, e.g. "001-login-ok-get-rawman"
	Req   []byte // bytes sent
	Resp  []byte // bytes received
	Meta  Meta
}

// ID returns "group/name".
func (e *Exchange) ID() string { return e.Group + "/" + e.Name }

// Path returns the path of the request URL ("/rawman", "/amxml", …), or
// "" when the exchange is not an HTTP request to a URL (raw or TCP steps).
func (e *Exchange) Path() string {
	u, err := url.Parse(e.Meta.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Path
}

// Endpoint returns the path's last element lowercased ("rawman", "mxml",
// "arawman", …), or "".
func (e *Exchange) Endpoint() string {
	p := strings.Trim(strings.ToLower(e.Path()), "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// Response parses the recorded HTTP response and returns it with its whole
// body read (empty for HEAD and for bodiless statuses).
func (e *Exchange) Response() (*http.Response, []byte, error) {
	if len(e.Resp) == 0 {
		return nil, nil, errors.New("transcript: " + e.ID() + ": no response recorded")
	}
	method := e.Meta.Method
	if method == "" {
		method = http.MethodGet
	}
	req := &http.Request{Method: method}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(e.Resp)), req)
	if err != nil {
		return nil, nil, fmt.Errorf("transcript: %s: %w", e.ID(), err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("transcript: %s: body: %w", e.ID(), err)
	}
	return resp, body, nil
}

// Load reads every exchange of every group under dir, groups in name order
// and steps in number order.
func Load(dir string) ([]*Exchange, error) {
	groups, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []*Exchange
	for _, g := range groups {
		if !g.IsDir() {
			continue
		}
		xs, err := LoadGroup(dir, g.Name())
		if err != nil {
			return nil, err
		}
		all = append(all, xs...)
	}
	return all, nil
}

// LoadGroup reads the exchanges of one group folder, in step order.
func LoadGroup(dir, group string) ([]*Exchange, error) {
	metas, err := filepath.Glob(filepath.Join(dir, group, "*.meta"))
	if err != nil {
		return nil, err
	}
	sort.Strings(metas)
	var xs []*Exchange
	for _, mp := range metas {
		stem := strings.TrimSuffix(mp, ".meta")
		x := &Exchange{Group: group, Name: filepath.Base(stem)}
		mb, err := os.ReadFile(mp)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(mb, &x.Meta); err != nil {
			return nil, fmt.Errorf("transcript: %s: %w", x.ID(), err)
		}
		if x.Req, err = os.ReadFile(stem + ".req"); err != nil {
			return nil, err
		}
		if x.Resp, err = os.ReadFile(stem + ".resp"); err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	return xs, nil
}

// Dir returns the transcript folder testdata/asterisk-23 of this module,
// found by walking up from the working directory to go.mod.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "testdata", "asterisk-23"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("transcript: go.mod not found above " + wd)
		}
	}
}

// MustLoad returns every exchange of this module's transcripts (see [Dir]
// and [Load]), failing tb if they cannot be read.
func MustLoad(tb testing.TB) []*Exchange {
	tb.Helper()
	dir, err := Dir()
	if err != nil {
		tb.Fatal(err)
	}
	all, err := Load(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return all
}

// MustLoadGroup returns the exchanges of one group of this module's
// transcripts, failing tb if they cannot be read.
func MustLoadGroup(tb testing.TB, group string) []*Exchange {
	tb.Helper()
	dir, err := Dir()
	if err != nil {
		tb.Fatal(err)
	}
	xs, err := LoadGroup(dir, group)
	if err != nil {
		tb.Fatal(err)
	}
	return xs
}

// CheckCopy fails tb for every file under dir that differs from, or is
// missing in, the same path under original, and returns how many files
// it compared. Files of testdata are copied from the shared folder,
// never edited; the tests that guard that rule call it.
func CheckCopy(tb testing.TB, dir, original string) int {
	tb.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		a, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(original, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			tb.Errorf("%s differs from its original %s", p, filepath.Join(original, rel))
		}
		n++
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
