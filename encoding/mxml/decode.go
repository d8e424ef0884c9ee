package mxml

import (
	"bytes"
	"cmp"
	"io"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/readbuf"
)

// Default limits of a [Decoder]; see [Limits].
const (
	DefaultMaxFields       = 100_000  // attributes of one element
	DefaultMaxMessageBytes = 16 << 20 // 16 MiB for one element
)

// Limits bound the memory a [Decoder] uses on hostile or broken input. A
// zero field means the default for that limit. Going past a limit makes
// Decode return a [*SyntaxError] wrapping [ErrTooManyFields] or
// [ErrMessageTooLarge]; the Decoder then skips the rest of that element and
// may be used again. Markup that carries no message (comments, the
// <response> tags, text between elements) is skipped as it streams by and
// needs no limit.
type Limits struct {
	// MaxFields bounds the number of attributes of one message element.
	MaxFields int
	// MaxMessageBytes bounds the bytes of one element's start tag, from
	// its '<' to its '>'.
	MaxMessageBytes int
}

// withDefaults returns l with every zero or negative limit set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = DefaultMaxMessageBytes
	}
	return l
}

const (
	initialBufSize = 4 << 10 // first buffer when the input's size is unknown
	maxSizedBuf    = 1 << 20 // largest first buffer sized from the input's Len
)

// Names the decoder gives a meaning to.
const (
	rootName     = "ajax-response"
	responseName = "response"
	opaqueKey    = "opaque_data" // Asterisk's name for lines without a colon
	outputKey    = "output"
	endCommand   = "--END COMMAND--" // ends Asterisk 13's Command output
)

// Terminators of the markup the decoder skips.
var (
	endPI      = []byte("?>")
	endComment = []byte("-->")
	endCDATA   = []byte("]]>")
	endTag     = []byte(">")
	bom        = []byte("\xEF\xBB\xBF") // UTF-8 byte order mark
)

// nameEnd marks the bytes that end an XML name in the decoder's tolerant
// reading: blanks and control bytes, '=', '/', '>', '<' and the quotes.
var nameEnd = func() (t [256]bool) {
	for c := range 0x21 {
		t[c] = true
	}
	for _, c := range "=/><'\"" {
		t[c] = true
	}
	return t
}()

// A Decoder reads AMI messages from the body of an /mxml or /amxml answer:
// an <ajax-response> document holding one <response> element per message,
// whose child element (<generic> unless the request named another) carries
// the message's fields as attributes in wire order.
//
// The Decoder is tolerant where Asterisk's output is not well-formed XML:
// raw control bytes, invalid UTF-8, a raw '<' and duplicate attribute names
// are data. It decodes the five entities Asterisk writes and numeric
// character references, and leaves any other "&...;" as literal text. It
// strips the "-2", "-3" ... suffixes Asterisk adds to a repeated header, so
// that repeats come back as repeated keys, and turns the Command output of
// Asterisk 13 (an opaque_data attribute in a "Response: Follows" message)
// into "output" fields, as rawman gives it. Comments, processing
// instructions, text, and elements elsewhere than in a <response> are
// skipped.
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
	rpos, wpos int // unconsumed input is buf[rpos:wpos]
	frozen     int // buf[:frozen] is shared with strings handed out
	base       int64
	lines      int // line feeds in the input before buf[lpos]
	lpos       int
	err        error // sticky read error, io.EOF included
	bad        error // sticky ErrNotMXML error

	rooted bool // the <ajax-response> start tag was seen
	depth  int  // elements open
	resp   int  // depth inside the innermost open <response>, or 0

	// Skipping the rest of a start tag (one that carries no message, or
	// one that broke a limit), possibly across reads.
	skipping  bool
	quote     byte // the quote of the attribute value being skipped, or 0
	slash     bool // the last byte seen outside quotes was '/'
	skipResp  bool // the tag being skipped opens a <response>
	skipOpens bool // the tag being skipped opens an element unless self-closed

	out []rawman.Field // scratch for the Command output of Asterisk 13
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
	*d = Decoder{r: r, lim: d.lim, initSize: d.initSize, out: d.out[:0]}
}

// SetLimits changes the Decoder's limits; zero fields take their defaults.
// It may be called between Decode calls.
func (d *Decoder) SetLimits(l Limits) { d.lim = l.withDefaults() }

