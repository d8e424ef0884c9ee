package rawman

import (
	"bufio"
	"bytes"
	"io"
	"net/textproto"
	"testing"
)

const benchCorpusBytes = 4 << 20

// BenchmarkDecode decodes the corpus with a new Decoder per body, as the
// client does for every HTTP answer, into one reused Message.
func BenchmarkDecode(b *testing.B) {
	bodies, msgs := benchCorpus(benchCorpusBytes)
	b.SetBytes(corpusSize(bodies))
	b.ReportAllocs()
	var (
		m  Message
		br bytes.Reader
		n  int
	)
	for b.Loop() {
		n = 0
		for _, body := range bodies {
			br.Reset(body)
			d := NewDecoder(&br)
			for {
				err := d.Decode(&m)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
	}
	if n != msgs {
		b.Fatalf("decoded %d messages, want %d", n, msgs)
	}
	b.ReportMetric(float64(msgs), "msgs/op")
}

// BenchmarkDecodeTextproto is the baseline: the same bodies read with
// net/textproto's ReadMIMEHeader, a bufio.Reader per body as a plain net/http
// client would have.
func BenchmarkDecodeTextproto(b *testing.B) {
	bodies, msgs := benchCorpus(benchCorpusBytes)
	b.SetBytes(corpusSize(bodies))
	b.ReportAllocs()
	var (
		br bytes.Reader
		n  int
	)
	for b.Loop() {
		n = 0
		for _, body := range bodies {
			br.Reset(body)
			tp := textproto.NewReader(bufio.NewReader(&br))
			for {
				_, err := tp.ReadMIMEHeader()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
	}
	if n != msgs {
		b.Fatalf("read %d messages, want %d", n, msgs)
	}
	b.ReportMetric(float64(msgs), "msgs/op")
}

func corpusSize(bodies [][]byte) int64 {
	var n int64
	for _, b := range bodies {
		n += int64(len(b))
	}
	return n
}
