package httpamitest

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// actionsTable lists the actions registered in the reference Asterisk
// build (core, pbx_config, app_queue, app_agent_pool, …) with their
// synopsis and privilege, one per line as its ListCommands printed them:
// "Name: synopsis  (Priv: classes)".
//
//go:embed actions.txt
var actionsTable string

// simulated maps the actions the fake implements to their code.
func (m *manager) simulated() map[string]func(*actx) int {
	return map[string]func(*actx) int{
		"Login":              m.actLogin,
		"Logoff":             actLogoff,
		"Challenge":          m.actChallenge,
		"Ping":               actPing,
		"Events":             actEvents,
		"Filter":             actFilter,
		"WaitEvent":          m.actWaitEvent,
		"UserEvent":          m.actUserEvent,
		"ListCommands":       m.actListCommands,
		"CoreSettings":       m.actCoreSettings,
		"CoreStatus":         m.actCoreStatus,
		"Command":            m.actCommand,
		"Getvar":             m.actGetvar,
		"Setvar":             m.actSetvar,
		"QueueStatus":        m.actQueueStatus,
		"QueueSummary":       m.actQueueSummary,
		"Agents":             m.actAgents,
		"DeviceStateList":    m.actDeviceStateList,
		"ListCategories":     m.actListCategories,
		"ShowDialPlan":       m.actShowDialPlan,
		"Originate":          m.chans.actOriginate,
		"Hangup":             m.chans.actHangup,
		"Redirect":           m.chans.actRedirect,
		"Status":             m.chans.actStatus,
		"CoreShowChannels":   m.chans.actCoreShowChannels,
		"CoreShowChannelMap": m.chans.actCoreShowChannelMap,
	}
}

// actions returns the registered actions in ListCommands order.
func (m *manager) actions() []*action {
	impl := m.simulated()
	var list []*action
	for line := range strings.SplitSeq(strings.TrimSpace(actionsTable), "\n") {
		name, rest, ok1 := strings.Cut(line, ": ")
		i := strings.LastIndex(rest, "  (Priv: ")
		if !ok1 || i < 0 {
			continue
		}
		priv := strings.TrimSuffix(rest[i+len("  (Priv: "):], ")")
		a := &action{name: name, synopsis: rest[:i], fn: impl[name]}
		if priv != "<none>" {
			a.authority = parseClasses(strings.TrimSuffix(priv, ",all"))
		}
		list = append(list, a)
	}
	return list
}

func (m *manager) findAction(name string) *action {
	for _, a := range m.acts {
		if strings.EqualFold(a.name, name) && (a.fn != nil || m.s.handler(a.name) != nil) {
			return a
		}
	}
	if m.s.handler(name) != nil {
		return &action{name: name}
	}
	return nil
}

func (m *manager) actLogin(a *actx) int {
	ss := a.ss
	if ss.authed {
		a.ack("Already authenticated")
		return 0
	}
	username := a.get("Username")
	u := m.cfg.user(username)
	ok := false
	m.mu.Lock()
	switch {
	case u == nil:
		m.securityEventLocked(ss, "InvalidAccountID", "", username)
	case strings.EqualFold(a.get("AuthType"), "MD5"):
		key := a.get("Key")
		ok = ss.challenge != "" && key == md5hex(ss.challenge+u.Secret)
		if !ok {
			m.securityEventLocked(ss, "ChallengeResponseFailed", "Challenge: "+ss.challenge+"\r\nResponse: "+key+"\r\nExpectedResponse: \r\n", username)
		}
	default:
		ok = a.get("Secret") == u.Secret
		if !ok {
			m.securityEventLocked(ss, "InvalidPassword", "", username)
		}
	}
	if ok {
		ss.authed = true
		ss.username = u.Name
		ss.readPerm, ss.writePerm = parseClasses(u.Read), parseClasses(u.Write)
		ss.startTV = m.cfg.clock.Now()
		if ev := a.get("Events"); ev != "" {
			ss.sendEvents = eventMask(ev)
		}
		ss.filters = nil
		for _, f := range u.EventFilters {
			ex := strings.HasPrefix(f, "!")
			if re, err := regexp.Compile(strings.TrimPrefix(f, "!")); err == nil {
				ss.filters = append(ss.filters, eventFilter{exclude: ex, re: re})
			}
		}
		m.securityEventLocked(ss, "SuccessfulAuth", "", ss.username)
	}
	m.mu.Unlock()
	if !ok {
		m.sleep(time.Second)
		a.fail("Authentication failed")
		return -1
	}
	a.ack("Authentication accepted")
	const system = 1
	if ss.sendEvents&system != 0 && ss.readPerm&system != 0 {
		a.write("Event: FullyBooted\r\nPrivilege: system,all\r\n")
		if m.cfg.version != Asterisk13 {
			up := strconv.FormatInt(int64(m.cfg.clock.Now().Sub(m.started)/time.Second), 10)
			a.write("Uptime: " + up + "\r\nLastReload: " + up + "\r\n")
		}
		a.write("Status: Fully Booted\r\n\r\n")
	}
	return 0
}