// Limits returns the limits in force, defaults filled in.
func (d *Decoder) Limits() Limits { return d.lim }

// InputOffset returns the stream offset of the first byte not yet consumed:
// after a successful Decode, the byte after the message element's end.
func (d *Decoder) InputOffset() int64 { return d.base + int64(d.rpos) }

// Decode reads the next message into m, replacing its fields, reusing the
// capacity of m.Fields, and setting m.Keys to [rawman.KeysXML]: keys are
// the attribute names as Asterisk wrote them, less any "-N" suffix, and
// m's lookups compare keys in that form (m.Get("Cause-txt") finds
// "cause_txt").
//
// Keys and values share the memory the Decoder read the input into, which
// is never written again once shared; values with entities are decoded in
// place. They stay valid after later Decode calls, and a kept message
// keeps that memory (usually the whole HTTP body) from being collected.
//
// At a clean end of input Decode returns [io.EOF]; an empty input is a
// clean end. If the input ends inside an element, or before the
// <ajax-response> element is closed, it returns [io.ErrUnexpectedEOF], in
// the first case with the attributes read so far in m. A limit exceeded
// gives a [*SyntaxError] and the Decoder skips to the next element. Input
// whose first element is not <ajax-response> gives a [*SyntaxError]
// wrapping [ErrNotMXML], returned again by every later call. A read error
// is returned as is and ends the stream.
func (d *Decoder) Decode(m *rawman.Message) error {
	old := len(m.Fields)
	m.Fields = m.Fields[:0]
	m.Keys = rawman.KeysXML
	err := d.decode(m)
	if n := len(m.Fields); n < old {
		clear(m.Fields[n:old]) // drop references to the previous message
	}
	return err
}

// decode scans the markup for the next message element and reads it.
func (d *Decoder) decode(m *rawman.Message) error {
	if d.bad != nil {
		return d.bad
	}
	for {
		if d.skipping {
			if err := d.skipTag(); err != nil {
				return err
			}
		}
		if !d.rooted && d.base+int64(d.rpos) == 0 {
			d.need(len(bom)) // see a byte order mark whole
		}
		i := bytes.IndexByte(d.buf[d.rpos:d.wpos], '<')
		if !d.rooted {
			if err := d.checkProlog(i); err != nil {
				return err
			}
		}
		if i < 0 {
			d.rpos = d.wpos // text between elements
			if d.err != nil {
				return d.end()
			}
			d.fill()
			continue
		}
		d.rpos += i
		if !d.need(2) {
			d.rpos = d.wpos // a lone '<' at the end: markup cut short
			return d.endInside()
		}
		var err error
		switch c := d.buf[d.rpos+1]; {
		case c == '/':
			d.rpos += 2
			if err = d.skipPast(endTag); err == nil {
				d.closeElement()
			}
		case c == '?':
			d.rpos += 2
			err = d.skipPast(endPI)
		case c == '!':
			err = d.skipDeclaration()
		case !nameEnd[c]:
			var done bool
			if done, err = d.startTag(m); done {
				return err
			}
		default:
			if !d.rooted {
				d.bad = d.syntaxError(d.rpos, ErrNotMXML)
				return d.bad
			}
			d.rpos++ // a '<' that starts no markup is text
		}
		if err != nil {
			return err
		}
	}
}

// checkProlog checks the text before the root element, buf[rpos:rpos+n]
// (up to wpos if n < 0): only blanks may stand there, after a UTF-8 byte
// order mark at the very start.
func (d *Decoder) checkProlog(n int) error {
	text := d.buf[d.rpos:d.wpos]
	if n >= 0 {
		text = text[:n]
	}
	skip := 0
	if d.base+int64(d.rpos) == 0 && bytes.HasPrefix(text, bom) {
		skip = len(bom)
	}
	for i := skip; i < len(text); i++ {
		if text[i] > ' ' {
			d.bad = d.syntaxError(d.rpos+i, ErrNotMXML)
			return d.bad
		}
	}
	return nil
}

