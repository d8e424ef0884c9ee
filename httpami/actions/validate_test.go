package actions_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/actions"
)

// kv returns the fields of alternating keys and values.
func kv(s ...string) []rawman.Field {
	var out []rawman.Field
	for i := 0; i+1 < len(s); i += 2 {
		out = append(out, rawman.Field{Key: s[i], Value: s[i+1]})
	}
	return out
}

// originate is a valid Originate.
var originate = kv("Channel", "PJSIP/100", "Context", "default", "Exten", "200", "Priority", "1")

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		params  []rawman.Field
		version string
		wantErr error    // nil for a valid action
		param   string   // ValidationError.Param
		want    []string // substrings of the message
	}{
		{name: "valid", action: "Originate", params: originate},
		{name: "valid on 23", action: "Originate", params: originate, version: "23.4.1"},
		{name: "valid on 13", action: "Originate", params: originate, version: "13.38.3"},
		{name: "no Channel", action: "Originate", params: kv("Exten", "200", "Context", "default"),
			wantErr: actions.ErrMissingParam, param: "Channel", want: []string{"Originate", "Channel", "missing"}},
		{name: "empty Channel", action: "Originate", params: kv("Channel", "", "Exten", "200"),
			wantErr: actions.ErrMissingParam, param: "Channel"},
		{name: "no params", action: "Originate",
			wantErr: actions.ErrMissingParam, param: "Channel"},
		{name: "typo", action: "Originate", params: append(kv("Chanel", "x"), originate...),
			wantErr: actions.ErrUnknownParam, param: "Chanel", want: []string{"Originate", "Chanel", "did you mean Channel?"}},
		{name: "unknown far from any", action: "Originate", params: append(kv("Frobnicate", "x"), originate...),
			wantErr: actions.ErrUnknownParam, param: "Frobnicate"},
		{name: "case-insensitive", action: "originate", params: kv("CHANNEL", "PJSIP/100", "context", "default", "eXtEn", "200")},
		{name: "Variable repeated", action: "Originate", params: append(kv("Variable", "a=1", "Variable", "b=2"), originate...)},
		{name: "ActionID", action: "Originate", params: append(kv("ActionID", "x"), originate...)},
		{name: "UpdateConfig numbered", action: "UpdateConfig",
			params: kv("SrcFilename", "a.conf", "DstFilename", "a.conf", "Action-000000", "NewCat", "Cat-000012", "x", "var-000001", "v")},
		{name: "UpdateConfig bad number", action: "UpdateConfig",
			params:  kv("SrcFilename", "a.conf", "DstFilename", "a.conf", "Action-12x", "NewCat"),
			wantErr: actions.ErrUnknownParam, param: "Action-12x"},
		{name: "UpdateConfig no number", action: "UpdateConfig",
			params:  kv("SrcFilename", "a.conf", "DstFilename", "a.conf", "Action-", "NewCat"),
			wantErr: actions.ErrUnknownParam, param: "Action-"},
		{name: "AOCMessage indexed", action: "AOCMessage",
			params: kv("Channel", "PJSIP/1", "MsgType", "D", "ChargeType", "Unit", "UnitAmount(3)", "7", "UnitType(3)", "2")},
		{name: "AOCMessage bad index", action: "AOCMessage",
			params:  kv("Channel", "PJSIP/1", "MsgType", "D", "UnitAmount(x)", "7"),
			wantErr: actions.ErrUnknownParam, param: "UnitAmount(x)"},
		{name: "UserEvent any header", action: "UserEvent", params: kv("UserEvent", "Mine", "Anything", "x", "Header1", "y")},
		{name: "UserEvent without UserEvent", action: "UserEvent", params: kv("Anything", "x"),
			wantErr: actions.ErrMissingParam, param: "UserEvent"},
		{name: "unknown action", action: "MyCustomAction", params: kv("Whatever", "x"), version: "23.4.1"},
		{name: "PJSIPHangup on 16", action: "PJSIPHangup", params: kv("Channel", "PJSIP/1", "Cause", "486"), version: "16.30.1",
			wantErr: actions.ErrUnavailable, want: []string{"PJSIPHangup", "16.30.1", "since", "18.21.0"}},
		{name: "PJSIPHangup on 18.20", action: "PJSIPHangup", params: kv("Channel", "PJSIP/1", "Cause", "486"), version: "18.20.0",
			wantErr: actions.ErrUnavailable, want: []string{"since", "18.21.0"}},
		{name: "PJSIPHangup on 18.21", action: "PJSIPHangup", params: kv("Channel", "PJSIP/1", "Cause", "486"), version: "18.21.0"},
		{name: "PJSIPHangup on 21.0", action: "PJSIPHangup", params: kv("Channel", "PJSIP/1", "Cause", "486"), version: "21.0.0",
			wantErr: actions.ErrUnavailable, want: []string{"21.1.0"}},
		{name: "PJSIPHangup on 21.1", action: "PJSIPHangup", params: kv("Channel", "PJSIP/1", "Cause", "486"), version: "21.1.0"},
		{name: "PJSIPHangup unknown version", action: "PJSIPHangup", params: kv("Channel", "PJSIP/1", "Cause", "486"), version: "GIT-master-abc"},
		{name: "SIPpeers on 22", action: "SIPpeers", version: "22.1.0",
			wantErr: actions.ErrUnavailable, want: []string{"SIPpeers", "22.1.0", "last documented in Asterisk 20"}},
		{name: "SIPpeers on 20", action: "SIPpeers", version: "20.1.0"},
		{name: "FilterList, never registered", action: "FilterList", version: "13.1.0",
			wantErr: actions.ErrUnavailable, want: []string{"FilterList is not an action of Asterisk 13.1.0", "no version registers it"}},
		{name: "FilterList, any version", action: "FilterList",
			wantErr: actions.ErrUnavailable, want: []string{"FilterList is not an action of Asterisk any version", "documented in Asterisk 13"}},
		{name: "AOCMessage between majors", action: "AOCMessage", params: kv("MsgType", "D"), version: "17.0.0"},
		{name: "AOCMessage on 16", action: "AOCMessage", params: kv("MsgType", "D"), version: "16.1.0",
			wantErr: actions.ErrMissingParam, param: "Channel"},
		{name: "SIPpeers on 13", action: "SIPpeers", version: "13.38.3"},
		{name: "SIPpeers unknown version", action: "SIPpeers"},
		{name: "PreDialGoSub on 16", action: "Originate", params: append(kv("PreDialGoSub", "s,1"), originate...), version: "16.30.1",
			wantErr: actions.ErrUnknownParam, param: "PreDialGoSub", want: []string{"PreDialGoSub", "16.30.1", "documented in Asterisk 18 to 23"}},
		{name: "PreDialGoSub on 18", action: "Originate", params: append(kv("PreDialGoSub", "s,1"), originate...), version: "18.26.4"},
		{name: "PreDialGoSub unknown version", action: "Originate", params: append(kv("PreDialGoSub", "s,1"), originate...), version: ""},
		{name: "AOCMessage no Channel on 13", action: "AOCMessage", params: kv("MsgType", "D", "ChargeType", "Free"), version: "13.1.0",
			wantErr: actions.ErrMissingParam, param: "Channel"},
		{name: "AOCMessage no Channel on 23", action: "AOCMessage", params: kv("MsgType", "D", "ChargeType", "Free"), version: "23.4.1"},
		{name: "AOCMessage no Channel, version unknown", action: "AOCMessage", params: kv("MsgType", "D", "ChargeType", "Free")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := actions.Validate(tt.action, tt.params, tt.version)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate(%q, %v, %q) = %v, want nil", tt.action, tt.params, tt.version, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate(%q, %v, %q) = %v, want %v", tt.action, tt.params, tt.version, err, tt.wantErr)
			}
			ve, ok := errors.AsType[*actions.ValidationError](err)
			if !ok {
				t.Fatalf("Validate = %T, want a *ValidationError", err)
			}
			if ve.Param != tt.param {
				t.Errorf("Param = %q, want %q", ve.Param, tt.param)
			}
			if s, _ := actions.Lookup(tt.action); ve.Action != s.Name {
				t.Errorf("Action = %q, want %q", ve.Action, s.Name)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "actions: ") {
				t.Errorf("Error() = %q, want the package prefix", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Error() = %q, want it to contain %q", msg, w)
				}
			}
		})
	}
}

