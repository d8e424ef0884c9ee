package events_test

import (
	"errors"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/encoding/mxml"
	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/events"
)

// hangupRawman is a Hangup as Asterisk 23 sent it
// (originate/006-waitevent-after-originate-4-rawman).
const hangupRawman = "Event: Hangup\r\n" +
	"Privilege: call,all\r\n" +
	"Timestamp: 1796035315.017361\r\n" +
	"Channel: Local/100@test-00000002;1\r\n" +
	"ChannelState: 6\r\n" +
	"ChannelStateDesc: Up\r\n" +
	"CallerIDNum: <unknown>\r\n" +
	"CallerIDName: <unknown>\r\n" +
	"ConnectedLineNum: <unknown>\r\n" +
	"ConnectedLineName: <unknown>\r\n" +
	"Language: en\r\n" +
	"AccountCode: \r\n" +
	"Context: test\r\n" +
	"Exten: 100\r\n" +
	"Priority: 1\r\n" +
	"Uniqueid: 1796035312.6\r\n" +
	"Linkedid: 1796035312.6\r\n" +
	"Cause: 16\r\n" +
	"Cause-txt: Normal Clearing\r\n" +
	"\r\n"

// hangupMXML is the same event as Asterisk's mxml writes it, by hand.
const hangupMXML = "<ajax-response>\r\n" +
	"<response type='object' id='unknown'><generic event='Hangup' privilege='call,all' timestamp='1796035315.017361' " +
	"channel='Local/100@test-00000002;1' channelstate='6' channelstatedesc='Up' calleridnum='&lt;unknown&gt;' " +
	"calleridname='&lt;unknown&gt;' connectedlinenum='&lt;unknown&gt;' connectedlinename='&lt;unknown&gt;' " +
	"language='en' accountcode='' context='test' exten='100' priority='1' uniqueid='1796035312.6' " +
	"linkedid='1796035312.6' cause='16' cause_txt='Normal Clearing' /></response>\r\n" +
	"</ajax-response>\r\n"

// wantHangup is hangupRawman as a *Hangup, written by hand.
var wantHangup = &events.Hangup{
	Envelope: events.Envelope{Event: "Hangup", Privilege: "call,all", Timestamp: "1796035315.017361"},
	ChannelSnapshot: events.ChannelSnapshot{
		Channel: "Local/100@test-00000002;1", ChannelState: "6", ChannelStateDesc: "Up",
		CallerIDNum: "<unknown>", CallerIDName: "<unknown>", ConnectedLineNum: "<unknown>", ConnectedLineName: "<unknown>",
		Language: "en", Context: "test", Exten: "100", Priority: "1",
		Uniqueid: "1796035312.6", Linkedid: "1796035312.6",
	},
	Cause: "16", CauseTxt: "Normal Clearing",
}

// parseRawman decodes the single message of a rawman text.
func parseRawman(t testing.TB, s string) *rawman.Message {
	t.Helper()
	m := new(rawman.Message)
	if err := rawman.NewDecoder(strings.NewReader(s)).Decode(m); err != nil {
		t.Fatalf("rawman Decode(%q): %v", s, err)
	}
	return m
}

// parseMXML decodes the single message of an mxml body.
func parseMXML(t testing.TB, s string) *rawman.Message {
	t.Helper()
	d := mxml.NewDecoder(strings.NewReader(s))
	m := new(rawman.Message)
	if err := d.Decode(m); err != nil {
		t.Fatalf("mxml Decode: %v", err)
	}
	if err := d.Decode(new(rawman.Message)); err != io.EOF {
		t.Fatalf("mxml Decode after the message = %v, want io.EOF", err)
	}
	return m
}

// msg builds a message from alternating keys and values.
func msg(kv ...string) *rawman.Message {
	m := new(rawman.Message)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Add(kv[i], kv[i+1])
	}
	return m
}

