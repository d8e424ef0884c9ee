package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/httpami/events"
	"github.com/amihttp/amihttp/internal/suggest"
)

// actionsCommand is "amihttp actions".
var actionsCommand = &command{
	name:    "actions",
	args:    "[PATTERN]",
	summary: "list the catalog's actions, with their privilege classes",
	help: `
Actions lists the AMI actions of the module's catalog (package
httpami/actions: what Asterisk 13 to 23 document), one a line, in columns:
the name, the write classes that allow it (manager.conf's write=; any one
will do; "-" when it needs none), the Asterisk versions that have it
(13-23, or the majors that do), and "list" for an action answered with a
list of events, "free-form" for one that takes any header. No Asterisk is
needed.

PATTERN keeps the actions whose name contains it or, if it holds *, ? or [,
matches it as a whole (path.Match), ignoring case either way. With --json,
each action is one JSON object on a line of its own, with its parameters.
'amihttp action NAME --help' describes one action and its parameters.

	amihttp actions
	amihttp actions 'pjsip*'
	amihttp actions --json Originate
`,
	setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		asJSON := fs.Bool("json", false, "print each action as a JSON object on a line of its own, parameters included")
		return func(_ context.Context, args []string) error {
			if len(args) > 1 {
				return usagef("unexpected argument %q: one PATTERN at most", args[1])
			}
			var pattern string
			if len(args) == 1 {
				pattern = args[0]
			}
			match, err := nameMatcher(pattern)
			if err != nil {
				return err
			}
			var list []*actions.Spec
			for _, s := range actions.All() {
				if match(s.Name) {
					list = append(list, s)
				}
			}
			if len(list) == 0 {
				return fmt.Errorf("no action of the catalog matches %q", pattern)
			}
			if *asJSON {
				for _, s := range list {
					if err := writeJSONLine(e.stdout, actionJSON(s)); err != nil {
						return fmt.Errorf("printing the actions: %w", err)
					}
				}
				return nil
			}
			return printActions(e.stdout, list)
		}
	},
}

// nameMatcher returns the predicate of PATTERN: a name that contains it or,
// with a glob character, matches it, ignoring case. An empty pattern
// matches every name.
func nameMatcher(pattern string) (func(string) bool, error) {
	p := strings.ToLower(pattern)
	if !strings.ContainsAny(p, "*?[") {
		return func(name string) bool { return strings.Contains(strings.ToLower(name), p) }, nil
	}
	if _, err := path.Match(p, ""); err != nil {
		return nil, usagef("bad PATTERN %q: %v", pattern, err)
	}
	return func(name string) bool {
		ok, _ := path.Match(p, strings.ToLower(name))
		return ok
	}, nil
}

// printActions writes the columns of the actions list to w.
func printActions(w io.Writer, list []*actions.Spec) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, s := range list {
		priv := strings.Join(s.Privilege, ",")
		if priv == "" {
			priv = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s", s.Name, priv, majorsShort(s.Versions))
		if s.EventList {
			io.WriteString(tw, "\tlist")
		}
		if s.FreeForm {
			io.WriteString(tw, "\tfree-form")
		}
		io.WriteString(tw, "\n")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("printing the actions: %w", err)
	}
	return nil
}

// actionInfo is an action as "actions --json" prints it.
type actionInfo struct {
	Name            string
	Privilege       []string // [] when the action needs no class
	Versions        []int
	Since           []string `json:",omitempty"`
	Module          string
	EventList       bool   `json:",omitempty"`
	CompletionEvent string `json:",omitempty"`
	FreeForm        bool   `json:",omitempty"`
	Params          []paramInfo
}

// paramInfo is a parameter of an action as "actions --json" prints it.
type paramInfo struct {
	Name       string
	Versions   []int
	Required   bool     `json:",omitempty"`
	RequiredIn []int    `json:",omitempty"`
	Multiple   bool     `json:",omitempty"`
	Default    string   `json:",omitempty"`
	Values     []string `json:",omitempty"`
	Pattern    string   `json:",omitempty"`
}

