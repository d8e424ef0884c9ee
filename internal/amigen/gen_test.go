package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// root is the module root, seen from this package's folder.
const root = "../.."

// TestGeneratedUpToDate runs the generator in memory on the committed
// catalog and compares its output with the committed files byte for byte.
func TestGeneratedUpToDate(t *testing.T) {
	files, err := generate(filepath.Join(root, catalogDir))
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	if len(files) != 2 {
		t.Fatalf("generate returned %d files, want 2", len(files))
	}
	for _, f := range files {
		old, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./httpami/actions)", f.path, err)
		}
		if !bytes.Equal(old, f.src) {
			t.Errorf("%s is not what the catalog generates: run go generate ./httpami/actions\n%s",
				f.path, firstDiff(old, f.src))
		}
	}
	// run -check generates again: the output must not depend on map order.
	if err := run(root, true); err != nil {
		t.Errorf("run -check: %v (run go generate ./httpami/actions)", err)
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  on disk:   " + gl + "\n  generated: " + wl
		}
	}
	return "same lines, different bytes"
}

func TestGoName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Cause-txt", "CauseTxt"},
		{"channel", "Channel"},
		{"Channel", "Channel"},
		{"100rel", "Rel100"},
		{"CID-CallingPres", "CIDCallingPres"},
		{"ActionID", "ActionID"},
		{"Action-000000", "Action000000"},
		{"UnitAmount(0)", "UnitAmount0"},
		{"bpviol", "Bpviol"},
		{"T38_udptl", "T38Udptl"},
		{"x.y z", "XYZ"},
		{"DestChanVariable", "DestChanVariable"},
		{"g.726_non_standard", "G726NonStandard"},
		{"100", "N100"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := goName(tt.in); got != tt.want {
				t.Errorf("goName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestGoNameNoLetters checks that a key with no Go name at all panics with
// a message naming it, rather than yielding an invalid identifier.
func TestGoNameNoLetters(t *testing.T) {
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, `"--"`) {
			t.Errorf("goName(%q) panicked with %v, want a message naming it", "--", r)
		}
	}()
	got := goName("--")
	t.Errorf("goName(%q) = %q, want a panic", "--", got)
}

// testMajors are the covered majors of the real catalog.
var testMajors = []int{13, 16, 18, 20, 22, 23}

// bits returns the mask of the given majors of testMajors.
func bits(majors ...int) mask {
	var m mask
	for _, major := range majors {
		m |= 1 << slices.Index(testMajors, major)
	}
	return m
}

func TestVersionText(t *testing.T) {
	c := &catalog{majors: testMajors}
	tests := []struct {
		m    mask
		want string
	}{
		{0, "none"},
		{bits(13, 16, 18, 20, 22, 23), "13 to 23"},
		{bits(23), "23"},
		{bits(13), "13"},
		{bits(18, 20, 22, 23), "18 to 23"},
		{bits(13, 16), "13 to 16"},
		{bits(13, 23), "13 and 23"},
		{bits(13, 18, 23), "13, 18 and 23"},
		{bits(13, 16, 18, 20), "13 to 20"},
		{bits(13, 16, 20, 22), "13, 16, 20 and 22"},
	}
	for _, tt := range tests {
		if got := c.versionText(tt.m); got != tt.want {
			t.Errorf("versionText(%v) = %q, want %q", c.majorsOf(tt.m), got, tt.want)
		}
	}
	if got, want := c.all(), bits(testMajors...); got != want {
		t.Errorf("all() = %b, want %b", got, want)
	}
}

// fieldNames returns the names of fs.
func fieldNames(fs []*field) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.name)
	}
	return out
}

func TestMergeFields(t *testing.T) {
	old := bits(13)
	newer := bits(16)
	fs := mergeFields(nil, []rawField{
		{Name: "A"}, {Name: "b"}, {Name: "C", Multiple: true}, {Name: "Gone"},
	}, old)
	fs = mergeFields(fs, []rawField{
		{Name: "New"}, {Name: "c"}, {Name: "B", Values: []string{"x"}}, {Name: "A", Conditional: true},
	}, newer)
	if got, want := fieldNames(fs), []string{"New", "c", "B", "A", "Gone"}; !slices.Equal(got, want) {
		t.Fatalf("merged order = %q, want %q (newest order and spelling, then the gone ones)", got, want)
	}
	wantVersions := map[string]mask{"New": newer, "c": old | newer, "B": old | newer, "A": old | newer, "Gone": old}
	for _, f := range fs {
		if f.versions != wantVersions[f.name] {
			t.Errorf("%s: versions %b, want %b", f.name, f.versions, wantVersions[f.name])
		}
	}
	byName := func(n string) *field { return fs[slices.IndexFunc(fs, func(f *field) bool { return f.name == n })] }
	if !byName("c").multiple {
		t.Errorf("c: multiple lost: once multiple in any version, a field stays multiple")
	}
	if !slices.Equal(byName("B").values, []string{"x"}) {
		t.Errorf("B: values %q, want the newest document's", byName("B").values)
	}
	if !byName("A").conditional {
		t.Errorf("A: conditional not taken from the newest document")
	}

	// A third major where everything but A is gone: A first, then the gone
	// ones in their previous order.
	fs = mergeFields(fs, []rawField{{Name: "a"}}, bits(18))
	if got, want := fieldNames(fs), []string{"a", "New", "c", "B", "Gone"}; !slices.Equal(got, want) {
		t.Errorf("after a third major: order = %q, want %q", got, want)
	}
}

