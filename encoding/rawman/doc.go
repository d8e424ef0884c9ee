// Package rawman implements the canonical AMI message and its text
// encoding: the "Key: Value" lines that Asterisk's manager writes on its
// classic TCP port 5038 and in the bodies of the /rawman and /arawman HTTP
// endpoints. It knows nothing of HTTP; every other package of amihttp speaks
// in its [Message] type.
//
// # Messages
//
// A [Message] is an ordered list of [Field] values. Order and repeated keys
// are data (Variable, Output, ChanVariable repeat), so they are kept as on
// the wire. Keys are stored as sent and looked up case-insensitively, without
// allocating:
//
//	m.Get("actionid")            // first value, or ""
//	for v := range m.Values("Output") { … }
//	m.IsEvent(), m.Event()        // "Event:" present, its value
//	m.IsResponse(), m.Response()  // "Response:" and no "Event:"
//
// A message is an event if it has an Event field; some events carry a
// Response field too (OriginateResponse), so classify with IsEvent first.
//
// A message decoded from Asterisk's XML encoding (package encoding/mxml)
// has its keys as Asterisk's mxml rewrote them ("cause_txt" for
// "Cause-txt") and its Keys field set to [KeysXML]; its lookups rewrite
// the key asked for in the same way, so that m.Get("Cause-txt") answers
// alike whichever encoding the message came from.
//
// # Decoding
//
// [NewDecoder] reads a stream of messages in the shape of encoding/json:
// Decode returns [io.EOF] at a clean end, [io.ErrUnexpectedEOF] for a message
// cut short (with the fields read so far), and a [*SyntaxError] with line and
// byte offset when a [Limits] bound is broken; after a SyntaxError the
// Decoder skips to the next empty line and goes on. A read error ends the
// stream.
//
// The Decoder accepts CRLF and bare LF line endings, values containing ": ",
// empty values, NUL bytes and lone CRs (kept as data), lines without a colon
// (kept as a Field with an empty Key and the line as Value), blank lines
// between messages, and the greeting line of a TCP connection (see
// [Decoder.Banner]). The value is everything after the first colon, less
// one space; further leading spaces are kept, since rawman is the lossless
// encoding.
//
// Asterisk 13 and older answer the Command action with "Response: Follows",
// "Privilege: Command", an optional ActionID, then the raw CLI output ended
// by "--END COMMAND--". The Decoder turns each raw line into an "Output"
// field, so that Command output reaches callers of every version the same
// way, as m.Values("Output"), as Asterisk 14 and later send it.
//
// Decoding copies nothing: keys and values are strings over the memory the
// Decoder read the input into, which is never written again once shared.
// They stay valid after later Decode calls, and a message kept keeps the
// buffered input around it (typically its whole HTTP body, at least 4 KiB)
// alive. A body thus costs about one allocation, and Decode into the same
// Message reuses its Fields without allocating per field.
//
// # Encoding
//
// [NewEncoder] and [Append] write messages byte-identical to Asterisk's
// framing (CRLF after each line and an empty line after each message; the
// Asterisk 13 form for a "Response: Follows" message). A key or value
// holding CR or LF is refused with a [*FieldError], so that no value can
// inject lines into a message.
//
// # JSON
//
// A *Message is a json.Marshaler and json.Unmarshaler: one object, each
// key once in the order of its first field, its value a string or, for a
// key that repeats, an array of its values. That is the form for logs,
// event buses and browsers; [Message.AppendJSON] writes it without
// allocating.
//
// # Struct mapping
//
// [Unmarshal] and [Marshal] map messages to structs with `ami:"Name"` tags;
// see their documentation for the supported types. They work on Messages,
// not bytes, so they serve messages decoded from every encoding alike.
//
// The behaviour of Asterisk that this package follows is described in the
// project's http-ami-spec (sections 4.2 and 8) and checked against the
// recordings of a real Asterisk 23 under testdata/asterisk-23.
package rawman
