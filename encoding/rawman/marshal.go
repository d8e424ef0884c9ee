package rawman

import (
	"fmt"
	"maps"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/amihttp/amihttp/internal/ascii"
	"github.com/amihttp/amihttp/internal/xmlname"
)

// Unmarshal copies the fields of m into the struct that v points to.
//
// v must be a non-nil pointer to a struct; otherwise Unmarshal returns an
// [*InvalidUnmarshalError]. Each exported struct field is filled from the
// message field whose key equals the field's name case-insensitively (ASCII
// folding). The name is taken from the field's "ami" struct tag, or is the
// Go field name when the tag gives none:
//
//	Channel  string        `ami:"Channel"`
//	Priority int           `ami:"Priority,omitempty"`
//	Duration time.Duration `ami:"Duration,unit=s"`
//	Internal string        `ami:"-"` // never read nor written
//
// The tag options are "omitempty" (used by [Marshal] only) and "unit=U",
// where U is one of ns, us, ms, s, m or h; unit is required on, and only
// allowed on, fields of type [time.Duration]. Unexported fields are ignored,
// and keys of m that match no struct field are ignored.
//
// The supported field types are listed below. Defined types are handled by
// their underlying type (type Lines []string is a []string), except that
// only time.Duration itself is a Duration.
//
//   - string: set to the value of the first field with the key, even when
//     that value is empty.
//   - bool: the value yes, no, true, false, on, off, y, n, t, f, 1 or 0,
//     compared case-insensitively.
//   - int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64
//     and float32, float64: a base-10 number that must fit the type.
//   - [time.Duration]: an integer or decimal number of the tag's unit
//     ("1795412731.304142" with unit=s), or the "HH:MM:SS" (or "H:MM:SS")
//     form Asterisk writes in CoreShowChannel, which always means hours,
//     minutes and seconds whatever the unit. Digits beyond nanosecond
//     precision are truncated.
//   - []string: the values of every field with the key, in wire order,
//     empty values included. The slice is replaced.
//   - map[string]string: "name=value" pairs (split at the first '='; a value
//     without '=' gives the name with an empty value; an empty value is
//     skipped) from every field whose key is the name or the name followed
//     by '(', so that the tag "ChanVariable" collects both
//     "ChanVariable: a=1" and the older "ChanVariable(SIP/100-0001): b=2".
//     Entries are added to an existing map; a nil map is allocated.
//   - []Field with the option "rest" (`ami:",rest"`): the fields of m
//     that no other field of the struct takes, in order, such as the
//     headers a UserEvent carries; the slice is replaced if there is any.
//     A struct has one at most.
//
// Keys are matched as m's lookups match them (see [Message.Keys]): with
// ASCII case folding, or by their mxml attribute name in a message decoded
// from mxml. A scalar field (all but []string and maps) is set from the
// first field of m with its key; later repetitions are ignored, as with [Message.Get]. An
// empty value leaves a bool, number or Duration field unchanged, since
// Asterisk writes empty values for numbers it does not know. A struct field
// whose key is absent from m is left unchanged.
//
// Fields of embedded structs and embedded pointers to structs are promoted
// as with encoding/json, even when the embedded field has an "ami" tag name
// (the name is then ignored); an embedded struct tagged "-" is skipped. A
// nil embedded pointer is allocated only when a value is stored through it.
// Embedded pointers to unexported struct types are ignored. When several
// fields have the same name case-insensitively, the shallowest one wins, then
// the tagged one; if that leaves more than one, all are ignored.
//
// A struct field, or pointer to struct field, whose tag has the option
// "prefix=P" stands for the fields of its struct with P prepended to their
// keys, the way Asterisk prefixes a channel snapshot:
//
//	type Snapshot struct{ Channel, Uniqueid string }
//	type DialBegin struct {
//		Snapshot                            // Channel, Uniqueid
//		Dest     Snapshot `ami:",prefix=Dest"` // DestChannel, DestUniqueid
//	}
//
// Its fields compete with the others as those of an embedded struct one
// level deeper would; prefixes of nested prefixed structs add up, and the
// tag's name is ignored. A prefixed struct that contains itself is an error.
//
// A value that cannot be stored in its field's type does not stop
// Unmarshal: that field is left unchanged, the other fields are still
// filled, and the first such error in struct field order is returned as an
// [*UnmarshalTypeError]. A struct type with a field of an unsupported type
// gives an [*UnsupportedTypeError], and a misused tag (a Duration without
// unit, an unknown option) gives an error naming the Go field; in both
// cases v is left untouched. A nil m is treated as an empty message.
func Unmarshal(m *Message, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return &InvalidUnmarshalError{Type: reflect.TypeOf(v)}
	}
	sc := structCodecFor(rv.Type().Elem())
	if sc.err != nil {
		return sc.err
	}
	var fs []Field
	form := KeysAMI
	if m != nil {
		fs, form = m.Fields, m.Keys
	}
	sv := rv.Elem()
	if len(sc.fields) < onePassFields || form == KeysXML && sc.byXML == nil {
		return sc.unmarshalScan(form, fs, sv)
	}
	return sc.unmarshalOnePass(form, fs, sv)
}

