package rawman

import (
	"bytes"
	"cmp"
	"io"
	"strings"
	"unsafe"

	"github.com/amihttp/amihttp/internal/readbuf"
)

// Default limits of a [Decoder]; see [Limits].
const (
	DefaultMaxLineBytes    = 1 << 20  // 1 MiB for one line
	DefaultMaxFields       = 100_000  // fields (lines) in one message
	DefaultMaxMessageBytes = 16 << 20 // 16 MiB for one message
)

// Limits bound the memory a [Decoder] uses on hostile or broken input. A
// zero field means the default for that limit. Going past a limit makes
// Decode return a [*SyntaxError] wrapping [ErrLineTooLong], [ErrTooManyFields]
// or [ErrMessageTooLarge]; the Decoder then skips the rest of that message
// and may be used again.
type Limits struct {
	// MaxLineBytes bounds one line, its line ending excluded.
	MaxLineBytes int
	// MaxFields bounds the number of fields (lines) of one message.
	MaxFields int
	// MaxMessageBytes bounds the bytes of one message, line endings included.
	MaxMessageBytes int
}

// withDefaults returns l with every zero or negative limit set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = DefaultMaxLineBytes
	}
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = DefaultMaxMessageBytes
	}
	return l
}

// Banner is the prefix of the greeting line that Asterisk sends first on a
// classic TCP manager connection ("Asterisk Call Manager/12.0.0").
const Banner = "Asterisk Call Manager/"

// endCommand ends the Command output of Asterisk 13 and older.
const endCommand = "--END COMMAND--"

const (
	initialBufSize = 4 << 10 // first buffer when the input's size is unknown
	maxSizedBuf    = 1 << 20 // largest first buffer sized from the input's Len
)

// decoding modes of the line scanner
const (
	modeStart       = iota // before a message: skip blank lines and the banner
	modeFields             // ordinary "Key: Value" lines until a blank line
	modeFollowsHead        // after "Response: Follows": Privilege and ActionID
	modeFollowsBody        // raw Command output until "--END COMMAND--"
	modeFollowsEnd         // after "--END COMMAND--": swallow one blank line
)

// A Decoder reads AMI messages from an input stream: the body of a /rawman
// or /arawman answer, or a classic TCP manager connection.
//
// Messages are separated by an empty line; lines end in CRLF or a bare LF.
// The Decoder is tolerant: a value containing ": ", an empty value, NUL bytes
// and a lone CR are data; a line without a colon is kept as a field with an
// empty key; blank lines between messages and the TCP greeting line are
// skipped (see [Decoder.Banner]). The Command output of Asterisk 13
// ("Response: Follows", raw lines, "--END COMMAND--") is turned into one
// "Output" field per line, the form Asterisk 14 and later send.
//
// A Decoder buffers its input and may read past the end of a message. It
// keeps no reference to a Message after Decode returns.
type Decoder struct {
	r        io.Reader
	lim      Limits
	initSize int // first buffer size for input of unknown size; 0: initialBufSize

	// The input is read into buf. Decoded strings point into it (no copy
	// is made), so the bytes buf[:frozen] are never written again: a fill
	// that needs room below frozen moves the unread input to a new buffer.
	buf        []byte
	rpos, wpos int    // unconsumed input is buf[rpos:wpos]
	frozen     int    // buf[:frozen] is shared with strings handed out
	text       string // buf[textPos:frozen] as a string
	textPos    int

	base int64 // stream offset of buf[0]
	line int   // lines consumed so far
	err  error // sticky read error, io.EOF included

	started    bool   // past the first line of the stream
	banner     string // greeting line, if any
	discarding bool   // skipping the rest of a message after a limit error
	dstate     uint8  // while discarding: 0 at line start, 1 after a CR, 2 in a line
}

// NewDecoder returns a Decoder reading from r with the default [Limits].
// If r has a Len method (bytes.Reader, strings.Reader, bytes.Buffer), the
// Decoder's first buffer is sized to it.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, lim: Limits{}.withDefaults()}
}

// Reset discards any buffered data and state and makes d read from r, as a
// new Decoder would, keeping its limits.
func (d *Decoder) Reset(r io.Reader) {
	*d = Decoder{r: r, lim: d.lim, initSize: d.initSize}
}

// SetLimits changes the Decoder's limits; zero fields take their defaults.
// It may be called between Decode calls.
func (d *Decoder) SetLimits(l Limits) { d.lim = l.withDefaults() }

// Limits returns the limits in force, defaults filled in.
func (d *Decoder) Limits() Limits { return d.lim }

// Banner returns the greeting line ("Asterisk Call Manager/12.0.0") if the
// stream began with one, or "". It is known after the first Decode.
func (d *Decoder) Banner() string { return d.banner }

// InputOffset returns the stream offset of the first byte not yet consumed:
// after a successful Decode, the byte after the message's terminating
// empty line.
func (d *Decoder) InputOffset() int64 { return d.base + int64(d.rpos) }

