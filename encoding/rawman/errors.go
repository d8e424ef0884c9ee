package rawman

import (
	"errors"
	"fmt"
)

// Errors wrapped by a [*SyntaxError] when input breaks one of the [Limits].
var (
	// ErrLineTooLong means a line was longer than Limits.MaxLineBytes.
	ErrLineTooLong = errors.New("rawman: line too long")
	// ErrTooManyFields means a message had more than Limits.MaxFields fields.
	ErrTooManyFields = errors.New("rawman: too many fields in message")
	// ErrMessageTooLarge means a message was longer than Limits.MaxMessageBytes.
	ErrMessageTooLarge = errors.New("rawman: message too large")
)

// A SyntaxError describes input that a Decoder cannot turn into a message.
// Line counts from 1 over the whole stream and Offset is the byte offset of
// the start of the offending line. Err, when set, is the sentinel error
// that tells the case apart (for the rawman Decoder, one of [ErrLineTooLong],
// [ErrTooManyFields] and [ErrMessageTooLarge]), so errors.Is works on it.
type SyntaxError struct {
	Msg    string // description of the problem
	Line   int    // 1-based line number of the problem
	Offset int64  // byte offset in the stream of the offending line
	Err    error  // underlying sentinel, or nil
}

// Error returns the description with its position.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s (line %d, offset %d)", e.Msg, e.Line, e.Offset)
}

// Unwrap returns Err.
func (e *SyntaxError) Unwrap() error { return e.Err }

// ErrInvalidField is wrapped by the [*FieldError] an [Encoder] returns for a
// field it cannot write without changing the message's meaning.
var ErrInvalidField = errors.New("rawman: invalid field")

// A FieldError reports a field that cannot be written in wire form: a key or
// value holding CR or LF (which would inject lines into the message), a key
// holding a colon, or an empty key whose value would not read back as the
// same field. Index is the field's position in the message.
type FieldError struct {
	Index  int
	Key    string
	Reason string
}

// Error describes the field; the key is quoted and cut to 80 bytes, the
// value is never shown since it may hold a secret.
func (e *FieldError) Error() string {
	return fmt.Sprintf("rawman: cannot encode field %d (key %q): %s", e.Index, clip(e.Key), e.Reason)
}

// Unwrap returns [ErrInvalidField].
func (e *FieldError) Unwrap() error { return ErrInvalidField }

// clip cuts s to at most 80 bytes for use in an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
