package httpami

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// The typed helpers below are short forms of Do for the common actions:
// each builds its Action from a struct with `ami` tags (rawman.Marshal)
// and reads Asterisk's answer into Go types (rawman.Unmarshal), from
// either encoding. Actions with effects are never marked Idempotent, so
// the retry policy of the package documentation applies to them.

// structAction turns v, a struct with `ami` tags, into the action name:
// its fields, in struct order, become the parameters.
func structAction(name string, v any, idempotent bool) (Action, error) {
	msg, err := rawman.Marshal(v)
	if err != nil {
		return Action{}, &InvalidActionError{Action: name, Reason: err.Error()}
	}
	return Action{Name: name, Params: msg.Fields, Idempotent: idempotent}, nil
}

// doStruct sends the action name built from v.
func (c *Client) doStruct(ctx context.Context, name string, v any, idempotent bool) (*Response, error) {
	a, err := structAction(name, v, idempotent)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, a)
}

// unmarshalAnswer fills v from resp's answer. A value that does not fit
// its field is a *ProtocolError (matching ErrProtocol) wrapping the
// *rawman.UnmarshalTypeError; the other fields are filled all the same.
func unmarshalAnswer(resp *Response, v any) error {
	if err := rawman.Unmarshal(resp.Answer, v); err != nil {
		return &ProtocolError{Action: resp.Action, ActionID: resp.ActionID, Reason: "unreadable answer", Err: err}
	}
	return nil
}

// Originate holds the parameters of the Originate action, which calls
// Channel and, once it answers, connects it to an extension of the
// dialplan (Context, Exten, Priority) or to an application (Application,
// Data). Channel is required, and so is one of the two destinations.
// Zero fields are not sent: Asterisk's defaults apply.
type Originate struct {
	// Channel is the channel to call, as "Tech/data": "PJSIP/100",
	// "Local/100@default". Required.
	Channel string `ami:"Channel,omitempty"`
	// Exten, Context and Priority are the dialplan destination. Priority
	// is a number ("1") or a label.
	Exten    string `ami:"Exten,omitempty"`
	Context  string `ami:"Context,omitempty"`
	Priority string `ami:"Priority,omitempty"`
	// Application and Data are the application to run in place of a
	// dialplan destination, and its argument.
	Application string `ami:"Application,omitempty"`
	Data        string `ami:"Data,omitempty"`
	// Timeout is how long Channel may ring before the call fails, sent
	// in whole milliseconds; zero means Asterisk's 30 s. A synchronous
	// Originate (Async false) holds its HTTP request until the call is
	// answered or fails, so ctx must allow that long.
	Timeout time.Duration `ami:"Timeout,omitempty,unit=ms"`
	// CallerID is the caller ID of the call, as "Name <number>".
	CallerID string `ami:"CallerID,omitempty"`
	// Variable holds channel variables to set on the new channel, sent
	// as one "Variable: name=value" parameter each, sorted by name.
	// Commas, double quotes and backslashes are escaped with a
	// backslash, since Asterisk splits a Variable parameter at commas
	// and removes quotes: the channel gets the values as given. A name
	// cannot contain '='.
	Variable map[string]string `ami:"Variable"`
	// Account is the CDR account code of the call.
	Account string `ami:"Account,omitempty"`
	// EarlyMedia connects the destination as soon as Channel sends
	// early media (progress), before it answers.
	EarlyMedia bool `ami:"EarlyMedia,omitempty"`
	// Async makes Asterisk answer at once ("Originate successfully
	// queued") and report the outcome later in an OriginateResponse
	// event (class call) that carries this action's ActionID, which
	// only a WaitEvent sees. Without it, Asterisk answers once the call
	// is answered or has failed ("Originate failed").
	Async bool `ami:"Async,omitempty"`
	// Codecs is a comma-separated list of the codecs to offer, such as
	// "ulaw,alaw".
	Codecs string `ami:"Codecs,omitempty"`
	// ChannelID and OtherChannelID set the Uniqueid of the new channel
	// and of the second channel of a Local pair.
	ChannelID      string `ami:"ChannelId,omitempty"`
	OtherChannelID string `ami:"OtherChannelId,omitempty"`
	// ActionID is the action's ActionID; empty means one the Client
	// makes up. An Async Originate's OriginateResponse carries it.
	ActionID string `ami:"ActionID,omitempty"`
}

