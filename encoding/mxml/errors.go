package mxml

import (
	"errors"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// A SyntaxError describes input that a [Decoder] cannot turn into a
// message: a broken limit, or a body that is not an ajax-response document.
// It is the type of encoding/rawman, so that one errors.As serves both
// encodings. Offset is the stream offset of the offending element, Line
// the 1-based line it starts on, and Err one of this package's sentinel
// errors.
type SyntaxError = rawman.SyntaxError

// Errors wrapped by a [*SyntaxError].
var (
	// ErrTooManyFields means an element had more than Limits.MaxFields
	// attributes.
	ErrTooManyFields = errors.New("mxml: too many attributes in element")
	// ErrMessageTooLarge means an element was longer than
	// Limits.MaxMessageBytes.
	ErrMessageTooLarge = errors.New("mxml: element too large")
	// ErrNotMXML means the input's first element is not <ajax-response>:
	// it is not an answer of Asterisk's mxml endpoints (an HTML error
	// page, or a rawman body, say).
	ErrNotMXML = errors.New("mxml: not an <ajax-response> document")
)