// actionJSON returns what "actions --json" prints of s.
func actionJSON(s *actions.Spec) actionInfo {
	a := actionInfo{
		Name: s.Name, Privilege: s.Privilege, Versions: s.Versions, Since: s.Since, Module: s.Module,
		EventList: s.EventList, CompletionEvent: s.CompletionEvent, FreeForm: s.FreeForm,
		Params: make([]paramInfo, len(s.Params)),
	}
	if a.Privilege == nil {
		a.Privilege = []string{}
	}
	for i, p := range s.Params {
		a.Params[i] = paramInfo{
			Name: p.Name, Versions: p.Versions, Required: p.Required, Multiple: p.Multiple,
			Default: p.Default, Values: p.Values, Pattern: p.Pattern,
		}
		if p.Required {
			a.Params[i].RequiredIn = p.RequiredIn
		}
	}
	return a
}

// actionTopic writes, for "amihttp action NAME --help", what the catalog
// knows of the action NAME: its classes, versions and parameters.
func actionTopic(b *strings.Builder, args []string) {
	name := args[0]
	s, ok := actions.Lookup(name)
	if !ok {
		fmt.Fprintf(b, "%s is not an action of the catalog (Asterisk %s).\n", name, majorsText(catalogMajors()))
		if near := suggestNames(name, catalogActionNames()); len(near) > 0 {
			fmt.Fprintf(b, "Did you mean %s? ", orList(near))
		}
		b.WriteString("An action of a custom module is sent all the same,\nunchecked; 'amihttp actions' lists those the catalog knows.\n")
		return
	}
	fmt.Fprintf(b, "Action %s\n", s.Name)
	var priv string
	switch len(s.Privilege) {
	case 0:
		priv = "none needed"
	case 1:
		priv = s.Privilege[0] + " (the write class that allows it)"
	default:
		priv = strings.Join(s.Privilege, ",") + " (the write classes that allow it; any one will do)"
	}
	facts := [][2]string{{"Privilege:", priv}}
	ver := majorsText(s.Versions)
	if len(s.Since) > 0 {
		ver += ", since " + andList(s.Since)
	}
	switch {
	case len(s.Registered) == 0:
		ver += " (documented only: no version registers it, and it is refused)"
	case !slices.Equal(s.Registered, s.Versions):
		ver += " (registered in " + majorsText(s.Registered) + ")"
	}
	facts = append(facts, [2]string{"Asterisk:", ver}, [2]string{"Module:", s.Module})
	if s.EventList {
		answer := "a list of events"
		if s.CompletionEvent != "" {
			answer += ", ended by " + s.CompletionEvent
		}
		facts = append(facts, [2]string{"Answer:", answer})
	}
	if s.FreeForm {
		facts = append(facts, [2]string{"Headers:", "any, besides those below (free-form)"})
	}
	writeColumns(b, facts)
	if len(s.Params) == 0 {
		return
	}
	b.WriteString("\nParameters, as Key=Value:\n")
	rows := make([][2]string, len(s.Params))
	for i, p := range s.Params {
		rows[i] = [2]string{paramName(p), strings.Join(paramNotes(s, p), "; ")}
	}
	writeColumns(b, rows)
}

