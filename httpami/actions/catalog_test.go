package actions_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/actions"
)

// catalogDir is the catalog the package is generated from.
const catalogDir = "../../testdata/asterisk-catalog"

// The parts of versions/<tag>/actions.json the test reads, declared here
// rather than shared with the generator so that the two read the JSON
// independently.
type catalogAction struct {
	Name            string   `json:"name"`
	Privilege       []string `json:"privilege"`
	Since           []string `json:"since"`
	EventList       bool     `json:"eventList"`
	CompletionEvent *string  `json:"completionEvent"`
	Parameters      []struct {
		Name             string   `json:"name"`
		Required         bool     `json:"required"`
		Multiple         bool     `json:"multiple"`
		Pattern          string   `json:"pattern"`
		MultipleEvidence []string `json:"multipleEvidence"`
	} `json:"parameters"`
	Source struct {
		AcceptsArbitraryHeaders  bool     `json:"acceptsArbitraryHeaders"`
		HeadersReadNotDocumented []string `json:"headersReadNotDocumented"`
	} `json:"source"`
}

// versionDoc is one action as one version documents it.
type versionDoc struct {
	major int
	doc   catalogAction
}

// catalogVersions returns the majors of versions/*, ascending, and the tag
// of each.
func catalogVersions(t *testing.T) ([]int, map[int]string) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(catalogDir, "versions", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no versions in %s: %v", catalogDir, err)
	}
	tags := map[int]string{}
	var majors []int
	for _, d := range dirs {
		tag := filepath.Base(d)
		m, err := strconv.Atoi(tag[:strings.IndexByte(tag, '.')])
		if err != nil {
			t.Fatalf("version folder %q: %v", tag, err)
		}
		tags[m] = tag
		majors = append(majors, m)
	}
	slices.Sort(majors)
	return majors, tags
}

