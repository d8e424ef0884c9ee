package httpamitest

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The simulated channels: the Local channel pairs Originate creates, the
// dialplan they run on the server's clock, and the actions that look at
// them or act on them (Hangup, Redirect, Status, CoreShowChannels,
// Getvar/Setvar on a channel, "core show channels").
//
// Everything here is protected by the manager's lock (m.mu). Each batch
// of events a real Asterisk queues in one go is published under one hold
// of the lock at one instant of the clock, so that a WaitEvent woken by
// the first event of a batch answers with the whole batch and nothing of
// a later one.

// Event classes used by channel events.
const (
	classCall     = 2
	classUser     = 64
	classDialplan = 2048
)

// Channel states (ast_state2str).
const (
	stateDown = 0
	stateRing = 4
	stateUp   = 6
)

var stateNames = []string{"Down", "Rsrvd", "OffHook", "Dialing", "Ring", "Ringing", "Up", "Busy", "Dialing Offhook", "Pre-ring"}

func stateDesc(s int) string {
	if s >= 0 && s < len(stateNames) {
		return stateNames[s]
	}
	return "Unknown (" + strconv.Itoa(s) + ")"
}

// Timings of the simulation.
const (
	// answerWait is how long Answer() on a ringing channel waits for a
	// first media frame, which never comes on a Local channel.
	answerWait = 500 * time.Millisecond
	// laterBatch is how long after a teardown its last events (the
	// final DeviceStateChange, or the hang-up of the second half) come,
	// as a batch of their own.
	laterBatch = 150 * time.Microsecond
	// syncDeviceState is how long after a synchronous Originate is
	// answered the second DeviceStateChange INUSE comes: after the
	// response (originate/017 and 018 of the recordings).
	syncDeviceState = 1500 * time.Microsecond
	// echoGap is how late the next priority of a dialplan starts after an
	// application that returns at once, when the peer channel runs Echo as
	// its Originate application: the recording (originate/004–005) shows
	// those priorities as batches of their own, while with any other
	// peer (originate/010, 019) they come together.
	echoGap = 70 * time.Microsecond
	// defaultOriginateTimeout is the Originate dial timeout.
	defaultOriginateTimeout = 30 * time.Second
)

// A channel is one simulated channel, a half of a Local pair.
type channel struct {
	name     string
	device   string // Local/<exten>@<context>
	half     int    // 1 or 2
	peer     *channel
	state    int
	context  string
	exten    string
	priority int
	uniqueid string
	linkedid string
	appl     string
	data     string
	created  time.Time
	cseq     uint64 // creation order
	useq     uint64 // order of the last snapshot update
	inPBX    bool
	cause    int
	vars     []varKV
	dying    bool
	gen      uint64 // bumped to cancel a pending step
	timer    Timer
	snapCEP  string       // context/exten/priority of the last snapshot
	orig     *origination // on ;1: the Originate dialling it
}

type varKV struct{ name, value string }

// An origination is one Originate action's call attempt.
type origination struct {
	async    bool
	actionID string
	channel  string // the Channel parameter
	app      string
	data     string
	context  string
	exten    string
	priority int
	// ids are the ChannelId and OtherChannelId parameters: the
	// Uniqueids to give the two halves instead of made-up ones.
	ids      [2]string
	answered bool
	failed   bool
	p        *parker
	timeout  Timer
}

// channels holds the simulated channels and the counters a fresh
// Asterisk process starts from.
type channels struct {
	m *manager

	live []*channel // in creation order

	// localSeq is the next Local pair suffix (-%08x).
	localSeq uint64
	// localHint, when set, gives the suffixes to use first (hintLocal).
	localHint func() (uint64, bool)
	// uniqSeq is the next sequence number of a Uniqueid (epoch.seq).
	uniqSeq uint64
	// processed counts the dialplans started (CoreProcessedCalls).
	processed int
	createSeq uint64
	updateSeq uint64
	// epoch is bumped by reset, to ignore timers of forgotten channels.
	epoch uint64
	origs []*origination // synchronous Originates waiting
}

func newChannels(m *manager) *channels { return &channels{m: m} }

// hintLocal makes the next Local pairs take the suffixes next returns,
// while it returns true, instead of counting on from the last. The
// transcript replay needs it: the recorded requests name channels with
// the suffixes of a longer-running Asterisk process (originate/023 and
// 026 address Local/200@test-00000006).
func (c *channels) hintLocal(next func() (uint64, bool)) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.localHint = next
}

func (c *channels) shutdown() {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.stopAllLocked()
}

func (c *channels) stopAllLocked() {
	c.epoch++
	for _, ch := range c.live {
		c.cancel(ch)
	}
	for _, o := range c.origs {
		if o.timeout != nil {
			o.timeout.Stop()
		}
		o.failed = true
		o.p.signal()
	}
	c.origs = nil
}

func (c *channels) reset() {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.stopAllLocked()
	c.live = nil
	c.localSeq, c.uniqSeq, c.processed, c.createSeq, c.updateSeq = 0, 0, 0, 0, 0
}