// TestValidateError checks the exact message of the common case.
func TestValidateError(t *testing.T) {
	err := actions.Validate("Originate", kv("Exten", "200"), "")
	const want = "actions: Originate: missing required parameter Channel"
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.Is(wrapped, actions.ErrMissingParam) || errors.Is(wrapped, actions.ErrUnknownParam) {
		t.Errorf("errors.Is through a wrapper: want ErrMissingParam only")
	}
	if ve, ok := errors.AsType[*actions.ValidationError](wrapped); !ok || ve.Param != "Channel" {
		t.Errorf("errors.AsType through a wrapper = %v, %v", ve, ok)
	}
}

// TestSpecValidate checks that the method and the function agree.
func TestSpecValidate(t *testing.T) {
	s, ok := actions.Lookup("Originate")
	if !ok {
		t.Fatal("no Originate")
	}
	if err := s.Validate(originate, "23.4.1"); err != nil {
		t.Errorf("Spec.Validate(valid) = %v", err)
	}
	if err := s.Validate(nil, "23.4.1"); !errors.Is(err, actions.ErrMissingParam) {
		t.Errorf("Spec.Validate(nil) = %v, want ErrMissingParam", err)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want actions.Version
		ok   bool
	}{
		{"23.4.1", actions.Version{Major: 23, Minor: 4, Patch: 1}, true},
		{"22.0.0-rc1", actions.Version{Major: 22}, true},
		{"certified/18.9-cert5", actions.Version{Major: 18, Minor: 9}, true},
		{"13.38.3", actions.Version{Major: 13, Minor: 38, Patch: 3}, true},
		{"20", actions.Version{Major: 20}, true},
		{"GIT-master-abc", actions.Version{}, false},
		{"", actions.Version{}, false},
		{"certified/", actions.Version{}, false},
		{"v23.4.1", actions.Version{}, false},
		{"12345678.1", actions.Version{}, false},
	}
	for _, tt := range tests {
		got, ok := actions.ParseVersion(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got := (actions.Version{Major: 18, Minor: 9}).String(); got != "18.9.0" {
		t.Errorf("String() = %q, want 18.9.0", got)
	}
}

func TestVersionDependent(t *testing.T) {
	tests := []struct {
		name   string
		action string
		params []rawman.Field
		want   bool
	}{
		{"Originate", "Originate", originate, false},
		{"Originate with PreDialGoSub", "Originate", append(kv("PreDialGoSub", "s,1"), originate...), true},
		{"PJSIPHangup", "PJSIPHangup", kv("Channel", "PJSIP/1", "Cause", "486"), true},
		{"Ping", "Ping", nil, false},
		{"unknown action", "MyCustomAction", nil, false},
		{"AOCMessage: Channel required in some versions only", "AOCMessage", kv("Channel", "x", "MsgType", "D"), true},
		{"SIPpeers: gone after 20", "SIPpeers", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := actions.VersionDependent(tt.action, tt.params); got != tt.want {
				t.Errorf("VersionDependent(%q, %v) = %v, want %v", tt.action, tt.params, got, tt.want)
			}
		})
	}
}

// TestVersionIndependentVerdict checks what VersionDependent promises: when
// it says false, Validate gives the same verdict on every covered version
// as without one, for every action of the catalog and its minimal valid
// parameters.
func TestVersionIndependentVerdict(t *testing.T) {
	versions := []string{"13.38.3", "16.30.1", "18.26.4", "20.20.1", "22.10.1", "23.4.1"}
	checked := 0
	for _, s := range actions.All() {
		var params []rawman.Field
		for _, p := range s.Params {
			if p.Required && p.Pattern == "" {
				params = append(params, rawman.Field{Key: p.Name, Value: "x"})
			}
		}
		if actions.VersionDependent(s.Name, params) {
			continue
		}
		checked++
		want := actions.Validate(s.Name, params, "")
		for _, v := range versions {
			if got := actions.Validate(s.Name, params, v); (got == nil) != (want == nil) {
				t.Errorf("%s: Validate on %s = %v, without version %v, but VersionDependent = false", s.Name, v, got, want)
			}
		}
	}
	if checked == 0 {
		t.Error("no action is version-independent")
	}
}

func TestParams(t *testing.T) {
	t.Run("UpdateConfig Extra after fields", func(t *testing.T) {
		a := &actions.UpdateConfig{
			SrcFilename: "extensions.conf", DstFilename: "extensions.conf", Reload: "yes",
			Extra: kv("Action-000000", "NewCat", "Cat-000000", "test"),
		}
		got, err := actions.Params(a)
		if err != nil {
			t.Fatal(err)
		}
		want := kv("SrcFilename", "extensions.conf", "DstFilename", "extensions.conf", "Reload", "yes",
			"Action-000000", "NewCat", "Cat-000000", "test")
		if !slices.Equal(got, want) {
			t.Errorf("Params = %v, want %v", got, want)
		}
		if err := actions.Validate(a.ActionName(), got, "23.4.1"); err != nil {
			t.Errorf("Validate(Params) = %v", err)
		}
	})
	t.Run("Originate Variable sorted", func(t *testing.T) {
		a := &actions.Originate{
			Channel: "PJSIP/100", Exten: "200", Context: "default", Priority: "1",
			Variable: map[string]string{"b": "2", "a": "1", "c": "x=y"},
		}
		got, err := actions.Params(a)
		if err != nil {
			t.Fatal(err)
		}
		want := kv("Channel", "PJSIP/100", "Exten", "200", "Context", "default", "Priority", "1",
			"Variable", "a=1", "Variable", "b=2", "Variable", "c=x=y")
		if !slices.Equal(got, want) {
			t.Errorf("Params = %v, want %v", got, want)
		}
	})
	t.Run("zero action", func(t *testing.T) {
		got, err := actions.Params(&actions.Ping{})
		if err != nil || len(got) != 0 {
			t.Errorf("Params(&Ping{}) = %v, %v; want no field", got, err)
		}
	})
	t.Run("every type marshals", func(t *testing.T) {
		for _, s := range actions.All() {
			if _, err := actions.Params(s.New()); err != nil {
				t.Errorf("Params(%T) = %v", s.New(), err)
			}
		}
	})
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"23.4.1", "23.4.1", 0},
		{"18.20.0", "18.21.0", -1},
		{"20.6.0", "18.21.0", 1},
		{"22.0.0-rc1", "22.0.0", 0},
		{"13.38.3", "13.4.0", 1},
	}
	for _, tt := range tests {
		a, _ := actions.ParseVersion(tt.a)
		b, _ := actions.ParseVersion(tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
