package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// A call follows the channels of one call through its events: the
// channels whose Linkedid (the Uniqueid of the call's first channel) or
// Uniqueid is one of ids. Local channels come in pairs (;1 and ;2) that
// share the Linkedid of ;1, and so do the channels a call dials.
type call struct {
	ids     map[string]bool   // Uniqueids and Linkedids that make an event the call's
	live    map[string]string // Uniqueid → channel name, of the channels up
	hungUp  int               // channels hung up
	started bool              // a channel of the call has been seen
}

// newCall returns a call identified by ids (empty ones are ignored).
func newCall(ids ...string) *call {
	c := &call{ids: map[string]bool{}, live: map[string]string{}}
	for _, id := range ids {
		c.identify(id)
	}
	return c
}

// identify adds id to the Uniqueids and Linkedids of the call.
func (c *call) identify(id string) {
	if id != "" && id != "<unknown>" {
		c.ids[id] = true
	}
}

// idKeys are the fields whose value may be an id of the call: a channel's
// own, or the prefixed blocks of DialBegin, DialEnd and LocalBridge.
var idKeys = []string{
	"Linkedid", "Uniqueid",
	"DestLinkedid", "DestUniqueid",
	"LocalOneLinkedid", "LocalOneUniqueid", "LocalTwoLinkedid", "LocalTwoUniqueid",
}

// belongs reports whether the event m is about a channel of the call.
func (c *call) belongs(m *rawman.Message) bool {
	for _, k := range idKeys {
		if v := m.Get(k); v != "" && c.ids[v] {
			return true
		}
	}
	return false
}

// observe updates the call with one of its events.
func (c *call) observe(m *rawman.Message) {
	uid := m.Get("Uniqueid")
	switch {
	case isEvent(m, "Newchannel"):
		c.started = true
		c.identify(uid)
		c.live[uid] = m.Get("Channel")
	case isEvent(m, "Hangup"):
		c.started = true
		c.hungUp++
		delete(c.live, uid)
	}
}

// over reports whether every channel of the call seen so far has hung up.
func (c *call) over() bool { return c.started && c.hungUp > 0 && len(c.live) == 0 }

// blockKeys are the fields of Asterisk's channel block (and the event
// header), which the one-line form of an event leaves out but for the
// channel's name.
var blockKeys = map[string]bool{
	"event": true, "privilege": true, "timestamp": true, "systemname": true, "actionid": true,
	"channel": true, "channelstate": true, "channelstatedesc": true,
	"calleridnum": true, "calleridname": true, "connectedlinenum": true, "connectedlinename": true,
	"language": true, "accountcode": true, "context": true, "exten": true, "priority": true,
	"uniqueid": true, "linkedid": true, "tenantid": true,
}

// formatEvent returns the one-line form of an event, for people:
// the time since start, the event's name, its channel, and the fields
// that are not part of the channel's description, with the state of
// Newchannel and Newstate.
func formatEvent(start, now time.Time, m *rawman.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+8.3fs  %-17s", now.Sub(start).Seconds(), m.Event())
	for _, k := range []string{"Channel", "DestChannel", "LocalOneChannel"} {
		if ch := m.Get(k); ch != "" {
			b.WriteString(" " + ch)
			break
		}
	}
	if isEvent(m, "Newchannel") || isEvent(m, "Newstate") {
		b.WriteString(" state=" + m.Get("ChannelStateDesc"))
	}
	for k, v := range m.All() {
		lk := strings.ToLower(k)
		for _, p := range []string{"dest", "localone", "localtwo"} {
			if rest, ok := strings.CutPrefix(lk, p); ok && blockKeys[rest] {
				lk = rest
			}
		}
		if blockKeys[lk] {
			continue
		}
		b.WriteString(" " + k + "=" + quoteValue(v))
	}
	return b.String()
}

// quoteValue quotes v, Go style, when it is empty or holds blanks, quotes
// or characters that do not print.
func quoteValue(v string) string {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool {
		return r == '"' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r)
	}) {
		return strconv.Quote(v)
	}
	return v
}
