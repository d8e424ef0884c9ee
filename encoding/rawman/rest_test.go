package rawman

import (
	"reflect"
	"strings"
	"testing"
)

type mtUserEvent struct {
	Event     string
	UserEvent string
	mtSnap
	Headers []Field `ami:",rest"`
}

func TestRestUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		keys KeyForm
		msg  *Message
		want mtUserEvent
	}{
		{
			name: "other fields in order, ChanVariable forms taken",
			msg: mtMsg(t, "Event", "UserEvent", "UserEvent", "Deploy", "Host", "a", "channel", "C",
				"ChanVariable(C)", "x=1", "Host", "b", "chanvariable", "y=2"),
			want: mtUserEvent{Event: "UserEvent", UserEvent: "Deploy",
				mtSnap:  mtSnap{Channel: "C", Vars: map[string]string{"x": "1", "y": "2"}},
				Headers: []Field{{"Host", "a"}, {"Host", "b"}}},
		},
		{
			name: "mxml keys",
			keys: KeysXML,
			msg:  mtMsg(t, "event", "UserEvent", "userevent", "Deploy", "chanvariable_c_", "x=1", "foo_bar", "1"),
			want: mtUserEvent{Event: "UserEvent", UserEvent: "Deploy",
				mtSnap:  mtSnap{Vars: map[string]string{"x": "1"}},
				Headers: []Field{{"foo_bar", "1"}}},
		},
		{
			name: "none left: unchanged",
			msg:  mtMsg(t, "Event", "UserEvent"),
			want: mtUserEvent{Event: "UserEvent", Headers: []Field{{"Old", "1"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.msg.Keys = tt.keys
			got := mtUserEvent{Headers: []Field{{"Old", "1"}}}
			mtUnmarshal(t, tt.msg, &got, &tt.want)
		})
	}
}

func TestRestMarshal(t *testing.T) {
	v := mtUserEvent{Event: "UserEvent", UserEvent: "Deploy", Headers: []Field{{"Host", "a"}, {"Host", "b"}}}
	m, err := Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{"Event", "UserEvent"}, {"UserEvent", "Deploy"}, {"Channel", ""}, {"Uniqueid", ""}, {"Host", "a"}, {"Host", "b"}}
	if !reflect.DeepEqual(m.Fields, want) {
		t.Errorf("Marshal = %q, want %q", m.Fields, want)
	}
}

func TestRestErrors(t *testing.T) {
	type wrongType struct {
		Rest []string `ami:",rest"`
	}
	type two struct {
		A []Field `ami:",rest"`
		B []Field `ami:",rest"`
	}
	for _, tt := range []struct {
		v    any
		want string
	}{
		{&wrongType{}, "only for []rawman.Field"},
		{&two{}, "rest"},
	} {
		if err := Unmarshal(mtMsg(t, "A", "1"), tt.v); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Unmarshal(%T) error = %v, want one containing %q", tt.v, err, tt.want)
		}
	}
}