func (c *channels) counts() (current, processed int) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.activeLocked(), c.processed
}

func (c *channels) activeLocked() int {
	n := 0
	for _, ch := range c.live {
		if ch.inPBX {
			n++
		}
	}
	return n
}

// find is ast_channel_get_by_name: the name compared case-insensitively,
// then the Uniqueid.
func (c *channels) find(name string) *channel {
	for _, ch := range c.live {
		if strings.EqualFold(ch.name, name) {
			return ch
		}
	}
	for _, ch := range c.live {
		if ch.uniqueid == name {
			return ch
		}
	}
	return nil
}

func (c *channels) getvar(chName, name string) (string, bool) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	ch := c.find(chName)
	if ch == nil {
		return "", false
	}
	return c.lookupVar(ch, name), true
}

// lookupVar reads a variable as the dialplan sees it on ch: a function
// (GLOBAL(x)), a channel variable, then a global.
func (c *channels) lookupVar(ch *channel, name string) string {
	if strings.Contains(name, "(") {
		return c.m.variableLocked(name)
	}
	if v, ok := ch.getVar(name); ok {
		return v
	}
	return c.m.globals[name]
}

func (ch *channel) getVar(name string) (string, bool) {
	for i := len(ch.vars) - 1; i >= 0; i-- {
		if ch.vars[i].name == name {
			return ch.vars[i].value, true
		}
	}
	return "", false
}

func (c *channels) setvar(chName, name, value string) bool {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	ch := c.find(chName)
	if ch == nil {
		return false
	}
	if inner, ok := strings.CutPrefix(name, "GLOBAL("); ok && strings.HasSuffix(inner, ")") {
		name = strings.TrimSuffix(inner, ")")
		c.m.globals[name] = value
		c.m.publishLocked("VarSet", classDialplan, "Channel: none\r\nUniqueid: none\r\nVariable: "+name+"\r\nValue: "+value+"\r\n")
		return true
	}
	c.setVarLocked(ch, name, value)
	return true
}

// setVarLocked is pbx_builtin_setvar_helper: set and publish VarSet.
func (c *channels) setVarLocked(ch *channel, name, value string) {
	for i := range ch.vars {
		if ch.vars[i].name == name {
			ch.vars = append(ch.vars[:i], ch.vars[i+1:]...)
			break
		}
	}
	ch.vars = append(ch.vars, varKV{name, value})
	c.pub("VarSet", classDialplan, ch.block("")+"Variable: "+name+"\r\nValue: "+value+"\r\n")
}

// ---------------------------------------------------------------------
// Text of the events

func unknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

// block is the channel snapshot as events print it, each line with an
// optional prefix.
func (ch *channel) block(p string) string {
	return p + "Channel: " + ch.name + "\r\n" +
		p + "ChannelState: " + strconv.Itoa(ch.state) + "\r\n" +
		p + "ChannelStateDesc: " + stateDesc(ch.state) + "\r\n" +
		p + "CallerIDNum: " + unknown("") + "\r\n" +
		p + "CallerIDName: " + unknown("") + "\r\n" +
		p + "ConnectedLineNum: " + unknown("") + "\r\n" +
		p + "ConnectedLineName: " + unknown("") + "\r\n" +
		p + "Language: en\r\n" +
		p + "AccountCode: \r\n" +
		p + "Context: " + ch.context + "\r\n" +
		p + "Exten: " + ch.exten + "\r\n" +
		p + "Priority: " + strconv.Itoa(ch.priority) + "\r\n" +
		p + "Uniqueid: " + ch.uniqueid + "\r\n" +
		p + "Linkedid: " + ch.linkedid + "\r\n"
}

func (c *channels) pub(name string, class int, fields string) {
	c.m.publishLocked(name, class, fields)
}

var causeTexts = map[int]string{
	0: "Unknown", 1: "Unallocated (unassigned) number", 2: "No route to specified transmit network",
	3: "No route to destination", 6: "Channel unacceptable", 7: "Call awarded and being delivered in an established channel",
	16: "Normal Clearing", 17: "User busy", 18: "No user responding", 19: "User alerting, no answer",
	21: "Call Rejected", 22: "Number changed", 27: "Destination out of order", 28: "Invalid number format",
	29: "Facility rejected", 30: "Response to STATus ENQuiry", 31: "Normal, unspecified",
	34: "Circuit/channel congestion", 38: "Network out of order", 41: "Temporary failure",
	42: "Switching equipment congestion", 43: "Access information discarded", 44: "Requested channel not available",
	50: "Requested facility not subscribed", 52: "Outgoing call barred", 54: "Incoming call barred",
	57: "Bearer capability not authorized", 58: "Bearer capability not available", 65: "Bearer capability not implemented",
	66: "Channel not implemented", 69: "Facility not implemented", 81: "Invalid call reference value",
	88: "Incompatible destination", 95: "Invalid message unspecified", 96: "Mandatory information element is missing",
	97: "Message type nonexist.", 98: "Wrong message", 99: "Info. element nonexist or not implemented",
	100: "Invalid information element contents", 101: "Message not compatible with call state",
	102: "Recover on timer expiry", 111: "Protocol error, unspecified", 127: "Interworking, unspecified",
}

