package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/httpami/events"
)

// columns returns the blank-separated columns of each line of out.
func columns(out string) [][]string {
	var rows [][]string
	for line := range strings.Lines(out) {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

// TestActionsList checks the columns of "amihttp actions", its PATTERN and
// that it needs no Asterisk.
func TestActionsList(t *testing.T) {
	r := runAmihttp(t, nil, "actions")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	assert.Empty(t, r.stderr)
	rows := columns(r.stdout)
	require.Len(t, rows, len(actions.All()), "one line an action")
	byName := map[string][]string{}
	for _, row := range rows {
		require.GreaterOrEqual(t, len(row), 3, "name, privilege, versions: %q", row)
		byName[row[0]] = row[1:]
	}
	tests := []struct {
		name string
		want []string
	}{
		{"Originate", []string{"originate", "13-23"}},
		{"Ping", []string{"-", "13-23"}},
		{"CoreShowChannels", []string{"system,reporting", "13-23", "list"}},
		{"PJSIPHangup", []string{"system,call", "18-23", "list"}},
		{"UserEvent", []string{"user", "13-23", "free-form"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, byName[tt.name], "the line of %s", tt.name)
	}

	for _, tt := range []struct {
		pattern string
		want    []string
	}{
		{"originate", []string{"Originate"}},
		{"DBGet", []string{"DBGet", "DBGetTree"}},
		{"dbget", []string{"DBGet", "DBGetTree"}},
		{"db*tree", []string{"DBDelTree", "DBGetTree"}},
		{"Pi?g", []string{"Ping"}},
	} {
		r := runAmihttp(t, nil, "actions", tt.pattern)
		require.Equal(t, exitOK, r.code, "actions %q: stderr: %s", tt.pattern, r.stderr)
		var names []string
		for _, row := range columns(r.stdout) {
			names = append(names, row[0])
		}
		assert.Equal(t, tt.want, names, "actions %q", tt.pattern)
	}

	r = runAmihttp(t, nil, "actions", "NoSuchThing")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "amihttp: no action of the catalog matches \"NoSuchThing\"\n", r.stderr)
	assert.Empty(t, r.stdout)
}

// TestActionsJSON checks "amihttp actions --json".
func TestActionsJSON(t *testing.T) {
	r := runAmihttp(t, nil, "actions", "--json", "Ping")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, `{"Name":"Ping","Privilege":[],"Versions":[13,16,18,20,22,23],"Since":["0.2.0"],"Module":"builtin","Params":[{"Name":"ActionID","Versions":[13,16,18,20,22,23]}]}`+"\n", r.stdout)

	r = runAmihttp(t, nil, "actions", "PJSIPNotify", "--json")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	var a struct {
		Name      string
		Privilege []string
		Versions  []int
		Params    []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &a), r.stdout)
	assert.Equal(t, "PJSIPNotify", a.Name)
	assert.Equal(t, []string{"system"}, a.Privilege)
	var variable map[string]any
	for _, p := range a.Params {
		if p["Name"] == "Variable" {
			variable = p
		}
	}
	require.NotNil(t, variable, r.stdout)
	assert.Equal(t, true, variable["Required"])
	assert.Equal(t, []any{13.0, 16.0}, variable["RequiredIn"])
	assert.Equal(t, true, variable["Multiple"])

	r = runAmihttp(t, nil, "actions", "--json")
	require.Equal(t, exitOK, r.code)
	assert.Len(t, jsonLines(t, r.stdout), len(actions.All()))
}

