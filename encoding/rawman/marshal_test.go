package rawman

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// mtMsg builds a Message from alternating keys and values.
func mtMsg(t testing.TB, kv ...string) *Message {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatalf("mtMsg: odd number of arguments %q", kv)
	}
	m := &Message{}
	for i := 0; i < len(kv); i += 2 {
		m.Add(kv[i], kv[i+1])
	}
	return m
}

// mtUnmarshal runs Unmarshal(m, got) and compares got with want.
func mtUnmarshal(t *testing.T, m *Message, got, want any) {
	t.Helper()
	if err := Unmarshal(m, got); err != nil {
		t.Fatalf("Unmarshal(%v) = %v, want nil", m.Fields, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Unmarshal(%v) = %+v, want %+v", m.Fields, got, want)
	}
}

// mtTypeError asserts that err is an *UnmarshalTypeError for key.
func mtTypeError(t *testing.T, err error, key string) *UnmarshalTypeError {
	t.Helper()
	var te *UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("Unmarshal error = %v (%T), want *UnmarshalTypeError", err, err)
	}
	if te.Key != key {
		t.Errorf("UnmarshalTypeError.Key = %q, want %q", te.Key, key)
	}
	if !strings.Contains(te.Error(), "(key "+key+")") {
		t.Errorf("UnmarshalTypeError.Error() = %q, want it to name key %s", te.Error(), key)
	}
	return te
}

type mtScalars struct {
	S   string  `ami:"S"`
	B   bool    `ami:"B"`
	I   int     `ami:"I"`
	I8  int8    `ami:"I8"`
	I16 int16   `ami:"I16"`
	I32 int32   `ami:"I32"`
	I64 int64   `ami:"I64"`
	U   uint    `ami:"U"`
	U8  uint8   `ami:"U8"`
	U16 uint16  `ami:"U16"`
	U32 uint32  `ami:"U32"`
	U64 uint64  `ami:"U64"`
	F32 float32 `ami:"F32"`
	F64 float64 `ami:"F64"`
}

type (
	mtString string
	mtInt    int16
	mtNamed  struct {
		S mtString `ami:"S"`
		I mtInt    `ami:"I"`
	}
)

func TestUnmarshalScalars(t *testing.T) {
	tests := []struct {
		name string
		msg  *Message
		got  any
		want any
	}{
		{
			name: "all kinds",
			msg: mtMsg(t, "S", "hello world", "B", "yes", "I", "-42", "I8", "-128", "I16", "32767",
				"I32", "-2147483648", "I64", "9223372036854775807", "U", "42", "U8", "255",
				"U16", "65535", "U32", "4294967295", "U64", "18446744073709551615",
				"F32", "1.5", "F64", "1795412731.304142"),
			got: &mtScalars{},
			want: &mtScalars{S: "hello world", B: true, I: -42, I8: -128, I16: 32767,
				I32: -2147483648, I64: 9223372036854775807, U: 42, U8: 255, U16: 65535,
				U32: 4294967295, U64: 18446744073709551615, F32: 1.5, F64: 1795412731.304142},
		},
		{
			name: "keys case-insensitive",
			msg:  mtMsg(t, "s", "x", "i64", "7", "f64", "-0.25"),
			got:  &mtScalars{},
			want: &mtScalars{S: "x", I64: 7, F64: -0.25},
		},
		{
			name: "empty values leave numbers and bools unchanged, clear strings",
			msg:  mtMsg(t, "S", "", "B", "", "I", "", "U8", "", "F64", ""),
			got:  &mtScalars{S: "old", B: true, I: 1, U8: 2, F64: 3},
			want: &mtScalars{S: "", B: true, I: 1, U8: 2, F64: 3},
		},
		{
			name: "absent keys leave fields unchanged",
			msg:  mtMsg(t, "Other", "1"),
			got:  &mtScalars{S: "old", I: 5},
			want: &mtScalars{S: "old", I: 5},
		},
		{
			name: "first of repeated keys wins",
			msg:  mtMsg(t, "I", "1", "S", "a", "I", "2", "S", "b"),
			got:  &mtScalars{},
			want: &mtScalars{I: 1, S: "a"},
		},
		{
			name: "named types",
			msg:  mtMsg(t, "S", "named", "I", "-300"),
			got:  &mtNamed{},
			want: &mtNamed{S: "named", I: -300},
		},
		{
			name: "nil message",
			msg:  nil,
			got:  &mtScalars{S: "keep"},
			want: &mtScalars{S: "keep"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mtUnmarshal(t, tt.msg, tt.got, tt.want)
		})
	}
}