func causeText(c int) string {
	if t, ok := causeTexts[c]; ok {
		return t
	}
	return "Unknown"
}

func (c *channels) newstate(ch *channel) { c.pub("Newstate", classCall, ch.block("")) }

func (c *channels) devState(ch *channel, state string) {
	c.pub("DeviceStateChange", classCall, "Device: "+ch.device+"\r\nState: "+state+"\r\n")
}

func (c *channels) hangupEvent(ch *channel) {
	c.pub("Hangup", classCall, ch.block("")+"Cause: "+strconv.Itoa(ch.cause)+"\r\nCause-txt: "+causeText(ch.cause)+"\r\n")
}

func (c *channels) originateResponse(o *origination, ok bool, chName, uniqueid string, reason int) {
	var b strings.Builder
	if o.actionID != "" {
		b.WriteString("ActionID: " + o.actionID + "\r\n")
	}
	resp := "Failure"
	if ok {
		resp = "Success"
	}
	b.WriteString("Response: " + resp + "\r\nChannel: " + chName + "\r\n")
	if o.app != "" {
		b.WriteString("Application: " + o.app + "\r\nData: " + o.data + "\r\n")
	} else {
		b.WriteString("Context: " + o.context + "\r\nExten: " + o.exten + "\r\n")
	}
	b.WriteString("Reason: " + strconv.Itoa(reason) + "\r\nUniqueid: " + unknown(uniqueid) + "\r\nCallerIDNum: <unknown>\r\nCallerIDName: <unknown>\r\n")
	c.pub("OriginateResponse", classCall, b.String())
}

// ---------------------------------------------------------------------
// Snapshots, timers

func (c *channels) touch(ch *channel) {
	c.updateSeq++
	ch.useq = c.updateSeq
}

func (ch *channel) cep() string {
	return ch.context + "\x00" + ch.exten + "\x00" + strconv.Itoa(ch.priority)
}

// setApp makes appl/data the channel's application, publishing Newexten
// when the context, extension or priority changed since the last
// snapshot, or when the channel had no application.
func (c *channels) setApp(ch *channel, appl, data string) {
	cep := ch.cep()
	if appl != "" && (cep != ch.snapCEP || ch.appl == "") {
		ch.appl, ch.data = appl, data
		c.pub("Newexten", classDialplan, ch.block("")+"Extension: "+ch.exten+"\r\nApplication: "+appl+"\r\nAppData: "+data+"\r\n")
	}
	ch.appl, ch.data, ch.snapCEP = appl, data, cep
	c.touch(ch)
}

// cancel drops the pending step of ch.
func (c *channels) cancel(ch *channel) {
	ch.gen++
	if ch.timer != nil {
		ch.timer.Stop()
		ch.timer = nil
	}
}

// after runs f on ch d from now, unless ch is cancelled, hung up or
// forgotten meanwhile.
func (c *channels) after(ch *channel, d time.Duration, f func()) {
	c.cancel(ch)
	gen, epoch := ch.gen, c.epoch
	ch.timer = c.m.cfg.clock.AfterFunc(d, func() {
		c.m.mu.Lock()
		defer c.m.mu.Unlock()
		if ch.gen != gen || c.epoch != epoch || ch.dying {
			return
		}
		ch.timer = nil
		f()
	})
}

// later publishes a batch of events d from now.
func (c *channels) later(d time.Duration, f func()) {
	epoch := c.epoch
	c.m.cfg.clock.AfterFunc(d, func() {
		c.m.mu.Lock()
		defer c.m.mu.Unlock()
		if c.epoch == epoch {
			f()
		}
	})
}

func (c *channels) remove(ch *channel) {
	c.cancel(ch)
	for i, x := range c.live {
		if x == ch {
			c.live = append(c.live[:i], c.live[i+1:]...)
			return
		}
	}
}

// ---------------------------------------------------------------------
// The dialplan

// run executes ch's dialplan from its current priority until an
// application blocks or the channel hangs up.
func (c *channels) run(ch *channel) {
	for !ch.dying {
		steps := c.m.cfg.dialplan.lookup(ch.context, ch.exten)
		if ch.priority < 1 || ch.priority > len(steps) {
			// no such priority: the PBX ends (autofallthrough)
			c.teardown(ch)
			return
		}
		st := steps[ch.priority-1]
		data := c.substitute(ch, st.Data)
		c.setApp(ch, st.App, data)
		switch strings.ToLower(st.App) {
		case "answer":
			if ch.state != stateUp {
				c.answer(ch)
				if !ch.dying {
					c.after(ch, answerWait, func() { c.next(ch) })
				}
				return
			}
		case "wait":
			c.after(ch, seconds(data), func() { c.next(ch) })
			return
		case "echo":
			return // until hung up
		case "hangup":
			ch.cause = 16
			if n, err := strconv.Atoi(strings.TrimSpace(data)); err == nil && n > 0 {
				ch.cause = n
			}
			c.teardown(ch)
			return
		case "userevent":
			c.userEvent(ch, data)
		}
		ch.priority++
		if p := ch.peer; p != nil && !p.dying && !p.inPBX && strings.EqualFold(p.appl, "Echo") {
			c.after(ch, echoGap, func() { c.run(ch) })
			return
		}
	}
}