// startTag reads the start tag at buf[rpos]. It reports done when Decode
// should return err: a message was read (err nil), or an error occurred.
func (d *Decoder) startTag(m *rawman.Message) (done bool, err error) {
	n, err := d.readName()
	if err != nil {
		return true, err
	}
	if n == d.wpos { // the input ended inside the name
		d.rpos = n
		return true, d.endInside()
	}
	name := d.buf[d.rpos+1 : n]
	switch {
	case !d.rooted && !equalFoldBytes(name, rootName):
		d.bad = d.syntaxError(d.rpos, ErrNotMXML)
		return true, d.bad
	case d.resp > 0 && d.depth == d.resp && !equalFoldBytes(name, responseName) && !equalFoldBytes(name, rootName):
		if err := d.element(m, n); err != nil {
			return true, err
		}
		if len(m.Fields) > 0 {
			d.finish(m)
			return true, nil
		}
		return false, nil
	}
	d.rooted = true
	d.rpos = n
	d.startSkip(true, equalFoldBytes(name, responseName))
	return false, d.skipTag()
}

// readName returns the end index of the element name that follows the '<'
// at buf[rpos], reading more input if the name reaches the end of the
// buffer.
func (d *Decoder) readName() (int, error) {
	n := d.rpos + 1
	for {
		for n < d.wpos && !nameEnd[d.buf[n]] {
			n++
		}
		if n < d.wpos || d.err != nil {
			return n, nil
		}
		if n-d.rpos > d.lim.MaxMessageBytes {
			return 0, d.limitError(d.rpos, n, ErrMessageTooLarge)
		}
		off := n - d.rpos
		d.fillMore()
		n = d.rpos + off
	}
}

// element reads the attributes of the message element whose name ends at
// buf[n] into m, up to the end of its start tag.
func (d *Decoder) element(m *rawman.Message, n int) error {
	d.countLines(d.rpos)
	at := position{offset: d.base + int64(d.rpos), line: d.lines + 1}
	p := n // where the next attribute begins
	for {
		buf := d.buf[:d.wpos]
		for p < len(buf) && buf[p] <= ' ' {
			p++
		}
		if p < len(buf) {
			switch buf[p] {
			case '>':
				d.rpos = p + 1
				d.open(false)
				return nil
			case '/':
				if p+1 < len(buf) && buf[p+1] == '>' {
					d.rpos = p + 2
					return nil
				}
				if p+1 < len(buf) {
					p++ // a stray '/'
					continue
				}
			default:
				if next, ok := d.attribute(m, p); ok {
					switch {
					case len(m.Fields) > d.lim.MaxFields:
						m.Fields = m.Fields[:d.lim.MaxFields]
						return d.elementLimit(at, next, ErrTooManyFields)
					case d.base+int64(next)-at.offset > int64(d.lim.MaxMessageBytes):
						return d.elementLimit(at, next, ErrMessageTooLarge)
					}
					p = next
					continue
				}
			}
		}
		// The attribute at p, or the end of the tag, is not all in buf.
		if d.err != nil {
			d.rpos = d.wpos
			d.depth, d.resp = 0, 0
			if d.err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return d.err
		}
		if d.base+int64(d.wpos)-at.offset > int64(d.lim.MaxMessageBytes) {
			return d.elementLimit(at, p, ErrMessageTooLarge)
		}
		d.rpos = p
		d.fillMore()
		p = d.rpos
	}
}

// attribute reads the attribute that begins at buf[p] into m and returns
// the index after it, or false if it is not all in the buffer yet.
// Beyond well-formed name='value' pairs it accepts a double-quoted or an
// unquoted value, a name without a value (an empty value) and a quoted
// value without a name (an empty key), so that no byte is dropped.
func (d *Decoder) attribute(m *rawman.Message, p int) (int, bool) {
	buf := d.buf[:d.wpos]
	n := p
	for n < len(buf) && !nameEnd[buf[n]] {
		n++
	}
	v := n
	for v < len(buf) && buf[v] <= ' ' {
		v++
	}
	if v == len(buf) {
		return 0, false
	}
	if buf[v] != '=' {
		if n == p && buf[v] != '\'' && buf[v] != '"' {
			return p + 1, true // a byte that starts nothing ('<', '=' ...)
		}
		if n > p {
			d.add(m, p, n, v, v)
			return v, true
		}
	} else {
		v++
		for v < len(buf) && buf[v] <= ' ' {
			v++
		}
		if v == len(buf) {
			return 0, false
		}
	}
	if q := buf[v]; q == '\'' || q == '"' {
		e := bytes.IndexByte(buf[v+1:], q)
		if e < 0 {
			return 0, false
		}
		end := v + 1 + e
		d.add(m, p, n, v+1, end)
		return end + 1, true
	}
	e := v
	for e < len(buf) && buf[e] > ' ' && buf[e] != '>' {
		e++
	}
	if e == len(buf) {
		return 0, false
	}
	if buf[e] == '>' && e > v && buf[e-1] == '/' {
		e-- // the '/' of "/>" ends the tag, not the value
	}
	d.add(m, p, n, v, e)
	return e, true
}