func TestUnmarshalBool(t *testing.T) {
	type target struct {
		B bool `ami:"B"`
	}
	for _, s := range []string{"yes", "YES", "Yes", "true", "TRUE", "True", "1", "on", "ON", "On", "y", "Y", "t", "T"} {
		t.Run(s, func(t *testing.T) {
			mtUnmarshal(t, mtMsg(t, "B", s), &target{}, &target{B: true})
		})
	}
	for _, s := range []string{"no", "NO", "No", "false", "FALSE", "False", "0", "off", "OFF", "Off", "n", "N", "f", "F"} {
		t.Run(s, func(t *testing.T) {
			mtUnmarshal(t, mtMsg(t, "B", s), &target{B: true}, &target{B: false})
		})
	}
	for _, s := range []string{"maybe", "2", "yess", "nope", " yes", "tru", "o"} {
		t.Run("invalid "+s, func(t *testing.T) {
			m := mtMsg(t, "B", s)
			got := target{B: true}
			err := Unmarshal(m, &got)
			te := mtTypeError(t, err, "B")
			if !errors.Is(err, strconv.ErrSyntax) {
				t.Errorf("Unmarshal(%v) = %v, want it to wrap strconv.ErrSyntax", m.Fields, err)
			}
			if te.Type != reflect.TypeFor[bool]() {
				t.Errorf("UnmarshalTypeError.Type = %v, want bool", te.Type)
			}
			if !got.B {
				t.Errorf("Unmarshal(%v) changed the field to %v, want it unchanged", m.Fields, got.B)
			}
		})
	}
}

func TestUnmarshalNumberErrors(t *testing.T) {
	tests := []struct {
		key, value string
		typ        reflect.Type
		wantErr    error
	}{
		{"I", strconv.FormatUint(1<<(strconv.IntSize-1), 10), reflect.TypeFor[int](), strconv.ErrRange},
		{"I8", "128", reflect.TypeFor[int8](), strconv.ErrRange},
		{"I8", "-129", reflect.TypeFor[int8](), strconv.ErrRange},
		{"I16", "32768", reflect.TypeFor[int16](), strconv.ErrRange},
		{"I16", "-32769", reflect.TypeFor[int16](), strconv.ErrRange},
		{"I32", "2147483648", reflect.TypeFor[int32](), strconv.ErrRange},
		{"I64", "9223372036854775808", reflect.TypeFor[int64](), strconv.ErrRange},
		{"I64", "-9223372036854775809", reflect.TypeFor[int64](), strconv.ErrRange},
		{"U", "18446744073709551616", reflect.TypeFor[uint](), strconv.ErrRange},
		{"U8", "256", reflect.TypeFor[uint8](), strconv.ErrRange},
		{"U16", "65536", reflect.TypeFor[uint16](), strconv.ErrRange},
		{"U32", "4294967296", reflect.TypeFor[uint32](), strconv.ErrRange},
		{"U64", "18446744073709551616", reflect.TypeFor[uint64](), strconv.ErrRange},
		{"U8", "-1", reflect.TypeFor[uint8](), strconv.ErrSyntax},
		{"F32", "1e39", reflect.TypeFor[float32](), strconv.ErrRange},
		{"F64", "1e309", reflect.TypeFor[float64](), strconv.ErrRange},
		{"I", "abc", reflect.TypeFor[int](), strconv.ErrSyntax},
		{"I", "0x10", reflect.TypeFor[int](), strconv.ErrSyntax},
		{"I", "1.5", reflect.TypeFor[int](), strconv.ErrSyntax},
		{"F64", "1,5", reflect.TypeFor[float64](), strconv.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			m := mtMsg(t, tt.key, tt.value)
			var got mtScalars
			err := Unmarshal(m, &got)
			te := mtTypeError(t, err, tt.key)
			if te.Value != tt.value || te.Type != tt.typ || te.Field != "mtScalars."+tt.key {
				t.Errorf("Unmarshal(%v) = %#v, want Value %q, Type %v, Field mtScalars.%s",
					m.Fields, te, tt.value, tt.typ, tt.key)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Unmarshal(%v) = %v, want it to wrap %v", m.Fields, err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, mtScalars{}) {
				t.Errorf("Unmarshal(%v) set %+v, want the zero value kept", m.Fields, got)
			}
		})
	}
}

func TestUnmarshalTypeErrorMessage(t *testing.T) {
	type Foo struct {
		Bar int `ami:"Channels"`
	}
	err := Unmarshal(mtMsg(t, "Channels", "abc"), &Foo{})
	want := `rawman: cannot unmarshal "abc" (key Channels) into Go field Foo.Bar of type int`
	if err == nil || err.Error() != want {
		t.Errorf("Unmarshal(Channels: abc) = %v, want %s", err, want)
	}
	var ne *strconv.NumError
	if !errors.As(err, &ne) || ne.Func != "ParseInt" {
		t.Errorf("Unmarshal(Channels: abc) = %v, want it to wrap a *strconv.NumError from ParseInt", err)
	}

	long := strings.Repeat("x", 100)
	err = Unmarshal(mtMsg(t, "channels", long), &Foo{})
	want = `rawman: cannot unmarshal "` + long[:80] + `..." (key channels) into Go field Foo.Bar of type int`
	if err == nil || err.Error() != want {
		t.Errorf("Unmarshal(channels: %s) = %v, want %s", long, err, want)
	}
}

func TestUnmarshalTypeErrorContinues(t *testing.T) {
	m := mtMsg(t, "S", "set", "I8", "1000", "I", "7", "U", "bad", "F64", "2.5")
	var got mtScalars
	err := Unmarshal(m, &got)
	mtTypeError(t, err, "I8") // the first error, in struct field order
	want := mtScalars{S: "set", I: 7, F64: 2.5}
	if got != want {
		t.Errorf("Unmarshal(%v) = %+v, want %+v", m.Fields, got, want)
	}
}