func TestActionMerge(t *testing.T) {
	def := "30000"
	a := &action{name: "X"}
	a.merge(rawAction{
		Name: "X", Privilege: []string{"call", "all"},
		Parameters: []rawParam{
			{Name: "ActionID"}, {Name: "channel", Required: true}, {Name: "Old", Required: true},
			{Name: "Timeout", Default: &def},
		},
	}, bits(13))
	a.merge(rawAction{
		Name: "X", Privilege: []string{"system", "all"}, Since: []string{"18.1.0"},
		Parameters: []rawParam{
			{Name: "ActionID"}, {Name: "Channel"}, {Name: "Added", Required: true},
			{Name: "Variable", Multiple: true, Evidence: []string{"source:astman_get_variables"}},
			{Name: "Timeout"},
		},
	}, bits(16))
	var got []string
	for _, p := range a.params {
		got = append(got, p.name)
	}
	if want := []string{"ActionID", "Channel", "Added", "Variable", "Timeout", "Old"}; !slices.Equal(got, want) {
		t.Fatalf("params = %q, want %q", got, want)
	}
	if !slices.Equal(a.privilege, []string{"system"}) {
		t.Errorf("privilege = %q, want the newest without all", a.privilege)
	}
	if a.versions != bits(13, 16) {
		t.Errorf("versions = %b, want %b", a.versions, bits(13, 16))
	}
	p := a.params[1]
	if p.required != bits(13) || p.versions != bits(13, 16) {
		t.Errorf("Channel: required %b versions %b, want %b and %b", p.required, p.versions, bits(13), bits(13, 16))
	}
	if v := a.params[3]; !v.multiple || !v.varMap {
		t.Errorf("Variable: multiple %v varMap %v, want both", v.multiple, v.varMap)
	}
	if tm := a.params[4]; tm.def != "" {
		t.Errorf("Timeout: default %q, want the newest document's (none)", tm.def)
	}
	if old := a.params[5]; old.versions != bits(13) || old.required != bits(13) {
		t.Errorf("Old: versions %b required %b, want %b for both", old.versions, old.required, bits(13))
	}
}

// writeCatalog writes a minimal valid catalog of one major into dir and
// returns dir.
func writeCatalog(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{
		"compat.json": `{"versions": {"23": "23.4.1"},
			"snapshots": {"23": {"channel": [{"name": "Channel"}], "bridge": [{"name": "BridgeUniqueid"}]}},
			"eventEnvelope": {"23": [{"name": "Event"}, {"name": "ChanVariable(<channel>)"}]}}`,
		"versions/23.4.1/actions.json": `[{"name": "Ping", "privilege": [], "parameters": [{"name": "ActionID"}]}]`,
		"versions/23.4.1/events.json":  `[{"name": "Hangup", "fields": [{"name": "Channel", "snapshot": "channel", "prefix": ""}, {"name": "Cause"}]}]`,
	}
	for name, body := range files {
		base[name] = body
	}
	for name, body := range base {
		if body == "" {
			continue // deleted
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadCatalog(t *testing.T) {
	c, err := loadCatalog(writeCatalog(t, nil))
	if err != nil {
		t.Fatalf("minimal catalog: %v", err)
	}
	if len(c.actions) != 1 || len(c.events) != 1 || !slices.Equal(c.majors, []int{23}) {
		t.Errorf("minimal catalog: %d actions, %d events, majors %v; want 1, 1, [23]", len(c.actions), len(c.events), c.majors)
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	tests := []struct {
		name    string
		dir     func(t *testing.T) string
		wantErr string // a substring of the error
	}{
		{"missing dir", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "compat.json"},
		{"bad compat", func(t *testing.T) string { return writeCatalog(t, map[string]string{"compat.json": `{"versions": `}) }, "compat.json"},
		{"compat not an object", func(t *testing.T) string { return writeCatalog(t, map[string]string{"compat.json": `[1, 2]`}) }, "compat.json"},
		{"bad major", func(t *testing.T) string {
			return writeCatalog(t, map[string]string{"compat.json": `{"versions": {"twenty": "20.1.0"}}`})
		}, "twenty"},
		{"no majors", func(t *testing.T) string { return writeCatalog(t, map[string]string{"compat.json": `{}`}) }, "0 majors"},
		{"missing version dir", func(t *testing.T) string {
			return writeCatalog(t, map[string]string{"compat.json": `{"versions": {"23": "23.9.9"}}`})
		}, "23.9.9"},
		{"bad actions", func(t *testing.T) string {
			return writeCatalog(t, map[string]string{"versions/23.4.1/actions.json": `[{"name": 5}]`})
		}, "actions.json"},
		{"missing events", func(t *testing.T) string {
			return writeCatalog(t, map[string]string{"versions/23.4.1/events.json": ""})
		}, "events.json"},
		{"bad events", func(t *testing.T) string {
			return writeCatalog(t, map[string]string{"versions/23.4.1/events.json": `{`})
		}, "events.json"},
		{"no snapshots", func(t *testing.T) string {
			return writeCatalog(t, map[string]string{"compat.json": `{"versions": {"23": "23.4.1"}}`})
		}, "snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			c, err := loadCatalog(dir)
			if err == nil {
				t.Fatalf("loadCatalog = %v, nil; want an error", c)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("loadCatalog error %q, want it to mention %q", err, tt.wantErr)
			}
			if _, gerr := generate(dir); gerr == nil {
				t.Errorf("generate succeeded where loadCatalog failed")
			}
		})
	}
}
