package events_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/httpami/events"
	"github.com/amihttp/amihttp/internal/xmlname"
)

// catalogDir is the catalog the package is generated from.
const catalogDir = "../../testdata/asterisk-catalog"

// The parts of the catalog the tests read, declared here rather than
// shared with the generator so that the two read the JSON independently.
type (
	catalogField struct {
		Name     string `json:"name"`
		Snapshot string `json:"snapshot"`
		Prefix   string `json:"prefix"`
		Multiple bool   `json:"multiple"`
	}
	catalogEvent struct {
		Name   string         `json:"name"`
		Class  []string       `json:"class"`
		Fields []catalogField `json:"fields"`
	}
	catalogCompat struct {
		Versions           map[string]string `json:"versions"`
		UndocumentedEvents map[string]struct {
			Versions []string `json:"versions"`
			Fields   []string `json:"fields"`
		} `json:"undocumentedEvents"`
		Snapshots     map[string]map[string][]catalogField `json:"snapshots"`
		EventEnvelope map[string][]catalogField            `json:"eventEnvelope"`
	}
	catalogAction struct {
		Name            string  `json:"name"`
		CompletionEvent *string `json:"completionEvent"`
	}
)

// An expectedEvent is an event of the catalog merged over its versions.
type expectedEvent struct {
	name       string // newest spelling
	versions   []int
	documented bool
	completes  []string // actions naming it as completion event, if not in the catalog
	class      []string // of the newest version
	fields     map[string]catalogField
	multiple   map[string]bool // in any version
}