type mtDurations struct {
	NS       time.Duration `ami:"NS,unit=ns"`
	US       time.Duration `ami:"US,unit=us"`
	MilliDur time.Duration `ami:"MS,unit=ms"`
	S        time.Duration `ami:"S,unit=s"`
	M        time.Duration `ami:"M,unit=m"`
	H        time.Duration `ami:"H,unit=h"`
}

func TestUnmarshalDuration(t *testing.T) {
	tests := []struct {
		name string
		msg  *Message
		got  mtDurations
		want mtDurations
	}{
		{
			name: "integers of each unit",
			msg:  mtMsg(t, "NS", "5", "US", "5", "MS", "5", "S", "5", "M", "5", "H", "5"),
			want: mtDurations{NS: 5, US: 5 * time.Microsecond, MilliDur: 5 * time.Millisecond,
				S: 5 * time.Second, M: 5 * time.Minute, H: 5 * time.Hour},
		},
		{
			name: "decimals",
			msg:  mtMsg(t, "S", "1795412731.304142", "M", "1.5", "MS", ".25", "H", "2.", "US", "0.001"),
			want: mtDurations{S: 1795412731*time.Second + 304142*time.Microsecond,
				M: 90 * time.Second, MilliDur: 250 * time.Microsecond, H: 2 * time.Hour, US: time.Nanosecond},
		},
		{
			name: "digits below a nanosecond truncated",
			msg:  mtMsg(t, "S", "0.0000000019", "NS", "7.9", "MS", "0.12345678901234567890123"),
			want: mtDurations{S: time.Nanosecond, NS: 7, MilliDur: 123456},
		},
		{
			name: "negative",
			msg:  mtMsg(t, "MS", "-1", "S", "-1.5"),
			want: mtDurations{MilliDur: -time.Millisecond, S: -1500 * time.Millisecond},
		},
		{
			name: "HH:MM:SS whatever the unit",
			msg:  mtMsg(t, "NS", "00:00:05", "MS", "1:02:03", "S", "100:00:00", "H", "0:0:1"),
			want: mtDurations{NS: 5 * time.Second, MilliDur: time.Hour + 2*time.Minute + 3*time.Second,
				S: 100 * time.Hour, H: time.Second},
		},
		{
			name: "limits",
			msg:  mtMsg(t, "NS", "9223372036854775807", "US", "-9223372036854775.808", "H", "2562047"),
			want: mtDurations{NS: 1<<63 - 1, US: -1 << 63, H: 2562047 * time.Hour},
		},
		{
			name: "empty leaves unchanged",
			msg:  mtMsg(t, "S", ""),
			got:  mtDurations{S: 42},
			want: mtDurations{S: 42},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mtUnmarshal(t, tt.msg, &tt.got, &tt.want)
		})
	}
}

func TestUnmarshalDurationErrors(t *testing.T) {
	tests := []struct {
		key, value string
		wantErr    error
	}{
		{"S", "abc", strconv.ErrSyntax},
		{"S", "-", strconv.ErrSyntax},
		{"S", ".", strconv.ErrSyntax},
		{"S", "1.2.3", strconv.ErrSyntax},
		{"S", "1e3", strconv.ErrSyntax},
		{"S", "+1", strconv.ErrSyntax},
		{"S", "1:2", strconv.ErrSyntax},
		{"S", "1:60:00", strconv.ErrSyntax},
		{"S", "1:00:60", strconv.ErrSyntax},
		{"S", "1:000:00", strconv.ErrSyntax},
		{"S", ":00:00", strconv.ErrSyntax},
		{"S", "1:00:00:00", strconv.ErrSyntax},
		{"S", "-1:00:00", strconv.ErrSyntax},
		{"S", "9999999999:00:00", strconv.ErrRange},
		{"NS", "9223372036854775808", strconv.ErrRange},
		{"NS", "-9223372036854775809", strconv.ErrRange},
		{"H", "2562048", strconv.ErrRange},
		{"S", "99999999999999999999999", strconv.ErrRange},
		{"S", "9223372036.9", strconv.ErrRange},
		{"H", "5124095.9", strconv.ErrRange}, // wraps uint64 when adding the fraction
		{"S", "2562047:59:59", strconv.ErrRange},
		{"S", "99999999999999999999999x", strconv.ErrSyntax},
		{"S", "1.x", strconv.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			m := mtMsg(t, tt.key, tt.value)
			var got mtDurations
			err := Unmarshal(m, &got)
			te := mtTypeError(t, err, tt.key)
			if te.Type != reflect.TypeFor[time.Duration]() {
				t.Errorf("UnmarshalTypeError.Type = %v, want time.Duration", te.Type)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Unmarshal(%v) = %v, want it to wrap %v", m.Fields, err, tt.wantErr)
			}
		})
	}
}

type (
	mtLines   []string
	mtVars    map[mtString]mtString
	mtStrings struct {
		Output []string   `ami:"Output"`
		Lines  mtLines    `ami:"Line"`
		Named  []mtString `ami:"Named"`
	}
)

