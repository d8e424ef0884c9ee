package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The JSON shapes of the catalog, reduced to what the generator reads.
type (
	rawAction struct {
		Name            string     `json:"name"`
		Privilege       []string   `json:"privilege"`
		Since           []string   `json:"since"`
		Parameters      []rawParam `json:"parameters"`
		EventList       bool       `json:"eventList"`
		CompletionEvent *string    `json:"completionEvent"`
		AsteriskModule  string     `json:"asteriskModule"`
		Source          struct {
			HeadersReadNotDocumented []string `json:"headersReadNotDocumented"`
			AcceptsArbitraryHeaders  bool     `json:"acceptsArbitraryHeaders"`
		} `json:"source"`
	}
	rawParam struct {
		Name     string   `json:"name"`
		Required bool     `json:"required"`
		Multiple bool     `json:"multiple"`
		Default  *string  `json:"default"`
		Values   []string `json:"values"`
		Pattern  string   `json:"pattern"`
		Evidence []string `json:"multipleEvidence"`
	}
	rawEvent struct {
		Name           string     `json:"name"`
		SourceOnly     []string   `json:"sourceFieldsNotDocumented"`
		Class          []string   `json:"class"`
		Since          []string   `json:"since"`
		Fields         []rawField `json:"fields"`
		AsteriskModule string     `json:"asteriskModule"`
	}
	rawField struct {
		Name        string   `json:"name"`
		Snapshot    string   `json:"snapshot"`
		Prefix      string   `json:"prefix"`
		Conditional bool     `json:"conditional"`
		Multiple    bool     `json:"multiple"`
		Values      []string `json:"values"`
	}
	rawCompat struct {
		Versions map[string]string `json:"versions"`
		Actions  map[string]struct {
			RegisteredVersions []string `json:"registeredVersions"`
		} `json:"actions"`
		UndocumentedEvents map[string]struct {
			Versions []string `json:"versions"`
			Fields   []string `json:"fields"`
		} `json:"undocumentedEvents"`
		Snapshots     map[string]map[string][]rawField `json:"snapshots"`
		EventEnvelope map[string][]rawField            `json:"eventEnvelope"`
	}
)

// A catalog is every version of the catalog merged: one entry per action
// and per event of any covered major, with masks of the majors where each
// thing is documented.
type catalog struct {
	majors   []int // covered majors, ascending
	tags     []string
	actions  []*action
	events   []*event
	snapshot map[string][]*field // "channel", "bridge": union over majors
	envelope []*field
}

// A mask holds one bit per covered major, bit i for majors[i].
type mask uint16

type action struct {
	name       string
	privilege  []string
	since      []string
	module     string
	eventList  bool
	completion string
	freeForm   bool
	extraKnown []string // headers the handler reads that are not documented
	versions   mask
	registered mask // the majors whose C source registers it
	params     []*param
}

type param struct {
	name     string
	required mask
	versions mask
	multiple bool
	varMap   bool // read with astman_get_variables: name=value pairs
	emptyOK  bool // required, but an empty value is a value
	def      string
	values   []string
	pattern  string
}

type event struct {
	name       string
	class      []string
	since      []string
	module     string
	documented bool
	completes  string // the action whose list it ends, when the catalog has no document
	versions   mask
	fields     []*field

	plain []*field      // fields outside snapshots and envelope, set by eventsFile
	snaps []snapshotRef // snapshots, set by eventsFile
}

type field struct {
	name        string // on the wire, prefix included
	snapshot    string
	prefix      string
	conditional bool
	multiple    bool
	values      []string
	versions    mask
	observed    string // why a field not in the catalog was added
}