func TestDecodeHangup(t *testing.T) {
	tests := []struct {
		name string
		m    *rawman.Message
		keys rawman.KeyForm
	}{
		{"rawman", parseRawman(t, hangupRawman), rawman.KeysAMI},
		{"mxml", parseMXML(t, hangupMXML), rawman.KeysXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.m.Keys != tt.keys {
				t.Fatalf("decoded message has Keys %v, want %v", tt.m.Keys, tt.keys)
			}
			v, err := events.Decode(tt.m)
			if err != nil {
				t.Fatalf("Decode = %v", err)
			}
			h, ok := v.(*events.Hangup)
			if !ok {
				t.Fatalf("Decode = %T, want *events.Hangup", v)
			}
			if !reflect.DeepEqual(h, wantHangup) {
				t.Errorf("Decode =\n%+v\nwant\n%+v", h, wantHangup)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		m     *rawman.Message
		check func(t *testing.T, v any)
	}{
		{"Newexten as sent", msg("Event", "Newexten", "Privilege", "dialplan,all", "Channel", "Local/100@test-00000002;2",
			"Extension", "100", "Application", "Answer", "AppData", ""),
			func(t *testing.T, v any) {
				e, ok := v.(*events.NewExten)
				if !ok {
					t.Fatalf("Decode = %T, want *events.NewExten", v)
				}
				if e.Event != "Newexten" || e.Channel != "Local/100@test-00000002;2" || e.Extension != "100" || e.Application != "Answer" {
					t.Errorf("Decode = %+v", e)
				}
			}},
		{"lower-case name", msg("Event", "hangup", "Cause", "16"),
			func(t *testing.T, v any) {
				if h, ok := v.(*events.Hangup); !ok || h.Cause != "16" {
					t.Errorf("Decode = %#v, want *events.Hangup with Cause 16", v)
				}
			}},
		{"DialBegin Dest", msg("Event", "DialBegin", "DestChannel", "Local/100@test-00000002;1", "DestUniqueid", "1796035312.6",
			"DialString", "100@test"),
			func(t *testing.T, v any) {
				d, ok := v.(*events.DialBegin)
				if !ok {
					t.Fatalf("Decode = %T, want *events.DialBegin", v)
				}
				want := events.ChannelSnapshot{Channel: "Local/100@test-00000002;1", Uniqueid: "1796035312.6"}
				if !reflect.DeepEqual(d.Dest, want) || d.Channel != "" || d.DialString != "100@test" {
					t.Errorf("Decode = %+v; want Dest %+v and no main Channel", d, want)
				}
			}},
		{"ChanVariable both forms, prefixed too", msg("Event", "DialBegin", "Channel", "PJSIP/1",
			"ChanVariable", "a=1", "ChanVariable(PJSIP/1)", "b=2", "DestChanVariable", "c=3=4"),
			func(t *testing.T, v any) {
				d := v.(*events.DialBegin)
				if want := map[string]string{"a": "1", "b": "2"}; !maps.Equal(d.ChanVariable, want) {
					t.Errorf("ChanVariable = %v, want %v", d.ChanVariable, want)
				}
				if want := map[string]string{"c": "3=4"}; !maps.Equal(d.Dest.ChanVariable, want) {
					t.Errorf("Dest.ChanVariable = %v, want %v", d.Dest.ChanVariable, want)
				}
			}},
		{"BridgeMerge prefixes", msg("Event", "BridgeMerge", "ToBridgeUniqueid", "to", "FromBridgeUniqueid", "from"),
			func(t *testing.T, v any) {
				b := v.(*events.BridgeMerge)
				if b.ToBridge.BridgeUniqueid != "to" || b.FromBridge.BridgeUniqueid != "from" {
					t.Errorf("Decode = %+v", b)
				}
			}},
		{"list item ActionID", msg("Event", "CoreShowChannel", "ActionID", "l1", "Channel", "PJSIP/1"),
			func(t *testing.T, v any) {
				c := v.(*events.CoreShowChannel)
				if c.ActionID != "l1" || c.Channel != "PJSIP/1" {
					t.Errorf("Decode = %+v", c)
				}
			}},
		{"UserEvent headers", msg("Event", "UserEvent", "Privilege", "user,all", "UserEvent", "Many",
			"H003", "v3", "Channel", "PJSIP/1", "h004", "v4", "H003", "again", "ChanVariable(PJSIP/1)", "x=1"),
			func(t *testing.T, v any) {
				u := v.(*events.UserEvent)
				want := []rawman.Field{{Key: "H003", Value: "v3"}, {Key: "h004", Value: "v4"}, {Key: "H003", Value: "again"}}
				if !slices.Equal(u.Headers, want) {
					t.Errorf("Headers = %v, want %v", u.Headers, want)
				}
				if u.UserEvent != "Many" || u.Channel != "PJSIP/1" || u.ChanVariable["x"] != "1" {
					t.Errorf("Decode = %+v", u)
				}
			}},
		{"UserEvent headers, mxml", parseMXML(t, "<ajax-response>\r\n<response type='object' id='unknown'>"+
			"<generic event='UserEvent' privilege='user,all' userevent='Many' h003='v3' cause_txt='x' /></response>\r\n</ajax-response>\r\n"),
			func(t *testing.T, v any) {
				u := v.(*events.UserEvent)
				want := []rawman.Field{{Key: "h003", Value: "v3"}, {Key: "cause_txt", Value: "x"}}
				if !slices.Equal(u.Headers, want) || u.UserEvent != "Many" {
					t.Errorf("Decode = %+v, want Headers %v", u, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := events.Decode(tt.m)
			if err != nil {
				t.Fatalf("Decode = %v", err)
			}
			tt.check(t, v)
		})
	}
}

// TestDecodeEveryType decodes a message holding only the name of each
// event of the catalog.
func TestDecodeEveryType(t *testing.T) {
	for _, s := range events.All() {
		v, err := events.Decode(msg("Event", s.Name))
		if err != nil {
			t.Errorf("Decode(%s) = %v", s.Name, err)
			continue
		}
		if reflect.TypeOf(v) != reflect.PointerTo(s.Type()) {
			t.Errorf("Decode(%s) = %T, want *%v", s.Name, v, s.Type())
			continue
		}
		if ev := v.(events.Event); ev.EventName() != s.Name {
			t.Errorf("Decode(%s).EventName() = %q", s.Name, ev.EventName())
		}
	}
}

func TestDecodeUntyped(t *testing.T) {
	tests := []struct {
		name    string
		m       *rawman.Message
		wantErr error
	}{
		{"unknown event", msg("Event", "MyModuleEvent", "Foo", "bar"), nil},
		{"no Event key", msg("Response", "Success", "ActionID", "1"), events.ErrNotEvent},
		{"empty Event", msg("Event", "", "Foo", "bar"), events.ErrNotEvent},
		{"empty message", msg(), events.ErrNotEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := events.Decode(tt.m)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Decode = %v, want %v", err, tt.wantErr)
			}
			if got, ok := v.(*rawman.Message); !ok || got != tt.m {
				t.Errorf("Decode = %#v, want the message itself", v)
			}
		})
	}
	v, err := events.Decode(nil)
	if v != nil || !errors.Is(err, events.ErrNotEvent) {
		t.Errorf("Decode(nil) = %v, %v; want nil, ErrNotEvent", v, err)
	}
}
