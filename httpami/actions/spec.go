package actions

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/ascii"
)

// An Action is one of the generated action types.
type Action interface {
	// ActionName returns the action's name, such as "Originate".
	ActionName() string
}

// A Spec describes one action of the catalog.
type Spec struct {
	// Name is the action's name as Asterisk registers it; AMI matches it
	// case-insensitively.
	Name string
	// Privilege lists the write classes that allow it, such as
	// "originate": a manager user needs any one of them, or none when
	// it is empty.
	Privilege []string
	// Versions lists the major versions of Asterisk covered by the
	// catalog that document the action.
	Versions []int
	// Registered lists those whose C source registers it: the same, but
	// for an action documented where no handler exists (FilterList, in
	// 13 only), which Asterisk does not know.
	Registered []int
	// Since lists the releases that introduced it, one per release line,
	// when the documentation says.
	Since []string
	// Module is the loadable module that provides it, or "builtin".
	Module string
	// EventList reports that the answer is followed by events, ending
	// with CompletionEvent when that is known.
	EventList       bool
	CompletionEvent string
	// FreeForm reports an action that takes any header (UserEvent).
	FreeForm bool
	// Params lists the parameters of every covered version, newest first.
	Params []Param

	undocumented []string // read by Asterisk's handler, not documented
	new          func() Action
}

// A Param describes one parameter of an action.
type Param struct {
	// Name is the parameter's header name.
	Name string
	// Versions lists the major versions that document it.
	Versions []int
	// Required reports that it must be given, with a value unless
	// EmptyOK, in the versions of RequiredIn.
	Required   bool
	RequiredIn []int
	// EmptyOK marks a required parameter whose empty value Asterisk takes
	// as a value (Setvar's Value).
	EmptyOK bool
	// Multiple reports that it may be repeated.
	Multiple bool
	// Default is the documented default value, if any.
	Default string
	// Values lists the documented values, if any; not always all of them.
	Values []string
	// Pattern is "numbered" for names such as Action-000000 (six digits),
	// "indexed" for UnitAmount(0), "free-form" for UserEvent's HeaderN.
	// The generated types keep such parameters in their Extra field.
	Pattern string
}

// Majors returns the major versions of Asterisk the catalog covers, read
// from one release of each: 13, 16, 18, 20, 22 and 23. The Versions of
// Specs and Params are among them.
func Majors() []int { return slices.Clone(majors) }

// New returns a new zero value of the action's type, such as
// *Originate.
func (s *Spec) New() Action { return s.new() }

// Type returns the action's Go type, such as Originate.
func (s *Spec) Type() reflect.Type { return reflect.TypeOf(s.new()).Elem() }

// Param returns the parameter name, compared case-insensitively.
func (s *Spec) Param(name string) (*Param, bool) {
	for i := range s.Params {
		if strings.EqualFold(s.Params[i].Name, name) {
			return &s.Params[i], true
		}
	}
	return nil, false
}

// table finds the specs by name.
var table = ascii.NewTable(specs, func(s *Spec) string { return s.Name })

// Lookup returns the action name, compared case-insensitively as AMI
// does.
func Lookup(name string) (*Spec, bool) { return table.Lookup(name) }

// All returns every action of the catalog, sorted by name. The Specs are
// shared: do not modify them.
func All() []*Spec { return table.All() }

// An extender is an action with parameters outside its fields.
type extender interface{ ExtraParams() []rawman.Field }

// Params returns the parameters of a in order: its fields with rawman.Marshal,
// then its Extra ones.
func Params(a Action) ([]rawman.Field, error) {
	m, err := rawman.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("actions: %s: %w", a.ActionName(), err)
	}
	if x, ok := a.(extender); ok {
		m.Fields = append(m.Fields, x.ExtraParams()...)
	}
	return m.Fields, nil
}