// next goes on with the priority after the current one.
func (c *channels) next(ch *channel) {
	ch.priority++
	c.run(ch)
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// substitute expands ${name} from the channel's variables and the
// globals.
func (c *channels) substitute(ch *channel, s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		depth, j := 1, i+2
		for ; j < len(s) && depth > 0; j++ {
			switch {
			case s[j] == '{':
				depth++
			case s[j] == '}':
				depth--
			}
		}
		if depth > 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		name := c.substitute(ch, s[i+2:j-1])
		b.WriteString(c.lookupVar(ch, name))
		s = s[j:]
	}
}

// appArgs is ast_app_separate_args: split on commas outside quotes and
// parentheses; double quotes are removed and a backslash escapes the next
// character.
func appArgs(s string) []string {
	var args []string
	var cur strings.Builder
	quoted, paren := false, 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			continue
		case ch == '"':
			quoted = !quoted
			continue
		case ch == '(' && !quoted:
			paren++
		case ch == ')' && !quoted && paren > 0:
			paren--
		case ch == ',' && !quoted && paren == 0:
			args = append(args, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(ch)
	}
	return append(args, cur.String())
}

// userEvent is the UserEvent() application.
func (c *channels) userEvent(ch *channel, data string) {
	args := appArgs(data)
	type kv struct{ k, v string }
	var body []kv
	for _, a := range args[1:] {
		k, v, _ := strings.Cut(a, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" {
			continue
		}
		replaced := false
		for i := range body {
			if body[i].k == k {
				body[i].v, replaced = v, true
			}
		}
		if !replaced {
			body = append(body, kv{k, v})
		}
	}
	var b strings.Builder
	b.WriteString(ch.block("") + "UserEvent: " + args[0] + "\r\n")
	for _, f := range body {
		b.WriteString(f.k + ": " + f.v + "\r\n")
	}
	c.pub("UserEvent", classUser, b.String())
}

// answer answers ch; a ;2 answering answers its ;1, which the
// Originate then sees answered.
func (c *channels) answer(ch *channel) {
	ch.state = stateUp
	c.touch(ch)
	c.newstate(ch)
	one := ch.peer
	if ch.half != 2 || one == nil || one.dying || one.state == stateUp {
		return
	}
	one.state = stateUp
	c.touch(one)
	c.newstate(one)
	o := one.orig
	if o != nil && !o.async {
		c.devState(ch, "INUSE")
		c.dialEnd(one, "ANSWER")
		c.later(syncDeviceState, func() { c.devState(one, "INUSE") })
	} else {
		c.dialEnd(one, "ANSWER")
		if o != nil {
			c.originateResponse(o, true, one.name, one.uniqueid, 4)
		}
		c.devState(ch, "INUSE")
		c.devState(one, "INUSE")
	}
	if o != nil {
		o.answered = true
		if o.timeout != nil {
			o.timeout.Stop()
		}
		if o.p != nil {
			o.p.signal()
		}
	}
	c.startOriginated(one)
}

func (c *channels) dialEnd(one *channel, status string) {
	c.pub("DialEnd", classCall, one.block("Dest")+"DialStatus: "+status+"\r\n")
}

// startOriginated runs the Originate's application on the answered ;1,
// or sends it into the dialplan.
func (c *channels) startOriginated(one *channel) {
	o := one.orig
	if o == nil {
		return
	}
	if o.app == "" {
		one.context, one.exten, one.priority = o.context, o.exten, o.priority
		one.inPBX = true
		c.processed++
		c.run(one)
		return
	}
	c.setApp(one, o.app, o.data)
	switch strings.ToLower(o.app) {
	case "echo":
		return
	case "wait":
		c.after(one, seconds(o.data), func() { c.teardown(one) })
		return
	case "hangup":
		one.cause = 16
	case "userevent":
		c.userEvent(one, o.data)
	}
	c.teardown(one)
}

