package rawman

import (
	"bufio"
	"bytes"
	"io"
	"net/textproto"
	"testing"

	"github.com/amihttp/amihttp/internal/amicorpus"
)

const benchCorpusBytes = 4 << 20

// BenchmarkDecode decodes the corpus with a new Decoder per body, as the
// client does for every HTTP answer, into one reused Message.
func BenchmarkDecode(b *testing.B) {
	var m Message
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

// BenchmarkDecodeTextproto is the baseline: the same bodies read with
// net/textproto's ReadMIMEHeader, a bufio.Reader per body as a plain net/http
// client would have.
func BenchmarkDecodeTextproto(b *testing.B) {
	benchBodies(b, func(body io.Reader) (n int, err error) {
		tp := textproto.NewReader(bufio.NewReader(body))
		for {
			if _, err = tp.ReadMIMEHeader(); err != nil {
				return n, err
			}
			n++
		}
	})
}

// benchBodies runs decodeBody over every body of the corpus, which must
// return the number of messages read and the error that ended the body:
// the same harness for Decode and its baseline.
func benchBodies(b *testing.B, decodeBody func(io.Reader) (int, error)) {
	bodies, msgs := amicorpus.Bodies(benchCorpusBytes)
	var size int64
	for _, body := range bodies {
		size += int64(len(body))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var (
		br bytes.Reader
		n  int
	)
	for b.Loop() {
		n = 0
		for _, body := range bodies {
			br.Reset(body)
			k, err := decodeBody(&br)
			if err != io.EOF {
				b.Fatalf("body ended with %v, want io.EOF", err)
			}
			n += k
		}
	}
	if n != msgs {
		b.Fatalf("read %d messages, want %d", n, msgs)
	}
	b.ReportMetric(float64(msgs), "msgs/op")
}