// TestActionHelp checks that "amihttp action NAME --help" describes the
// action NAME from the catalog, before the command's own help.
func TestActionHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string // regular expressions, in order
	}{
		{[]string{"action", "Originate", "--help"}, []string{
			`(?m)^Usage: amihttp action NAME`,
			`(?m)^Action Originate$`,
			`(?m)^  Privilege: +originate \(the write class that allows it\)$`,
			`(?m)^  Asterisk: +13 to 23, since 0\.2\.0$`,
			`(?m)^Parameters, as Key=Value:$`,
			`(?m)^  ActionID +the client adds one unless given$`,
			`(?m)^  Channel +required$`,
			`(?m)^  Exten$`,
			`(?m)^  Timeout +default 30000$`,
			`(?m)^  Variable +may repeat$`,
			`(?m)^  PreDialGoSub +Asterisk 18 to 23$`,
			`(?m)^Action sends the AMI action NAME`,
			`(?m)^Connection flags:$`,
		}},
		{[]string{"action", "-h", "originate"}, []string{`(?m)^Action Originate$`, `(?m)^  Channel +required$`}},
		{[]string{"action", "FilterList", "--help"}, []string{`(?m)^  Asterisk: +13 \(documented only: no version registers it, and it is refused\)$`}},
		{[]string{"help", "action", "ORIGINATE"}, []string{`(?m)^Action Originate$`, `(?m)^  Channel +required$`}},
		{[]string{"action", "--url", "http://x/", "AOCMessage", "MsgType=D", "--help"}, []string{
			`(?m)^  Channel +required in Asterisk 13 to 16$`,
			`(?m)^  MsgType +required; values S, D, E$`,
			`(?m)^  UnitAmount\(N\) +indexed UnitAmount\(0\), UnitAmount\(1\), \.\.\.$`,
			`(?m)^  ChargedItem +Asterisk 18 to 23; may repeat; values NA,`,
		}},
		{[]string{"action", "UpdateConfig", "--help"}, []string{
			`(?m)^  Action-NNNNNN +numbered Action-000000,\s+Action-000001,\s+\.\.\.;\s+values\s+NewCat,`,
		}},
		{[]string{"action", "PJSIPHangup", "--help"}, []string{
			`(?m)^  Privilege: +system,call \(the write classes that allow it; any one will do\)$`,
			`(?m)^  Asterisk: +18 to 23, since 21\.1\.0, 20\.6\.0 and 18\.21\.0$`,
			`(?m)^  Answer: +a list of events, ended by ChannelsHungupListComplete$`,
		}},
		{[]string{"action", "Ping", "--help"}, []string{`(?m)^  Privilege: +none needed$`}},
		{[]string{"action", "UserEvent", "--help"}, []string{`(?m)^  Headers: +any, besides those below \(free-form\)$`, `(?m)^  UserEvent +required$`}},
		{[]string{"action", "Hangpu", "--help"}, []string{
			`(?m)^Usage: amihttp action NAME`,
			`(?m)^Hangpu is not an action of the catalog \(Asterisk 13 to 23\)\.$`,
			`(?m)^Did you mean Hangup\? An action of a custom module is sent all the same,$`,
			`(?m)^Action sends the AMI action NAME`,
		}},
		{[]string{"action", "MyCustomThing", "--help"}, []string{`(?m)^MyCustomThing is not an action of the catalog \(Asterisk 13 to 23\)\.\nAn action of a custom module`}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runAmihttp(t, nil, tt.args...)
			require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stderr)
			rest := r.stdout
			for _, re := range tt.want {
				loc := regexp.MustCompile(re).FindStringIndex(rest)
				if !assert.NotNil(t, loc, "%s, in order, in:\n%s", re, r.stdout) {
					break
				}
				rest = rest[loc[1]:]
			}
			for line := range strings.Lines(r.stdout) {
				assert.False(t, strings.HasSuffix(strings.TrimSuffix(line, "\n"), " "), "trailing blank: %q", line)
			}
		})
	}

	// Without NAME, only the command's help.
	r := runAmihttp(t, nil, "action", "--help")
	require.Equal(t, exitOK, r.code)
	assert.NotContains(t, r.stdout, "Parameters, as Key=Value")
}