// eventMask is set_eventmask()/strings_to_mask(): on, off, a number, or a
// class list; unknown words give 0.
func eventMask(s string) int {
	switch strings.ToLower(s) {
	case "on", "yes", "true", "y", "t", "1":
		return allClasses
	case "off", "no", "false", "n", "f", "0":
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	mask := 0
	for w := range strings.SplitSeq(s, ",") {
		w = strings.TrimSpace(w)
		if strings.EqualFold(w, "all") {
			return allClasses
		}
		found := false
		for _, c := range classNames {
			if strings.EqualFold(w, c.name) {
				mask |= c.bit
				found = true
			}
		}
		if !found {
			return 0
		}
	}
	return mask
}

func actLogoff(a *actx) int {
	a.respond("Goodbye", "Thanks for all the fish.")
	return -1
}

func (m *manager) actChallenge(a *actx) int {
	if !strings.EqualFold(a.get("AuthType"), "MD5") {
		a.fail("Must specify AuthType")
		return 0
	}
	m.mu.Lock()
	if a.ss.challenge == "" {
		c := strconv.FormatUint(uint64(m.cfg.challenges()), 10)
		a.ss.challenge = c[:min(len(c), 9)]
	}
	c := a.ss.challenge
	m.mu.Unlock()
	a.startAck()
	a.write("Challenge: " + c + "\r\n\r\n")
	return 0
}

func actPing(a *actx) int {
	a.startAck()
	a.write("Ping: Pong\r\nTimestamp: " + timestamp(a.m.cfg.clock.Now()) + "\r\n\r\n")
	return 0
}

func actEvents(a *actx) int {
	mask := a.get("EventMask")
	if mask == "" {
		a.fail("Invalid event mask")
		return 0
	}
	v := eventMask(mask)
	a.m.mu.Lock()
	a.ss.sendEvents = v
	a.m.mu.Unlock()
	state := "On"
	if v == 0 {
		state = "Off"
	}
	a.write("Response: Success\r\n" + a.idLine() + "Events: " + state + "\r\n\r\n")
	return 0
}

// actFilter adds a session filter: a regular expression matched against
// the whole event text (Go's syntax standing in for POSIX extended), an
// exclusion when it starts with "!". MatchCriteria is not simulated.
func actFilter(a *actx) int {
	if !strings.EqualFold(a.get("Operation"), "Add") {
		a.fail("Unknown operation")
		return 0
	}
	f := a.get("Filter")
	ex := strings.HasPrefix(f, "!")
	if strings.TrimPrefix(f, "!") == "" || a.get("MatchCriteria") != "" {
		a.fail("Filter was formatted incorrectly.  Check the syntax of the filter given.")
		return 0
	}
	re, err := regexp.Compile(strings.TrimPrefix(f, "!"))
	if err != nil {
		a.fail("Filter did not compile.  Check the syntax of the filter given.")
		return 0
	}
	a.m.mu.Lock()
	a.ss.filters = append(a.ss.filters, eventFilter{exclude: ex, re: re})
	a.m.mu.Unlock()
	a.ack("Success")
	return 0
}

// wantsLocked reports whether the session receives e: its read
// permission and event mask must cover every class bit of the event, and
// its filters must pass it.
func (ss *session) wantsLocked(e *event) bool {
	if ss.readPerm&e.class != e.class || ss.sendEvents&e.class != e.class {
		return false
	}
	hasInclude, included := false, false
	for _, f := range ss.filters {
		match := f.re.MatchString(e.text)
		if f.exclude {
			if match {
				return false
			}
			continue
		}
		hasInclude = true
		included = included || match
	}
	return !hasInclude || included
}

// scanInt is sscanf("%i"): decimal, 0x hex or leading-0 octal.
func scanInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == 'x' || s[end] == 'X' || ishex(s[end])) {
		end++
	}
	n, err := strconv.ParseInt(s[:end], 0, 64)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

