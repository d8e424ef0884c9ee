package actions

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/suggest"
)

// The errors a ValidationError wraps.
var (
	// ErrMissingParam: a required parameter is absent or empty.
	ErrMissingParam = errors.New("missing required parameter")
	// ErrUnknownParam: the action has no such parameter (in that version).
	ErrUnknownParam = errors.New("unknown parameter")
	// ErrUnavailable: the server's Asterisk version has no such action.
	ErrUnavailable = errors.New("action not in this version of Asterisk")
)

// A ValidationError reports an action that the catalog says Asterisk
// would refuse or misread. It wraps ErrMissingParam, ErrUnknownParam or
// ErrUnavailable.
type ValidationError struct {
	Action  string // the action's name as the catalog spells it
	Param   string // the parameter at fault, as given; empty for ErrUnavailable
	Version string // the server's Asterisk version, when known
	Err     error
	// Detail says more: the versions that have the action or parameter,
	// or the known parameter that an unknown one resembles.
	Detail string
}

// Error returns, for instance, "actions: Originate: missing required
// parameter Channel".
func (e *ValidationError) Error() string {
	var s string
	if e.Err == ErrUnavailable {
		version := e.Version
		if version == "" {
			version = "any version"
		}
		s = "actions: " + e.Action + " is not an action of Asterisk " + version
	} else {
		s = "actions: " + e.Action + ": " + e.Err.Error() + " " + e.Param
		if e.Version != "" && e.Err == ErrUnknownParam {
			s += " in Asterisk " + e.Version
		}
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns Err.
func (e *ValidationError) Unwrap() error { return e.Err }

// A Version is an Asterisk release, such as 23.4.1.
type Version struct {
	Major, Minor, Patch int
}

// ParseVersion reads the version that CoreSettings reports as
// AsteriskVersion: "23.4.1", "22.0.0-rc1", "certified/18.9-cert5". It
// reports false for versions without a number, such as "GIT-master-…".
func ParseVersion(s string) (Version, bool) {
	s = strings.TrimPrefix(s, "certified/")
	var n [3]int
	i := 0
	for k := 0; k < 3; k++ {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i > 6 {
			return Version{}, false
		}
		if j == i {
			if k == 0 {
				return Version{}, false
			}
			break
		}
		n[k], _ = strconv.Atoi(s[i:j])
		i = j
		if i == len(s) || s[i] != '.' {
			break
		}
		i++
	}
	return Version{n[0], n[1], n[2]}, true
}

// String returns "major.minor.patch".
func (v Version) String() string {
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) + "." + strconv.Itoa(v.Patch)
}

// Compare returns -1, 0 or +1 as v is older than, the same as, or newer
// than w.
func (v Version) Compare(w Version) int {
	return cmp.Or(cmp.Compare(v.Major, w.Major), cmp.Compare(v.Minor, w.Minor), cmp.Compare(v.Patch, w.Patch))
}

func (v Version) less(w Version) bool { return v.Compare(w) < 0 }

// covered reports whether the catalog's data for the majors in ms says
// yes for major m: the data of m itself when the catalog covers it, else
// that of the nearest covered majors below or above (either will do).
func covered(ms []int, m int) bool {
	if slices.Contains(majors, m) {
		return slices.Contains(ms, m)
	}
	below, above := neighbours(m)
	return below >= 0 && slices.Contains(ms, below) || above >= 0 && slices.Contains(ms, above)
}

// coveredBoth is covered, strictly: for a major the catalog does not
// cover, the nearest covered majors on both sides (or the one there is)
// must say yes.
func coveredBoth(ms []int, m int) bool {
	if slices.Contains(majors, m) {
		return slices.Contains(ms, m)
	}
	below, above := neighbours(m)
	return (below < 0 || slices.Contains(ms, below)) && (above < 0 || slices.Contains(ms, above))
}

// neighbours returns the nearest covered majors below and above m, or -1
// where there is none.
func neighbours(m int) (below, above int) {
	below, above = -1, -1
	for _, c := range majors {
		if c < m {
			below = c
		} else if above < 0 {
			above = c
		}
	}
	return below, above
}

// Validate checks an action against the catalog. version is the
// server's AsteriskVersion, or "" when unknown: the parameters of every
// covered version are then accepted, and the required ones are those of
// the newest version that has the action. An action the catalog does not
// know passes. The error is a *ValidationError for the first problem
// found: an action the version lacks, then a parameter the action does
// not know (often the misspelling of a required one), then a missing
// required parameter.
func Validate(name string, params []rawman.Field, version string) error {
	s, ok := Lookup(name)
	if !ok {
		return nil
	}
	return s.Validate(params, version)
}

// Validate is the function Validate for the action s.
func (s *Spec) Validate(params []rawman.Field, version string) error {
	v, known := ParseVersion(version)
	if !known {
		version = ""
	}
	if len(s.Registered) == 0 {
		return &ValidationError{Action: s.Name, Version: version, Err: ErrUnavailable,
			Detail: "documented in Asterisk " + majorsText(s.Versions) + ", but no version registers it"}
	}
	if known {
		if ok, detail := s.available(v); !ok {
			return &ValidationError{Action: s.Name, Version: version, Err: ErrUnavailable, Detail: detail}
		}
	}
	// Unknown parameters first: a misspelled one is why a required one
	// seems missing.
	for _, f := range params {
		if ok, detail := s.knows(f.Key, v, known); !ok {
			return &ValidationError{Action: s.Name, Param: f.Key, Version: version, Err: ErrUnknownParam, Detail: detail}
		}
	}
	newest := s.Versions[len(s.Versions)-1]
	for i := range s.Params {
		p := &s.Params[i]
		if !p.Required || p.Pattern != "" {
			continue
		}
		required := slices.Contains(p.RequiredIn, newest)
		if known {
			required = coveredBoth(p.RequiredIn, v.Major)
		}
		if required && !given(params, p.Name, p.EmptyOK) {
			return &ValidationError{Action: s.Name, Param: p.Name, Version: version, Err: ErrMissingParam}
		}
	}
	return nil
}

// given reports whether params hold key with a value, or at all if
// empty is allowed.
func given(params []rawman.Field, key string, empty bool) bool {
	for _, f := range params {
		if (empty || f.Value != "") && strings.EqualFold(f.Key, key) {
			return true
		}
	}
	return false
}

// knows reports whether key is a parameter of s (in version v, if known),
// and if not, what can be said about it.
func (s *Spec) knows(key string, v Version, known bool) (bool, string) {
	if s.FreeForm || strings.EqualFold(key, "ActionID") {
		return true, ""
	}
	for _, u := range s.undocumented {
		if strings.EqualFold(u, key) {
			return true, ""
		}
	}
	for i := range s.Params {
		p := &s.Params[i]
		if !p.matches(key) {
			continue
		}
		if !known || covered(p.Versions, v.Major) {
			return true, ""
		}
		return false, "documented in Asterisk " + majorsText(p.Versions)
	}
	if near := s.nearest(key); near != "" {
		return false, "did you mean " + near + "?"
	}
	return false, ""
}

// matches reports whether key is this parameter, or an instance of its
// pattern: Action-000012 for Action-000000, UnitAmount(3) for
// UnitAmount(0).
func (p *Param) matches(key string) bool {
	switch p.Pattern {
	case "free-form":
		return true
	case "numbered":
		base := p.Name[:strings.LastIndexByte(p.Name, '-')+1]
		return len(key) > len(base) && strings.EqualFold(key[:len(base)], base) && digits(key[len(base):])
	case "indexed":
		base := p.Name[:strings.IndexByte(p.Name, '(')+1]
		return len(key) > len(base)+1 && strings.EqualFold(key[:len(base)], base) &&
			key[len(key)-1] == ')' && digits(key[len(base):len(key)-1])
	}
	return strings.EqualFold(p.Name, key)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// nearest returns the parameter of s closest to key, if one is near.
func (s *Spec) nearest(key string) string {
	var names []string
	for i := range s.Params {
		if s.Params[i].Pattern == "" {
			names = append(names, s.Params[i].Name)
		}
	}
	if near := suggest.Near(key, names, 1); len(near) > 0 {
		return near[0]
	}
	return ""
}

// available reports whether Asterisk v has the action, and if not, since
// or until when it exists.
func (s *Spec) available(v Version) (bool, string) {
	var since []Version
	for _, x := range s.Since {
		if sv, ok := ParseVersion(x); ok {
			since = append(since, sv)
		}
	}
	older := false
	for _, sv := range since {
		if sv.Major == v.Major {
			if v.less(sv) {
				return false, "it exists since " + joinSince(s.Since)
			}
			return true, ""
		}
		older = older || sv.Major < v.Major
	}
	if len(since) > 0 && !older {
		return false, "it exists since " + joinSince(s.Since)
	}
	if covered(s.Registered, v.Major) {
		return true, ""
	}
	if last := s.Registered[len(s.Registered)-1]; last < v.Major {
		return false, "last documented in Asterisk " + strconv.Itoa(last)
	}
	return false, "documented in Asterisk " + majorsText(s.Registered)
}

func joinSince(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// majorsText returns "18 to 23" for a run of covered majors, or the list.
func majorsText(ms []int) string {
	if len(ms) == 0 {
		return "no version"
	}
	first, last := slices.Index(majors, ms[0]), slices.Index(majors, ms[len(ms)-1])
	if len(ms) > 1 && first >= 0 && last-first+1 == len(ms) {
		return strconv.Itoa(ms[0]) + " to " + strconv.Itoa(ms[len(ms)-1])
	}
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = strconv.Itoa(m)
	}
	return joinSince(s)
}

// VersionDependent reports whether Validate's verdict on this action
// may depend on the server's version: the action, or one of the given or
// required parameters, is not the same in every covered version. A
// client learns the server's version only when this says so.
func VersionDependent(name string, params []rawman.Field) bool {
	s, ok := Lookup(name)
	return ok && s.VersionDependent(params)
}

// VersionDependent is the function VersionDependent for the action s.
func (s *Spec) VersionDependent(params []rawman.Field) bool {
	if len(s.Registered) == 0 {
		return false // never sent, whatever the version
	}
	if !slices.Equal(s.Registered, majors) {
		return true
	}
	first := Version{Major: majors[0]}
	for _, x := range s.Since {
		if sv, ok := ParseVersion(x); ok && first.less(sv) {
			return true
		}
	}
	for i := range s.Params {
		p := &s.Params[i]
		if p.Required && !slices.Equal(p.RequiredIn, s.Versions) {
			return true
		}
		if slices.Equal(p.Versions, s.Versions) {
			continue
		}
		for _, f := range params {
			if p.matches(f.Key) {
				return true
			}
		}
	}
	return false
}
