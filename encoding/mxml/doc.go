// Package mxml decodes and encodes the XML that Asterisk's manager writes
// in the bodies of its /mxml and /amxml HTTP endpoints, into and from the
// same [rawman.Message] values as package encoding/rawman, so that the rest
// of amihttp never cares which encoding a message came in. It knows nothing
// of HTTP.
//
// # The format
//
// A body is an <ajax-response> element holding, for each AMI message, a
// <response type='object' id='unknown'> element whose only child (named
// generic unless the request set ajaxobjtype) carries the message's header
// lines as attributes in wire order:
//
//	<ajax-response>
//	<response type='object' id='unknown'><generic response='Success' actionid='a1' ping='Pong' /></response>
//	</ajax-response>
//
// Asterisk writes it line by line from the manager's text output, and the
// result is not always well-formed XML: values escape only < > " ' & and
// carry control bytes and invalid UTF-8 as they are, and names that differ
// only in case or punctuation become duplicate attributes. Go's
// encoding/xml rejects such a body as a whole; the [Decoder] here reads it
// without loss and many times faster, and its [Encoder] writes exactly the
// bytes Asterisk 23 writes.
//
// # Decoding
//
// [NewDecoder] reads a body with the contract of the rawman Decoder:
// Decode returns [io.EOF] at a clean end (an empty body is one),
// [io.ErrUnexpectedEOF] for a body cut short inside an element or before
// </ajax-response>, and a [*SyntaxError] (the rawman type, so one errors.As
// serves both) with the element's offset when a [Limits] bound is broken,
// after which it goes on with the next element. Input that is not an
// <ajax-response> document, such as an HTML error page, gives a SyntaxError
// wrapping [ErrNotMXML]. Decoded strings share the buffer the body was read
// into, as in rawman: about one allocation a body.
//
// # Keys
//
// Asterisk rewrites every header name: ASCII letters lowered, every other
// byte outside [A-Za-z0-9] turned into '_', and (since 16.25, 18.11, 19.3,
// 20.0) a '_' put before a leading digit; the second and later occurrences
// of a name in one message get "-2", "-3" ... appended. The Decoder keeps
// the rewritten names as keys, strips the suffixes (a repeated header comes
// back as repeated keys, in order), and marks the message with
// m.Keys = [rawman.KeysXML]. The lookups of such a message rewrite the key
// asked for in the same way before comparing, so
//
//	m.Get("ActionID"), m.Get("Cause-txt"), m.Values("Output")
//
// answer the same for a message decoded from mxml as from rawman. Keys are
// not mapped back to canonical spellings: no table could cover the headers
// of UserEvents and channel variables.
//
// # What mxml loses
//
// rawman is the lossless encoding; prefer it. What Asterisk's mxml
// destroys cannot be recovered by any decoder:
//
//   - Header names that differ only in case or punctuation ("Foo-Bar",
//     "Foo_Bar", "foo.bar") collide: all are the key foo_bar, in wire order,
//     and Get returns the first. An Encoder that re-encodes such a message
//     counts them as one name and writes foo_bar, foo_bar-2, foo_bar-3
//     where Asterisk wrote foo_bar three times: the one case where decoding
//     and encoding a body does not give back its bytes.
//   - Blanks and control bytes at either end of a value are gone.
//   - A line without a colon starts an opaque_data attribute that swallows
//     every later line of its message. The Decoder gives each of those
//     lines as a field with an empty key, as rawman gives a line without a
//     colon; lines after the first are not split into fields again.
//   - Asterisk 13 answers Command with "Response: Follows" and the raw CLI
//     output, which its mxml mangles: output lines with a colon became
//     attributes, the rest went into opaque_data, and blank lines vanished.
//     The Decoder turns all of it into "output" fields, as the rawman
//     Decoder does, but a line with a colon comes back as "name: value"
//     with the name rewritten.
//
// # Not covered
//
// The HTML of the /manager and /amanager endpoints is meant for people and
// is not decoded; use rawman, or mxml where only XML passes.
//
// The behaviour this package follows is described in the project's
// http-ami-spec (section 4.3) and checked against the recordings of a real
// Asterisk 23 under testdata/asterisk-23.
package mxml
