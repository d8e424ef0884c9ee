package httpami

import (
	"strconv"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/ascii"
)

// An Action is one AMI action to send.
type Action struct {
	// Name is the action's name, such as "Ping" or "Originate".
	Name string
	// Params are the action's parameters in order; a key may repeat
	// (Variable). An "ActionID" among them is used as the ActionID;
	// otherwise the Client makes a unique one. An "Action" key is
	// refused: Name says it.
	Params []rawman.Field
	// Idempotent marks an action that is safe to send again when the
	// Client cannot know whether it reached Asterisk. Actions of the
	// read-only table (see ReadOnly) are, whatever this says.
	Idempotent bool
}

// NewAction returns the action name with parameters given as key, value
// pairs; a key without its value gets an empty one.
func NewAction(name string, keyvals ...string) Action {
	a := Action{Name: name, Params: make([]rawman.Field, 0, (len(keyvals)+1)/2)}
	for i := 0; i < len(keyvals); i += 2 {
		f := rawman.Field{Key: keyvals[i]}
		if i+1 < len(keyvals) {
			f.Value = keyvals[i+1]
		}
		a.Params = append(a.Params, f)
	}
	return a
}

// readOnly lists the actions that only read state, lower-cased: the
// Client retries them after a connection error or a 5xx. The rest,
// unknown actions included, are retried only when the request provably
// never left (the connection was refused).
var readOnly = map[string]bool{}

func init() {
	for _, name := range strings.Fields(readOnlyActions) {
		readOnly[strings.ToLower(name)] = true
	}
}

// readOnlyActions is the table of ReadOnly, kept in the package
// documentation too.
const readOnlyActions = `
Agents BridgeInfo BridgeList BridgeTechnologyList Challenge
ConfbridgeList ConfbridgeListRooms CoreSettings CoreShowChannelMap
CoreShowChannels CoreStatus DBGet DBGetTree DeviceStateList
ExtensionState ExtensionStateList FAXSession FAXSessions FAXStats
GetConfig GetConfigJSON Getvar IAXpeerlist IAXpeers IAXregistry
ListCategories ListCommands MailboxCount MailboxStatus MeetmeList
MeetmeListRooms ModuleCheck ParkedCalls Parkinglots Ping
PJSIPShowAors PJSIPShowAuths PJSIPShowContacts PJSIPShowEndpoint
PJSIPShowEndpoints PJSIPShowRegistrationInboundContactStatuses
PJSIPShowRegistrationsInbound PJSIPShowRegistrationsOutbound
PJSIPShowResourceLists PJSIPShowSubscriptionsInbound
PJSIPShowSubscriptionsOutbound PresenceState PresenceStateList
QueueRule QueueStatus QueueSummary Queues SIPpeers SIPpeerstatus
SIPqualifypeer SIPshowpeer SIPshowregistry ShowDialPlan Status
VoicemailUserStatus VoicemailUsersList`

// ReadOnly reports whether the Client treats the action as read-only,
// safe to send again after a failure whose outcome is unknown.
// WaitEvent is not: an answer lost on the way has moved the session's
// event cursor, and sending it again would hide that events were lost.
func ReadOnly(action string) bool {
	ro, _ := ascii.Index(readOnly, action)
	return ro
}

// request is an action encoded for the wire.
type request struct {
	name     string
	actionID string
	form     []byte // url-encoded parameters, Action and ActionID included
	safe     bool
}

// encode validates a and encodes it with its ActionID (the caller's, or
// id() when it has none) within Asterisk's limits: maxBody for a POST
// body, or a GET request line of lineOverhead bytes besides the query.
func encode(a *Action, id func() string, maxBody int, lineOverhead int) (*request, error) {
	r := new(request)
	return r, r.encode(a, id, maxBody, lineOverhead)
}

// encode is the function encode into r.
func (r *request) encode(a *Action, id func() string, maxBody int, lineOverhead int) error {
	if a.Name == "" {
		return &InvalidActionError{Action: `""`, Reason: "no name"}
	}
	if bad(a.Name) {
		return &InvalidActionError{Action: strconv.Quote(a.Name), Reason: "CR or LF in the name"}
	}
	*r = request{name: a.Name, safe: a.Idempotent || ReadOnly(a.Name)}
	n, hasID := 1, false
	for _, f := range a.Params {
		switch {
		case f.Key == "":
			return &InvalidActionError{Action: a.Name, Reason: "parameter without a name"}
		case bad(f.Key):
			return &InvalidActionError{Action: a.Name, Key: strconv.Quote(f.Key), Reason: "CR or LF in the name"}
		case bad(f.Value):
			return &InvalidActionError{Action: a.Name, Key: f.Key, Reason: "CR or LF in the value"}
		case strings.EqualFold(f.Key, "Action"):
			return &InvalidActionError{Action: a.Name, Key: f.Key, Reason: "Action is set by Name"}
		case strings.EqualFold(f.Key, "ActionID"):
			if !hasID {
				r.actionID, hasID = f.Value, true
			}
		}
		n++
	}
	if !hasID {
		r.actionID = id()
		n++
	}
	if n > MaxParams {
		return &InvalidActionError{Action: a.Name, Reason: "more than 128 parameters (Asterisk drops the rest)"}
	}
	b := make([]byte, 0, 64+len(a.Name)+len(r.actionID)+16*len(a.Params))
	b = append(b, "Action="...)
	b = appendEscaped(b, a.Name)
	if !hasID {
		b = append(b, "&ActionID="...)
		b = appendEscaped(b, r.actionID)
	}
	for _, f := range a.Params {
		b = append(b, '&')
		b = appendEscaped(b, f.Key)
		b = append(b, '=')
		b = appendEscaped(b, f.Value)
	}
	switch {
	case lineOverhead > 0 && len(b)+lineOverhead > MaxRequestLine:
		return &InvalidActionError{Action: a.Name, Reason: "GET request line longer than Asterisk's 4095 bytes"}
	case lineOverhead == 0 && len(b) > maxBody:
		return &InvalidActionError{Action: a.Name, Reason: "body of " + strconv.Itoa(len(b)) + " bytes, over the server's " + strconv.Itoa(maxBody)}
	}
	r.form = b
	return nil
}

func bad(s string) bool { return strings.ContainsAny(s, "\r\n") }

// appendEscaped appends s as url.QueryEscape writes it (space as '+').
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