// add appends to m the field named buf[ns:ne] with the value buf[vs:ve],
// decoding the value's references in place.
func (d *Decoder) add(m *rawman.Message, ns, ne, vs, ve int) {
	if i := bytes.IndexByte(d.buf[vs:ve], '&'); i >= 0 {
		ve = vs + i + unescape(d.buf[vs+i:ve])
	}
	d.frozen = max(d.frozen, ve, ne)
	m.Fields = append(m.Fields, rawman.Field{
		Key:   stripSuffix(d.str(ns, ne)),
		Value: d.str(vs, ve),
	})
}

// str returns buf[i:j] as a string sharing its memory.
func (d *Decoder) str(i, j int) string {
	if i >= j {
		return ""
	}
	return unsafe.String(&d.buf[i], j-i)
}

// stripSuffix removes the "-N" Asterisk appends to the second and later
// occurrences of a header name in one message. A translated name holds no
// '-' of its own, so the suffix cannot be mistaken; "-2" alone is the second
// header with an empty name.
func stripSuffix(k string) string {
	i := strings.LastIndexByte(k, '-')
	if i < 0 || i == len(k)-1 {
		return k
	}
	for j := i + 1; j < len(k); j++ {
		if k[j] < '0' || k[j] > '9' {
			return k
		}
	}
	return k[:i]
}

// unescape decodes in place the references in b, which starts with '&',
// and returns the decoded length (never more than len(b)). The five
// entities Asterisk writes and numeric character references of valid code
// points are decoded; anything else is kept as is.
func unescape(b []byte) int {
	w, r := 0, 0
	for r < len(b) {
		if b[r] != '&' {
			i := bytes.IndexByte(b[r:], '&')
			if i < 0 {
				i = len(b) - r
			}
			w += copy(b[w:], b[r:r+i])
			r += i
			continue
		}
		dec, n := reference(b[r:])
		if n == 0 {
			b[w] = '&'
			w, r = w+1, r+1
			continue
		}
		if dec >= 0 {
			b[w] = byte(dec)
			w++
		} else {
			w += utf8.EncodeRune(b[w:], -dec)
		}
		r += n
	}
	return w
}

// reference decodes the reference at the start of b. It returns the byte
// it stands for (or, negated, a code point of 0x80 and above) and its
// length, or a zero length if b does not start with a known reference. A
// reference is never shorter than what it decodes to.
func reference(b []byte) (rune, int) {
	semi := bytes.IndexByte(b[:min(len(b), 12)], ';')
	if semi < 2 {
		return 0, 0
	}
	switch name := b[1:semi]; string(name) {
	case "lt":
		return '<', semi + 1
	case "gt":
		return '>', semi + 1
	case "amp":
		return '&', semi + 1
	case "quot":
		return '"', semi + 1
	case "apos":
		return '\'', semi + 1
	default:
		if name[0] != '#' || len(name) < 2 {
			return 0, 0
		}
		digits, base := name[1:], rune(10)
		if digits[0] == 'x' {
			digits, base = digits[1:], 16
		}
		if len(digits) == 0 {
			return 0, 0
		}
		var r rune
		for _, c := range digits {
			var v rune
			switch {
			case '0' <= c && c <= '9':
				v = rune(c - '0')
			case base == 16 && 'a' <= c|0x20 && c|0x20 <= 'f':
				v = rune(c|0x20-'a') + 10
			default:
				return 0, 0
			}
			if r = r*base + v; r > utf8.MaxRune {
				return 0, 0
			}
		}
		if !utf8.ValidRune(r) {
			return 0, 0
		}
		if r >= utf8.RuneSelf {
			return -r, semi + 1
		}
		return r, semi + 1
	}
}