// onePassFields is the number of struct fields from which one pass over
// the message, with a map lookup per message field, beats a scan of the
// message per struct field: in one pass, BenchmarkUnmarshal's 8-field
// struct took twice as long, its 20-field one a quarter less, and the
// events package's BenchmarkDecode (a 30-field Hangup) a third less.
const onePassFields = 12

// unmarshalOnePass is Unmarshal in one pass over the message, which
// finds the first field of each key; the struct's fields are then set in
// their order, so that the first error is the first in struct field
// order. It needs a usable byXML for KeysXML.
func (sc *structCodec) unmarshalOnePass(form KeyForm, fs []Field, sv reflect.Value) error {
	var buf [48]int32
	var first []int32
	if len(sc.fields) <= len(buf) {
		first = buf[:len(sc.fields)]
	} else {
		first = make([]int32, len(sc.fields))
	}
	for j := range first {
		first[j] = -1
	}
	for i := range fs {
		if j := sc.lookup(form, fs[i].Key); j >= 0 && first[j] < 0 {
			first[j] = int32(i)
		}
		if form == KeysAMI {
			if j := sc.lookupMap(fs[i].Key); j >= 0 && first[j] < 0 {
				first[j] = int32(i)
			}
		}
	}
	var err error
	for j := range sc.fields {
		f := &sc.fields[j]
		switch {
		case f.kind == codecStrings:
			if first[j] >= 0 {
				f.unmarshalStrings(form, fs, sv)
			}
		case f.kind == codecMap:
			// In mxml form "ChanVariable(…)" has become "chanvariable_…_":
			// only a scan finds those.
			if first[j] >= 0 || form == KeysXML {
				f.unmarshalMap(form, fs, sv)
			}
		case f.kind == codecRest:
			sc.unmarshalRest(f, form, fs, sv)
		case first[j] >= 0:
			if e := f.set(fs[first[j]], sv); e != nil && err == nil {
				err = e
			}
		}
	}
	return err
}

