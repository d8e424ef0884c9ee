package httpami

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for the cases callers branch on. They are matched with
// errors.Is against the typed errors the Client returns.
var (
	// ErrAuthentication: the credentials were refused, by a failed Login
	// ("Authentication failed", "Login Already In Use") or a digest 401.
	ErrAuthentication = errors.New("httpami: authentication failed")

	// ErrPermission: Asterisk refused an action the session's user may
	// not run ("Permission denied" on a live session, or HTTP 403).
	ErrPermission = errors.New("httpami: permission denied")

	// ErrSessionLost: the session was lost (expired, purged, Asterisk
	// restarted) and could not be healed by logging in again.
	ErrSessionLost = errors.New("httpami: session lost")

	// ErrUnknownAction: Asterisk does not know the action (no module
	// provides it).
	ErrUnknownAction = errors.New("httpami: unknown action")

	// ErrOutcomeUnknown: the request of an action with effects may have
	// reached Asterisk, but no answer came back (a cut connection, a
	// proxy's 5xx). The action may or may not have run, and the Client
	// did not send it again.
	ErrOutcomeUnknown = errors.New("httpami: outcome unknown")

	// ErrProtocol: the answer was not what Asterisk sends: a body that
	// does not decode, no Response message, another ActionID, a list
	// whose count does not match.
	ErrProtocol = errors.New("httpami: protocol error")

	// ErrEmptyBody: HTTP 200 with no message at all. Asterisk answers
	// so a WaitEvent that a newer WaitEvent of the same session replaced.
	ErrEmptyBody = errors.New("httpami: empty answer")

	// ErrResponseTooLarge: the body was larger than
	// Config.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("httpami: response too large")

	// ErrInvalidAction: the action was refused before sending: an empty
	// name, CR or LF in a key or value, more than Asterisk takes (128
	// parameters, a 40960-byte body, a 4095-byte GET request line), or
	// a failed check against the catalog of package actions.
	ErrInvalidAction = errors.New("httpami: invalid action")

	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("httpami: client closed")
)

// An ActionError is Asterisk's "Response: Error" to an action.
// It matches ErrPermission, ErrUnknownAction and ErrAuthentication
// through errors.Is when Asterisk's message says so.
type ActionError struct {
	Action   string    // the action's name
	ActionID string    // the ActionID it was sent with
	Message  string    // Asterisk's Message field, verbatim
	Response *Response // the whole answer
}

// Error returns "httpami: Action (ActionID id): message".
func (e *ActionError) Error() string {
	return fmt.Sprintf("httpami: %s (ActionID %s): %s", e.Action, e.ActionID, e.Message)
}

// Is reports whether the message is one the sentinels stand for.
func (e *ActionError) Is(target error) bool {
	switch target {
	case ErrPermission:
		return e.Message == msgPermissionDenied
	case ErrUnknownAction:
		return strings.HasPrefix(e.Message, "Invalid/unknown command")
	case ErrAuthentication:
		return e.Message == "Authentication failed" || e.Message == "Login Already In Use"
	}
	return false
}

const msgPermissionDenied = "Permission denied"

// An HTTPError is an answer whose HTTP status is not 200 OK. Asterisk
// answers every AMI-level failure with 200, so these come from the HTTP
// layer: 401 (digest credentials refused), 403 (ACL), 404 (wrong prefix,
// or webenabled off), 413 (body too large), 5xx (failure, shutdown, or a
// proxy).
type HTTPError struct {
	Action     string
	ActionID   string
	StatusCode int
	Status     string // the status line's text, "503 Service Unavailable"
	// MaybeRun is set for a 5xx to an action with effects: a proxy may
	// have passed it on, so it may have run.
	MaybeRun bool
}

// Error returns "httpami: Action (ActionID id): HTTP status".
func (e *HTTPError) Error() string {
	return fmt.Sprintf("httpami: %s (ActionID %s): HTTP %s", e.Action, e.ActionID, e.Status)
}

// Is maps 401 to ErrAuthentication, 403 to ErrPermission and a 5xx to
// an action with effects to ErrOutcomeUnknown.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrAuthentication:
		return e.StatusCode == 401
	case ErrPermission:
		return e.StatusCode == 403
	case ErrOutcomeUnknown:
		return e.MaybeRun
	}
	return false
}

// A ProtocolError reports an answer that does not follow AMI: it
// matches ErrProtocol, and ErrEmptyBody or ErrResponseTooLarge when
// that is the reason. Err is the decoder's error, if any (a
// *rawman.SyntaxError for a malformed body).
type ProtocolError struct {
	Action   string
	ActionID string
	Reason   string
	Err      error
	// MaybeRun is set for an action with effects whose answer could not
	// be read: it ran or not. The error then matches ErrOutcomeUnknown.
	MaybeRun bool
	kind     error // ErrEmptyBody, ErrResponseTooLarge or nil
}

// Error returns "httpami: Action (ActionID id): reason: err".
func (e *ProtocolError) Error() string {
	s := fmt.Sprintf("httpami: %s (ActionID %s): %s", e.Action, e.ActionID, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the decoder's error.
func (e *ProtocolError) Unwrap() error { return e.Err }

// Is matches ErrProtocol, ErrEmptyBody or ErrResponseTooLarge when
// that is the reason, and ErrOutcomeUnknown when MaybeRun is set.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrProtocol || (e.kind != nil && target == e.kind) || (target == ErrOutcomeUnknown && e.MaybeRun)
}

// A TransportError is a failure to exchange the request and its answer:
// no connection, a connection cut, a timeout, a cancelled context. Err
// is the cause without the request's URL (a GET's query may hold
// values the caller wants kept out of logs); errors.Is finds
// context.Canceled and context.DeadlineExceeded through it.
type TransportError struct {
	Action   string
	ActionID string
	Err      error
	// MaybeRun is set when the request may have reached Asterisk
	// before the failure, for an action with effects: the action may
	// have run, and it was not sent again. The error then matches
	// ErrOutcomeUnknown.
	MaybeRun bool
}

// Error returns "httpami: Action (ActionID id): cause", saying when the
// outcome is unknown.
func (e *TransportError) Error() string {
	s := fmt.Sprintf("httpami: %s (ActionID %s): ", e.Action, e.ActionID)
	if e.MaybeRun {
		s += "outcome unknown: "
	}
	return s + e.Err.Error()
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Is matches ErrOutcomeUnknown when MaybeRun is set.
func (e *TransportError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.MaybeRun
}

// An InvalidActionError reports an action refused before sending. It
// matches ErrInvalidAction. Key names the parameter at fault, if one is.
// Err, when set, is the cause: a *actions.ValidationError for an action
// that fails the catalog's check (see Config.Validate).
type InvalidActionError struct {
	Action string
	Key    string
	Reason string
	Err    error
}

// Error returns "httpami: invalid action Action: reason".
func (e *InvalidActionError) Error() string {
	s := "httpami: invalid action " + e.Action
	if e.Key != "" {
		s += ", parameter " + e.Key
	}
	return s + ": " + e.Reason
}

// Is matches ErrInvalidAction.
func (e *InvalidActionError) Is(target error) bool { return target == ErrInvalidAction }

// Unwrap returns Err.
func (e *InvalidActionError) Unwrap() error { return e.Err }