// teardown hangs up x, whose execution ended first, and its peer.
func (c *channels) teardown(x *channel) {
	if x.dying {
		return
	}
	x.dying = true
	c.cancel(x)
	cause := x.cause
	if x.inPBX {
		c.pub("SoftHangupRequest", classCall, x.block("")+"Cause: 16\r\n")
	}
	y := x.peer
	if y != nil && y.dying {
		y = nil
	}
	if y == nil {
		c.unanswered(x)
		c.hangupEvent(x)
		c.devState(x, "NOT_INUSE")
		c.remove(x)
		c.originFailed(x)
		return
	}
	y.dying = true
	c.cancel(y)
	c.pub("HangupRequest", classCall, y.block("")+"Cause: "+strconv.Itoa(cause)+"\r\n")
	if cause != 0 {
		y.cause = cause
	}
	if x.inPBX {
		// Hung up on ;1, Asterisk publishes its Hangup before the peer's
		// SoftHangupRequest (live, every time); hung up on ;2, the peer's
		// comes first as recorded (originate/029; live shows both).
		owner := x.half == 1
		if owner {
			c.unanswered(x)
			c.hangupEvent(x)
		}
		if y.inPBX {
			c.pub("SoftHangupRequest", classCall, y.block("")+"Cause: 16\r\n")
		}
		if !owner {
			c.unanswered(x)
			c.hangupEvent(x)
		}
		c.devState(x, "NOT_INUSE")
		c.remove(x)
		c.remove(y)
		c.later(laterBatch, func() {
			c.unanswered(y)
			c.hangupEvent(y)
			c.devState(y, "NOT_INUSE")
			c.originFailed(x)
			c.originFailed(y)
		})
		return
	}
	c.unanswered(x)
	c.hangupEvent(x)
	c.devState(x, "NOT_INUSE")
	if y.inPBX {
		c.pub("SoftHangupRequest", classCall, y.block("")+"Cause: 16\r\n")
	}
	c.unanswered(y)
	c.hangupEvent(y)
	c.remove(x)
	c.remove(y)
	c.originFailed(x)
	c.originFailed(y)
	c.later(laterBatch, func() { c.devState(y, "NOT_INUSE") })
}

// unanswered publishes the DialEnd of a ;1 hung up before it was
// answered [guess: not recorded].
func (c *channels) unanswered(ch *channel) {
	if o := ch.orig; o != nil && !o.answered && !o.failed {
		c.dialEnd(ch, "NOANSWER")
	}
}

// originFailed ends the Originate of a ;1 hung up before it was answered.
func (c *channels) originFailed(ch *channel) {
	o := ch.orig
	if o == nil || o.answered || o.failed {
		return
	}
	c.failOrig(o, ch.name, ch.uniqueid, 1)
}

func (c *channels) failOrig(o *origination, chName, uniqueid string, reason int) {
	o.failed = true
	if o.timeout != nil {
		o.timeout.Stop()
	}
	if o.async {
		c.originateResponse(o, false, chName, uniqueid, reason)
	}
	if o.p != nil {
		o.p.signal()
	}
}

// ---------------------------------------------------------------------
// Originate

func (c *channels) actOriginate(a *actx) int {
	channelID, otherID := a.get("ChannelId"), a.get("OtherChannelId")
	if len(channelID) > maxPublicUniqueid || len(otherID) > maxPublicUniqueid {
		// Asterisk's format ends in a newline, which goes out as is.
		a.fail("Uniqueid length exceeds maximum of " + strconv.Itoa(maxPublicUniqueid) + "\n")
		return 0
	}
	name := a.get("Channel")
	if name == "" {
		a.fail("Channel not specified")
		return 0
	}
	context, exten := a.get("Context"), a.get("Exten")
	pi := 0
	if p := a.get("Priority"); p != "" {
		n, ok := scanDecimal(p)
		if !ok {
			a.fail("Invalid priority") // the fake's dialplan has no labels
			return 0
		}
		pi = n
	}
	timeout := defaultOriginateTimeout
	if t := a.get("Timeout"); t != "" {
		n, ok := scanDecimal(t)
		if !ok {
			a.fail("Invalid timeout")
			return 0
		}
		timeout = time.Duration(n) * time.Millisecond
	}
	tech, data, ok := strings.Cut(name, "/")
	if !ok {
		a.fail("Invalid channel")
		return 0
	}
	app := a.get("Application")
	if pi != 0 {
		if steps := c.m.cfg.dialplan.lookup(context, exten); pi < 1 || pi > len(steps) {
			a.fail("Extension does not exist.")
			return 0
		}
	}
	o := &origination{
		async:    astTrue(a.get("Async")),
		actionID: a.actionID(),
		channel:  name,
		app:      app,
		data:     a.get("Data"),
		context:  context,
		exten:    exten,
		priority: pi,
		ids:      [2]string{channelID, otherID},
	}
	if app == "" {
		o.data = ""
	}
	vars := originateVars(a.params)
	if o.async {
		a.ack("Originate successfully queued")
		c.m.mu.Lock()
		c.dial(o, tech, data, vars, timeout)
		c.m.mu.Unlock()
		return 0
	}
	if app == "" && pi == 0 {
		a.fail("Originate with 'Exten' requires 'Context' and 'Priority'")
		return 0
	}
	o.p = newParker(c.m.s)
	c.m.mu.Lock()
	c.dial(o, tech, data, vars, timeout)
	if !o.answered && !o.failed {
		c.origs = append(c.origs, o)
	}
	c.m.mu.Unlock()
	done := func() bool {
		c.m.mu.Lock()
		defer c.m.mu.Unlock()
		return o.answered || o.failed
	}
	o.p.waitUntil(c.m.done, done)
	c.m.mu.Lock()
	for i, x := range c.origs {
		if x == o {
			c.origs = append(c.origs[:i], c.origs[i+1:]...)
			break
		}
	}
	answered := o.answered
	c.m.mu.Unlock()
	if answered {
		a.ack("Originate successfully queued")
	} else {
		a.fail("Originate failed")
	}
	return 0
}