// unmarshalScan is Unmarshal field by field, each field scanning the
// message: for mxml keys when two struct names share an attribute name.
func (sc *structCodec) unmarshalScan(form KeyForm, fs []Field, sv reflect.Value) error {
	var first error
	for i := range sc.fields {
		if sc.fields[i].kind == codecRest {
			sc.unmarshalRest(&sc.fields[i], form, fs, sv)
			continue
		}
		if err := sc.fields[i].unmarshal(form, fs, sv); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Marshal returns a new Message holding one field per exported field of v,
// in struct field order (the fields of an embedded struct where the
// embedded field stands). v must be a struct or a non-nil pointer to one.
//
// The field names, tags and supported types are those described for
// [Unmarshal]. A bool is written as "true" or "false", an integer in base
// 10, a float in the shortest decimal form without exponent, a
// [time.Duration] as the integer count of its tag's unit (truncated), a
// []string as one field per element, a map[string]string as one
// "name=value" field per entry, sorted by name, and a rest field's fields
// as they are. With the "omitempty" option
// a zero value (empty string, false, 0, zero Duration) is not written; an
// empty slice or map never writes anything. Fields behind a nil embedded
// pointer are not written.
//
// Marshal does not validate keys or values: an [Encoder] rejects those that
// contain CR or LF. An unsupported field type gives an
// [*UnsupportedTypeError], and a misused tag an error naming the Go field.
func Marshal(v any) (*Message, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			if rv.Type().Elem().Kind() == reflect.Struct {
				return nil, fmt.Errorf("rawman: cannot marshal nil %v", rv.Type())
			}
			return nil, &UnsupportedTypeError{Type: rv.Type()}
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, &UnsupportedTypeError{Type: reflect.TypeOf(v)}
	}
	sc := structCodecFor(rv.Type())
	if sc.err != nil {
		return nil, sc.err
	}
	m := &Message{Fields: make([]Field, 0, len(sc.fields))}
	for i := range sc.fields {
		f := &sc.fields[i]
		if fv, ok := readableField(rv, f.index); ok {
			f.marshal(m, fv)
		}
	}
	return m, nil
}

// An InvalidUnmarshalError describes an invalid target passed to
// [Unmarshal]: it must be a non-nil pointer to a struct.
type InvalidUnmarshalError struct {
	// Type is the type of the target; nil if the target was nil.
	Type reflect.Type
}

// Error describes the invalid target.
func (e *InvalidUnmarshalError) Error() string {
	switch {
	case e.Type == nil:
		return "rawman: unmarshal into nil"
	case e.Type.Kind() != reflect.Pointer:
		return "rawman: unmarshal into non-pointer " + e.Type.String()
	case e.Type.Elem().Kind() != reflect.Struct:
		return "rawman: unmarshal into non-struct " + e.Type.String()
	}
	return "rawman: unmarshal into nil " + e.Type.String()
}

// An UnmarshalTypeError describes a message value that cannot be stored in
// the Go field it maps to, such as "abc" or "300" for an int8.
type UnmarshalTypeError struct {
	Key   string       // key of the message field, as sent
	Value string       // value of the message field
	Field string       // Go struct type name and field path, e.g. "CoreShowChannel.Priority" (no type name for an unnamed struct type)
	Type  reflect.Type // type of the Go field
	Err   error        // the reason, e.g. a *strconv.NumError, strconv.ErrSyntax or strconv.ErrRange
}

// Error describes the value, quoting at most 80 bytes of it, and the field.
func (e *UnmarshalTypeError) Error() string {
	return fmt.Sprintf("rawman: cannot unmarshal %q (key %s) into Go field %s of type %v",
		clip(e.Value), e.Key, e.Field, e.Type)
}

// Unwrap returns the reason, e.Err.
func (e *UnmarshalTypeError) Unwrap() error { return e.Err }

// An UnsupportedTypeError is returned by [Marshal] and [Unmarshal] for a
// struct field of a type they do not handle (a channel, a func, a pointer,
// a nested struct that is not embedded, ...), and by Marshal for a value
// that is not a struct or a pointer to one.
type UnsupportedTypeError struct {
	Type  reflect.Type // the unsupported type
	Field string       // Go struct type and field path, or "" for Marshal's argument
}

// Error names the type and, if any, the field.
func (e *UnsupportedTypeError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("rawman: unsupported type %v", e.Type)
	}
	return fmt.Sprintf("rawman: unsupported type %v of Go field %s", e.Type, e.Field)
}

// codecKind is the way a field's value is converted.
type codecKind uint8

const (
	codecString codecKind = iota
	codecBool
	codecInt
	codecUint
	codecFloat
	codecDuration
	codecStrings // slice of string kind
	codecMap     // map of string kind to string kind
	codecRest    // []Field: the message fields no other field takes
)

// fieldCodec is the pre-parsed description of one (possibly promoted)
// struct field.
type fieldCodec struct {
	name      string        // AMI key
	path      string        // "Type.Embedded.Field", for errors
	index     []int         // reflect field index path from the root struct
	typ       reflect.Type  // Go type of the field
	kind      codecKind     // conversion
	bits      int           // bit size for ints, uints and floats
	unit      time.Duration // for codecDuration
	omitEmpty bool
	tagged    bool  // name came from the tag
	err       error // usage error for this field, reported if it is kept
}

// structCodec is the cached description of a struct type.
type structCodec struct {
	fields []fieldCodec // in struct field order
	err    error        // first usage error, returned by Marshal and Unmarshal

	// The index in fields of each name, by its ASCII-folded form and by
	// its mxml attribute form; byXML is nil when two names share a form.
	byFold, byXML map[string]int
	hasMap        bool // a map field, whose keys may have a "(…)" suffix
}

