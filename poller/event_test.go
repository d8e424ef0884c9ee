package poller_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/poller"
)

func TestGapJSON(t *testing.T) {
	from := time.Date(2026, 11, 30, 16, 20, 1, 500e6, time.UTC)
	tests := []struct {
		gap  poller.Gap
		want string
	}{
		{poller.Gap{Reason: poller.SessionLost, From: from, To: from.Add(2600 * time.Millisecond), Err: fmt.Errorf("wrapped: %w", httpami.ErrSessionLost)},
			`{"Reason":"session lost","From":"2026-11-30T16:20:01.5Z","To":"2026-11-30T16:20:04.1Z","Duration":"2.6s","Error":"wrapped: httpami: session lost"}`},
		{poller.Gap{Reason: poller.Dropped, From: from, To: from.Add(time.Second), Dropped: 12},
			`{"Reason":"dropped by the DropOldest policy","From":"2026-11-30T16:20:01.5Z","To":"2026-11-30T16:20:02.5Z","Duration":"1s","Dropped":12}`},
	}
	for _, tc := range tests {
		t.Run(tc.gap.Reason.String(), func(t *testing.T) {
			got, err := json.Marshal(&tc.gap)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var back poller.Gap
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if back.Reason != tc.gap.Reason || !back.From.Equal(tc.gap.From) || !back.To.Equal(tc.gap.To) || back.Dropped != tc.gap.Dropped {
				t.Errorf("read back as %+v, want %+v", back, tc.gap)
			}
		})
	}
	for r := poller.SessionLost; r <= poller.Dropped; r++ {
		text, err := r.MarshalText()
		var back poller.Reason
		if err != nil || back.UnmarshalText(text) != nil || back != r {
			t.Errorf("%v: text %q, %v, read back as %v", r, text, err, back)
		}
	}
	if _, err := json.Marshal(&poller.Gap{}); err == nil {
		t.Error("a Gap without a Reason marshals")
	}
	var r poller.Reason
	if err := r.UnmarshalText([]byte("bored")); err == nil || errors.Is(err, poller.ErrGap) {
		t.Errorf("unknown reason: %v", err)
	}
}