// Decode reads the next message into m, replacing its fields and reusing
// the capacity of m.Fields.
//
// The keys and values are not copied: they share the memory the Decoder
// read the input into, which is never written again once shared. They stay
// valid after later Decode calls, and a kept message keeps that memory
// (the buffered input around it, usually the whole HTTP body) from being
// collected. A whole body thus costs about one allocation, and decoding
// into the same Message allocates nothing per field.
//
// At a clean end of input Decode returns [io.EOF]. If the input ends inside
// a message it returns [io.ErrUnexpectedEOF] with the fields read so far in
// m. A limit exceeded gives a [*SyntaxError], after which the Decoder skips
// to the next message; a read error is returned as is and ends the stream.
// m.Keys is set to [KeysAMI].
func (d *Decoder) Decode(m *Message) error {
	old := len(m.Fields)
	m.Fields = m.Fields[:0]
	m.Keys = KeysAMI
	err := d.decode(m)
	if n := len(m.Fields); n < old {
		clear(m.Fields[n:old]) // drop references to the previous message
	}
	return err
}

func (d *Decoder) decode(m *Message) error {
	if d.discarding {
		if err := d.discard(); err != nil {
			return err
		}
	}
	if d.rpos == d.wpos && d.err != nil {
		return d.err
	}
	mode := modeStart
	maxLine := d.lim.MaxLineBytes
	// The loop keeps its position in locals and stores them in d before
	// any call that reads them.
	buf, scan, line := d.buf[:d.wpos], d.rpos, d.line
	for {
		start := scan
		nl := bytes.IndexByte(buf[start:], '\n')
		if nl < 0 {
			d.line = line
			if len(buf)-start > maxLine+1 { // +1: a CR may still end it
				return d.limitError(start, -1, ErrLineTooLong)
			}
			if d.err == nil {
				shift := d.fill()
				buf, scan = d.buf[:d.wpos], scan-shift
				continue
			}
			return d.atEOF(m, mode, start)
		}
		nl += start
		colon := indexColon(buf[start:nl])
		if colon >= 0 {
			colon += start
		}

		next := nl + 1
		ce := nl // content end
		if ce > start && buf[ce-1] == '\r' {
			ce--
		}
		scan = next
		line++
		if ce-start > maxLine {
			d.line = line
			return d.limitError(start, next, ErrLineTooLong)
		}
		if next > d.frozen { // the line is not in d.text yet
			d.freeze(start)
		}
		if mode == modeFields && colon > start && len(m.Fields) > 0 {
			// The common case: one more "Key: Value" line.
			if err := d.checkMessage(m, start, next, line); err != nil {
				return err
			}
			t := d.text[start-d.textPos : ce-d.textPos]
			m.Fields = append(m.Fields, field(t, colon-start))
			continue
		}
		blank := ce == start
		first := !d.started
		d.started = true
		switch mode {
		case modeStart:
			if blank {
				d.rpos = next
				continue
			}
			if first && colon < 0 && bytes.HasPrefix(buf[start:ce], []byte(Banner)) {
				d.banner = string(buf[start:ce])
				d.rpos = next
				continue
			}
			mode = modeFields
		case modeFields:
			if blank {
				d.rpos, d.line = next, line
				return nil
			}
		case modeFollowsEnd:
			if !blank { // not the expected empty line: leave it for the next message
				scan = start
				line--
			}
			d.rpos, d.line = scan, line
			return nil
		}
		if err := d.checkMessage(m, start, next, line); err != nil {
			return err
		}
		mode = d.addField(m, start, ce, colon, mode)
	}
}

// indexColon returns the index of the first ':' in line, or -1. Keys are
// short, so a byte loop finds it at less cost than bytes.IndexByte's call
// would; long lines without a colon go to bytes.IndexByte after a while.
func indexColon(line []byte) int {
	n := min(len(line), maxKeyScan)
	for i, c := range line[:n] {
		if c == ':' {
			return i
		}
	}
	if n < len(line) {
		if i := bytes.IndexByte(line[n:], ':'); i >= 0 {
			return n + i
		}
	}
	return -1
}

// maxKeyScan is how far indexColon's byte loop looks for a colon.
const maxKeyScan = 48

// freeze makes d.text cover the input from buf[from] to the end of the
// buffered data, which becomes read-only.
func (d *Decoder) freeze(from int) {
	d.text = unsafe.String(&d.buf[from], d.wpos-from)
	d.textPos = from
	d.frozen = d.wpos
}