// codecCache maps a struct reflect.Type to its *structCodec.
var codecCache sync.Map

// structCodecFor returns the cached codec of struct type t, building it on
// first use.
func structCodecFor(t reflect.Type) *structCodec {
	if c, ok := codecCache.Load(t); ok {
		return c.(*structCodec)
	}
	c, _ := codecCache.LoadOrStore(t, buildStructCodec(t))
	return c.(*structCodec)
}

// buildStructCodec walks t and its embedded structs breadth first, as
// encoding/json does, and keeps the dominant field of each name.
func buildStructCodec(t reflect.Type) *structCodec {
	type embedded struct {
		typ    reflect.Type
		index  []int
		path   string
		prefix string         // prepended to the keys of its fields
		outer  []reflect.Type // the prefixed structs it is inside
	}
	type visit struct {
		typ    reflect.Type
		prefix string
	}
	var (
		fields  []fieldCodec
		depths  []int
		current []embedded
		next    = []embedded{{typ: t, path: t.Name()}}
		count   map[reflect.Type]int
		ncount  = map[reflect.Type]int{}
		visited = map[visit]bool{}
	)
	for depth := 0; len(next) > 0; depth++ {
		current, next = next, current[:0]
		count, ncount = ncount, map[reflect.Type]int{}
		for _, e := range current {
			if visited[visit{e.typ, e.prefix}] {
				continue
			}
			visited[visit{e.typ, e.prefix}] = true
			for i := 0; i < e.typ.NumField(); i++ {
				sf := e.typ.Field(i)
				ft := sf.Type
				if sf.Anonymous {
					st := ft
					if st.Kind() == reflect.Pointer {
						st = st.Elem()
					}
					if !sf.IsExported() && (st.Kind() != reflect.Struct || ft.Kind() == reflect.Pointer) {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("ami")
				if tag == "-" {
					continue
				}
				index := append(slices.Clone(e.index), i)
				path := sf.Name
				if e.path != "" {
					path = e.path + "." + sf.Name
				}
				isStruct := ft.Kind() == reflect.Struct ||
					ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct
				if sf.Anonymous && isStruct {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					ncount[ft]++
					if ncount[ft] == 1 {
						next = append(next, embedded{typ: ft, index: index, path: path, prefix: e.prefix, outer: e.outer})
					}
					continue
				}
				if p, ok := prefixOption(tag); ok && isStruct && ft != reflect.TypeFor[time.Time]() {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					// A prefixed struct is walked like an embedded one, one
					// level deeper, but each occurrence on its own: its keys
					// differ from those of the same type elsewhere.
					if ft == t || slices.Contains(e.outer, ft) {
						fields = append(fields, fieldCodec{name: e.prefix + p, path: path, index: index, typ: sf.Type,
							err: fmt.Errorf("rawman: Go field %s: prefixed struct %v contains itself", path, ft)})
						depths = append(depths, depth)
						continue
					}
					outer := append(slices.Clip(e.outer), ft)
					next = append(next, embedded{typ: ft, index: index, path: path, prefix: e.prefix + p, outer: outer})
					continue
				}
				f := newFieldCodec(sf, tag, index, path)
				f.name = e.prefix + f.name
				fields = append(fields, f)
				depths = append(depths, depth)
				if count[e.typ] > 1 {
					// The embedding struct appears twice at this depth:
					// duplicate the field so that it is ambiguous.
					fields = append(fields, f)
					depths = append(depths, depth)
				}
			}
		}
	}

	// Group by folded name, keep the dominant field of each group.
	order := make([]int, len(fields))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := strings.Compare(foldASCII(fields[a].name), foldASCII(fields[b].name)); c != 0 {
			return c
		}
		if c := depths[a] - depths[b]; c != 0 {
			return c
		}
		if fields[a].tagged != fields[b].tagged {
			if fields[a].tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(fields[a].index, fields[b].index)
	})
	var kept []fieldCodec
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && equalFold(fields[order[j]].name, fields[order[i]].name) {
			j++
		}
		a := order[i]
		if j-i == 1 {
			kept = append(kept, fields[a])
		} else if b := order[i+1]; depths[b] > depths[a] ||
			fields[a].tagged && !fields[b].tagged {
			kept = append(kept, fields[a])
		}
		i = j
	}
	slices.SortFunc(kept, func(a, b fieldCodec) int { return slices.Compare(a.index, b.index) })

	sc := &structCodec{fields: kept, byFold: make(map[string]int, len(kept)), byXML: make(map[string]int, len(kept))}
	for i := range kept {
		if kept[i].err != nil && sc.err == nil {
			sc.err = kept[i].err
		}
		if kept[i].kind == codecRest {
			continue
		}
		sc.byFold[foldASCII(kept[i].name)] = i // names are unique under folding
		x := string(xmlname.Append(nil, kept[i].name))
		if _, dup := sc.byXML[x]; dup || sc.byXML == nil {
			sc.byXML = nil
		} else {
			sc.byXML[x] = i
		}
		sc.hasMap = sc.hasMap || kept[i].kind == codecMap
	}
	// Counted before dominance, which would drop two rest fields of one
	// depth as ambiguous.
	n := 0
	for i := range fields {
		if fields[i].kind == codecRest {
			n++
		}
	}
	if n > 1 && sc.err == nil {
		sc.err = fmt.Errorf("rawman: type %v has %d fields with the ami tag option rest, want one at most", t, n)
	}
	return sc
}

