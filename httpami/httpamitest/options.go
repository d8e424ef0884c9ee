package httpamitest

import (
	"strings"
	"time"
)

// A User is a manager.conf user section.
type User struct {
	// Name is the section name; logins match it case-insensitively, but
	// digest hashes use it as written here, as Asterisk's do.
	Name string
	// Secret is the plain password.
	Secret string
	// Read and Write are manager.conf class lists such as "system,call"
	// or "all"; empty means no class.
	Read, Write string
	// EventFilters are manager.conf eventfilter lines, applied to the
	// WaitEvent answers of cookie sessions logged in as this user (not to
	// digest sessions, as in Asterisk): a regular expression matched
	// against the whole event text, excluding when it starts with "!".
	EventFilters []string
}

// A Version selects the behaviours that changed between Asterisk releases.
type Version int

const (
	// Asterisk23 behaves as Asterisk 23.4.1 (and 14 to 22 for everything
	// the fake simulates): Command answers with Output lines, POST bodies
	// up to 40960 bytes, mxml names with a leading digit get "_".
	Asterisk23 Version = iota
	// Asterisk13 behaves as Asterisk 13.38.3: Command answers
	// "Response: Follows" with raw output and "--END COMMAND--", POST
	// bodies are limited to 4096 bytes, FullyBooted has no Uptime, and
	// mxml names keep a leading digit.
	Asterisk13
)

// String returns the release the version simulates, such as "23.4.1".
func (v Version) String() string {
	if v == Asterisk13 {
		return "13.38.3"
	}
	return "23.4.1"
}

// An Option configures a Server.
type Option func(*config)

type config struct {
	users           []User
	httpTimeout     int // seconds
	prefix          string
	clock           Clock
	version         Version
	timestampEvents bool
	systemName      string
	realm           string
	ids             func() uint32
	challenges      func() uint32
	dialplan        Dialplan
	globals         map[string]string
	queues          []string
	agents          []Agent
}

func defaultConfig() config {
	return config{
		httpTimeout:     60,
		clock:           systemClock{},
		timestampEvents: true,
		realm:           "asterisk",
		dialplan:        DefaultDialplan(),
		globals:         map[string]string{"GLOBALVAR": "hello-global"},
		queues:          []string{"support"},
		agents:          []Agent{{ID: "1001", Name: "Test Agent"}},
	}
}

// WithUser adds a manager user. Without any WithUser option the server
// has one user, hello with secret world, reading and writing all classes.
func WithUser(u User) Option {
	return func(c *config) { c.users = append(c.users, u) }
}

// WithHTTPTimeout sets manager.conf httptimeout (default 60 s), in whole
// seconds: the cookie's Max-Age, the session lifetime and the WaitEvent
// cap derive from it. Values under one second are ignored, as Asterisk
// ignores values of zero or less.
func WithHTTPTimeout(d time.Duration) Option {
	return func(c *config) {
		if s := int(d / time.Second); s > 0 {
			c.httpTimeout = s
		}
	}
}

// WithPrefix sets http.conf prefix: with "asterisk" the endpoints are
// /asterisk/rawman and so on. As in Asterisk, a "/" is put in front of the
// configured text, so "/asterisk" makes the paths start with "//asterisk".
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithClock makes the server read time and run its timers on clk,
// typically a [*FakeClock].
func WithClock(clk Clock) Option {
	return func(c *config) { c.clock = clk }
}

// WithVersion selects the Asterisk behaviours to simulate (default
// [Asterisk23]).
func WithVersion(v Version) Option {
	return func(c *config) { c.version = v }
}

// WithTimestampEvents sets manager.conf timestampevents (default on, as
// in the reference configuration of the recordings): events then carry a
// Timestamp header after Privilege.
func WithTimestampEvents(on bool) Option {
	return func(c *config) { c.timestampEvents = on }
}

// WithSystemName sets asterisk.conf systemname: it becomes the digest
// realm and the SystemName of CoreSettings.
func WithSystemName(name string) Option {
	return func(c *config) {
		c.systemName = name
		if name != "" {
			c.realm = name
		}
	}
}

// WithDialplan replaces the simulated dialplan (default [DefaultDialplan]).
func WithDialplan(d Dialplan) Option {
	return func(c *config) { c.dialplan = d }
}

// WithGlobal sets a global dialplan variable, as extensions.conf
// [globals] does (default GLOBALVAR=hello-global).
func WithGlobal(name, value string) Option {
	return func(c *config) { c.globals[name] = value }
}

// WithQueues replaces the queues.conf queues listed by QueueStatus,
// QueueSummary and DeviceStateList (default: one empty queue, support).
func WithQueues(names ...string) Option {
	return func(c *config) { c.queues = names }
}

// WithAgents replaces the agents.conf agents listed by Agents and
// DeviceStateList (default: agent 1001, Test Agent, logged off).
func WithAgents(agents ...Agent) Option {
	return func(c *config) { c.agents = agents }
}

// withIDs makes the server take session ids and digest nonces from ids,
// and MD5 challenges from challenges, instead of random numbers. The
// transcript replay uses it to hand out the ids the recording shows.
func withIDs(ids, challenges func() uint32) Option {
	return func(c *config) { c.ids, c.challenges = ids, challenges }
}

func (c *config) user(name string) *User {
	for i := range c.users {
		if strings.EqualFold(c.users[i].Name, name) {
			return &c.users[i]
		}
	}
	return nil
}

func (c *config) serverName() string { return "Asterisk/" + c.version.String() }

func (c *config) maxBody() int {
	if c.version == Asterisk13 {
		return 4096
	}
	return 40960
}
