package actions_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/internal/livetest"
)

// TestLiveCatalog checks the catalog against the live Asterisk of
// AMIHTTP_TEST_URL: every action it has registered (ListCommands) is in
// the catalog with the same privilege classes and a version list that
// includes the server's; the client learns that version; and an action
// the catalog refuses never reaches the server.
func TestLiveCatalog(t *testing.T) {
	target := livetest.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := httpami.Dial(ctx, target.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()

	version, err := c.AsteriskVersion(ctx)
	if err != nil {
		t.Fatalf("AsteriskVersion: %v", err)
	}
	v, ok := actions.ParseVersion(version)
	if !ok {
		t.Fatalf("AsteriskVersion %q does not parse", version)
	}
	t.Logf("Asterisk %s", version)

	list, err := c.ListCommands(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 50 {
		t.Fatalf("ListCommands gave %d actions", len(list))
	}
	for _, info := range list {
		spec, ok := actions.Lookup(info.Name)
		if !ok {
			t.Errorf("Asterisk %s registers %s, which the catalog lacks", version, info.Name)
			continue
		}
		var priv []string
		for p := range strings.SplitSeq(info.Privilege, ",") {
			if p != "" && p != "all" {
				priv = append(priv, p)
			}
		}
		if !slices.Equal(priv, spec.Privilege) {
			t.Errorf("%s: Asterisk says privilege %q, the catalog %q", info.Name, info.Privilege, spec.Privilege)
		}
		if !slices.Contains(spec.Versions, v.Major) {
			t.Errorf("%s: registered by Asterisk %s, but the catalog has it in %v", info.Name, version, spec.Versions)
		}
		if err := spec.Validate(nil, version); errors.Is(err, actions.ErrUnavailable) {
			t.Errorf("%s: registered by Asterisk %s, but Validate says %v", info.Name, version, err)
		}
	}
	t.Logf("%d registered actions checked", len(list))

	before := c.Generation()
	_, err = c.Action(ctx, "Originate", "Exten", "100", "Context", "test")
	if !errors.Is(err, actions.ErrMissingParam) || !strings.Contains(err.Error(), "Channel") {
		t.Errorf("Originate without Channel = %v, want the client's refusal naming Channel", err)
	}
	if c.Generation() != before {
		t.Errorf("the refusal logged in again")
	}
}

// TestLiveVersionRefused checks, as the user "limited" (write=originate,
// which may not send CoreSettings), that a refused version query leaves
// the version unknown, once, and the actions go out unjudged by version.
func TestLiveVersionRefused(t *testing.T) {
	target := livetest.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target.Username, target.Password = "limited", "limited"
	c, err := httpami.Dial(ctx, target.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	for range 2 {
		// PJSIPHangup depends on the version; res_pjsip is not loaded, so
		// Asterisk itself answers.
		_, err := c.Send(ctx, &actions.PJSIPHangup{Channel: "PJSIP/none-00000000", Cause: "16"})
		if errors.Is(err, httpami.ErrInvalidAction) || err == nil {
			t.Fatalf("Send(PJSIPHangup) = %v, want Asterisk's refusal", err)
		}
	}
	if _, err := c.AsteriskVersion(ctx); !errors.Is(err, httpami.ErrPermission) {
		t.Errorf("AsteriskVersion = %v, want the remembered ErrPermission", err)
	}
}