// addField appends to m the field of line buf[start:end] (with its colon
// at index colon, or -1) as decoded in mode, and returns the next mode.
// The line must be frozen.
func (d *Decoder) addField(m *Message, start, end, colon, mode int) int {
	t := d.text[start-d.textPos : end-d.textPos]
	c := colon - start
	switch mode {
	case modeFollowsHead:
		if c > 0 && (equalFold(t[:c], "Privilege") || equalFold(t[:c], "ActionID")) {
			m.Fields = append(m.Fields, field(t, c))
			return mode
		}
		fallthrough
	case modeFollowsBody:
		out, ended := strings.CutSuffix(t, endCommand)
		if !ended || out != "" {
			m.Fields = append(m.Fields, Field{Key: "Output", Value: out})
		}
		if ended {
			return modeFollowsEnd
		}
		return modeFollowsBody
	}
	if c <= 0 {
		m.Fields = append(m.Fields, Field{Value: t})
		return modeFields
	}
	f := field(t, c)
	m.Fields = append(m.Fields, f)
	if len(m.Fields) == 1 && equalFold(f.Key, "Response") && equalFold(f.Value, "Follows") {
		return modeFollowsHead
	}
	return modeFields
}

// field splits line t at its colon c; the value loses one leading space.
func field(t string, c int) Field {
	v := c + 1
	if v < len(t) && t[v] == ' ' {
		v++
	}
	return Field{Key: t[:c], Value: t[v:]}
}

// atEOF ends a Decode that found no complete line and no more input at
// buf[start:]: the message under way, if any, is cut short, unless it was
// an Asterisk 13 Command output whose end marker was read.
func (d *Decoder) atEOF(m *Message, mode, start int) error {
	if mode == modeFollowsEnd {
		d.rpos = start
		return nil
	}
	if start < d.wpos { // a last line without its line ending: keep it
		colon := indexColon(d.buf[start:d.wpos])
		if colon >= 0 {
			colon += start
		}
		if mode == modeStart {
			mode = modeFields
		}
		if d.wpos > d.frozen {
			d.freeze(start)
		}
		d.addField(m, start, d.wpos, colon, mode)
	}
	d.rpos = d.wpos
	if mode == modeStart {
		return d.err
	}
	if d.err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return d.err
}

// fill reads more input after buf[wpos]. When the buffer is full it first
// makes room (see [readbuf.Room]): the unread input buf[rpos:wpos] moves to
// the front, or to a new buffer when the old one is shared with strings.
// fill returns by how much buffer indexes moved down, and sets d.err on a
// read error or at the end of input.
func (d *Decoder) fill() (shift int) {
	if d.buf == nil {
		d.buf = make([]byte, readbuf.Size(d.r, cmp.Or(d.initSize, initialBufSize), maxSizedBuf))
	} else if d.wpos == len(d.buf) {
		shift = d.rpos
		if nb := readbuf.Room(d.buf, d.rpos, d.frozen > 0); &nb[0] != &d.buf[0] {
			d.buf = nb
			d.frozen, d.text, d.textPos = 0, "", 0
		}
		d.base += int64(shift)
		d.wpos -= shift
		d.rpos = 0
	}
	n, err := readbuf.Read(d.r, d.buf[d.wpos:])
	d.wpos += n
	if err != nil {
		d.err = err
	}
	return shift
}

// checkMessage returns the limit error if adding the line buf[start:next]
// (line number line) to m would break the field or byte limit of a message.
func (d *Decoder) checkMessage(m *Message, start, next, line int) error {
	var limit error
	switch {
	case len(m.Fields) >= d.lim.MaxFields:
		limit = ErrTooManyFields
	case next-d.rpos > d.lim.MaxMessageBytes:
		limit = ErrMessageTooLarge
	default:
		return nil
	}
	d.line = line
	return d.limitError(start, next, limit)
}

// limitError reports that the line at buf[start:next] broke a limit, and
// makes the Decoder skip the rest of the message. A negative next means the
// line is still unterminated (it is dropped from the buffer at once and not
// yet counted in d.line).
func (d *Decoder) limitError(start, next int, limit error) error {
	line := d.line
	d.discarding = true
	d.dstate = 0
	if next < 0 {
		line++
		d.dstate = 2
		next = d.wpos
	}
	d.rpos = next
	return &SyntaxError{
		Msg:    limit.Error(),
		Line:   line,
		Offset: d.base + int64(start),
		Err:    limit,
	}
}

// discard skips input up to and including the next empty line, the end of
// the message that broke a limit, keeping memory bounded by the buffer.
func (d *Decoder) discard() error {
	for {
		buf := d.buf[d.rpos:d.wpos]
		for len(buf) > 0 {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				if d.dstate == 0 && len(buf) == 1 && buf[0] == '\r' {
					d.dstate = 1
				} else {
					d.dstate = 2
				}
				break
			}
			seg := buf[:i]
			blank := (d.dstate == 0 && (len(seg) == 0 || (len(seg) == 1 && seg[0] == '\r'))) ||
				(d.dstate == 1 && len(seg) == 0)
			d.line++
			d.rpos += i + 1
			buf = buf[i+1:]
			d.dstate = 0
			if blank {
				d.discarding = false
				return nil
			}
		}
		d.rpos = d.wpos
		if d.err != nil {
			d.discarding = false
			if d.err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return d.err
		}
		d.fill()
	}
}