func TestUnmarshalStrings(t *testing.T) {
	tests := []struct {
		name string
		msg  *Message
		got  mtStrings
		want mtStrings
	}{
		{
			name: "repeated keys in order, empty values kept",
			msg: mtMsg(t, "Response", "Success", "Output", "Channel  Location", "output", "",
				"Other", "x", "OUTPUT", "1 active channel"),
			want: mtStrings{Output: []string{"Channel  Location", "", "1 active channel"}},
		},
		{
			name: "named slice types",
			msg:  mtMsg(t, "Line", "a", "Named", "b", "Line", "c"),
			want: mtStrings{Lines: mtLines{"a", "c"}, Named: []mtString{"b"}},
		},
		{
			name: "slice replaced",
			msg:  mtMsg(t, "Output", "new"),
			got:  mtStrings{Output: []string{"old1", "old2"}},
			want: mtStrings{Output: []string{"new"}},
		},
		{
			name: "absent key leaves slice unchanged",
			msg:  mtMsg(t, "Other", "x"),
			got:  mtStrings{Output: []string{"old"}},
			want: mtStrings{Output: []string{"old"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mtUnmarshal(t, tt.msg, &tt.got, &tt.want)
		})
	}
}

type mtMaps struct {
	Vars  map[string]string `ami:"ChanVariable"`
	Named mtVars            `ami:"Variable"`
}

func TestUnmarshalMap(t *testing.T) {
	tests := []struct {
		name string
		msg  *Message
		got  mtMaps
		want mtMaps
	}{
		{
			name: "both ChanVariable forms",
			msg: mtMsg(t, "Event", "Newchannel", "ChanVariable", "a=1",
				"ChanVariable(SIP/100-0001)", "b=2", "chanvariable", "c=x=y",
				"ChanVariable(SIP/100-0001)", "NOVALUE", "ChanVariableX", "d=4", "ChanVariable", ""),
			want: mtMaps{Vars: map[string]string{"a": "1", "b": "2", "c": "x=y", "NOVALUE": ""}},
		},
		{
			name: "later duplicate wins, existing entries kept",
			msg:  mtMsg(t, "ChanVariable", "a=1", "ChanVariable", "a=2"),
			got:  mtMaps{Vars: map[string]string{"old": "o"}},
			want: mtMaps{Vars: map[string]string{"old": "o", "a": "2"}},
		},
		{
			name: "named map type",
			msg:  mtMsg(t, "Variable", "x=1", "Variable(ctx)", "y=2"),
			want: mtMaps{Named: mtVars{"x": "1", "y": "2"}},
		},
		{
			name: "absent key leaves nil map",
			msg:  mtMsg(t, "Other", "a=1"),
			want: mtMaps{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mtUnmarshal(t, tt.msg, &tt.got, &tt.want)
		})
	}
}

type (
	MtBase struct {
		Event    string `ami:"Event"`
		ActionID string `ami:"ActionID"`
		Shadowed string `ami:"Channel"`
	}
	MtExtra struct {
		Extra int `ami:"Extra"`
	}
	MtTagged struct {
		Tagged string `ami:"Tagged"`
	}
	mtHidden struct {
		Hidden string `ami:"Hidden"`
	}
	MtLeft struct {
		Dup string `ami:"Dup"`
	}
	MtRight struct {
		Dup string `ami:"dup"`
	}
	mtOuter struct {
		MtBase
		*MtExtra
		MtTagged `ami:"IgnoredName"`
		mtHidden
		MtLeft
		MtRight
		*mtUnexportedPtr
		Channel string `ami:"Channel"`
	}
	mtUnexportedPtr struct {
		Never string `ami:"Never"`
	}
)

func TestUnmarshalEmbedded(t *testing.T) {
	tests := []struct {
		name string
		msg  *Message
		want mtOuter
	}{
		{
			name: "promoted fields",
			msg: mtMsg(t, "Event", "Hangup", "ActionID", "42", "Channel", "PJSIP/1-1", "Extra", "7",
				"Tagged", "tg", "Hidden", "hd", "Dup", "ambiguous", "Never", "n"),
			want: mtOuter{MtBase: MtBase{Event: "Hangup", ActionID: "42"}, MtExtra: &MtExtra{Extra: 7},
				MtTagged: MtTagged{Tagged: "tg"}, mtHidden: mtHidden{Hidden: "hd"}, Channel: "PJSIP/1-1"},
		},
		{
			name: "nil embedded pointer not allocated without its keys",
			msg:  mtMsg(t, "Event", "Hangup"),
			want: mtOuter{MtBase: MtBase{Event: "Hangup"}},
		},
		{
			name: "embedded pointer not allocated for an empty value",
			msg:  mtMsg(t, "Extra", ""),
			want: mtOuter{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got mtOuter
			mtUnmarshal(t, tt.msg, &got, &tt.want)
		})
	}

	t.Run("existing embedded pointer reused", func(t *testing.T) {
		extra := &MtExtra{Extra: 1}
		got := mtOuter{MtExtra: extra}
		mtUnmarshal(t, mtMsg(t, "Extra", "2"), &got, &mtOuter{MtExtra: &MtExtra{Extra: 2}})
		if got.MtExtra != extra {
			t.Errorf("Unmarshal replaced the embedded pointer %p with %p", extra, got.MtExtra)
		}
	})

	t.Run("type error: field path, pointer not allocated", func(t *testing.T) {
		var got mtOuter
		err := Unmarshal(mtMsg(t, "Extra", "x"), &got)
		te := mtTypeError(t, err, "Extra")
		if te.Field != "mtOuter.MtExtra.Extra" {
			t.Errorf("UnmarshalTypeError.Field = %q, want mtOuter.MtExtra.Extra", te.Field)
		}
		if got.MtExtra != nil {
			t.Errorf("Unmarshal(Extra: x) allocated MtExtra = %+v, want nil", got.MtExtra)
		}
	})
}

type (
	MtLeaf struct {
		Leaf string `ami:"Leaf"`
	}
	MtViaA    struct{ MtLeaf }
	MtViaB    struct{ *MtLeaf }
	MtDiamond struct {
		MtViaA
		MtViaB
		Top string `ami:"Top"`
	}
	MtCycle struct {
		*MtCycle
		Name string `ami:"Name"`
	}
	MtTaggedName struct {
		X string `ami:"Name"`
	}
	MtUntaggedName struct {
		Name string
	}
	MtTagWins struct {
		MtUntaggedName
		MtTaggedName
	}
)

func TestUnmarshalEmbeddedConflicts(t *testing.T) {
	tests := []struct {
		name string
		msg  *Message
		got  any
		want any
		keys []Field // Marshal of want
	}{
		{
			name: "same struct twice at one depth is ambiguous",
			msg:  mtMsg(t, "Leaf", "l", "Top", "t"),
			got:  &MtDiamond{},
			want: &MtDiamond{Top: "t"},
			keys: []Field{{"Top", "t"}},
		},
		{
			name: "recursive embedding",
			msg:  mtMsg(t, "Name", "n"),
			got:  &MtCycle{},
			want: &MtCycle{Name: "n"},
			keys: []Field{{"Name", "n"}},
		},
		{
			name: "tagged field wins at the same depth",
			msg:  mtMsg(t, "name", "n"),
			got:  &MtTagWins{},
			want: &MtTagWins{MtTaggedName: MtTaggedName{X: "n"}},
			keys: []Field{{"Name", "n"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mtUnmarshal(t, tt.msg, tt.got, tt.want)
			m, err := Marshal(tt.want)
			if err != nil || !reflect.DeepEqual(m.Fields, tt.keys) {
				t.Errorf("Marshal(%+v) = %v, %v; want %v, nil", tt.want, m, err, tt.keys)
			}
		})
	}
}

func TestUnmarshalTags(t *testing.T) {
	type target struct {
		Tagged    string `ami:"X-Custom"`
		Untagged  string
		NameOnly  string `ami:",omitempty"`
		Skipped   string `ami:"-"`
		Dash      string `ami:"-,"`
		Omit      int    `ami:"Omit,omitempty"`
		private   string // must be ignored
		ChannelID string `ami:"channelid"`
	}
	m := mtMsg(t, "X-Custom", "1", "UNTAGGED", "2", "nameonly", "3", "Skipped", "4", "-", "5",
		"Omit", "6", "private", "7", "ChannelID", "8", "Unknown", "9")
	want := target{Tagged: "1", Untagged: "2", NameOnly: "3", Dash: "5", Omit: 6, ChannelID: "8"}
	var got target
	mtUnmarshal(t, m, &got, &want)
	_ = got.private
}

func TestUnmarshalInvalid(t *testing.T) {
	type target struct {
		A string
	}
	var nilPtr *target
	var iface any = target{}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "rawman: unmarshal into nil"},
		{"non-pointer", target{}, "rawman: unmarshal into non-pointer rawman.target"},
		{"nil pointer", nilPtr, "rawman: unmarshal into nil *rawman.target"},
		{"pointer to int", new(int), "rawman: unmarshal into non-struct *int"},
		{"pointer to pointer", &nilPtr, "rawman: unmarshal into non-struct **rawman.target"},
		{"pointer to interface", &iface, "rawman: unmarshal into non-struct *interface {}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Unmarshal(mtMsg(t, "A", "x"), tt.v)
			var ie *InvalidUnmarshalError
			if !errors.As(err, &ie) {
				t.Fatalf("Unmarshal(%T) = %v, want *InvalidUnmarshalError", tt.v, err)
			}
			if ie.Type != reflect.TypeOf(tt.v) {
				t.Errorf("InvalidUnmarshalError.Type = %v, want %v", ie.Type, reflect.TypeOf(tt.v))
			}
			if err.Error() != tt.want {
				t.Errorf("Unmarshal(%T) = %q, want %q", tt.v, err.Error(), tt.want)
			}
		})
	}
}