// Originate sends the Originate action o; see the type Originate. An
// answer "Response: Error" ("Originate failed", "Channel not
// specified") comes with an *ActionError. Originate has effects: it is
// never sent twice when its outcome is unknown (see ErrOutcomeUnknown).
func (c *Client) Originate(ctx context.Context, o Originate) (*Response, error) {
	if len(o.Variable) > 0 {
		vars := make(map[string]string, len(o.Variable))
		for k, v := range o.Variable {
			vars[escapeArg(k)] = escapeArg(v)
		}
		o.Variable = vars
	}
	return c.doStruct(ctx, "Originate", &o, false)
}

// argEscaper escapes what Asterisk's argument splitter takes as syntax.
var argEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`, `"`, `\"`)

// escapeArg escapes s so that Asterisk's argument splitter
// (AST_STANDARD_APP_ARGS, which Originate applies to each Variable
// parameter) gives s back: a comma would split it, a double quote
// would vanish, and a backslash escapes the next byte.
func escapeArg(s string) string {
	if !strings.ContainsAny(s, `\,"`) {
		return s
	}
	return argEscaper.Replace(s)
}

// Redirect holds the parameters of the Redirect action, which sends
// Channel (and ExtraChannel, if set) to another place of the dialplan.
// Channel, Context, Exten and Priority are required; the Extra fields
// apply to ExtraChannel and default to the others.
type Redirect struct {
	Channel       string `ami:"Channel,omitempty"`
	ExtraChannel  string `ami:"ExtraChannel,omitempty"`
	Exten         string `ami:"Exten,omitempty"`
	ExtraExten    string `ami:"ExtraExten,omitempty"`
	Context       string `ami:"Context,omitempty"`
	ExtraContext  string `ami:"ExtraContext,omitempty"`
	Priority      string `ami:"Priority,omitempty"` // a number ("1") or a label
	ExtraPriority string `ami:"ExtraPriority,omitempty"`
	ActionID      string `ami:"ActionID,omitempty"` // empty: the Client makes one
}

// Redirect sends the Redirect action r. Asterisk answers "Redirect
// successful" or "Dual Redirect successful"; an unknown channel is an
// *ActionError ("Channel does not exist: …"). Redirect has effects.
func (c *Client) Redirect(ctx context.Context, r Redirect) (*Response, error) {
	return c.doStruct(ctx, "Redirect", &r, false)
}

// Hangup holds the parameters of the Hangup action.
type Hangup struct {
	// Channel is the channel's name, or a POSIX extended regular
	// expression between slashes ("/^PJSIP\/100-/") that hangs up every
	// channel whose name matches it. Required.
	Channel string `ami:"Channel,omitempty"`
	// Cause is the Q.850 hangup cause (16 is normal clearing); zero
	// sends none, and Asterisk uses its default.
	Cause int `ami:"Cause,omitempty"`
	// ActionID is the action's ActionID; empty means one the Client
	// makes up.
	ActionID string `ami:"ActionID,omitempty"`
}

// Hangup sends the Hangup action h. A channel named exactly is answered
// "Channel Hungup", or an *ActionError ("No such channel"); a regular
// expression is answered with an event list whose items, in
// Response.Events, are ChannelHungup events naming each channel hung
// up. Hangup has effects.
func (c *Client) Hangup(ctx context.Context, h Hangup) (*Response, error) {
	return c.doStruct(ctx, "Hangup", &h, false)
}

// endCommand is what ends the output of Command in Asterisk 13.
const endCommand = "--END COMMAND--"

// Command runs the Asterisk CLI command (such as "core show channels")
// with the Command action and returns its output, one string per line.
// Asterisk 14 and later send each line as an Output field; Asterisk 13
// sends the raw output after "Response: Follows", which the decoders
// turn into the same Output fields, so the lines read the same from
// every version. An output that is one empty line (Asterisk 14 and
// later send an empty Output field for no output) gives no lines.
//
// A command Asterisk does not know is answered "Response: Error" by
// Asterisk 14 and later: Command then returns the output (Asterisk's
// explanation) with an *ActionError. Asterisk 13 answers every command
// "Follows", with no error. Blacklisted commands ("module load", …) are
// an *ActionError on every version.
//
// The mxml encoding loses blanks at both ends of each line, and in
// Asterisk 13's answer it rewrites the part before the first colon of
// a line as it rewrites header names ("Global settings:" comes back
// "global_settings:"); prefer rawman for Command. Command has effects:
// it is never sent twice when its outcome is unknown.
func (c *Client) Command(ctx context.Context, command string) ([]string, *Response, error) {
	resp, err := c.Do(ctx, Action{Name: "Command", Params: []rawman.Field{{Key: "Command", Value: command}}})
	if resp == nil {
		return nil, nil, err
	}
	var lines []string
	for line := range resp.Answer.Values("Output") {
		lines = append(lines, line)
	}
	if n := len(lines); n > 0 {
		if v, ok := strings.CutSuffix(lines[n-1], endCommand); ok {
			if v == "" {
				lines = lines[:n-1]
			} else {
				lines[n-1] = v
			}
		}
	}
	if len(lines) == 1 && lines[0] == "" {
		lines = nil
	}
	return lines, resp, err
}

