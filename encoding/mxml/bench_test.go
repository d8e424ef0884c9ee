package mxml

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/amicorpus"
)

const benchCorpusBytes = 4 << 20

// benchCorpus returns the WaitEvent-shaped corpus of internal/amicorpus as
// Asterisk's mxml would send it: each rawman body decoded and written again
// by this package's Encoder, which reproduces Asterisk's bytes.
func benchCorpus(tb testing.TB) (bodies [][]byte, messages int) {
	raw, messages := amicorpus.Bodies(benchCorpusBytes)
	for _, body := range raw {
		var out bytes.Buffer
		d, e := rawman.NewDecoder(bytes.NewReader(body)), NewEncoder(&out)
		var m rawman.Message
		for {
			err := d.Decode(&m)
			if err == io.EOF {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			if err := e.Encode(&m); err != nil {
				tb.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			tb.Fatal(err)
		}
		bodies = append(bodies, out.Bytes())
	}
	return bodies, messages
}

// BenchmarkDecode decodes the corpus with a new Decoder per body, as the
// client does for every HTTP answer, into one reused Message.
func BenchmarkDecode(b *testing.B) {
	var m rawman.Message
	benchBodies(b, func(body io.Reader) (n int, err error) {
		d := NewDecoder(body)
		for {
			if err = d.Decode(&m); err != nil {
				return n, err
			}
			n++
		}
	})
}

// BenchmarkDecodeEncodingXML is the baseline: the same bodies read with
// encoding/xml's RawToken (no name-space handling, no nesting checks: its
// fastest mode), collecting the attributes of each element inside a
// <response> into the same reused Message.
func BenchmarkDecodeEncodingXML(b *testing.B) {
	var m rawman.Message
	benchBodies(b, func(body io.Reader) (n int, err error) {
		d := xml.NewDecoder(body)
		depth, resp := 0, 0
		for {
			tok, err := d.RawToken()
			if err != nil {
				return n, err
			}
			switch t := tok.(type) {
			case xml.StartElement:
				depth++
				if t.Name.Local == "response" {
					resp = depth
					continue
				}
				if resp == 0 || depth != resp+1 {
					continue
				}
				m.Reset()
				m.Keys = rawman.KeysXML
				for _, a := range t.Attr {
					m.Add(a.Name.Local, a.Value)
				}
				n++
			case xml.EndElement:
				if depth == resp {
					resp = 0
				}
				depth--
			}
		}
	})
}

// benchBodies runs decodeBody over every body of the corpus with the
// harness shared by every decoder's benchmarks.
func benchBodies(b *testing.B, decodeBody func(io.Reader) (int, error)) {
	bodies, msgs := benchCorpus(b)
	amicorpus.Bench(b, bodies, msgs, decodeBody)
}

// TestBenchCorpusDecodesAlike checks that the benchmark and its baseline
// read the same messages from the corpus, so that they measure the same
// work: every message the Decoder gives, field for field, is what
// encoding/xml finds.
func TestBenchCorpusDecodesAlike(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 4 MiB corpus")
	}
	bodies, msgs := benchCorpus(t)
	n := 0
	for _, body := range bodies {
		x := xml.NewDecoder(bytes.NewReader(body))
		for _, m := range decodeXMLBody(t, body) {
			n++
			var start xml.StartElement
			for start.Name.Local != DefaultObjectType {
				tok, err := x.RawToken()
				if err != nil {
					t.Fatalf("encoding/xml: %v", err)
				}
				start, _ = tok.(xml.StartElement)
			}
			if len(start.Attr) != len(m.Fields) {
				t.Fatalf("message %d: %d fields, encoding/xml finds %d", n, len(m.Fields), len(start.Attr))
			}
			for i, a := range start.Attr {
				if stripSuffix(a.Name.Local) != m.Fields[i].Key || a.Value != m.Fields[i].Value {
					t.Fatalf("message %d field %d: %q, encoding/xml finds %s=%q", n, i, m.Fields[i], a.Name.Local, a.Value)
				}
			}
		}
	}
	if n != msgs {
		t.Errorf("decoded %d messages, the corpus has %d", n, msgs)
	}
}