// scanDecimal is sscanf("%30d"): optional blanks and sign, then digits;
// the rest is ignored.
func scanDecimal(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\r\n\v\f")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	start := end
	for end < len(s) && end < 30 && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == start {
		return 0, false
	}
	n, err := strconv.Atoi(s[:end])
	return n, err == nil
}

// originateVars reads the Variable headers: each "name=value", several
// in one header separated by commas, in request order.
func originateVars(params []header) []varKV {
	var vars []varKV
	for _, p := range params {
		if !strings.EqualFold(p.name, "Variable") {
			continue
		}
		for _, item := range appArgs(strings.TrimLeft(p.value, blanks)) {
			name, value, ok := strings.Cut(item, "=")
			if !ok || name == "" {
				continue
			}
			vars = append(vars, varKV{name, value})
		}
	}
	return vars
}

// maxPublicUniqueid is the longest ChannelId Asterisk accepts
// (AST_MAX_PUBLIC_UNIQUEID).
const maxPublicUniqueid = 149

// dial creates the channel the Originate asks for and calls it.
func (c *channels) dial(o *origination, tech, data string, vars []varKV, timeout time.Duration) {
	if !strings.EqualFold(tech, "Local") || data == "" {
		c.failOrig(o, o.channel, "", 0)
		return
	}
	dest := data
	if i := strings.IndexByte(dest, '/'); i >= 0 { // options
		dest = dest[:i]
	}
	exten, context, ok := strings.Cut(dest, "@")
	if !ok {
		context = "default"
	}
	uid := o.ids
	if uid[0] != "" && uid[1] == "" {
		uid[1] = uid[0] + ";2" // as Asterisk names the second half
	}
	for _, ch := range c.live {
		if uid[0] != "" && (ch.uniqueid == uid[0] || ch.uniqueid == uid[1]) {
			c.failOrig(o, o.channel, "", 0) // Asterisk refuses a Uniqueid in use
			return
		}
	}
	now := c.m.cfg.clock.Now()
	if c.localHint != nil {
		if n, ok := c.localHint(); ok {
			c.localSeq = n
		}
	}
	base := fmt.Sprintf("Local/%s@%s-%08x", exten, context, uint32(c.localSeq))
	c.localSeq++
	mk := func(half int) *channel {
		ch := &channel{
			name:     base + ";" + strconv.Itoa(half),
			device:   "Local/" + exten + "@" + context,
			half:     half,
			context:  context,
			exten:    exten,
			priority: 1,
			uniqueid: fmt.Sprintf("%d.%d", now.Unix(), c.uniqSeq),
			created:  now,
		}
		if uid[0] != "" {
			ch.uniqueid = uid[half-1]
		}
		c.uniqSeq++
		c.createSeq++
		ch.cseq = c.createSeq
		ch.snapCEP = ch.cep()
		c.touch(ch)
		c.live = append(c.live, ch)
		return ch
	}
	one, two := mk(1), mk(2)
	one.state, two.state = stateDown, stateRing
	one.linkedid, two.linkedid = one.uniqueid, one.uniqueid
	one.peer, two.peer = two, one
	one.orig = o
	c.pub("Newchannel", classCall, one.block(""))
	c.pub("Newchannel", classCall, two.block(""))
	c.setApp(one, "AppDial2", "(Outgoing Line)")
	for i := len(vars) - 1; i >= 0; i-- {
		c.setVarLocked(one, vars[i].name, vars[i].value)
	}
	for _, v := range vars {
		c.setVarLocked(two, v.name, v.value)
	}
	if c.m.cfg.dialplan.lookup(context, exten) == nil {
		one.dying, two.dying = true, true
		c.hangupEvent(two)
		c.hangupEvent(one)
		c.devState(one, "INVALID")
		c.devState(two, "INVALID")
		c.remove(one)
		c.remove(two)
		c.failOrig(o, o.channel, "", 0)
		return
	}
	c.pub("LocalBridge", classCall, one.block("LocalOne")+two.block("LocalTwo")+
		"Context: "+context+"\r\nExten: "+exten+"\r\nLocalOptimization: Yes\r\n")
	c.pub("DialBegin", classCall, one.block("Dest")+"DialString: "+data+"\r\n")
	if timeout > 0 {
		epoch := c.epoch
		o.timeout = c.m.cfg.clock.AfterFunc(timeout, func() {
			c.m.mu.Lock()
			defer c.m.mu.Unlock()
			if c.epoch != epoch || o.answered || o.failed || one.dying {
				return
			}
			// no answer in time: the dialler hangs up its channel [guess]
			c.dialEnd(one, "NOANSWER")
			o.failed = true
			c.teardown(one)
			if o.async {
				c.originateResponse(o, false, one.name, one.uniqueid, 0)
			}
			o.p.signalIfSet()
		})
	}
	two.inPBX = true
	c.processed++
	c.run(two)
}

// astTrue is ast_true: yes, true, y, t, 1 or on, case-insensitively.
func astTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "y", "t", "1", "on":
		return true
	}
	return false
}