// getvar and setvar are the parameters of Getvar and Setvar.
type getvar struct {
	Channel  string `ami:"Channel,omitempty"`
	Variable string `ami:"Variable"`
}

type setvar struct {
	Channel  string `ami:"Channel,omitempty"`
	Variable string `ami:"Variable"`
	Value    string `ami:"Value"`
}

// Getvar returns the value of a variable with the Getvar action: a
// global variable when channel is "", else one of that channel. The
// name may be a dialplan function call such as "GLOBAL(name)" or
// "CHANNEL(language)". A variable that is not set reads as "", with no
// error. An unknown channel is an *ActionError ("No such channel").
func (c *Client) Getvar(ctx context.Context, channel, variable string) (string, error) {
	resp, err := c.doStruct(ctx, "Getvar", &getvar{Channel: channel, Variable: variable}, false)
	if err != nil {
		return "", err
	}
	return resp.Get("Value"), nil
}

// Setvar sets a variable to value with the Setvar action: a global
// variable when channel is "", else one of that channel (the name may be
// a writable dialplan function). Asterisk answers "Variable Set"; an
// unknown channel is an *ActionError. Setvar has effects.
func (c *Client) Setvar(ctx context.Context, channel, variable, value string) (*Response, error) {
	return c.doStruct(ctx, "Setvar", &setvar{Channel: channel, Variable: variable, Value: value}, false)
}

// UserEvent publishes a UserEvent event named name with the UserEvent
// action: Asterisk sends every session that may read class user an
// event "Event: UserEvent", "UserEvent: name", then the headers in
// order (a key may repeat). A header named ActionID is taken as the
// action's ActionID; one named Action is refused. UserEvent has
// effects.
func (c *Client) UserEvent(ctx context.Context, name string, headers ...rawman.Field) (*Response, error) {
	params := make([]rawman.Field, 0, 1+len(headers))
	params = append(params, rawman.Field{Key: "UserEvent", Value: name})
	params = append(params, headers...)
	return c.Do(ctx, Action{Name: "UserEvent", Params: params})
}

// CoreSettings is Asterisk's answer to the CoreSettings action: its
// version and main settings.
type CoreSettings struct {
	AMIVersion            string  `ami:"AMIversion"`      // "12.0.0" since Asterisk 12
	AsteriskVersion       string  `ami:"AsteriskVersion"` // "23.4.1"
	SystemName            string  `ami:"SystemName"`      // asterisk.conf systemname
	CoreMaxCalls          int     `ami:"CoreMaxCalls"`    // 0: no limit
	CoreMaxLoadAvg        float64 `ami:"CoreMaxLoadAvg"`  // 0: no limit
	CoreRunUser           string  `ami:"CoreRunUser"`
	CoreRunGroup          string  `ami:"CoreRunGroup"`
	CoreMaxFilehandles    int     `ami:"CoreMaxFilehandles"`
	CoreRealTimeEnabled   bool    `ami:"CoreRealTimeEnabled"`
	CoreCDREnabled        bool    `ami:"CoreCDRenabled"`
	CoreHTTPEnabled       bool    `ami:"CoreHTTPenabled"`
	SoundsSearchCustomDir bool    `ami:"SoundsSearchCustomDir"` // not sent by Asterisk 13
}

// CoreSettings returns Asterisk's version and settings with the
// CoreSettings action. A value that does not fit its field gives a
// *ProtocolError, with the other fields filled.
func (c *Client) CoreSettings(ctx context.Context) (*CoreSettings, error) {
	resp, err := c.Do(ctx, Action{Name: "CoreSettings"})
	if err != nil {
		return nil, err
	}
	var s CoreSettings
	return &s, unmarshalAnswer(resp, &s)
}

// CoreStatus is Asterisk's answer to the CoreStatus action. Dates and
// times are in the server's local time zone, as "2006-01-02" and
// "15:04:05".
type CoreStatus struct {
	CoreStartupDate    string `ami:"CoreStartupDate"`
	CoreStartupTime    string `ami:"CoreStartupTime"`
	CoreReloadDate     string `ami:"CoreReloadDate"`
	CoreReloadTime     string `ami:"CoreReloadTime"`
	CoreCurrentCalls   int    `ami:"CoreCurrentCalls"`   // calls up now
	CoreProcessedCalls int    `ami:"CoreProcessedCalls"` // calls since startup
}

