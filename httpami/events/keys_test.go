package events_test

import (
	"reflect"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/events"
	"github.com/amihttp/amihttp/internal/xmlname"
)

// A structKey is one message key a generated struct holds, found by
// reflection the way the ami tags document it: embedded structs promote
// their keys, a field tagged `ami:",prefix=P"` holds P followed by its
// struct's keys.
type structKey struct {
	key      string // prefix included
	index    []int  // for reflect.Value.FieldByIndex
	typ      reflect.Type
	depth    int  // of embedding and prefixing
	envelope bool // a key of Envelope
}

var envelopeType = reflect.TypeFor[events.Envelope]()

// structKeys returns the keys of the struct type t.
func structKeys(t reflect.Type) []structKey {
	var out []structKey
	var walk func(t reflect.Type, prefix string, index []int, depth int, env bool)
	walk = func(t reflect.Type, prefix string, index []int, depth int, env bool) {
		for sf := range t.Fields() {
			tag := sf.Tag.Get("ami")
			name, opts, _ := strings.Cut(tag, ",")
			if tag == "-" || opts == "rest" || !sf.IsExported() && !sf.Anonymous {
				continue // the rest holds no key of its own
			}
			idx := append(index[:len(index):len(index)], sf.Index...)
			if p, ok := strings.CutPrefix(opts, "prefix="); ok && sf.Type.Kind() == reflect.Struct {
				walk(sf.Type, prefix+p, idx, depth+1, env)
				continue
			}
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
				walk(sf.Type, prefix, idx, depth+1, env || sf.Type == envelopeType)
				continue
			}
			if name == "" {
				name = sf.Name
			}
			out = append(out, structKey{prefix + name, idx, sf.Type, depth, env})
		}
	}
	walk(t, "", nil, 0, false)
	return out
}

// find returns the key of keys that the message key k (in form) stands
// for: the same key, or a ChanVariable(…) form of a ChanVariable key. It
// prefers the shallowest, as rawman.Unmarshal does.
func find(keys []structKey, form rawman.KeyForm, k string) (structKey, bool) {
	var best structKey
	found := false
	for _, sk := range keys {
		if !matches(form, k, sk) {
			continue
		}
		if !found || sk.depth < best.depth {
			best, found = sk, true
		}
	}
	return best, found
}

// matches reports whether the message key k (in form) is sk.
func matches(form rawman.KeyForm, k string, sk structKey) bool {
	chanVar := sk.typ.Kind() == reflect.Map && strings.HasSuffix(strings.ToLower(sk.key), "chanvariable")
	if form == rawman.KeysXML {
		return xmlname.Equal(k, sk.key) || chanVar && xmlname.HasPrefix(k, sk.key+"(")
	}
	return strings.EqualFold(k, sk.key) ||
		chanVar && len(k) > len(sk.key) && strings.EqualFold(k[:len(sk.key)], sk.key) && k[len(sk.key)] == '('
}