func (p *parker) signalIfSet() {
	if p != nil {
		p.signal()
	}
}

// ---------------------------------------------------------------------
// Hangup, Redirect

// hangupLocked is ast_channel_softhangup_withcause_locked followed by
// the channel's teardown.
func (c *channels) hangupLocked(ch *channel, cause int) {
	if ch.dying {
		return
	}
	if cause > 0 {
		ch.cause = cause
	}
	c.teardown(ch)
}

func (c *channels) actHangup(a *actx) int {
	name := a.get("Channel")
	if name == "" {
		a.fail("No channel specified")
		return 0
	}
	cause := 0
	if s := a.get("Cause"); s != "" {
		n, err := strconv.Atoi(s)
		if err == nil && n >= 0 && n <= 127 {
			cause = n
		}
	}
	if name[0] != '/' {
		c.m.mu.Lock()
		ch := c.find(name)
		if ch != nil {
			c.hangupLocked(ch, cause)
		}
		c.m.mu.Unlock()
		if ch == nil {
			a.fail("No such channel")
			return 0
		}
		a.ack("Channel Hungup")
		return 0
	}
	if len(name) < 2 || name[len(name)-1] != '/' {
		a.fail("Regex format invalid, Channel param should be /regex/")
		return 0
	}
	re, err := regexp.CompilePOSIX(name[1 : len(name)-1])
	if err != nil {
		a.fail("Regex compile failed on: " + name)
		return 0
	}
	a.listAck("Channels hung up will follow")
	c.m.mu.Lock()
	n := 0
	for _, ch := range c.containerOrder() {
		if !re.MatchString(ch.name) {
			continue
		}
		c.hangupLocked(ch, cause)
		n++
		a.write("Event: ChannelHungup\r\nChannel: " + ch.name + "\r\n" + a.idLine() + "\r\n")
	}
	c.m.mu.Unlock()
	a.listComplete("ChannelsHungupListComplete", n, "")
	return 0
}

func (c *channels) actRedirect(a *actx) int {
	name, context, exten := a.get("Channel"), a.get("Context"), a.get("Exten")
	extra, ectx, eexten := a.get("ExtraChannel"), a.get("ExtraContext"), a.get("ExtraExten")
	if missing(a, "Channel", "Context", "Exten", "Priority") {
		return 0
	}
	pi, ok := priorityParam(a, "Priority")
	if !ok {
		return 0
	}
	epi := pi
	if extra != "" && ectx != "" {
		if missing(a, "ExtraExten", "ExtraPriority") {
			return 0
		}
		if epi, ok = priorityParam(a, "ExtraPriority"); !ok {
			return 0
		}
	} else {
		ectx, eexten = context, exten
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	ch := c.find(name)
	switch {
	case ch == nil:
		a.fail("Channel does not exist: " + name)
		return 0
	case ch.dying:
		a.fail("Redirect failed, channel not up.")
		return 0
	}
	if extra == "" {
		c.redirect(ch, context, exten, pi)
		a.ack("Redirect successful")
		return 0
	}
	ech := c.find(extra)
	switch {
	case ech == nil:
		a.fail("ExtraChannel does not exist: " + extra)
		return 0
	case ech.dying:
		a.fail("Redirect failed, extra channel not up.")
		return 0
	}
	c.redirect(ch, context, exten, pi)
	if !ech.dying {
		c.redirect(ech, ectx, eexten, epi)
	}
	a.ack("Dual Redirect successful")
	return 0
}

// missing fails the action with "<name> not specified" for the first of
// names the request leaves empty, and reports whether it did.
func missing(a *actx, names ...string) bool {
	for _, n := range names {
		if a.get(n) == "" {
			a.fail(n + " not specified")
			return true
		}
	}
	return false
}

// priorityParam reads a priority parameter, failing the action with
// "<name> is invalid" unless it is a number from 1.
func priorityParam(a *actx, name string) (int, bool) {
	n, ok := scanDecimal(a.get(name))
	if !ok || n < 1 {
		a.fail(name + " is invalid")
		return 0, false
	}
	return n, true
}

// redirect is ast_async_goto: a channel in the dialplan jumps; one
// running an application outside it is moved into it through a
// surrogate channel, which takes a Uniqueid but shows no event.
func (c *channels) redirect(ch *channel, context, exten string, pi int) {
	c.cancel(ch)
	if !ch.inPBX {
		c.uniqSeq++ // the surrogate
		c.processed++
		ch.inPBX = true
	}
	ch.context, ch.exten, ch.priority = context, exten, pi
	c.run(ch)
}

// ---------------------------------------------------------------------
// Lists

// bucket is the channel containers' hash bucket of a name.
func bucket(name string) uint32 {
	h := uint32(5381)
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		h = h*33 ^ uint32(ch)
	}
	return (h & 0x7fffffff) % 1567
}

// containerOrder is the order of the channel container (Status, Hangup
// by regex): bucket, then creation.
func (c *channels) containerOrder() []*channel {
	return c.bucketOrder(func(ch *channel) uint64 { return ch.cseq })
}