// finish turns what Asterisk's mxml made of lines without a colon back
// into the fields rawman gives. In Asterisk 13's Command output ("Response:
// Follows"), every field after Privilege and ActionID is an output line: an
// attribute (a CLI line with a colon, whose name Asterisk rewrote) becomes
// "name: value" and the opaque_data lines are kept as they are, without the
// "--END COMMAND--" marker. Elsewhere, each opaque_data line becomes a field
// with an empty key, as rawman decodes a line without a colon.
func (d *Decoder) finish(m *rawman.Message) {
	fs := m.Fields
	last := len(fs) - 1
	if !strings.EqualFold(fs[0].Key, "response") || !strings.EqualFold(fs[0].Value, "Follows") {
		if fs[last].Key == opaqueKey {
			lines := fs[last].Value
			m.Fields = fs[:last]
			for line := range strings.SplitSeq(lines, "\n") {
				m.Fields = append(m.Fields, rawman.Field{Value: line})
			}
		}
		return
	}
	h := 1
	for h < len(fs) && (fs[h].Key == "privilege" || fs[h].Key == "actionid") {
		h++
	}
	out := d.out[:0]
	for i := h; i < len(fs); i++ {
		f := fs[i]
		if i == last && f.Key == opaqueKey {
			for line := range strings.SplitSeq(f.Value, "\n") {
				out = append(out, rawman.Field{Key: outputKey, Value: line})
			}
			continue
		}
		line := f.Key + ":"
		if f.Value != "" {
			line += " " + f.Value
		}
		out = append(out, rawman.Field{Key: outputKey, Value: line})
	}
	if n := len(out); n > 0 {
		if v, ok := strings.CutSuffix(out[n-1].Value, endCommand); ok {
			if v == "" {
				out = out[:n-1]
			} else {
				out[n-1].Value = v
			}
		}
	}
	m.Fields = append(fs[:h], out...)
	clear(out)
	d.out = out[:0]
}

// startSkip makes the Decoder skip the rest of the tag at buf[rpos],
// which is outside any quoted value: the skipped tag opens an element
// unless opens is false or it is self-closed, a <response> if response.
func (d *Decoder) startSkip(opens, response bool) {
	d.skipping, d.quote, d.slash = true, 0, false
	d.skipOpens, d.skipResp = opens, response
}

// skipTag skips the rest of a start tag, up to its '>' outside quotes, and
// opens the element if it is not self-closed and skipOpens is set.
func (d *Decoder) skipTag() error {
	for {
		b := d.buf[d.rpos:d.wpos]
		i := 0
		for i < len(b) {
			c := b[i]
			if d.quote != 0 {
				e := bytes.IndexByte(b[i:], d.quote)
				if e < 0 {
					break // the value goes on past the buffer
				}
				i += e + 1
				d.quote = 0
				continue
			}
			switch {
			case c == '\'' || c == '"':
				d.quote, d.slash = c, false
			case c == '>':
				d.rpos += i + 1
				d.skipping = false
				if d.skipOpens && !d.slash {
					d.open(d.skipResp)
				}
				return nil
			case c == '/':
				d.slash = true
			case c > ' ':
				d.slash = false
			}
			i++
		}
		d.rpos = d.wpos
		if d.err != nil {
			d.skipping = false
			return d.endInside()
		}
		d.fill()
	}
}

// skipDeclaration skips the markup beginning "<!" at buf[rpos]: a comment,
// a CDATA section or a declaration such as DOCTYPE.
func (d *Decoder) skipDeclaration() error {
	d.need(9)
	switch b := d.buf[d.rpos:d.wpos]; {
	case bytes.HasPrefix(b, []byte("<!--")):
		d.rpos += 4
		return d.skipPast(endComment)
	case bytes.HasPrefix(b, []byte("<![CDATA[")):
		d.rpos += 9
		return d.skipPast(endCDATA)
	}
	d.rpos += 2
	d.startSkip(false, false)
	return d.skipTag()
}