// CoreStatus returns Asterisk's startup time and call counts with the
// CoreStatus action. A value that does not fit its field gives a
// *ProtocolError, with the other fields filled.
func (c *Client) CoreStatus(ctx context.Context) (*CoreStatus, error) {
	resp, err := c.Do(ctx, Action{Name: "CoreStatus"})
	if err != nil {
		return nil, err
	}
	var s CoreStatus
	return &s, unmarshalAnswer(resp, &s)
}

// A Channel is one channel as the Status and CoreShowChannels actions
// list it: the fields their item events (Status, CoreShowChannel) have
// in common, and a few of Status only. Asterisk writes "<unknown>" for
// unknown caller IDs.
type Channel struct {
	Channel           string `ami:"Channel"`          // its name, "PJSIP/100-00000001"
	ChannelState      int    `ami:"ChannelState"`     // 6 is up
	ChannelStateDesc  string `ami:"ChannelStateDesc"` // "Up", "Ring", "Down", …
	CallerIDNum       string `ami:"CallerIDNum"`
	CallerIDName      string `ami:"CallerIDName"`
	ConnectedLineNum  string `ami:"ConnectedLineNum"`
	ConnectedLineName string `ami:"ConnectedLineName"`
	Language          string `ami:"Language"`
	AccountCode       string `ami:"AccountCode"`
	// Context, Exten and Priority are where it is in the dialplan.
	Context  string `ami:"Context"`
	Exten    string `ami:"Exten"`
	Priority int    `ami:"Priority"`
	UniqueID string `ami:"Uniqueid"` // "1796035311.2"
	LinkedID string `ami:"Linkedid"` // the UniqueID of the call's first channel
	// Application and ApplicationData are the application it runs and
	// its argument (Status names the argument Data).
	Application     string `ami:"Application"`
	ApplicationData string `ami:"ApplicationData"`
	// Duration is how long the channel has existed, in whole seconds
	// (CoreShowChannel's Duration, as HH:MM:SS, or Status's Seconds).
	Duration time.Duration `ami:"Duration,unit=s"`
	BridgeID string        `ami:"BridgeId"` // "" when not bridged

	// Type is the channel technology ("PJSIP", "Local"). Status only.
	Type string `ami:"Type"`
	// DNID is the dialed number. Status only.
	DNID string `ami:"DNID"`
	// Variables holds the channel variables Status was asked for, by
	// name; one that is not set has the value "". Status only.
	Variables map[string]string `ami:"Variable"`
}

// statusParams are the parameters of Status.
type statusParams struct {
	Channel   string `ami:"Channel,omitempty"`
	Variables string `ami:"Variables,omitempty"`
}

// Status lists channels with the Status action: every channel when
// channel is "", else that one (an unknown one is an *ActionError, "No
// such channel"). The values of the channel variables named in
// variables (or dialplan functions, such as "CHANNEL(peerip)") are read
// into Channel.Variables. The Response holds the list's events too.
// An item whose values do not fit the Channel fields gives a
// *ProtocolError, after the whole list is read.
func (c *Client) Status(ctx context.Context, channel string, variables ...string) ([]Channel, *Response, error) {
	p := statusParams{Channel: channel, Variables: strings.Join(variables, ",")}
	resp, err := c.doStruct(ctx, "Status", &p, false)
	return channels(resp, err)
}

// CoreShowChannels lists every channel with the CoreShowChannels
// action. The Response holds the list's events too. An item whose
// values do not fit the Channel fields gives a *ProtocolError, after
// the whole list is read.
func (c *Client) CoreShowChannels(ctx context.Context) ([]Channel, *Response, error) {
	resp, err := c.Do(ctx, Action{Name: "CoreShowChannels"})
	return channels(resp, err)
}

// channels reads the items of a channel list.
func channels(resp *Response, err error) ([]Channel, *Response, error) {
	if err != nil {
		return nil, resp, err
	}
	list := make([]Channel, len(resp.Events))
	for i, m := range resp.Events {
		ch := &list[i]
		e := rawman.Unmarshal(m, ch)
		// Status names two fields its own way.
		if v, ok := m.Lookup("Data"); ok && !m.Has("ApplicationData") {
			ch.ApplicationData = v
		}
		if !m.Has("Duration") {
			var st struct {
				Elapsed time.Duration `ami:"Seconds,unit=s"`
			}
			if e2 := rawman.Unmarshal(m, &st); e == nil {
				e = e2
			}
			ch.Duration = st.Elapsed
		}
		if e != nil && err == nil {
			err = &ProtocolError{Action: resp.Action, ActionID: resp.ActionID,
				Reason: fmt.Sprintf("unreadable list item %d (%.40s)", i+1, m.Event()), Err: e}
		}
	}
	return list, resp, err
}