// takes reports whether a field of sc other than the rest one holds the
// message key k, in form.
func (sc *structCodec) takes(form KeyForm, k string) bool {
	if form == KeysAMI {
		return sc.lookup(form, k) >= 0 || sc.lookupMap(k) >= 0
	}
	for i := range sc.fields {
		f := &sc.fields[i]
		if f.kind != codecRest && keyEqual(form, k, f.name) || f.kind == codecMap && f.mapKey(form, k) {
			return true
		}
	}
	return false
}

// unmarshalRest sets the rest field f of sv to the fields of fs that no
// other field takes, when there is any.
func (sc *structCodec) unmarshalRest(f *fieldCodec, form KeyForm, fs []Field, sv reflect.Value) {
	var rest []Field
	for _, mf := range fs {
		if !sc.takes(form, mf.Key) {
			rest = append(rest, mf)
		}
	}
	if rest != nil {
		settableField(sv, f.index).Set(reflect.ValueOf(rest))
	}
}

// lookup returns the index of the field whose key is k, a key of a
// message in form, or -1.
func (sc *structCodec) lookup(form KeyForm, k string) int {
	var buf [64]byte
	if form == KeysXML {
		if j, ok := sc.byXML[string(xmlname.Append(buf[:0], k))]; ok {
			return j
		}
		return -1
	}
	if j, ok := sc.byFold[string(ascii.AppendLower(buf[:0], k))]; ok {
		return j
	}
	return -1
}

// lookupMap returns the index of the map field whose key k, a key of a
// message in KeysAMI form, is with a "(…)" suffix, or -1.
func (sc *structCodec) lookupMap(k string) int {
	i := strings.IndexByte(k, '(')
	if !sc.hasMap || i <= 0 {
		return -1
	}
	var buf [64]byte
	if j, ok := sc.byFold[string(ascii.AppendLower(buf[:0], k[:i]))]; ok && sc.fields[j].kind == codecMap {
		return j
	}
	return -1
}

// prefixOption returns the P of a "prefix=P" option of tag.
func prefixOption(tag string) (string, bool) {
	_, opts, _ := strings.Cut(tag, ",")
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		if p, ok := strings.CutPrefix(opt, "prefix="); ok {
			return p, true
		}
	}
	return "", false
}