// writeColumns writes each row as two columns, indented by two spaces,
// the second aligned and wrapped at 80 columns.
func writeColumns(b *strings.Builder, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	indent := strings.Repeat(" ", 2+width+2)
	for _, r := range rows {
		line := fmt.Sprintf("  %-*s", width, r[0])
		for i, w := range strings.Fields(r[1]) {
			switch {
			case i == 0:
				line += "  " + w
			case len(line)+1+len(w) > 80:
				b.WriteString(line + "\n")
				line = indent + w
			default:
				line += " " + w
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}

// paramName returns the name of p as help shows it: Action-NNNNNN for a
// numbered parameter, UnitAmount(N) for an indexed one.
func paramName(p actions.Param) string {
	switch p.Pattern {
	case "numbered":
		if i := strings.LastIndexByte(p.Name, '-'); i >= 0 {
			return p.Name[:i+1] + strings.Repeat("N", len(p.Name)-i-1)
		}
	case "indexed":
		if i := strings.IndexByte(p.Name, '('); i >= 0 {
			return p.Name[:i] + "(N)"
		}
	}
	return p.Name
}

// paramNotes returns what help says of the parameter p of s.
func paramNotes(s *actions.Spec, p actions.Param) []string {
	var notes []string
	switch {
	case strings.EqualFold(p.Name, "ActionID"):
		notes = append(notes, "the client adds one unless given")
	case p.Required && (len(p.RequiredIn) == 0 || slices.Equal(p.RequiredIn, p.Versions)):
		notes = append(notes, "required")
	case p.Required:
		notes = append(notes, "required in Asterisk "+majorsText(p.RequiredIn))
	}
	if !slices.Equal(p.Versions, s.Versions) {
		notes = append(notes, "Asterisk "+majorsText(p.Versions))
	}
	if p.Multiple {
		notes = append(notes, "may repeat")
	}
	if p.Default != "" {
		notes = append(notes, "default "+p.Default)
	}
	switch p.Pattern {
	case "numbered", "indexed":
		next := strings.Replace(p.Name, "0)", "1)", 1)
		if p.Pattern == "numbered" {
			next = p.Name[:len(p.Name)-1] + "1"
		}
		notes = append(notes, p.Pattern+" "+p.Name+", "+next+", ...")
	case "free-form":
		notes = append(notes, "free-form")
	}
	if len(p.Values) > 0 {
		notes = append(notes, "values "+strings.Join(p.Values, ", "))
	}
	return notes
}

// catalogActionNames returns the names of the catalog's actions.
func catalogActionNames() []string {
	var names []string
	for _, s := range actions.All() {
		names = append(names, s.Name)
	}
	return names
}

// catalogEventNames returns the names of the catalog's events.
func catalogEventNames() []string {
	var names []string
	for _, s := range events.All() {
		names = append(names, s.Name)
	}
	return names
}

// catalogMajors returns the major versions of Asterisk the catalog covers.
func catalogMajors() []int { return actions.Majors() }

// majorsRun reports whether ms is a run of consecutive covered majors,
// such as 16, 18, 20.
func majorsRun(ms []int) bool {
	all := catalogMajors()
	if len(ms) == 0 {
		return false
	}
	first, last := slices.Index(all, ms[0]), slices.Index(all, ms[len(ms)-1])
	return first >= 0 && last-first+1 == len(ms)
}

// majorsText returns "18 to 23" for a run of covered majors, else a list,
// "13, 16 and 20".
func majorsText(ms []int) string {
	if len(ms) > 1 && majorsRun(ms) {
		return strconv.Itoa(ms[0]) + " to " + strconv.Itoa(ms[len(ms)-1])
	}
	return andList(itoa(ms))
}

// majorsShort returns "18-23" for a run of covered majors, else a list,
// "13,16,20", for the columns of a listing.
func majorsShort(ms []int) string {
	if len(ms) > 1 && majorsRun(ms) {
		return strconv.Itoa(ms[0]) + "-" + strconv.Itoa(ms[len(ms)-1])
	}
	return strings.Join(itoa(ms), ",")
}

// itoa returns the numbers ns as text.
func itoa(ns []int) []string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return s
}

// andList returns "a, b and c".
func andList(s []string) string { return joinLast(s, " and ") }

// orList returns "a, b or c".
func orList(s []string) string { return joinLast(s, " or ") }

// joinLast joins s with commas, and last before its last element.
func joinLast(s []string, last string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + last + s[len(s)-1]
}

// suggestNames returns up to five of names close to name, ignoring case:
// those within two edits, nearest first, then those that begin with it.
func suggestNames(name string, names []string) []string { return suggest.Near(name, names, 5) }
