package rawman

import (
	"reflect"
	"strings"
	"testing"
)

type (
	mtSnap struct {
		Channel  string            `ami:"Channel"`
		Uniqueid string            `ami:"Uniqueid"`
		Vars     map[string]string `ami:"ChanVariable"`
	}
	mtDial struct {
		mtSnap
		Dest       mtSnap  `ami:",prefix=Dest"`
		Peer       *mtSnap `ami:"Ignored,prefix=Peer"`
		DialString string
	}
	mtNested struct {
		Outer struct {
			Name  string
			Inner mtSnap `ami:",prefix=In"`
		} `ami:",prefix=Out"`
	}
	mtShadow struct {
		Dest        mtSnap `ami:",prefix=Dest"`
		DestChannel string // shallower: wins over Dest.Channel
	}
)

func TestPrefixUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		msg  *Message
		got  any
		want any
	}{
		{
			name: "embedded, prefixed and pointer forms of one type",
			msg: mtMsg(t, "Event", "DialBegin", "Channel", "A", "Uniqueid", "1", "ChanVariable", "x=1",
				"DestChannel", "B", "destuniqueid", "2", "DestChanVariable(B)", "y=2",
				"PeerChannel", "C", "DialString", "100"),
			got: &mtDial{},
			want: &mtDial{mtSnap: mtSnap{Channel: "A", Uniqueid: "1", Vars: map[string]string{"x": "1"}},
				Dest:       mtSnap{Channel: "B", Uniqueid: "2", Vars: map[string]string{"y": "2"}},
				Peer:       &mtSnap{Channel: "C"},
				DialString: "100"},
		},
		{
			name: "nil prefixed pointer not allocated without its keys",
			msg:  mtMsg(t, "DestChannel", "B"),
			got:  &mtDial{},
			want: &mtDial{Dest: mtSnap{Channel: "B"}},
		},
		{
			name: "nested prefixes add up",
			msg:  mtMsg(t, "OutName", "n", "OutInChannel", "c", "InChannel", "no", "Name", "no"),
			got:  &mtNested{},
			want: func() *mtNested {
				var w mtNested
				w.Outer.Name, w.Outer.Inner.Channel = "n", "c"
				return &w
			}(),
		},
		{
			name: "a shallower field shadows a prefixed one",
			msg:  mtMsg(t, "DestChannel", "B", "DestUniqueid", "2"),
			got:  &mtShadow{},
			want: &mtShadow{Dest: mtSnap{Uniqueid: "2"}, DestChannel: "B"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mtUnmarshal(t, tt.msg, tt.got, tt.want)
		})
	}

	t.Run("mxml keys", func(t *testing.T) {
		m := mtMsg(t, "destchannel", "B", "destchanvariable_b_", "y=2")
		m.Keys = KeysXML
		var got mtDial
		mtUnmarshal(t, m, &got, &mtDial{Dest: mtSnap{Channel: "B", Vars: map[string]string{"y": "2"}}})
	})
}

func TestPrefixMarshal(t *testing.T) {
	v := mtDial{mtSnap: mtSnap{Channel: "A"}, Dest: mtSnap{Channel: "B", Uniqueid: "2"}, DialString: "100"}
	m, err := Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{"Channel", "A"}, {"Uniqueid", ""}, {"DestChannel", "B"}, {"DestUniqueid", "2"}, {"DialString", "100"}}
	if !reflect.DeepEqual(m.Fields, want) {
		t.Errorf("Marshal = %q, want %q (nil Peer writes nothing)", m.Fields, want)
	}
	var back mtDial
	if err := Unmarshal(m, &back); err != nil || !reflect.DeepEqual(back, v) {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, v)
	}
}

func TestPrefixErrors(t *testing.T) {
	type loop struct {
		Name string
		Next *loop `ami:",prefix=Next"`
	}
	type onString struct {
		S string `ami:"S,prefix=X"`
	}
	type noPrefix struct {
		Inner mtSnap
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"recursive", &loop{}, "contains itself"},
		{"prefix on a string", &onString{}, "only for struct fields"},
		{"struct without prefix", &noPrefix{}, "unsupported type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Unmarshal(mtMsg(t, "Name", "x"), tt.v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Unmarshal error = %v, want one containing %q", err, tt.want)
			}
			if _, err := Marshal(tt.v); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marshal error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