// loadCatalog reads dir, a copy of the shared asterisk-catalog.
func loadCatalog(dir string) (*catalog, error) {
	var compat rawCompat
	if err := readJSON(filepath.Join(dir, "compat.json"), &compat); err != nil {
		return nil, err
	}
	c := &catalog{snapshot: map[string][]*field{}}
	for m := range compat.Versions {
		n, err := strconv.Atoi(m)
		if err != nil {
			return nil, fmt.Errorf("compat.json: major %q: %v", m, err)
		}
		c.majors = append(c.majors, n)
	}
	slices.Sort(c.majors)
	if len(c.majors) == 0 || len(c.majors) > 16 {
		return nil, fmt.Errorf("compat.json: %d majors", len(c.majors))
	}
	actions := map[string]*action{}
	events := map[string]*event{}
	for i, major := range c.majors {
		tag := compat.Versions[strconv.Itoa(major)]
		c.tags = append(c.tags, tag)
		bit := mask(1) << i
		var as []rawAction
		if err := readJSON(filepath.Join(dir, "versions", tag, "actions.json"), &as); err != nil {
			return nil, err
		}
		for _, ra := range as {
			a := actions[ra.Name]
			if a == nil {
				a = &action{name: ra.Name}
				actions[ra.Name] = a
				c.actions = append(c.actions, a)
			}
			a.merge(ra, bit)
		}
		var es []rawEvent
		if err := readJSON(filepath.Join(dir, "versions", tag, "events.json"), &es); err != nil {
			return nil, err
		}
		for _, re := range es {
			e := events[re.Name]
			if e == nil {
				e = &event{name: re.Name, documented: true}
				events[re.Name] = e
				c.events = append(c.events, e)
			}
			e.merge(re, bit)
		}
		for _, kind := range []string{"channel", "bridge"} {
			c.snapshot[kind] = mergeFields(c.snapshot[kind], compat.Snapshots[strconv.Itoa(major)][kind], bit)
		}
		c.envelope = mergeFields(c.envelope, compat.EventEnvelope[strconv.Itoa(major)], bit)
	}
	// An action may be documented where no handler registers it
	// (FilterList in 13): it keeps its type, and the check refuses it.
	for _, a := range c.actions {
		a.registered = a.versions
		if ca, ok := compat.Actions[a.name]; ok {
			a.registered = c.maskOf(ca.RegisteredVersions)
		}
	}
	for name, u := range compat.UndocumentedEvents {
		if events[name] != nil {
			continue
		}
		e := &event{name: name, versions: c.maskOf(u.Versions)}
		for _, f := range u.Fields {
			e.fields = append(e.fields, &field{name: f, versions: e.versions})
		}
		events[name] = e
		c.events = append(c.events, e)
	}
	if len(c.snapshot["channel"]) == 0 || len(c.snapshot["bridge"]) == 0 || len(c.envelope) == 0 {
		return nil, fmt.Errorf("compat.json: no snapshot or envelope keys")
	}
	slices.SortFunc(c.actions, func(a, b *action) int { return strings.Compare(a.name, b.name) })
	slices.SortFunc(c.events, func(a, b *event) int { return strings.Compare(a.name, b.name) })
	return c, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// maskOf returns the mask of majors given as strings.
func (c *catalog) maskOf(majors []string) mask {
	var m mask
	for _, s := range majors {
		n, _ := strconv.Atoi(s)
		if i := slices.Index(c.majors, n); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

// all is the mask of every covered major.
func (c *catalog) all() mask { return mask(1)<<len(c.majors) - 1 }

// merge adds the document of one major, read in ascending order: the
// newest document gives names, order and facts; parameters of older ones
// that are gone stay, after the others.
func (a *action) merge(ra rawAction, bit mask) {
	a.versions |= bit
	a.privilege = slices.DeleteFunc(slices.Clone(ra.Privilege), func(s string) bool { return s == "all" })
	a.since = ra.Since
	a.module = ra.AsteriskModule
	a.eventList = ra.EventList
	a.completion = ""
	if ra.CompletionEvent != nil {
		a.completion = *ra.CompletionEvent
	}
	a.freeForm = ra.Source.AcceptsArbitraryHeaders
	a.extraKnown = ra.Source.HeadersReadNotDocumented
	var params []*param
	for _, rp := range ra.Parameters {
		i := slices.IndexFunc(a.params, func(p *param) bool { return strings.EqualFold(p.name, rp.Name) })
		p := &param{}
		if i >= 0 {
			p = a.params[i]
			a.params = slices.Delete(a.params, i, i+1)
		}
		p.name, p.versions = rp.Name, p.versions|bit
		if rp.Required {
			p.required |= bit
		}
		p.multiple = p.multiple || rp.Multiple
		p.varMap = p.varMap || slices.Contains(rp.Evidence, "source:astman_get_variables")
		p.def, p.values, p.pattern = "", rp.Values, rp.Pattern
		if rp.Default != nil {
			p.def = *rp.Default
		}
		params = append(params, p)
	}
	a.params = append(params, a.params...)
}

func (e *event) merge(re rawEvent, bit mask) {
	e.versions |= bit
	e.class, e.since, e.module = re.Class, re.Since, re.AsteriskModule
	e.fields = mergeFields(e.fields, re.Fields, bit)
	for _, k := range re.SourceOnly {
		e.sourceOnly(k, bit)
	}
}

// sourceOnly adds key, which Asterisk's C source writes into the event
// in the major of bit though its documentation omits it.
func (e *event) sourceOnly(key string, bit mask) {
	for _, f := range e.fields {
		if strings.EqualFold(f.name, key) {
			if f.observed != "" {
				f.versions |= bit
			}
			return
		}
	}
	e.fields = append(e.fields, &field{name: key, versions: bit, observed: sourceNote})
}

// mergeFields merges the fields of one major into old: the newest order
// first, then the fields that are gone.
func mergeFields(old []*field, fs []rawField, bit mask) []*field {
	var out []*field
	for _, rf := range fs {
		i := slices.IndexFunc(old, func(f *field) bool { return strings.EqualFold(f.name, rf.Name) })
		f := &field{}
		if i >= 0 {
			f = old[i]
			old = slices.Delete(old, i, i+1)
		}
		f.name, f.snapshot, f.prefix = rf.Name, rf.Snapshot, rf.Prefix
		f.conditional, f.multiple, f.values = rf.Conditional, f.multiple || rf.Multiple, rf.Values
		f.versions |= bit
		out = append(out, f)
	}
	return append(out, old...)
}