type (
	mtInner struct{ A string }
	MtBad   struct {
		Ch chan int `ami:"Ch"`
	}
)

func TestUnsupportedType(t *testing.T) {
	tests := []struct {
		name  string
		v     any
		field string
		typ   reflect.Type
	}{
		{"chan", &struct {
			OK string
			Ch chan int
		}{}, "Ch", reflect.TypeFor[chan int]()},
		{"func", &struct{ F func() }{}, "F", reflect.TypeFor[func()]()},
		{"nested struct", &struct{ In mtInner }{}, "In", reflect.TypeFor[mtInner]()},
		{"pointer", &struct{ P *int }{}, "P", reflect.TypeFor[*int]()},
		{"int slice", &struct{ S []int }{}, "S", reflect.TypeFor[[]int]()},
		{"int map", &struct{ M map[string]int }{}, "M", reflect.TypeFor[map[string]int]()},
		{"interface", &struct{ I any }{}, "I", reflect.TypeFor[any]()},
		{"complex", &struct{ C complex128 }{}, "C", reflect.TypeFor[complex128]()},
		{"time.Time", &struct{ T time.Time }{}, "T", reflect.TypeFor[time.Time]()},
		{"inside embedded", &struct{ MtBad }{}, "MtBad.Ch", reflect.TypeFor[chan int]()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(fn string, err error) {
				t.Helper()
				var ue *UnsupportedTypeError
				if !errors.As(err, &ue) {
					t.Fatalf("%s(%T) = %v, want *UnsupportedTypeError", fn, tt.v, err)
				}
				if ue.Field != tt.field || ue.Type != tt.typ {
					t.Errorf("%s(%T) = %v, want Field %q, Type %v", fn, tt.v, err, tt.field, tt.typ)
				}
				if !strings.HasPrefix(err.Error(), "rawman: ") || !strings.Contains(err.Error(), tt.field) {
					t.Errorf("%s(%T) = %q, want a rawman: error naming %s", fn, tt.v, err, tt.field)
				}
			}
			check("Unmarshal", Unmarshal(mtMsg(t, "OK", "x"), tt.v))
			_, err := Marshal(tt.v)
			check("Marshal", err)
		})
	}

	t.Run("ignored when skipped or unexported", func(t *testing.T) {
		type target struct {
			Ch chan int `ami:"-"`
			fn func()
			S  string
		}
		var got target
		mtUnmarshal(t, mtMsg(t, "S", "x", "Ch", "y"), &got, &target{S: "x"})
		_ = got.fn
	})

	t.Run("target untouched", func(t *testing.T) {
		v := struct {
			S  string
			Ch chan int
		}{S: "keep"}
		if err := Unmarshal(mtMsg(t, "S", "x"), &v); err == nil || v.S != "keep" {
			t.Errorf("Unmarshal(S: x) = %v, S = %q; want an error and S unchanged", err, v.S)
		}
	})
}

func TestTagUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string // substring of the error
	}{
		{"duration without unit", &struct {
			Timeout time.Duration `ami:"Timeout"`
		}{}, "Timeout"},
		{"untagged duration", &struct{ Wait time.Duration }{}, "Wait"},
		{"unknown unit", &struct {
			Timeout time.Duration `ami:"Timeout,unit=d"`
		}{}, `"unit=d"`},
		{"unit on int", &struct {
			Count int `ami:"Count,unit=s"`
		}{}, "Count"},
		{"unknown option", &struct {
			Name string `ami:"Name,omitemtpy"`
		}{}, `"omitemtpy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(fn string, err error) {
				t.Helper()
				if err == nil || !strings.HasPrefix(err.Error(), "rawman: ") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s(%T) = %v, want a rawman: error containing %s", fn, tt.v, err, tt.want)
				}
			}
			check("Unmarshal", Unmarshal(mtMsg(t, "Timeout", "1"), tt.v))
			_, err := Marshal(tt.v)
			check("Marshal", err)
		})
	}
}

type mtAction struct {
	Action   string            `ami:"Action"`
	ActionID string            `ami:"ActionID,omitempty"`
	Channel  string            `ami:"Channel"`
	Exten    string            `ami:"Exten,omitempty"`
	Priority int               `ami:"Priority,omitempty"`
	Timeout  time.Duration     `ami:"Timeout,unit=ms"`
	Async    bool              `ami:"Async"`
	Early    bool              `ami:"EarlyMedia,omitempty"`
	Codecs   []string          `ami:"Codecs"`
	Variable map[string]string `ami:"Variable"`
	Skip     string            `ami:"-"`
	Ratio    float64           `ami:"Ratio,omitempty"`
	Small    float32           `ami:"Small"`
	Count    uint16            `ami:"Count,omitempty"`
	Neg      int8              `ami:"Neg"`
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want []Field
	}{
		{
			name: "originate",
			v: &mtAction{Action: "Originate", ActionID: "o1", Channel: "PJSIP/100", Exten: "200",
				Priority: 1, Timeout: 30*time.Second + 999*time.Microsecond, Async: true,
				Codecs: []string{"ulaw", "alaw"}, Variable: map[string]string{"B": "2", "A": "1=x", "C": ""},
				Skip: "never", Ratio: 0.5, Small: 1.25, Count: 3, Neg: -8},
			want: []Field{{"Action", "Originate"}, {"ActionID", "o1"}, {"Channel", "PJSIP/100"},
				{"Exten", "200"}, {"Priority", "1"}, {"Timeout", "30000"}, {"Async", "true"},
				{"Codecs", "ulaw"}, {"Codecs", "alaw"},
				{"Variable", "A=1=x"}, {"Variable", "B=2"}, {"Variable", "C="},
				{"Ratio", "0.5"}, {"Small", "1.25"}, {"Count", "3"}, {"Neg", "-8"}},
		},
		{
			name: "omitempty zero values, non-pointer argument",
			v:    mtAction{Action: "Originate"},
			want: []Field{{"Action", "Originate"}, {"Channel", ""}, {"Timeout", "0"},
				{"Async", "false"}, {"Small", "0"}, {"Neg", "0"}},
		},
		{
			name: "untagged and named types",
			v: struct {
				Name   mtString
				Num    mtInt `ami:"N"`
				Lines  mtLines
				Vars   mtVars
				hidden string
			}{Name: "n", Num: -3, Lines: mtLines{"l1"}, Vars: mtVars{"z": "26", "y": "25"}},
			want: []Field{{"Name", "n"}, {"N", "-3"}, {"Lines", "l1"}, {"Vars", "y=25"}, {"Vars", "z=26"}},
		},
		{
			name: "embedded, nil embedded pointer skipped",
			v: mtOuter{MtBase: MtBase{Event: "E", Shadowed: "shadowed"}, mtHidden: mtHidden{Hidden: "h"},
				MtLeft: MtLeft{Dup: "l"}, Channel: "c"},
			want: []Field{{"Event", "E"}, {"ActionID", ""}, {"Tagged", ""}, {"Hidden", "h"}, {"Channel", "c"}},
		},
		{
			name: "embedded pointer set",
			v:    &mtOuter{MtExtra: &MtExtra{Extra: 9}},
			want: []Field{{"Event", ""}, {"ActionID", ""}, {"Extra", "9"}, {"Tagged", ""},
				{"Hidden", ""}, {"Channel", ""}},
		},
		{
			name: "durations truncated to the unit",
			v: mtDurations{NS: 1500, US: 1500, MilliDur: 1999 * time.Microsecond, S: 1795412731304142 * time.Microsecond,
				M: 119 * time.Second, H: -90 * time.Minute},
			want: []Field{{"NS", "1500"}, {"US", "1"}, {"MS", "1"}, {"S", "1795412731"}, {"M", "1"}, {"H", "-1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.v)
			if err != nil {
				t.Fatalf("Marshal(%+v) = %v, want nil error", tt.v, err)
			}
			if !reflect.DeepEqual(got.Fields, tt.want) {
				t.Errorf("Marshal(%+v) = %v, want %v", tt.v, got.Fields, tt.want)
			}
		})
	}
}

func TestMarshalInvalid(t *testing.T) {
	var nilPtr *mtAction
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "rawman: unsupported type <nil>"},
		{"int", 3, "rawman: unsupported type int"},
		{"pointer to int", new(int), "rawman: unsupported type *int"},
		{"nil pointer", nilPtr, "rawman: cannot marshal nil *rawman.mtAction"},
		{"nil pointer to int", (*int)(nil), "rawman: unsupported type *int"},
		{"map", map[string]string{}, "rawman: unsupported type map[string]string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Marshal(tt.v)
			if m != nil || err == nil || err.Error() != tt.want {
				t.Errorf("Marshal(%#v) = %v, %v; want nil, %s", tt.v, m, err, tt.want)
			}
		})
	}
}

type mtEverything struct {
	MtBase
	*MtExtra
	Channel  string            `ami:"Channel"`
	Untagged string            // uses its Go name
	Flag     bool              `ami:"Flag"`
	Off      bool              `ami:"Off,omitempty"`
	I8       int8              `ami:"I8"`
	I64      int64             `ami:"I64,omitempty"`
	U        uint              `ami:"U"`
	U32      uint32            `ami:"U32"`
	F32      float32           `ami:"F32"`
	F64      float64           `ami:"F64"`
	Timeout  time.Duration     `ami:"Timeout,unit=ms"`
	Wait     time.Duration     `ami:"Seconds,unit=s,omitempty"`
	Output   []string          `ami:"Output"`
	Vars     map[string]string `ami:"ChanVariable"`
	Named    mtVars            `ami:"Variable"`
	Skip     string            `ami:"-"`
	Empty    string            `ami:"Empty,omitempty"`
}

func TestMarshalRoundTrip(t *testing.T) {
	in := mtEverything{
		MtBase:   MtBase{Event: "Test", ActionID: "rt-1"},
		MtExtra:  &MtExtra{Extra: -5},
		Channel:  "PJSIP/alice-00000001",
		Untagged: "plain",
		Flag:     true,
		I8:       -128,
		U:        1 << 40,
		U32:      4294967295,
		F32:      3.25,
		F64:      1795412731.304142,
		Timeout:  1500 * time.Millisecond,
		Wait:     90 * time.Second,
		Output:   []string{"line 1", "", "line 3"},
		Vars:     map[string]string{"CDR(userfield)": "x=y", "EMPTY": ""},
		Named:    mtVars{"A": "1"},
	}
	m, err := Marshal(&in)
	if err != nil {
		t.Fatalf("Marshal(%+v) = %v, want nil error", in, err)
	}
	var out mtEverything
	if err := Unmarshal(m, &out); err != nil {
		t.Fatalf("Unmarshal(%v) = %v, want nil", m.Fields, err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("Unmarshal(Marshal(%+v)) = %+v, want the input", in, out)
	}
}

// mtCoreShowChannelMsg is a CoreShowChannel event as sent by Asterisk 23.
func mtCoreShowChannelMsg(t testing.TB) *Message {
	return mtMsg(t,
		"Event", "CoreShowChannel",
		"ActionID", "l1",
		"Channel", "Local/200@test-00000006;1",
		"ChannelState", "6",
		"ChannelStateDesc", "Up",
		"CallerIDNum", "<unknown>",
		"CallerIDName", "<unknown>",
		"ConnectedLineNum", "<unknown>",
		"ConnectedLineName", "<unknown>",
		"Language", "en",
		"AccountCode", "",
		"Context", "test",
		"Exten", "200",
		"Priority", "2",
		"Uniqueid", "1795412731.12",
		"Linkedid", "1795412731.12",
		"Application", "Wait",
		"ApplicationData", "30",
		"Duration", "00:00:05",
		"BridgeId", "",
	)
}

type (
	MtEvent struct {
		Event    string `ami:"Event"`
		ActionID string `ami:"ActionID"`
	}
	mtCoreShowChannel struct {
		MtEvent
		Channel           string        `ami:"Channel"`
		ChannelState      int           `ami:"ChannelState"`
		ChannelStateDesc  string        `ami:"ChannelStateDesc"`
		CallerIDNum       string        `ami:"CallerIDNum"`
		CallerIDName      string        `ami:"CallerIDName"`
		ConnectedLineNum  string        `ami:"ConnectedLineNum"`
		ConnectedLineName string        `ami:"ConnectedLineName"`
		Language          string        `ami:"Language"`
		AccountCode       string        `ami:"AccountCode"`
		Context           string        `ami:"Context"`
		Exten             string        `ami:"Exten"`
		Priority          int           `ami:"Priority"`
		Uniqueid          string        `ami:"Uniqueid"`
		Linkedid          string        `ami:"Linkedid"`
		Application       string        `ami:"Application"`
		ApplicationData   string        `ami:"ApplicationData"`
		Duration          time.Duration `ami:"Duration,unit=s"`
		BridgeId          string        `ami:"BridgeId"`
	}
	// mtSimpleChannel has only string and int fields.
	mtSimpleChannel struct {
		Event        string
		Channel      string
		ChannelState int
		Context      string
		Exten        string
		Priority     int
		Uniqueid     string
		Application  string
	}
)

func TestUnmarshalCoreShowChannel(t *testing.T) {
	m := mtCoreShowChannelMsg(t)
	got := mtCoreShowChannel{AccountCode: "stale", BridgeId: "stale"}
	want := mtCoreShowChannel{
		MtEvent:           MtEvent{Event: "CoreShowChannel", ActionID: "l1"},
		Channel:           "Local/200@test-00000006;1",
		ChannelState:      6,
		ChannelStateDesc:  "Up",
		CallerIDNum:       "<unknown>",
		CallerIDName:      "<unknown>",
		ConnectedLineNum:  "<unknown>",
		ConnectedLineName: "<unknown>",
		Language:          "en",
		Context:           "test",
		Exten:             "200",
		Priority:          2,
		Uniqueid:          "1795412731.12",
		Linkedid:          "1795412731.12",
		Application:       "Wait",
		ApplicationData:   "30",
		Duration:          5 * time.Second,
	}
	mtUnmarshal(t, m, &got, &want)

	// Marshal gives back the same fields, but for Duration, which is
	// written as a count of seconds.
	back, err := Marshal(&got)
	if err != nil {
		t.Fatalf("Marshal(%+v) = %v, want nil error", got, err)
	}
	wantFields := m.Clone()
	wantFields.Set("Duration", "5")
	if !back.Equal(wantFields) {
		t.Errorf("Marshal(%+v) = %v, want %v", got, back.Fields, wantFields.Fields)
	}
}

func TestUnmarshalAllocs(t *testing.T) {
	m := mtCoreShowChannelMsg(t)
	var v mtSimpleChannel
	if err := Unmarshal(m, &v); err != nil {
		t.Fatalf("Unmarshal(%v) = %v, want nil", m.Fields, err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Unmarshal(m, &v) }); n != 0 {
		t.Errorf("Unmarshal(%v) allocates %v times per run, want 0", m.Fields, n)
	}
}

func TestUnmarshalConcurrent(t *testing.T) {
	// Several goroutines building and using the cached codec of the same
	// new type at once; run with -race.
	type fresh struct {
		Channel  string        `ami:"Channel"`
		Priority int           `ami:"Priority"`
		Duration time.Duration `ami:"Duration,unit=s"`
	}
	m := mtCoreShowChannelMsg(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			var v fresh
			if err := Unmarshal(m, &v); err != nil {
				errs[i] = err
				return
			}
			if v.Priority != 2 || v.Duration != 5*time.Second {
				errs[i] = fmt.Errorf("got %+v", v)
				return
			}
			_, errs[i] = Marshal(v)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: Unmarshal/Marshal = %v, want nil", i, err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	m := mtCoreShowChannelMsg(b)
	b.Run("CoreShowChannel", func(b *testing.B) {
		b.ReportAllocs()
		var v mtCoreShowChannel
		for b.Loop() {
			if err := Unmarshal(m, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("StringsAndInts", func(b *testing.B) {
		b.ReportAllocs()
		var v mtSimpleChannel
		for b.Loop() {
			if err := Unmarshal(m, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	var v mtCoreShowChannel
	if err := Unmarshal(mtCoreShowChannelMsg(b), &v); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(&v); err != nil {
			b.Fatal(err)
		}
	}
}
