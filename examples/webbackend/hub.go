package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
)

// Channel is one live channel as the page shows it: the fields of
// Asterisk's channel block that a person watching calls cares about.
type Channel struct {
	Name              string `json:"name"`
	UniqueID          string `json:"uniqueid"`
	LinkedID          string `json:"linkedid"`
	State             string `json:"state"`
	CallerIDNum       string `json:"callerIDNum"`
	CallerIDName      string `json:"callerIDName"`
	ConnectedLineNum  string `json:"connectedLineNum"`
	ConnectedLineName string `json:"connectedLineName"`
	Context           string `json:"context"`
	Exten             string `json:"exten"`
}

// channelOf converts the client's channel (an item of CoreShowChannels,
// or an event's channel block read with rawman.Unmarshal) to a Channel.
func channelOf(c httpami.Channel) Channel {
	return Channel{
		Name:              c.Channel,
		UniqueID:          c.UniqueID,
		LinkedID:          c.LinkedID,
		State:             c.ChannelStateDesc,
		CallerIDNum:       known(c.CallerIDNum),
		CallerIDName:      known(c.CallerIDName),
		ConnectedLineNum:  known(c.ConnectedLineNum),
		ConnectedLineName: known(c.ConnectedLineName),
		Context:           c.Context,
		Exten:             c.Exten,
	}
}

// known returns s, or "" for the "<unknown>" Asterisk writes for an
// empty caller ID.
func known(s string) string {
	if s == "<unknown>" {
		return ""
	}
	return s
}

// Snapshot is the data of an SSE "snapshot" event: every live channel,
// sorted by name, and why the list was sent ("connect" for a new
// browser, "start" or "gap" when the list was rebuilt from
// CoreShowChannels).
type Snapshot struct {
	Reason   string    `json:"reason"`
	Channels []Channel `json:"channels"`
}

// Delta is the data of an SSE "channel" event: Op is "add", "update"
// or "remove", Channel the channel as it now is (or was, for remove).
type Delta struct {
	Op      string  `json:"op"`
	Channel Channel `json:"channel"`
}

// OriginateResult is the data of an SSE "originate" event: Asterisk's
// OriginateResponse to an Async Originate, found by its ActionID.
type OriginateResult struct {
	ActionID string `json:"actionID"`
	Response string `json:"response"` // "Success" or "Failure"
	Channel  string `json:"channel"`
	Reason   string `json:"reason"` // 4 is answered
}

// A hub holds the live channels, built from the poller's events, and
// fans every change out to the browsers subscribed to the event
// stream. Publishing never blocks: each subscriber has a bounded
// buffer of encoded SSE frames, and a subscriber whose buffer is full
// is disconnected (its browser's EventSource reconnects and starts
// again from a snapshot), so that one slow browser holds up neither
// the poller nor the others.
type hub struct {
	bufSize int
	logger  *slog.Logger

	mu       sync.Mutex
	channels map[string]Channel // by Uniqueid
	subs     map[*subscriber]struct{}
	closed   bool
}

// A subscriber is one browser's event stream. Only the hub sends on
// frames and closes it: when the browser is too slow, when it
// unsubscribes, or when the hub closes.
type subscriber struct {
	frames chan []byte
}

// newHub returns a hub whose subscribers may each fall bufSize frames
// behind.
func newHub(bufSize int, logger *slog.Logger) *hub {
	return &hub{
		bufSize:  bufSize,
		logger:   logger,
		channels: make(map[string]Channel),
		subs:     make(map[*subscriber]struct{}),
	}
}

// subscribe registers a new subscriber whose first frame is a snapshot
// of the channels. It returns nil once the hub is closed.
func (h *hub) subscribe() *subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	s := &subscriber{frames: make(chan []byte, h.bufSize+1)}
	s.frames <- h.snapshotFrameLocked("connect")
	h.subs[s] = struct{}{}
	return s
}

// unsubscribe removes s and closes its channel, unless the hub already
// did.
func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.frames)
	}
}

// subscribers returns how many browsers are subscribed.
func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// close disconnects every subscriber and refuses new ones, so that the
// event streams end and an http.Server can shut down. It may be called
// more than once.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.frames)
	}
}

// list returns the live channels sorted by name.
func (h *hub) list() []Channel {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.listLocked()
}