// TestActionHelpCoversCatalog checks that the help of every action of the
// catalog names each of its parameters and says required where the
// catalog does.
func TestActionHelpCoversCatalog(t *testing.T) {
	for _, s := range actions.All() {
		var b strings.Builder
		actionTopic(&b, []string{s.Name})
		out := b.String()
		assert.Contains(t, out, "Action "+s.Name+"\n")
		for _, p := range s.Params {
			line := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(paramName(p)) + `( .*)?$`).FindString(out)
			if !assert.NotEmpty(t, line, "%s: parameter %s in:\n%s", s.Name, p.Name, out) {
				continue
			}
			if p.Required {
				assert.Contains(t, line, "required", "%s: parameter %s", s.Name, p.Name)
			}
		}
	}
}

// TestEventsList checks "amihttp events --list", which needs no Asterisk.
func TestEventsList(t *testing.T) {
	r := runAmihttp(t, nil, "events", "--list")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	rows := columns(r.stdout)
	require.Len(t, rows, len(events.All()))

	r = runAmihttp(t, nil, "events", "hangup*", "--list")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, [][]string{
		{"Hangup", "call", "13-23"},
		{"HangupHandlerPop", "dialplan", "13-23"},
		{"HangupHandlerPush", "dialplan", "13-23"},
		{"HangupHandlerRun", "dialplan", "13-23"},
		{"HangupRequest", "call", "13-23"},
	}, columns(r.stdout))

	for _, s := range events.All() {
		if s.Documented {
			continue
		}
		r := runAmihttp(t, nil, "events", "--list", s.Name)
		require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
		found := false
		for _, row := range columns(r.stdout) {
			if row[0] == s.Name {
				found = true
				assert.Equal(t, "undocumented", row[len(row)-1], "the line of %s", s.Name)
			}
		}
		assert.True(t, found, "%s in:\n%s", s.Name, r.stdout)
		break
	}

	r = runAmihttp(t, nil, "events", "--list", "NoSuchThing")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, `no event of the catalog matches "NoSuchThing"`)
}

// TestSuggest checks the names offered for a misspelt one.
func TestSuggest(t *testing.T) {
	names := []string{"Hangup", "HangupHandlerPop", "HangupHandlerPush", "HangupHandlerRun", "HangupRequest", "Newchannel", "DialBegin", "DialEnd"}
	tests := []struct {
		name string
		want []string
	}{
		{"Hangpu", []string{"Hangup"}},
		{"hangup", []string{"Hangup", "HangupHandlerPop", "HangupHandlerPush", "HangupHandlerRun", "HangupRequest"}},
		{"Hang", []string{"Hangup", "HangupHandlerPop", "HangupHandlerPush", "HangupHandlerRun", "HangupRequest"}},
		{"NewChanel", []string{"Newchannel"}},
		{"Dial", []string{"DialBegin", "DialEnd"}},
		{"Zzz", nil},
		{"", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, suggestNames(tt.name, names), "suggestNames(%q)", tt.name)
	}
}

// TestMajors checks how version lists are written.
func TestMajors(t *testing.T) {
	require.Equal(t, []int{13, 16, 18, 20, 22, 23}, catalogMajors())
	tests := []struct {
		ms          []int
		text, short string
	}{
		{[]int{13, 16, 18, 20, 22, 23}, "13 to 23", "13-23"},
		{[]int{18, 20, 22, 23}, "18 to 23", "18-23"},
		{[]int{13, 16}, "13 to 16", "13-16"},
		{[]int{13, 20}, "13 and 20", "13,20"},
		{[]int{13, 16, 22}, "13, 16 and 22", "13,16,22"},
		{[]int{23}, "23", "23"},
		{nil, "", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.text, majorsText(tt.ms), "majorsText(%v)", tt.ms)
		assert.Equal(t, tt.short, majorsShort(tt.ms), "majorsShort(%v)", tt.ms)
	}
}