// events is the parameter of the Events action.
type events struct {
	EventMask string `ami:"EventMask"`
}

// SetEventMask sets which events the session's WaitEvent receives, with
// the Events action: "on" (all), "off" (none), or a comma-separated
// list of classes such as "call,user". It returns whether the mask is
// now on (Asterisk answers "Events: On" or "Off"); a list with a word
// Asterisk does not know gives off. An empty mask is refused before
// sending, as the catalog requires EventMask (an *ActionError with
// validation off).
//
// The mask belongs to the session: a new Login after the session was
// lost (see Client.Generation) starts from Config.Events again. On HTTP,
// WaitEvent turns an "off" mask into "on", so "off" lasts until the
// next WaitEvent; choose classes to receive fewer events. Sending the
// same mask twice changes nothing, so the action is marked Idempotent
// and may be sent again after a failure.
func (c *Client) SetEventMask(ctx context.Context, mask string) (bool, error) {
	resp, err := c.doStruct(ctx, "Events", &events{EventMask: mask}, true)
	if err != nil {
		return false, err
	}
	return strings.EqualFold(resp.Get("Events"), "On"), nil
}

// filter is the parameters of the Filter action.
type filter struct {
	Operation     string `ami:"Operation"`
	Filter        string `ami:"Filter"`
	MatchCriteria string `ami:"MatchCriteria,omitempty"`
}

// Filter adds an event filter to the session with the Filter action
// (Operation Add), for the session's life: filters cannot be removed,
// and a new Login after a lost session starts without them (see
// Client.Generation). The pattern is a regular expression matched
// against the whole text of each event, such as "Event: Newchannel";
// one starting with "!" excludes the events it matches. With
// matchCriteria (Asterisk 18.26, 20.11, 21.6, 22.1 and later), such as
// "name(UserEvent),header(UserEvent),method(exact)", the pattern is
// matched as the criteria say. It needs the write class system. Filter
// has effects: a filter sent twice is added twice.
func (c *Client) Filter(ctx context.Context, pattern, matchCriteria string) (*Response, error) {
	return c.doStruct(ctx, "Filter", &filter{Operation: "Add", Filter: pattern, MatchCriteria: matchCriteria}, false)
}

// ActionInfo describes one action of ListCommands.
type ActionInfo struct {
	// Name is the action's name as Asterisk registered it ("Originate").
	// The mxml encoding lowers it ("originate").
	Name string
	// Synopsis is its one-line description ("Originate a call.").
	Synopsis string
	// Privilege lists the write classes that allow it ("originate,all"),
	// any of which the user needs; "" when it needs none.
	Privilege string
}

// ListCommands lists the actions the user may send, with the
// ListCommands action, in Asterisk's order. Each field of the answer
// names one action, its value "synopsis  (Priv: classes)".
func (c *Client) ListCommands(ctx context.Context) ([]ActionInfo, error) {
	resp, err := c.Do(ctx, Action{Name: "ListCommands"})
	if err != nil {
		return nil, err
	}
	list := make([]ActionInfo, 0, resp.Answer.Len())
	for _, f := range resp.Answer.Fields {
		if f.Key == "" || strings.EqualFold(f.Key, "Response") || strings.EqualFold(f.Key, "ActionID") {
			continue
		}
		info := ActionInfo{Name: f.Key, Synopsis: strings.TrimSpace(f.Value)}
		if i := strings.LastIndex(info.Synopsis, "(Priv: "); i >= 0 && strings.HasSuffix(info.Synopsis, ")") {
			info.Privilege = info.Synopsis[i+len("(Priv: ") : len(info.Synopsis)-1]
			info.Synopsis = strings.TrimSpace(info.Synopsis[:i])
			if info.Privilege == "<none>" {
				info.Privilege = ""
			}
		}
		list = append(list, info)
	}
	return list, nil
}

// Logoff ends the session with the Logoff action; Asterisk answers
// "Response: Goodbye". Close is the usual way to end a Client: it logs
// off too, and makes later calls fail with ErrClosed. After Logoff the
// Client stays usable: its next action logs in again first (a new
// Client.Generation), so Logoff is mostly useful to drop a session's
// queued events and filters.
func (c *Client) Logoff(ctx context.Context) (*Response, error) {
	resp, err := c.Do(ctx, Action{Name: "Logoff"})
	if err == nil && c.jar != nil {
		c.jar.forget(c.base) // Asterisk destroyed the session
	}
	return resp, err
}