// testCatalog is the catalog read by the tests.
type testCatalog struct {
	majors    []int
	events    map[string]*expectedEvent // by lower-cased name
	snapshots map[string]map[string]string
	envelope  map[string]string // lower-cased name → name
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readCatalog reads versions/*/events.json, the undocumented events and
// snapshots of compat.json, and the completion events actions name.
func readCatalog(t *testing.T) *testCatalog {
	t.Helper()
	var compat catalogCompat
	readJSON(t, filepath.Join(catalogDir, "compat.json"), &compat)
	dirs, err := filepath.Glob(filepath.Join(catalogDir, "versions", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no versions in %s: %v", catalogDir, err)
	}
	c := &testCatalog{
		events:    map[string]*expectedEvent{},
		snapshots: map[string]map[string]string{"channel": {}, "bridge": {}},
		envelope:  map[string]string{},
	}
	tags := map[int]string{}
	for _, d := range dirs {
		tag := filepath.Base(d)
		m, err := strconv.Atoi(tag[:strings.IndexByte(tag, '.')])
		if err != nil {
			t.Fatal(err)
		}
		tags[m] = tag
		c.majors = append(c.majors, m)
	}
	slices.Sort(c.majors)
	named := map[string]*expectedEvent{}
	for _, m := range c.majors {
		var es []catalogEvent
		readJSON(t, filepath.Join(catalogDir, "versions", tags[m], "events.json"), &es)
		for _, e := range es {
			k := strings.ToLower(e.Name)
			x := c.events[k]
			if x == nil {
				x = &expectedEvent{documented: true, fields: map[string]catalogField{}, multiple: map[string]bool{}}
				c.events[k] = x
			}
			x.name, x.class = e.Name, e.Class
			x.versions = append(x.versions, m)
			for _, f := range e.Fields {
				x.fields[strings.ToLower(f.Name)] = f
				x.multiple[strings.ToLower(f.Name)] = x.multiple[strings.ToLower(f.Name)] || f.Multiple
			}
		}
		ms := strconv.Itoa(m)
		for kind, fs := range compat.Snapshots[ms] {
			for _, f := range fs {
				c.snapshots[kind][strings.ToLower(f.Name)] = f.Name
			}
		}
		for _, f := range compat.EventEnvelope[ms] {
			if !strings.Contains(f.Name, "(") {
				c.envelope[strings.ToLower(f.Name)] = f.Name
			}
		}
		var as []catalogAction
		readJSON(t, filepath.Join(catalogDir, "versions", tags[m], "actions.json"), &as)
		for _, a := range as {
			if a.CompletionEvent == nil {
				continue
			}
			k := strings.ToLower(*a.CompletionEvent)
			x := named[k]
			if x == nil {
				x = &expectedEvent{name: *a.CompletionEvent, fields: map[string]catalogField{}}
				named[k] = x
			}
			if !slices.Contains(x.versions, m) {
				x.versions = append(x.versions, m)
			}
			if !slices.Contains(x.completes, a.Name) {
				x.completes = append(x.completes, a.Name)
			}
		}
	}
	for name, u := range compat.UndocumentedEvents {
		k := strings.ToLower(name)
		if c.events[k] != nil {
			t.Errorf("%s is in undocumentedEvents and documented", name)
			continue
		}
		x := &expectedEvent{name: name, fields: map[string]catalogField{}}
		for _, v := range u.Versions {
			n, _ := strconv.Atoi(v)
			x.versions = append(x.versions, n)
		}
		for _, f := range u.Fields {
			x.fields[strings.ToLower(f)] = catalogField{Name: f}
		}
		c.events[k] = x
	}
	for k, x := range named {
		if c.events[k] == nil {
			c.events[k] = x
		}
	}
	return c
}

// lowerSet returns the lower-cased keys of ks.
func lowerSet(ks []structKey) map[string]string {
	out := map[string]string{}
	for _, k := range ks {
		out[strings.ToLower(k.key)] = k.key
	}
	return out
}

// diffKeys reports the keys of got missing from want and those of want
// missing from got.
func diffKeys(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var extra, missing []string
	for k, v := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, v)
		}
	}
	for k, v := range want {
		if _, ok := got[k]; !ok {
			missing = append(missing, v)
		}
	}
	slices.Sort(extra)
	slices.Sort(missing)
	if len(extra)+len(missing) > 0 {
		t.Errorf("%s: keys not in the catalog %q; catalog keys missing %q", what, extra, missing)
	}
}

// TestCatalogEvents checks every event of the catalog (every version, the
// undocumented ones, and the completion events that actions name) against
// the generated package: Lookup, versions, and the keys of the Go type.
func TestCatalogEvents(t *testing.T) {
	c := readCatalog(t)

	// The shared structs first.
	env := lowerSet(structKeys(envelopeType))
	wantEnv := maps.Clone(c.envelope)
	wantEnv["actionid"] = "ActionID" // carried by the events of a list
	diffKeys(t, "Envelope", env, wantEnv)
	diffKeys(t, "EnvelopeFields", fieldSet(events.EnvelopeFields()), wantEnv)
	for kind, typ := range map[string]reflect.Type{
		"channel": reflect.TypeFor[events.ChannelSnapshot](),
		"bridge":  reflect.TypeFor[events.BridgeSnapshot](),
	} {
		if len(c.snapshots[kind]) == 0 {
			t.Fatalf("compat.json has no %s snapshot keys", kind)
		}
		diffKeys(t, typ.Name(), lowerSet(structKeys(typ)), c.snapshots[kind])
		diffKeys(t, "SnapshotFields("+kind+")", fieldSet(events.SnapshotFields(kind)), c.snapshots[kind])
	}

	if got := len(events.All()); got != len(c.events) {
		t.Errorf("All() has %d events, the catalog %d", got, len(c.events))
	}
	documented := 0
	for _, x := range c.events {
		if x.documented {
			documented++
		}
	}
	t.Logf("%d events: %d documented in some version, the others undocumented or only named by actions", len(c.events), documented)
	observed, widened := 0, 0
	for _, x := range c.events {
		t.Run(x.name, func(t *testing.T) {
			s, ok := events.Lookup(x.name)
			if !ok {
				t.Fatalf("Lookup(%q) not found", x.name)
			}
			if s.Name != x.name {
				t.Errorf("Name = %q, want %q", s.Name, x.name)
			}
			if !slices.Equal(s.Versions, x.versions) {
				t.Errorf("Versions = %v, want %v", s.Versions, x.versions)
			}
			if s.Documented != x.documented {
				t.Errorf("Documented = %v, want %v", s.Documented, x.documented)
			}
			if x.documented && !slices.Equal(s.Class, x.class) {
				t.Errorf("Class = %q, want %q", s.Class, x.class)
			}
			if len(x.completes) > 0 && !slices.Contains(x.completes, s.Completes) {
				t.Errorf("Completes = %q, want one of %q", s.Completes, x.completes)
			}
			if ev := s.New(); ev.EventName() != s.Name || reflect.TypeOf(ev).Elem() != s.Type() {
				t.Errorf("New() = %T named %q, want *%v", ev, ev.EventName(), s.Type())
			}

			keys := structKeys(s.Type())
			checkDuplicates(t, keys)
			got := map[string]string{}
			for _, k := range keys {
				if !k.envelope {
					got[strings.ToLower(k.key)] = k.key
				}
			}
			want := map[string]string{}
			refs := map[[2]string]bool{}
			for k, f := range x.fields {
				switch {
				case f.Snapshot != "":
					if _, ok := c.snapshots[f.Snapshot][strings.ToLower(strings.TrimPrefix(f.Name, f.Prefix))]; !ok || !strings.HasPrefix(f.Name, f.Prefix) {
						t.Errorf("catalog field %s of snapshot %s prefix %q is no snapshot key", f.Name, f.Snapshot, f.Prefix)
					}
					refs[[2]string{f.Snapshot, f.Prefix}] = true
				case env[k] != "":
					// In Envelope.
				default:
					want[k] = f.Name
				}
			}
			// One snapshot type serves every version: it holds the keys of
			// all of them.
			for r := range refs {
				for k, name := range c.snapshots[r[0]] {
					want[strings.ToLower(r[1])+k] = r[1] + name
					if _, ok := x.fields[strings.ToLower(r[1])+k]; !ok {
						widened++
					}
				}
			}
			for _, f := range s.Fields {
				if f.Observed == "" {
					continue
				}
				observed++
				k := strings.ToLower(f.Name)
				if _, ok := x.fields[k]; ok {
					t.Errorf("%s is marked Observed but is in the catalog", f.Name)
				}
				want[k] = f.Name
			}
			diffKeys(t, s.Type().Name(), got, want)

			keysOf := map[string]string{}
			for _, k := range s.Keys() {
				keysOf[strings.ToLower(k)] = k
			}
			diffKeys(t, "Keys()", keysOf, got)
			for _, k := range keys {
				lk := strings.ToLower(k.key)
				if k.envelope || !x.multiple[lk] {
					continue
				}
				if k.typ.Kind() != reflect.Slice && k.typ.Kind() != reflect.Map {
					t.Errorf("%s may repeat, but is a %v", k.key, k.typ)
				}
			}
		})
	}
	t.Logf("%d observed keys; %d snapshot keys of other versions widen the types", observed, widened)
}

// fieldSet returns the lower-cased names of fs.
func fieldSet(fs []events.Field) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[strings.ToLower(f.Name)] = f.Name
	}
	return out
}

// checkDuplicates reports keys that two fields of one struct hold: then
// only one of them is ever filled, in rawman or mxml form.
func checkDuplicates(t *testing.T, keys []structKey) {
	t.Helper()
	for i, a := range keys {
		for _, b := range keys[i+1:] {
			if strings.EqualFold(a.key, b.key) {
				t.Errorf("two fields hold the key %s: %v and %v", a.key, a.index, b.index)
			} else if xmlname.Equal(a.key, b.key) {
				t.Errorf("keys %s and %s are the same in mxml form", a.key, b.key)
			}
		}
	}
}

// unmappedSourceKeys lists the keys that the catalog found in an event's C
// emitter but not in its documentation (sourceFieldsNotDocumented) and that
// the event's type has no field for: Decode drops them. The test fails if
// one gets a field or another one appears.
var unmappedSourceKeys = map[string][]string{}

// TestSourceKeys checks the keys Asterisk's C source writes beyond the
// documentation against the types.
func TestSourceKeys(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(catalogDir, "versions", "*", "events.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no events.json: %v", err)
	}
	got := map[string][]string{}
	total := 0
	for _, path := range dirs {
		var es []struct {
			Name   string   `json:"name"`
			Source []string `json:"sourceFieldsNotDocumented"`
		}
		readJSON(t, path, &es)
		for _, e := range es {
			s, ok := events.Lookup(e.Name)
			if !ok {
				t.Errorf("%s: no event %s", path, e.Name)
				continue
			}
			keys := structKeys(s.Type())
			for _, k := range e.Source {
				total++
				if _, ok := find(keys, 0, k); !ok && !slices.Contains(got[s.Name], k) {
					got[s.Name] = append(got[s.Name], k)
				}
			}
		}
	}
	for name, keys := range got {
		slices.Sort(keys)
		if !slices.Equal(keys, unmappedSourceKeys[name]) {
			t.Errorf("%s: keys of the C source without a field = %q, want %q", name, keys, unmappedSourceKeys[name])
		}
	}
	for name, keys := range unmappedSourceKeys {
		if _, ok := got[name]; !ok {
			t.Errorf("%s: %q now have fields: remove them from unmappedSourceKeys", name, keys)
		}
	}
	t.Logf("%d source keys over the versions, %d events with keys Decode drops", total, len(got))
}

// observedNote is the note of keys added from the recordings.
const observedNote = "testdata/asterisk-23"

// unrecordedObserved lists keys whose Observed note says they were recorded
// from Asterisk 23 although no recording holds them.
var unrecordedObserved = map[string]bool{}

// TestObservedKeysRecorded checks that a key said to be seen in
// testdata/asterisk-23 is in a recorded event of that name.
func TestObservedKeysRecorded(t *testing.T) {
	recorded := map[string]bool{}
	for _, b := range recordedBodies(t) {
		for _, m := range decodeBody(t, b) {
			if !m.IsEvent() {
				continue
			}
			s, ok := events.Lookup(m.Event())
			if !ok {
				continue
			}
			for _, f := range s.Fields {
				if m.Has(f.Name) {
					recorded[s.Name+" "+f.Name] = true
				}
			}
		}
	}
	n := 0
	for _, s := range events.All() {
		for _, f := range s.Fields {
			if !strings.Contains(f.Observed, observedNote) {
				continue
			}
			n++
			k := s.Name + " " + f.Name
			if recorded[k] == unrecordedObserved[k] {
				t.Errorf("%s: recorded %v, listed in unrecordedObserved %v", k, recorded[k], unrecordedObserved[k])
			}
		}
	}
	if n == 0 {
		t.Error("no key is marked as recorded")
	}
}