// listLocked is list with h.mu held.
func (h *hub) listLocked() []Channel {
	list := make([]Channel, 0, len(h.channels))
	for _, c := range h.channels {
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b Channel) int {
		if n := strings.Compare(a.Name, b.Name); n != 0 {
			return n
		}
		return strings.Compare(a.UniqueID, b.UniqueID)
	})
	return list
}

// reset replaces the channels with list (what CoreShowChannels says)
// and sends every subscriber a snapshot giving reason.
func (h *hub) reset(list []httpami.Channel, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.channels)
	for _, c := range list {
		h.channels[c.UniqueID] = channelOf(c)
	}
	h.broadcastLocked(h.snapshotFrameLocked(reason))
}

// apply updates the channels with one AMI event and sends subscribers
// the change: Newchannel adds a channel, Hangup removes it, and the
// events that carry a channel's new state (Newstate, NewCallerid,
// NewConnectedLine, NewAccountCode, Rename) update a channel already
// known. An OriginateResponse is passed on as an "originate" event.
// Other events are ignored.
func (h *hub) apply(m *rawman.Message) {
	ev := m.Event()
	if strings.EqualFold(ev, "OriginateResponse") {
		h.send("originate", OriginateResult{
			ActionID: m.ActionID(),
			Response: m.Get("Response"),
			Channel:  m.Get("Channel"),
			Reason:   m.Get("Reason"),
		})
		return
	}
	if !trackedEvents[strings.ToLower(ev)] {
		return
	}
	var hc httpami.Channel
	if err := rawman.Unmarshal(m, &hc); err != nil {
		// A value that does not fit (a ChannelState that is no number)
		// leaves its field empty; the others are filled.
		h.logger.Debug("event with an odd channel block", "event", ev, "err", err)
	}
	if hc.UniqueID == "" {
		return
	}
	c := channelOf(hc)
	if strings.EqualFold(ev, "Rename") {
		if n := m.Get("Newname"); n != "" {
			c.Name = n
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	_, known := h.channels[c.UniqueID]
	var op string
	switch {
	case strings.EqualFold(ev, "Hangup"):
		if !known {
			return
		}
		delete(h.channels, c.UniqueID)
		op = "remove"
	case strings.EqualFold(ev, "Newchannel"):
		h.channels[c.UniqueID] = c
		op = "add"
		if known {
			op = "update"
		}
	default:
		// An update for a channel not known is not guessed at: its
		// Newchannel was missed, which a gap notice, and the snapshot
		// that follows it, make up for.
		if !known {
			return
		}
		h.channels[c.UniqueID] = c
		op = "update"
	}
	h.broadcastLocked(frame("channel", Delta{Op: op, Channel: c}))
}

// trackedEvents are the (lower-cased) events apply reads a channel
// from; the poller's filter lets through these and OriginateResponse.
var trackedEvents = map[string]bool{
	"newchannel":       true,
	"newstate":         true,
	"newcallerid":      true,
	"newconnectedline": true,
	"newaccountcode":   true,
	"rename":           true,
	"hangup":           true,
}

// send sends every subscriber one event whose data is v as JSON.
func (h *hub) send(event string, v any) {
	f := frame(event, v)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.broadcastLocked(f)
}

// broadcastLocked queues f for every subscriber, disconnecting those
// whose buffer is full.
func (h *hub) broadcastLocked(f []byte) {
	for s := range h.subs {
		select {
		case s.frames <- f:
		default:
			delete(h.subs, s)
			close(s.frames)
			h.logger.Info("a browser fell behind its event stream: disconnected, it will reconnect and get a snapshot", "buffer", h.bufSize)
		}
	}
}

// snapshotFrameLocked encodes a snapshot event of the channels, with
// h.mu held.
func (h *hub) snapshotFrameLocked(reason string) []byte {
	return frame("snapshot", Snapshot{Reason: reason, Channels: h.listLocked()})
}

// frame encodes one Server-Sent Event: its name and its data as one
// line of JSON. encoding/json escapes <, > and & in strings, and
// writes no raw newline, so no value can end the data line or smuggle
// markup to a careless page.
func frame(event string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		// The types above always encode; a gap notice's error might
		// not, and is then sent as null rather than not at all.
		data = []byte("null")
	}
	var b bytes.Buffer
	b.Grow(len(event) + len(data) + 16)
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}
