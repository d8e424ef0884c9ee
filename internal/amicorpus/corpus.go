package amicorpus

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// Bodies builds a deterministic, realistic stream of AMI traffic cut
// into HTTP bodies the way WaitEvent answers arrive: a Success response,
// three events (5 to 40 fields, some long values, repeated keys) and the
// WaitEventComplete event, about five messages a body. The shapes follow the
// real Asterisk 23 recordings in testdata (CoreShowChannel, Newchannel,
// VarSet, Hangup, UserEvent, QueueMember, Command output). Nothing is random:
// every value is a function of the message number, so every run decodes the
// same bytes. It returns about totalBytes of rawman bodies and the number
// of messages in them.
func Bodies(totalBytes int) (bodies [][]byte, messages int) {
	var body bytes.Buffer
	for n := 0; ; n++ {
		body.Reset()
		fmt.Fprintf(&body, "Response: Success\r\nActionID: w%d\r\nMessage: Waiting for Event completed.\r\n\r\n", n)
		for k := range 3 {
			writeEvent(&body, 3*n+k)
		}
		fmt.Fprintf(&body, "Event: WaitEventComplete\r\nActionID: w%d\r\n\r\n", n)
		bodies = append(bodies, bytes.Clone(body.Bytes()))
		messages += 5
		totalBytes -= body.Len()
		if totalBytes <= 0 {
			return bodies, messages
		}
	}
}

// writeEvent writes event number i of the corpus.
func writeEvent(b *bytes.Buffer, i int) {
	ts := fmt.Sprintf("%d.%06d", 1796035311+i/7, (i*7919)%1000000)
	chn := fmt.Sprintf("PJSIP/trunk-%08x", i*2654435761%(1<<32))
	channelFields := func() {
		fmt.Fprintf(b, "Channel: %s\r\nChannelState: %d\r\nChannelStateDesc: Up\r\n", chn, 4+i%3)
		fmt.Fprintf(b, "CallerIDNum: %d\r\nCallerIDName: Customer %d\r\n", 4915100000+i, i%997)
		b.WriteString("ConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\n")
		fmt.Fprintf(b, "Context: from-trunk\r\nExten: %d\r\nPriority: %d\r\n", 100+i%50, 1+i%9)
		fmt.Fprintf(b, "Uniqueid: %s.%d\r\nLinkedid: %s.%d\r\n", ts[:10], i, ts[:10], i-i%4)
	}
	switch i % 7 {
	case 0: // Newchannel, 17 fields
		fmt.Fprintf(b, "Event: Newchannel\r\nPrivilege: call,all\r\nTimestamp: %s\r\n", ts)
		channelFields()
	case 1: // VarSet, 8 fields, with a long value now and then
		fmt.Fprintf(b, "Event: VarSet\r\nPrivilege: dialplan,all\r\nTimestamp: %s\r\nChannel: %s\r\nUniqueid: %s.%d\r\n", ts, chn, ts[:10], i)
		val := fmt.Sprintf("value-%d", i)
		if i%5 == 1 {
			val = strings.Repeat(fmt.Sprintf("json{\"k\":%d}", i), 60) // ~700 bytes
		}
		fmt.Fprintf(b, "Variable: __DIALSTATUS_%d\r\nValue: %s\r\nContext: from-trunk\r\n", i%13, val)
	case 2: // Hangup, 21 fields
		fmt.Fprintf(b, "Event: Hangup\r\nPrivilege: call,all\r\nTimestamp: %s\r\n", ts)
		channelFields()
		fmt.Fprintf(b, "Cause: %d\r\nCause-txt: Normal Clearing\r\nTechCause: %d\r\n", 16, 200+i%300)
	case 3: // UserEvent with repeated keys, 5 fields
		fmt.Fprintf(b, "Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: Tick\r\nSeq: %d\r\nSeq: %d\r\n", i, i+1)
	case 4: // CoreShowChannel-like list item with ChanVariable repeats, 24 fields
		fmt.Fprintf(b, "Event: CoreShowChannel\r\nActionID: list-%d\r\n", i)
		channelFields()
		fmt.Fprintf(b, "Application: Dial\r\nApplicationData: PJSIP/%d@trunk,30,tT\r\nDuration: 00:%02d:%02d\r\nBridgeId: \r\n", i%900, i%60, i%59)
		fmt.Fprintf(b, "ChanVariable: CDR(src)=%d\r\nChanVariable: SIPCALLID=%x@10.0.0.1\r\n", i, i*31337)
	case 5: // QueueMember, 40 fields: long tail of small ones
		fmt.Fprintf(b, "Event: QueueMember\r\nPrivilege: agent,all\r\nQueue: support\r\nName: Agent %d\r\n", i%40)
		for k := range 36 {
			fmt.Fprintf(b, "Stat%02d: %d\r\n", k, (i*k)%1000)
		}
	case 6: // Command output: many Output lines, some long and indented
		fmt.Fprintf(b, "Response: Success\r\nActionID: cmd-%d\r\nMessage: Command output follows\r\n", i)
		for k := range 12 {
			fmt.Fprintf(b, "Output: %-20s %-40s Up      Dial(PJSIP/%d)   \r\n", chn, fmt.Sprintf("%d@from-trunk:%d", k, i%9), k)
		}
	}
	b.WriteString("\r\n")
}

// Bench runs decodeBody over every body, which must return the number of
// messages read and the error that ended the body (io.EOF), with b.SetBytes
// and b.ReportAllocs: the one harness for every decoder's benchmark and its
// baseline, so that they are measured alike. msgs is the number of
// messages in bodies.
func Bench(b *testing.B, bodies [][]byte, msgs int, decodeBody func(io.Reader) (int, error)) {
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