// newFieldCodec parses the tag of a non-embedded struct field.
func newFieldCodec(sf reflect.StructField, tag string, index []int, path string) fieldCodec {
	name, opts, _ := strings.Cut(tag, ",")
	f := fieldCodec{name: name, path: path, index: index, typ: sf.Type, tagged: name != ""}
	if name == "" {
		f.name = sf.Name
	}
	isDuration := sf.Type == reflect.TypeFor[time.Duration]()
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		switch {
		case opt == "omitempty":
			f.omitEmpty = true
		case opt == "rest":
			if sf.Type != reflect.TypeFor[[]Field]() {
				f.err = fmt.Errorf("rawman: Go field %s of type %v: ami tag option \"rest\" is only for []rawman.Field", path, sf.Type)
			}
			f.kind, f.name = codecRest, "" // no key of its own
		case strings.HasPrefix(opt, "prefix="):
			f.err = fmt.Errorf("rawman: Go field %s of type %v: ami tag option %q is only for struct fields", path, sf.Type, opt)
		case strings.HasPrefix(opt, "unit="):
			u, ok := durationUnit(opt[len("unit="):])
			switch {
			case !isDuration:
				f.err = fmt.Errorf("rawman: Go field %s of type %v: ami tag option %q is only for time.Duration", path, sf.Type, opt)
			case !ok:
				f.err = fmt.Errorf("rawman: Go field %s: unknown unit in ami tag option %q (want ns, us, ms, s, m or h)", path, opt)
			}
			f.unit = u
		default:
			f.err = fmt.Errorf("rawman: Go field %s: unknown ami tag option %q", path, opt)
		}
		if f.err != nil {
			return f
		}
	}
	t := sf.Type
	switch {
	case f.kind == codecRest:
	case isDuration:
		f.kind = codecDuration
		if f.unit == 0 {
			f.err = fmt.Errorf("rawman: Go field %s of type time.Duration needs a unit option, e.g. `ami:\"%s,unit=s\"`", path, f.name)
		}
	case t.Kind() == reflect.String:
		f.kind = codecString
	case t.Kind() == reflect.Bool:
		f.kind = codecBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		f.kind, f.bits = codecInt, t.Bits()
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		f.kind, f.bits = codecUint, t.Bits()
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		f.kind, f.bits = codecFloat, t.Bits()
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		f.kind = codecStrings
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String:
		f.kind = codecMap
	default:
		f.err = &UnsupportedTypeError{Type: t, Field: path}
	}
	return f
}

// durationUnit returns the time.Duration named by a unit option value.
func durationUnit(s string) (time.Duration, bool) {
	switch s {
	case "ns":
		return time.Nanosecond, true
	case "us":
		return time.Microsecond, true
	case "ms":
		return time.Millisecond, true
	case "s":
		return time.Second, true
	case "m":
		return time.Minute, true
	case "h":
		return time.Hour, true
	}
	return 0, false
}