func (m *manager) actWaitEvent(a *actx) int {
	ss := a.ss
	timeout := -1
	if t, ok := scanInt(a.get("Timeout")); ok {
		timeout = max(t, -1)
	}
	w := newParker(m.s)
	m.mu.Lock()
	now := m.cfg.clock.Now()
	limit := max(int(ss.timeout.Unix()-now.Unix())-10, 0)
	if timeout < 0 || timeout > limit {
		timeout = limit
	}
	if ss.sendEvents == 0 {
		ss.sendEvents = allClasses
	}
	if ss.waiter != nil {
		ss.waiter.signal()
	}
	ss.waiter = w
	m.mu.Unlock()

	// Asterisk loops timeout times around sleep(1), interrupted by a
	// signal whenever an event is queued, a newer WaitEvent starts or the
	// session is logged off.
	var expired atomic.Bool
	if timeout > 0 {
		t := m.cfg.clock.AfterFunc(time.Duration(timeout)*time.Second, func() { expired.Store(true); w.signal() })
		defer t.Stop()
		w.waitUntil(m.done, func() bool {
			if expired.Load() {
				return true
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.lastSeq > ss.cursor || ss.needDestroy || ss.gone || ss.waiter != w
		})
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if ss.waiter != w {
		return 0 // kicked out by a newer WaitEvent: no answer at all
	}
	ss.waiter = nil
	a.ack("Waiting for Event completed.")
	for _, e := range m.events {
		if e.seq > ss.cursor && ss.wantsLocked(e) {
			a.write(e.text)
		}
	}
	ss.cursor = m.lastSeq
	a.write("Event: WaitEventComplete\r\n" + a.idLine() + "\r\n")
	return 0
}

func (m *manager) actUserEvent(a *actx) int {
	name := a.get("UserEvent")
	var b strings.Builder
	for _, p := range a.params {
		if strings.EqualFold(p.name, "UserEvent") || strings.EqualFold(p.name, "Action") {
			continue
		}
		b.WriteString(p.name + ": " + p.value + "\r\n")
	}
	m.publish("UserEvent", 64, "UserEvent: "+name+"\r\n"+b.String())
	a.ack("Event Sent")
	return 0
}

func (m *manager) actListCommands(a *actx) int {
	a.startAck()
	for _, act := range m.acts {
		if a.ss.writePerm&act.authority != 0 || act.authority == 0 {
			a.write(act.name + ": " + act.synopsis + "  (Priv: " + classString(act.authority) + ")\r\n")
		}
	}
	a.write("\r\n")
	return 0
}

func (m *manager) actCoreSettings(a *actx) int {
	a.write("Response: Success\r\n" + a.idLine() +
		"AMIversion: 12.0.0\r\n" +
		"AsteriskVersion: " + m.cfg.version.String() + "\r\n" +
		"SystemName: " + m.cfg.systemName + "\r\n" +
		"CoreMaxCalls: 0\r\nCoreMaxLoadAvg: 0.000000\r\nCoreRunUser: \r\nCoreRunGroup: \r\n" +
		"CoreMaxFilehandles: 0\r\nCoreRealTimeEnabled: No\r\nCoreCDRenabled: Yes\r\n" +
		"CoreHTTPenabled: Yes\r\nSoundsSearchCustomDir: No\r\n\r\n")
	return 0
}

func (m *manager) actCoreStatus(a *actx) int {
	st := m.started.Local()
	cur, done := m.chans.counts()
	a.write("Response: Success\r\n" + a.idLine() +
		"CoreStartupDate: " + st.Format("2006-01-02") + "\r\nCoreStartupTime: " + st.Format("15:04:05") + "\r\n" +
		"CoreReloadDate: " + st.Format("2006-01-02") + "\r\nCoreReloadTime: " + st.Format("15:04:05") + "\r\n" +
		"CoreCurrentCalls: " + strconv.Itoa(cur) + "\r\nCoreProcessedCalls: " + strconv.Itoa(done) + "\r\n\r\n")
	return 0
}

// blacklisted are the CLI commands Command refuses.
var blacklisted = []string{"module load", "module unload", "restart gracefully"}

func (m *manager) actCommand(a *actx) int {
	cmd := a.get("Command")
	if cmd == "" {
		a.fail("No command provided")
		return 0
	}
	norm := strings.Join(strings.Fields(strings.ToLower(cmd)), " ")
	for _, b := range blacklisted {
		if strings.HasPrefix(norm, b) {
			a.fail("Command blacklisted")
			return 0
		}
	}
	lines, ok := m.cli(norm, cmd)
	if m.cfg.version == Asterisk13 {
		a.write("Response: Follows\r\nPrivilege: Command\r\n" + a.idLine())
		for _, l := range lines {
			a.write(l + "\n")
		}
		a.write("--END COMMAND--\r\n\r\n")
		return 0
	}
	resp := "Success"
	if !ok {
		resp = "Error"
	}
	a.write("Response: " + resp + "\r\n" + a.idLine() + "Message: Command output follows\r\n")
	for _, l := range lines {
		a.write("Output: " + l + "\r\n")
	}
	a.write("\r\n")
	return 0
}

// cli runs the few CLI commands the fake knows and returns their output
// lines, and false for an unknown command.
func (m *manager) cli(norm, raw string) ([]string, bool) {
	switch norm {
	case "core show version":
		return []string{"Asterisk " + m.cfg.version.String() + " built by httpamitest @ fake on a x86_64 running Linux on " +
			m.started.UTC().Format("2006-01-02 15:04:05") + " UTC"}, true
	case "core show channels":
		return m.chans.cliShowChannels(), true
	case "core show uptime":
		up := m.cfg.clock.Now().Sub(m.started).Truncate(time.Second)
		return []string{"System uptime: " + up.String(), "Last reload: " + up.String()}, true
	}
	words := strings.Fields(raw)
	hint := strings.Join(words[:min(2, len(words))], " ")
	return []string{fmt.Sprintf("No such command '%s' (type 'core show help %s' for other possible commands)", raw, hint)}, false
}

// variable reads a global variable or one of the dialplan functions the
// fake knows (GLOBAL(name)).
func (m *manager) variableLocked(name string) string {
	if inner, ok := strings.CutPrefix(name, "GLOBAL("); ok && strings.HasSuffix(inner, ")") {
		return m.globals[strings.TrimSuffix(inner, ")")]
	}
	return m.globals[name]
}

func (m *manager) actGetvar(a *actx) int {
	name := a.get("Variable")
	if name == "" {
		a.fail("No variable specified")
		return 0
	}
	if ch := a.get("Channel"); ch != "" {
		v, ok := m.chans.getvar(ch, name)
		if !ok {
			a.fail("No such channel")
			return 0
		}
		a.startAck()
		a.write("Variable: " + name + "\r\nValue: " + v + "\r\n\r\n")
		return 0
	}
	m.mu.Lock()
	v := m.variableLocked(name)
	m.mu.Unlock()
	a.startAck()
	a.write("Variable: " + name + "\r\nValue: " + v + "\r\n\r\n")
	return 0
}

func (m *manager) actSetvar(a *actx) int {
	name := a.get("Variable")
	if name == "" {
		a.fail("No variable specified")
		return 0
	}
	value := a.get("Value")
	if ch := a.get("Channel"); ch != "" {
		if !m.chans.setvar(ch, name, value) {
			a.fail("No such channel")
			return 0
		}
		a.ack("Variable Set")
		return 0
	}
	m.mu.Lock()
	if inner, ok := strings.CutPrefix(name, "GLOBAL("); ok && strings.HasSuffix(inner, ")") {
		name = strings.TrimSuffix(inner, ")")
	}
	m.globals[name] = value
	m.publishLocked("VarSet", 2048, "Channel: none\r\nUniqueid: none\r\nVariable: "+name+"\r\nValue: "+value+"\r\n")
	m.mu.Unlock()
	a.ack("Variable Set")
	return 0
}

func (m *manager) actQueueStatus(a *actx) int {
	a.listAck("Queue status will follow")
	qs := m.queues(a.get("Queue"))
	for _, q := range qs {
		a.write("Event: QueueParams\r\nQueue: " + q + "\r\nMax: 0\r\nStrategy: ringall\r\nCalls: 0\r\nHoldtime: 0\r\nTalkTime: 0\r\n" +
			"Completed: 0\r\nAbandoned: 0\r\nServiceLevel: 0\r\nServicelevelPerf: 0.0\r\nServicelevelPerf2: 0.0\r\nWeight: 0\r\n" + a.idLine() + "\r\n")
	}
	a.listComplete("QueueStatusComplete", len(qs), "")
	return 0
}

func (m *manager) actQueueSummary(a *actx) int {
	a.listAck("Queue summary will follow")
	qs := m.queues(a.get("Queue"))
	for _, q := range qs {
		a.write("Event: QueueSummary\r\nQueue: " + q + "\r\nLoggedIn: 0\r\nAvailable: 0\r\nCallers: 0\r\nHoldTime: 0\r\nTalkTime: 0\r\nLongestHoldTime: 0\r\n" + a.idLine() + "\r\n")
	}
	a.listComplete("QueueSummaryComplete", len(qs), "")
	return 0
}

// queues returns the configured queues, or only the one named.
func (m *manager) queues(name string) []string {
	if name == "" {
		return m.cfg.queues
	}
	var qs []string
	for _, q := range m.cfg.queues {
		if q == name {
			qs = append(qs, q)
		}
	}
	return qs
}

func (m *manager) actAgents(a *actx) int {
	a.listAck("Agents will follow")
	for _, ag := range m.cfg.agents {
		a.write("Event: Agents\r\nAgent: " + ag.ID + "\r\nName: " + ag.Name + "\r\nStatus: AGENT_LOGGEDOFF\r\n" + a.idLine() + "\r\n")
	}
	a.listComplete("AgentsComplete", len(m.cfg.agents), "")
	return 0
}

func (m *manager) actDeviceStateList(a *actx) int {
	a.listAck("Device State Changes will follow")
	n := 0
	for _, ag := range m.cfg.agents {
		a.write("Event: DeviceStateChange\r\n" + a.idLine() + "Device: Agent:" + ag.ID + "\r\nState: UNAVAILABLE\r\n\r\n")
		n++
	}
	for _, q := range m.cfg.queues {
		a.write("Event: DeviceStateChange\r\n" + a.idLine() + "Device: Queue:" + q + "_avail\r\nState: INUSE\r\n\r\n")
		n++
	}
	a.listComplete("DeviceStateListComplete", n, "")
	return 0
}

func (m *manager) actListCategories(a *actx) int {
	if !strings.EqualFold(a.get("Filename"), "extensions.conf") {
		a.fail("Config file not found")
		return 0
	}
	a.startAck()
	cats := []string{"general", "globals"}
	for _, c := range m.cfg.dialplan.Contexts {
		cats = append(cats, c.Name)
	}
	for i, c := range cats {
		a.write(fmt.Sprintf("Category-%06d: %s\r\n", i, c))
	}
	a.write("\r\n")
	return 0
}

func (m *manager) actShowDialPlan(a *actx) int {
	want := a.get("Context")
	if want != "" && !slices.ContainsFunc(m.cfg.dialplan.Contexts, func(c Context) bool { return strings.EqualFold(c.Name, want) }) {
		a.fail("Did not find context " + want)
		return 0
	}
	a.listAck("DialPlan list will follow")
	items, exts, ctxs := 0, 0, 0
	for _, c := range m.cfg.dialplan.Contexts {
		if want != "" && !strings.EqualFold(want, c.Name) {
			continue
		}
		ctxs++
		for _, e := range c.Extensions {
			exts++
			for i, st := range e.Steps {
				items++
				a.write("Event: ListDialplan\r\n" + a.idLine() + "Context: " + c.Name + "\r\nExtension: " + e.Exten +
					"\r\nPriority: " + strconv.Itoa(i+1) + "\r\nApplication: " + st.App + "\r\nAppData: " + st.Data +
					"\r\nRegistrar: pbx_config\r\n\r\n")
			}
		}
	}
	a.write("Event: ShowDialPlanComplete\r\n" + a.idLine() + "EventList: Complete\r\nListItems: " + strconv.Itoa(items) +
		"\r\nListExtensions: " + strconv.Itoa(exts) + "\r\nListPriorities: " + strconv.Itoa(items) +
		"\r\nListContexts: " + strconv.Itoa(ctxs) + "\r\n\r\n")
	return 0
}
