package main

import (
	"fmt"
	"slices"
	"strings"
)

// The catalog holds what Asterisk documents. The additions below are
// what a real Asterisk 23.4.1 sent in testdata/asterisk-23 besides; each
// is marked in the generated code and reported by the tests.

// envelopeExtra are keys that any event may carry besides the catalog's
// envelope: the ActionID that ties a list's events to their action.
var envelopeExtra = []string{"ActionID"}

// listCompleteKeys are the keys Asterisk writes into the event that ends
// an event list (astman_send_list_complete_start): added to every
// completion event of the catalog that does not document them.
var listCompleteKeys = []string{"EventList", "ListItems"}

// observed are event keys seen in testdata/asterisk-23 and missing from
// the catalog, by event.
var observed = map[string][]string{
	// ShowDialPlan's items and their completion event are undocumented.
	"ListDialplan":         {"Context", "Extension", "Priority", "Application", "AppData", "Registrar"},
	"ShowDialPlanComplete": {"ListExtensions", "ListPriorities", "ListContexts"},
}

// emptyAllowed are required parameters whose empty value Asterisk's
// handler takes as a value, by action: Setvar with an empty Value sets
// the variable to "". Their fields have no omitempty, and validation only
// asks that they be present.
var emptyAllowed = map[string][]string{
	"Setvar": {"Value"},
}

// observedNote is the reason given for an observed field.
const observedNote = "sent by Asterisk 23.4.1 (testdata/asterisk-23), not in the catalog"

// sourceNote is the reason given for a key that the catalog found in
// Asterisk's C source only (sourceFieldsNotDocumented).
const sourceNote = "written by Asterisk's C source"

// sourceParamNote is said of a parameter that the catalog found in
// Asterisk's C handler only (headersReadNotDocumented).
const sourceParamNote = "Read by Asterisk's handler, not documented."

// applySupplement adds the completion events named by actions, their list
// keys, and the observed keys.
func (c *catalog) applySupplement() error {
	byName := map[string]*event{}
	for _, e := range c.events {
		byName[strings.ToLower(e.name)] = e
	}
	for _, a := range c.actions {
		if a.completion == "" {
			continue
		}
		e := byName[strings.ToLower(a.completion)]
		if e == nil {
			e = &event{name: a.completion, versions: a.versions, completes: a.name}
			byName[strings.ToLower(e.name)] = e
			c.events = append(c.events, e)
		}
		for _, k := range listCompleteKeys {
			e.addObserved(k, "written into every list's completion event")
		}
	}
	for name, keys := range observed {
		e := byName[strings.ToLower(name)]
		if e == nil {
			return fmt.Errorf("observed keys for %s, an event the catalog lacks", name)
		}
		for _, k := range keys {
			e.addObserved(k, observedNote)
		}
	}
	for _, a := range c.actions {
		for _, name := range emptyAllowed[a.name] {
			i := slices.IndexFunc(a.params, func(p *param) bool { return p.name == name })
			if i < 0 {
				return fmt.Errorf("emptyAllowed: no parameter %s in %s", name, a.name)
			}
			a.params[i].emptyOK = true
		}
	}
	for _, k := range envelopeExtra {
		c.envelope = append(c.envelope, &field{name: k, versions: c.all(), observed: "carried by the events of an action's answer"})
	}
	return nil
}

// addObserved adds key to e unless it is there already.
func (e *event) addObserved(key, why string) {
	for _, f := range e.fields {
		if strings.EqualFold(f.name, key) {
			return
		}
	}
	e.fields = append(e.fields, &field{name: key, versions: e.versions, observed: why})
}