// registered returns, by action name, the majors whose C source registers
// it (compat.json's registeredVersions).
func registered(t *testing.T) map[string][]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(catalogDir, "compat.json"))
	if err != nil {
		t.Fatal(err)
	}
	var compat struct {
		Actions map[string]struct {
			RegisteredVersions []string `json:"registeredVersions"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(b, &compat); err != nil {
		t.Fatalf("compat.json: %v", err)
	}
	out := map[string][]int{}
	for name, a := range compat.Actions {
		out[name] = []int{}
		for _, v := range a.RegisteredVersions {
			m, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("compat.json: %s: version %q", name, v)
			}
			out[name] = append(out[name], m)
		}
	}
	return out
}

// readCatalogActions returns, by lower-cased name, the documents of every
// action of every version, oldest version first.
func readCatalogActions(t *testing.T) (majors []int, union map[string][]versionDoc) {
	t.Helper()
	majors, tags := catalogVersions(t)
	union = map[string][]versionDoc{}
	for _, m := range majors {
		b, err := os.ReadFile(filepath.Join(catalogDir, "versions", tags[m], "actions.json"))
		if err != nil {
			t.Fatal(err)
		}
		var as []catalogAction
		if err := json.Unmarshal(b, &as); err != nil {
			t.Fatalf("%s/actions.json: %v", tags[m], err)
		}
		for _, a := range as {
			k := strings.ToLower(a.Name)
			union[k] = append(union[k], versionDoc{m, a})
		}
	}
	return majors, union
}

// amiKeys returns the ami tag names of the struct type t, by lower-cased
// name, with their struct fields.
func amiKeys(t reflect.Type) map[string]reflect.StructField {
	keys := map[string]reflect.StructField{}
	for sf := range t.Fields() {
		tag := sf.Tag.Get("ami")
		if tag == "-" || !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		keys[strings.ToLower(name)] = sf
	}
	return keys
}

var (
	stringType  = reflect.TypeFor[string]()
	stringsType = reflect.TypeFor[[]string]()
	mapType     = reflect.TypeFor[map[string]string]()
	fieldsType  = reflect.TypeFor[[]rawman.Field]()
)

// TestCatalogActions checks every action of every version of the catalog
// against the generated package: Lookup, versions, privilege, and the Go
// type's fields against the parameters.
func TestCatalogActions(t *testing.T) {
	majors, union := readCatalogActions(t)
	reg := registered(t)
	if got := len(actions.All()); got != len(union) {
		t.Errorf("All() has %d actions, the catalog's versions %d", got, len(union))
	}
	t.Logf("%d actions in the union of %d versions", len(union), len(majors))
	types := map[reflect.Type]string{}
	for _, docs := range union {
		newest := docs[len(docs)-1].doc
		t.Run(newest.Name, func(t *testing.T) {
			s, ok := actions.Lookup(newest.Name)
			if !ok {
				t.Fatalf("Lookup(%q) not found", newest.Name)
			}
			if s.Name != newest.Name {
				t.Errorf("Name = %q, want the newest spelling %q", s.Name, newest.Name)
			}
			if s2, ok := actions.Lookup(strings.ToUpper(newest.Name)); !ok || s2 != s {
				t.Errorf("Lookup(%q) = %v, %v; want the same Spec", strings.ToUpper(newest.Name), s2, ok)
			}
			var versions []int
			for _, d := range docs {
				versions = append(versions, d.major)
			}
			if !slices.Equal(s.Versions, versions) {
				t.Errorf("Versions = %v, want %v", s.Versions, versions)
			}
			wantReg, ok := reg[newest.Name]
			if !ok {
				wantReg = versions
			}
			if !slices.Equal(s.Registered, wantReg) {
				t.Errorf("Registered = %v, want %v", s.Registered, wantReg)
			}
			priv := slices.DeleteFunc(slices.Clone(newest.Privilege), func(p string) bool { return p == "all" })
			if !slices.Equal(s.Privilege, priv) {
				t.Errorf("Privilege = %q, want %q", s.Privilege, priv)
			}
			if !slices.Equal(s.Since, newest.Since) {
				t.Errorf("Since = %q, want %q", s.Since, newest.Since)
			}
			wantCompletion := ""
			if newest.CompletionEvent != nil {
				wantCompletion = *newest.CompletionEvent
			}
			if s.EventList != newest.EventList || s.CompletionEvent != wantCompletion {
				t.Errorf("EventList, CompletionEvent = %v, %q; want %v, %q", s.EventList, s.CompletionEvent, newest.EventList, wantCompletion)
			}
			if s.FreeForm != newest.Source.AcceptsArbitraryHeaders {
				t.Errorf("FreeForm = %v, want %v", s.FreeForm, newest.Source.AcceptsArbitraryHeaders)
			}

			typ := s.Type()
			if prev, dup := types[typ]; dup {
				t.Errorf("type %v serves both %s and %s", typ, prev, s.Name)
			}
			types[typ] = s.Name
			if a := s.New(); a.ActionName() != s.Name || reflect.TypeOf(a).Elem() != typ {
				t.Errorf("New() = %T named %q, want *%v named %q", a, a.ActionName(), typ, s.Name)
			}
			checkParams(t, s, docs)
		})
	}
	if len(types) != len(union) {
		t.Errorf("%d distinct Go types for %d actions", len(types), len(union))
	}
	t.Logf("%d action types checked", len(types))
}

// paramFacts are one parameter's facts merged over the versions.
type paramFacts struct {
	name       string // newest spelling
	versions   []int
	requiredIn []int
	multiple   bool
	varMap     bool
	pattern    string
}

func checkParams(t *testing.T, s *actions.Spec, docs []versionDoc) {
	params := map[string]*paramFacts{}
	freeForm := false
	for _, d := range docs {
		freeForm = d.doc.Source.AcceptsArbitraryHeaders
		for _, p := range d.doc.Parameters {
			k := strings.ToLower(p.Name)
			f := params[k]
			if f == nil {
				f = &paramFacts{}
				params[k] = f
			}
			f.name, f.pattern = p.Name, p.Pattern
			f.versions = append(f.versions, d.major)
			if p.Required {
				f.requiredIn = append(f.requiredIn, d.major)
			}
			f.multiple = f.multiple || p.Multiple
			f.varMap = f.varMap || slices.Contains(p.MultipleEvidence, "source:astman_get_variables")
		}
	}

	typ := s.Type()
	keys := amiKeys(typ)
	want := map[string]bool{}
	// Headers the handler reads that the documentation omits have a
	// string field of their own, but no Param.
	for _, h := range docs[len(docs)-1].doc.Source.HeadersReadNotDocumented {
		k := strings.ToLower(h)
		if _, documented := params[k]; documented {
			continue
		}
		want[k] = true
		if sf, ok := keys[k]; !ok || sf.Type != stringType {
			t.Errorf("header %s, read by the handler, has no string field", h)
		}
	}
	hasPattern := false
	for k, f := range params {
		got, ok := s.Param(f.name)
		if !ok {
			t.Errorf("Param(%q) not found", f.name)
			continue
		}
		if got.Name != f.name {
			t.Errorf("Param(%q).Name = %q, want the newest spelling", f.name, got.Name)
		}
		if !slices.Equal(got.Versions, f.versions) {
			t.Errorf("%s: Versions = %v, want %v", f.name, got.Versions, f.versions)
		}
		if got.Required != (len(f.requiredIn) > 0) || !slices.Equal(got.RequiredIn, f.requiredIn) {
			t.Errorf("%s: Required, RequiredIn = %v, %v; want %v, %v", f.name, got.Required, got.RequiredIn, len(f.requiredIn) > 0, f.requiredIn)
		}
		if got.Multiple != f.multiple || got.Pattern != f.pattern {
			t.Errorf("%s: Multiple, Pattern = %v, %q; want %v, %q", f.name, got.Multiple, got.Pattern, f.multiple, f.pattern)
		}
		if f.pattern != "" {
			hasPattern = true
			continue
		}
		want[k] = true
		sf, ok := keys[k]
		if !ok {
			continue // reported below
		}
		wantType := stringType
		switch {
		case f.varMap:
			wantType = mapType
		case f.multiple:
			wantType = stringsType
		}
		if sf.Type != wantType {
			t.Errorf("%s: field %s is a %v, want %v", f.name, sf.Name, sf.Type, wantType)
		}
		if f.multiple && sf.Type != stringsType && sf.Type != mapType {
			t.Errorf("%s: repeatable, but field %s is a %v", f.name, sf.Name, sf.Type)
		}
	}
	if len(s.Params) != len(params) {
		t.Errorf("%d Params, want %d", len(s.Params), len(params))
	}
	for k := range keys {
		if !want[k] {
			t.Errorf("field %s (ami %q) is no parameter of the catalog", keys[k].Name, k)
		}
	}
	for k := range want {
		if _, ok := keys[k]; !ok {
			t.Errorf("parameter %s has no field", params[k].name)
		}
	}
	extra, ok := typ.FieldByName("Extra")
	switch {
	case hasPattern || freeForm:
		if !ok || extra.Type != fieldsType || extra.Tag.Get("ami") != "-" {
			t.Errorf("pattern or free-form parameters, but Extra is %+v (found %v), want []rawman.Field `ami:\"-\"`", extra, ok)
		}
		if _, ok := s.New().(interface{ ExtraParams() []rawman.Field }); !ok {
			t.Errorf("%T has no ExtraParams method", s.New())
		}
	case ok:
		t.Errorf("an Extra field, but no pattern parameter and not free-form")
	}
}

// TestLookupUnknown checks that names outside the catalog are not found.
func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{"", "MyCustomAction", "Originat", "Originate "} {
		if s, ok := actions.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %s, true; want not found", name, s.Name)
		}
	}
}

// TestMajors checks Majors against the catalog's versions folder, and that
// it returns a copy.
func TestMajors(t *testing.T) {
	want, _ := catalogVersions(t)
	got := actions.Majors()
	if !slices.Equal(got, want) {
		t.Fatalf("Majors() = %v, want %v", got, want)
	}
	got[0] = 0
	if actions.Majors()[0] != want[0] {
		t.Error("Majors returned the package's own slice")
	}
}