// skipPast consumes input up to and including the next occurrence of term.
func (d *Decoder) skipPast(term []byte) error {
	for {
		if i := bytes.Index(d.buf[d.rpos:d.wpos], term); i >= 0 {
			d.rpos += i + len(term)
			return nil
		}
		if keep := len(term) - 1; d.wpos-d.rpos > keep {
			d.rpos = d.wpos - keep // a term cut by the buffer's end
		}
		if d.err != nil {
			d.rpos = d.wpos
			return d.endInside()
		}
		d.fill()
	}
}

// open records the start of an element that has content.
func (d *Decoder) open(response bool) {
	d.depth++
	if response {
		d.resp = d.depth
	}
}

// closeElement records an end tag.
func (d *Decoder) closeElement() {
	if d.depth > 0 {
		d.depth--
	}
	if d.depth < d.resp {
		d.resp = 0
	}
}

// end returns the error for the end of input between elements.
func (d *Decoder) end() error {
	if d.err != io.EOF {
		return d.err
	}
	if d.depth > 0 {
		d.depth, d.resp = 0, 0
		return io.ErrUnexpectedEOF
	}
	return io.EOF
}

// endInside returns the error for the end of input inside markup.
func (d *Decoder) endInside() error {
	if d.err != io.EOF {
		return d.err
	}
	d.depth, d.resp = 0, 0
	return io.ErrUnexpectedEOF
}

// need reads until n bytes are buffered after rpos or the input ends, and
// reports whether they are.
func (d *Decoder) need(n int) bool {
	for d.wpos-d.rpos < n {
		if d.err != nil {
			return false
		}
		d.fill()
	}
	return true
}

// fillMore reads until the unread input has doubled or the input ends, so
// that an element rescanned after each read costs linear time in all.
func (d *Decoder) fillMore() {
	want := 2*(d.wpos-d.rpos) + 1
	for d.err == nil && d.wpos-d.rpos < want {
		d.fill()
	}
}

// fill reads more input after buf[wpos]. When the buffer is full it first
// makes room (see [readbuf.Room]), counting the lines of the input it drops.
// It sets d.err on a read error or at the end of input.
func (d *Decoder) fill() {
	if d.buf == nil {
		d.buf = make([]byte, readbuf.Size(d.r, cmp.Or(d.initSize, initialBufSize), maxSizedBuf))
	} else if d.wpos == len(d.buf) {
		d.countLines(d.rpos)
		if nb := readbuf.Room(d.buf, d.rpos, d.frozen > 0); &nb[0] != &d.buf[0] {
			d.buf, d.frozen = nb, 0
		}
		d.base += int64(d.rpos)
		d.wpos -= d.rpos
		d.rpos, d.lpos = 0, 0
	}
	n, err := readbuf.Read(d.r, d.buf[d.wpos:])
	d.wpos += n
	if err != nil {
		d.err = err
	}
}

// countLines adds to d.lines the line feeds in buf[lpos:i], i >= lpos.
func (d *Decoder) countLines(i int) {
	d.lines += bytes.Count(d.buf[d.lpos:i], []byte{'\n'})
	d.lpos = i
}

// syntaxError returns the error for the markup at buf[i], i >= lpos.
func (d *Decoder) syntaxError(i int, err error) *SyntaxError {
	d.countLines(i)
	return &SyntaxError{Msg: err.Error(), Line: d.lines + 1, Offset: d.base + int64(i), Err: err}
}

// limitError reports that the name of the element at buf[i] broke a limit
// and makes the Decoder skip the rest of its start tag from buf[next].
func (d *Decoder) limitError(i, next int, limit error) error {
	err := d.syntaxError(i, limit)
	d.rpos = next
	d.startSkip(true, false)
	return err
}

// A position is where an element starts in the stream.
type position struct {
	offset int64
	line   int
}

// elementLimit reports that the element at at broke a limit and makes the
// Decoder skip the rest of its start tag from buf[next], which is outside
// any attribute value.
func (d *Decoder) elementLimit(at position, next int, limit error) error {
	err := &SyntaxError{Msg: limit.Error(), Line: at.line, Offset: at.offset, Err: limit}
	d.rpos = next
	d.startSkip(true, false)
	return err
}

// equalFoldBytes reports whether b equals the lower-case ASCII name s
// under ASCII case folding.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i]|0x20 != s[i] && b[i] != s[i] {
			return false
		}
	}
	return true
}
