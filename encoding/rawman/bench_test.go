package rawman

import (
	"bufio"
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

// benchBodies runs decodeBody over every body of the corpus with the
// harness shared by every decoder's benchmarks.
func benchBodies(b *testing.B, decodeBody func(io.Reader) (int, error)) {
	bodies, msgs := amicorpus.Bodies(benchCorpusBytes)
	amicorpus.Bench(b, bodies, msgs, decodeBody)
}