// cacheOrder is the order of the snapshot cache (CoreShowChannels, core
// show channels): bucket, then last update.
func (c *channels) cacheOrder() []*channel {
	return c.bucketOrder(func(ch *channel) uint64 { return ch.useq })
}

// bucketOrder sorts the live channels by hash bucket, then by seq.
func (c *channels) bucketOrder(seq func(*channel) uint64) []*channel {
	list := append([]*channel(nil), c.live...)
	sort.SliceStable(list, func(i, j int) bool {
		bi, bj := bucket(list[i].name), bucket(list[j].name)
		if bi != bj {
			return bi < bj
		}
		return seq(list[i]) < seq(list[j])
	})
	return list
}

func hms(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

func (c *channels) actCoreShowChannels(a *actx) int {
	a.listAck("Channels will follow")
	c.m.mu.Lock()
	now := c.m.cfg.clock.Now()
	list := c.cacheOrder()
	for _, ch := range list {
		a.write("Event: CoreShowChannel\r\n" + a.idLine() + ch.block("") +
			"Application: " + ch.appl + "\r\nApplicationData: " + ch.data + "\r\n" +
			"Duration: " + hms(now.Sub(ch.created)) + "\r\nBridgeId: \r\n\r\n")
	}
	c.m.mu.Unlock()
	a.listComplete("CoreShowChannelsComplete", len(list), "")
	return 0
}

func (c *channels) actStatus(a *actx) int {
	name := a.get("Channel")
	var names []string
	if v := a.get("Variables"); v != "" {
		names = appArgs(v)
	}
	all := false
	if v := a.get("AllVariables"); v != "" {
		all = astTrue(v)
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	var list []*channel
	if name == "" {
		list = c.containerOrder()
	} else {
		ch := c.find(name)
		if ch == nil {
			a.fail("No such channel")
			return 0
		}
		list = []*channel{ch}
	}
	a.listAck("Channel status will follow")
	now := c.m.cfg.clock.Now()
	for _, ch := range list {
		var vars strings.Builder
		for _, n := range names {
			vars.WriteString("Variable: " + n + "=" + c.lookupVar(ch, n) + "\r\n")
		}
		if all {
			for i := len(ch.vars) - 1; i >= 0; i-- {
				vars.WriteString("Variable: " + ch.vars[i].name + "=" + ch.vars[i].value + "\r\n")
			}
		}
		a.write("Event: Status\r\nPrivilege: Call\r\n" + ch.block("") +
			"Type: Local\r\nDNID: \r\nEffectiveConnectedLineNum: <unknown>\r\nEffectiveConnectedLineName: <unknown>\r\n" +
			"TimeToHangup: 0\r\nBridgeID: \r\nApplication: " + ch.appl + "\r\nData: " + ch.data + "\r\n" +
			"Nativeformats: (slin)\r\nReadformat: slin\r\nReadtrans: \r\nWriteformat: slin\r\nWritetrans: \r\n" +
			"Callgroup: 0\r\nPickupgroup: 0\r\nSeconds: " + strconv.FormatInt(int64(now.Sub(ch.created)/time.Second), 10) + "\r\n" +
			vars.String() + a.idLine() + "\r\n")
	}
	a.listComplete("StatusComplete", len(list), "Items: "+strconv.Itoa(len(list))+"\r\n")
	return 0
}

func plural(n int, word string) string {
	if n == 1 {
		return strconv.Itoa(n) + " " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// cliShowChannels is the output of "core show channels".
func (c *channels) cliShowChannels() []string {
	const format = "%-64.64s %-32.32s %-7.7s %-30.30s"
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	lines := []string{fmt.Sprintf(format, "Channel", "Location", "State", "Application(Data)")}
	for _, ch := range c.cacheOrder() {
		loc := "(None)"
		if ch.context != "" && ch.exten != "" {
			loc = fmt.Sprintf("%s@%s:%d", ch.exten, ch.context, ch.priority)
		}
		app := "(None)"
		if ch.appl != "" {
			app = ch.appl + "(" + ch.data + ")"
			if len(app) > 39 {
				app = app[:39]
			}
		}
		lines = append(lines, fmt.Sprintf(format, ch.name, loc, stateDesc(ch.state), app))
	}
	lines = append(lines,
		plural(len(c.live), "active channel"),
		plural(c.activeLocked(), "active call"),
		plural(c.processed, "call")+" processed")
	return lines
}

// actCoreShowChannelMap lists the channels bridged with one: the fake's
// Local channels are never in a bridge, so the list is always empty. The
// error messages end with a newline, as Asterisk's do.
func (c *channels) actCoreShowChannelMap(a *actx) int {
	name := a.get("Channel")
	if name == "" {
		a.fail("CoreShowChannelMap requires a channel.\n")
		return 0
	}
	c.m.mu.Lock()
	ch := c.find(name)
	c.m.mu.Unlock()
	if ch == nil {
		a.fail("Could not get channel snapshot\n")
		return 0
	}
	a.listAck("Channel map will follow")
	a.listComplete("CoreShowChannelMapComplete", 0, "")
	return 0
}
