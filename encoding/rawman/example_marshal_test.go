package rawman_test

import (
	"fmt"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
)

func ExampleUnmarshal() {
	// One CoreShowChannel event, as Asterisk 23 sends it in answer to a
	// CoreShowChannels action.
	m := &rawman.Message{Fields: []rawman.Field{
		{Key: "Event", Value: "CoreShowChannel"},
		{Key: "ActionID", Value: "l1"},
		{Key: "Channel", Value: "Local/200@test-00000006;1"},
		{Key: "ChannelState", Value: "6"},
		{Key: "ChannelStateDesc", Value: "Up"},
		{Key: "CallerIDNum", Value: "<unknown>"},
		{Key: "CallerIDName", Value: "<unknown>"},
		{Key: "ConnectedLineNum", Value: "<unknown>"},
		{Key: "ConnectedLineName", Value: "<unknown>"},
		{Key: "Language", Value: "en"},
		{Key: "AccountCode", Value: ""},
		{Key: "Context", Value: "test"},
		{Key: "Exten", Value: "200"},
		{Key: "Priority", Value: "2"},
		{Key: "Uniqueid", Value: "1795412731.12"},
		{Key: "Linkedid", Value: "1795412731.12"},
		{Key: "Application", Value: "Wait"},
		{Key: "ApplicationData", Value: "30"},
		{Key: "Duration", Value: "00:00:05"},
		{Key: "BridgeId", Value: ""},
	}}

	type Event struct {
		Event    string
		ActionID string
	}
	type CoreShowChannel struct {
		Event        // promoted: fills Event and ActionID
		Channel      string
		ChannelState int
		State        string `ami:"ChannelStateDesc"`
		Context      string
		Exten        string
		Priority     int
		Uniqueid     string
		Application  string
		Duration     time.Duration `ami:"Duration,unit=s"` // HH:MM:SS accepted too
		BridgeID     string        `ami:"BridgeId"`
	}

	var ch CoreShowChannel
	if err := rawman.Unmarshal(m, &ch); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s\n", ch.Event.Event, ch.ActionID)
	fmt.Printf("%s is %s (state %d) in %s,%s,%d\n",
		ch.Channel, ch.State, ch.ChannelState, ch.Context, ch.Exten, ch.Priority)
	fmt.Printf("running %s for %v, bridge %q\n", ch.Application, ch.Duration, ch.BridgeID)

	// A value that does not fit its field is reported with its key.
	bad := &rawman.Message{Fields: []rawman.Field{{Key: "Priority", Value: "two"}}}
	fmt.Println(rawman.Unmarshal(bad, &ch))
	// Output:
	// CoreShowChannel l1
	// Local/200@test-00000006;1 is Up (state 6) in test,200,2
	// running Wait for 5s, bridge ""
	// rawman: cannot unmarshal "two" (key Priority) into Go field CoreShowChannel.Priority of type int
}

func ExampleMarshal() {
	type Originate struct {
		Action   string            `ami:"Action"`
		ActionID string            `ami:"ActionID,omitempty"`
		Channel  string            `ami:"Channel"`
		Context  string            `ami:"Context,omitempty"`
		Exten    string            `ami:"Exten,omitempty"`
		Priority int               `ami:"Priority,omitempty"`
		Timeout  time.Duration     `ami:"Timeout,unit=ms"`
		CallerID string            `ami:"CallerID,omitempty"`
		Async    bool              `ami:"Async"`
		Codecs   []string          `ami:"Codecs,omitempty"`
		Variable map[string]string `ami:"Variable"`
	}

	m, err := rawman.Marshal(&Originate{
		Action:   "Originate",
		ActionID: "o-17",
		Channel:  "PJSIP/alice",
		Context:  "from-internal",
		Exten:    "200",
		Priority: 1,
		Timeout:  30 * time.Second,
		Async:    true,
		Variable: map[string]string{"CDR(userfield)": "campaign=7", "LANG": "en"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for k, v := range m.All() {
		fmt.Printf("%s: %s\n", k, v)
	}
	// Output:
	// Action: Originate
	// ActionID: o-17
	// Channel: PJSIP/alice
	// Context: from-internal
	// Exten: 200
	// Priority: 1
	// Timeout: 30000
	// Async: true
	// Variable: CDR(userfield)=campaign=7
	// Variable: LANG=en
}