// foldASCII returns s with ASCII upper-case letters lowered, the key under
// which equalFold compares.
func foldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// settableField returns the field at index in the struct sv, allocating the
// nil embedded pointers on the way.
func settableField(sv reflect.Value, index []int) reflect.Value {
	v := sv
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// readableField returns the field at index in the struct sv, and false if a
// nil embedded pointer is on the way.
func readableField(sv reflect.Value, index []int) (reflect.Value, bool) {
	v := sv
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// typeError builds the error for value of the message field key.
func (f *fieldCodec) typeError(key, value string, err error) error {
	return &UnmarshalTypeError{Key: key, Value: value, Field: f.path, Type: f.typ, Err: err}
}

// unmarshal sets the field of sv described by f from fs, whose keys are
// compared under form.
func (f *fieldCodec) unmarshal(form KeyForm, fs []Field, sv reflect.Value) error {
	switch f.kind {
	case codecStrings:
		f.unmarshalStrings(form, fs, sv)
		return nil
	case codecMap:
		f.unmarshalMap(form, fs, sv)
		return nil
	}
	i := 0
	for i < len(fs) && !keyEqual(form, fs[i].Key, f.name) {
		i++
	}
	if i == len(fs) {
		return nil
	}
	return f.set(fs[i], sv)
}

// set sets the scalar field of sv described by f from the message field
// mf.
func (f *fieldCodec) set(mf Field, sv reflect.Value) error {
	key, s := mf.Key, mf.Value
	if s == "" && f.kind != codecString {
		return nil
	}
	switch f.kind {
	case codecString:
		settableField(sv, f.index).SetString(s)
	case codecBool:
		b, ok := parseAMIBool(s)
		if !ok {
			return f.typeError(key, s, strconv.ErrSyntax)
		}
		settableField(sv, f.index).SetBool(b)
	case codecInt:
		n, err := strconv.ParseInt(s, 10, f.bits)
		if err != nil {
			return f.typeError(key, s, err)
		}
		settableField(sv, f.index).SetInt(n)
	case codecUint:
		n, err := strconv.ParseUint(s, 10, f.bits)
		if err != nil {
			return f.typeError(key, s, err)
		}
		settableField(sv, f.index).SetUint(n)
	case codecFloat:
		x, err := strconv.ParseFloat(s, f.bits)
		if err != nil {
			return f.typeError(key, s, err)
		}
		settableField(sv, f.index).SetFloat(x)
	case codecDuration:
		d, err := parseAMIDuration(s, f.unit)
		if err != nil {
			return f.typeError(key, s, err)
		}
		settableField(sv, f.index).SetInt(int64(d))
	}
	return nil
}

// unmarshalStrings replaces the slice field with the values of every field
// named f.name, if there is any.
func (f *fieldCodec) unmarshalStrings(form KeyForm, fs []Field, sv reflect.Value) {
	var vals []string
	for i := range fs {
		if keyEqual(form, fs[i].Key, f.name) {
			vals = append(vals, fs[i].Value)
		}
	}
	if vals == nil {
		return
	}
	fv := settableField(sv, f.index)
	if p, ok := fv.Addr().Interface().(*[]string); ok {
		*p = vals
		return
	}
	s := reflect.MakeSlice(f.typ, len(vals), len(vals))
	for i, v := range vals {
		s.Index(i).SetString(v)
	}
	fv.Set(s)
}

// unmarshalMap adds to the map field the name=value pairs of every field
// named f.name or f.name followed by '(' (in [KeysXML] form, by '_', which
// is what Asterisk's mxml makes of the parenthesis).
func (f *fieldCodec) unmarshalMap(form KeyForm, fs []Field, sv reflect.Value) {
	var fv reflect.Value
	var fast map[string]string
	for i := range fs {
		if !f.mapKey(form, fs[i].Key) {
			continue
		}
		if fs[i].Value == "" {
			continue
		}
		name, value, _ := strings.Cut(fs[i].Value, "=")
		if !fv.IsValid() {
			fv = settableField(sv, f.index)
			if fv.IsNil() {
				fv.Set(reflect.MakeMap(f.typ))
			}
			if p, ok := fv.Addr().Interface().(*map[string]string); ok {
				fast = *p
			}
		}
		if fast != nil {
			fast[name] = value
			continue
		}
		fv.SetMapIndex(reflect.ValueOf(name).Convert(f.typ.Key()), reflect.ValueOf(value).Convert(f.typ.Elem()))
	}
}

// mapKey reports whether k is the key of a map entry of f: f.name itself,
// or f.name followed by '(' and anything.
func (f *fieldCodec) mapKey(form KeyForm, k string) bool {
	if form == KeysXML {
		return xmlname.Equal(k, f.name) || xmlname.HasPrefix(k, f.name+"(")
	}
	return hasPrefixFold(k, f.name) && (len(k) == len(f.name) || k[len(f.name)] == '(')
}

// marshal appends the field or fields for fv, the value of f, to m.
func (f *fieldCodec) marshal(m *Message, fv reflect.Value) {
	switch f.kind {
	case codecString:
		if s := fv.String(); s != "" || !f.omitEmpty {
			m.Add(f.name, s)
		}
	case codecBool:
		if b := fv.Bool(); b || !f.omitEmpty {
			m.Add(f.name, strconv.FormatBool(b))
		}
	case codecInt:
		if n := fv.Int(); n != 0 || !f.omitEmpty {
			m.Add(f.name, strconv.FormatInt(n, 10))
		}
	case codecUint:
		if n := fv.Uint(); n != 0 || !f.omitEmpty {
			m.Add(f.name, strconv.FormatUint(n, 10))
		}
	case codecFloat:
		if x := fv.Float(); x != 0 || !f.omitEmpty {
			m.Add(f.name, strconv.FormatFloat(x, 'f', -1, f.bits))
		}
	case codecDuration:
		if d := time.Duration(fv.Int()); d != 0 || !f.omitEmpty {
			m.Add(f.name, strconv.FormatInt(int64(d/f.unit), 10))
		}
	case codecStrings:
		for i := 0; i < fv.Len(); i++ {
			m.Add(f.name, fv.Index(i).String())
		}
	case codecRest:
		m.Fields = append(m.Fields, fv.Interface().([]Field)...)
	case codecMap:
		if fv.Len() == 0 {
			return
		}
		if mm, ok := fv.Interface().(map[string]string); ok {
			for _, k := range slices.Sorted(maps.Keys(mm)) {
				m.Add(f.name, k+"="+mm[k])
			}
			return
		}
		keys := make([]string, 0, fv.Len())
		for it := fv.MapRange(); it.Next(); {
			keys = append(keys, it.Key().String())
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := fv.MapIndex(reflect.ValueOf(k).Convert(f.typ.Key()))
			m.Add(f.name, k+"="+v.String())
		}
	}
}

// parseAMIBool parses the boolean spellings Asterisk and its users write:
// yes/no, true/false, on/off, y/n, t/f and 1/0, case-insensitively.
func parseAMIBool(s string) (value, ok bool) {
	switch {
	case s == "1" || equalFold(s, "yes") || equalFold(s, "true") ||
		equalFold(s, "on") || equalFold(s, "y") || equalFold(s, "t"):
		return true, true
	case s == "0" || equalFold(s, "no") || equalFold(s, "false") ||
		equalFold(s, "off") || equalFold(s, "n") || equalFold(s, "f"):
		return false, true
	}
	return false, false
}

// parseAMIDuration parses an integer or decimal count of unit, with an
// optional leading '-', or an H:MM:SS clock value. Fraction digits beyond
// nanosecond precision are truncated. The error is strconv.ErrSyntax or
// strconv.ErrRange.
func parseAMIDuration(s string, unit time.Duration) (time.Duration, error) {
	if strings.IndexByte(s, ':') >= 0 {
		return parseAMIClock(s)
	}
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" && fp == "" {
		return 0, strconv.ErrSyntax
	}
	n, ok := parseDigits(ip)
	if !ok {
		return 0, strconv.ErrSyntax
	}
	hi, total := bits.Mul64(n, uint64(unit))
	overflow := n == math.MaxUint64 || hi != 0
	var frac, scale uint64 = 0, 1
	for i := 0; i < len(fp); i++ {
		c := fp[i]
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		if scale < 1e18 {
			frac, scale = frac*10+uint64(c-'0'), scale*10
		}
	}
	if overflow {
		return 0, strconv.ErrRange
	}
	if scale > 1 {
		hi, lo := bits.Mul64(frac, uint64(unit))
		q, _ := bits.Div64(hi, lo, scale)
		total += q
		if total < q {
			return 0, strconv.ErrRange
		}
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if total > limit {
		return 0, strconv.ErrRange
	}
	if neg {
		return -time.Duration(total), nil
	}
	return time.Duration(total), nil
}

// parseDigits parses a possibly empty string of decimal digits; on
// overflow it returns math.MaxUint64 and true.
func parseDigits(s string) (uint64, bool) {
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		hi, lo := bits.Mul64(n, 10)
		n = lo + uint64(c-'0')
		if hi != 0 || n < lo {
			for i++; i < len(s); i++ {
				if s[i] < '0' || s[i] > '9' {
					return 0, false
				}
			}
			return math.MaxUint64, true
		}
	}
	return n, true
}

// parseAMIClock parses the H:MM:SS form (any number of hour digits, one or
// two digits of minutes and seconds below 60) that Asterisk uses for the
// Duration of CoreShowChannel.
func parseAMIClock(s string) (time.Duration, error) {
	hs, rest, _ := strings.Cut(s, ":")
	ms, ss, ok := strings.Cut(rest, ":")
	if !ok || hs == "" || len(ms) < 1 || len(ms) > 2 || len(ss) < 1 || len(ss) > 2 {
		return 0, strconv.ErrSyntax
	}
	h, ok1 := parseDigits(hs)
	m, ok2 := parseDigits(ms)
	sec, ok3 := parseDigits(ss)
	if !ok1 || !ok2 || !ok3 || m >= 60 || sec >= 60 {
		return 0, strconv.ErrSyntax
	}
	const maxHours = uint64(math.MaxInt64 / time.Hour)
	if h > maxHours {
		return 0, strconv.ErrRange
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if d < 0 {
		return 0, strconv.ErrRange
	}
	return d, nil
}
