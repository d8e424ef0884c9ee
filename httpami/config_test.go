package httpami_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/internal/syncbuf"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want httpami.Config
	}{
		{"http://hello:world@pbx:8088/", httpami.Config{URL: "http://pbx:8088/", Username: "hello", Secret: "world"}},
		{"https://hello:w%40rld%3A@pbx:8089/asterisk?encoding=mxml&auth=digest",
			httpami.Config{URL: "https://pbx:8089/asterisk", Username: "hello", Secret: "w@rld:", Encoding: httpami.MXML, Auth: httpami.Digest}},
		{"http://u:s@pbx?auth=MD5&events=call,user&method=get",
			httpami.Config{URL: "http://pbx", Username: "u", Secret: "s", Auth: httpami.MD5, Events: "call,user", Get: true}},
		{"http://u:s@pbx//asterisk?method=post", httpami.Config{URL: "http://pbx//asterisk", Username: "u", Secret: "s"}},
		{"http://u:s@pbx/?validate=Warn&version=18.9.0", httpami.Config{URL: "http://pbx/", Username: "u", Secret: "s",
			Validate: httpami.ValidateWarn, AsteriskVersion: "18.9.0"}},
		{"http://u:s@pbx/?validate=off&realm=pbx1", httpami.Config{URL: "http://pbx/", Username: "u", Secret: "s",
			Validate: httpami.ValidateOff, Realm: "pbx1"}},
	}
	for _, tt := range tests {
		got, err := httpami.ParseURL(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestParseURLErrors(t *testing.T) {
	const secret = "s3cr3t-value"
	for _, in := range []string{
		"ftp://u:" + secret + "@pbx/",
		"http://u:" + secret + "@pbx/?encoding=json",
		"http://u:" + secret + "@pbx/?auth=basic",
		"http://u:" + secret + "@pbx/?method=head",
		"http://u:" + secret + "@pbx/?bogus=1",
		"http://:" + secret + "@pbx/",
		"http://u:" + secret + "@/",
		"http://u:" + secret + "@pbx:port%zz/",
		"http://u:" + secret + "@pbx/#frag",
		"http://u:" + secret + "@pbx/?validate=maybe",
		"http://u:" + secret + "@pbx/?version=latest",
	} {
		_, err := httpami.ParseURL(in)
		require.Error(t, err, in)
		assert.NotContains(t, err.Error(), secret, in)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []httpami.Config{
		{URL: "http://u:p@pbx/", Username: "u"},
		{URL: "http://pbx/?x=1", Username: "u"},
		{URL: "pbx:8088", Username: "u"},
		{URL: "http://pbx/"},
		{URL: "http://pbx/", Username: "u\r\nAction: Originate"},
		{URL: "http://pbx/", Username: "u", Encoding: "json"},
		{URL: "http://pbx/", Username: "u", Auth: "basic"},
		{URL: "http://pbx/", Username: "u", Validate: "strict"},
		{URL: "http://pbx/", Username: "u", AsteriskVersion: "master"},
	}
	for _, cfg := range tests {
		_, err := httpami.New(cfg)
		assert.Error(t, err, "%v", cfg)
	}
}

// TestConfigRedacts checks that no formatting of a Config shows its
// Secret.
func TestConfigRedacts(t *testing.T) {
	cfg := httpami.Config{URL: "http://pbx/", Username: "hello", Secret: "world-secret"}
	var logs syncbuf.Buffer
	debugLogger(&logs).Info("config", "cfg", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg), logs.String()} {
		assert.NotContains(t, s, "world-secret")
		assert.Contains(t, s, "hello")
	}
}

func TestSentinelsAreDistinct(t *testing.T) {
	all := []error{httpami.ErrAuthentication, httpami.ErrPermission, httpami.ErrSessionLost, httpami.ErrUnknownAction,
		httpami.ErrOutcomeUnknown, httpami.ErrProtocol, httpami.ErrEmptyBody, httpami.ErrResponseTooLarge,
		httpami.ErrInvalidAction, httpami.ErrClosed}
	for i, a := range all {
		for j, b := range all {
			assert.Equal(t, i == j, errors.Is(a, b), "%v / %v", a, b)
		}
		assert.True(t, strings.HasPrefix(a.Error(), "httpami: "))
	}
}

func TestClientConfigRoundTrips(t *testing.T) {
	cfg := httpami.Config{URL: "http://127.0.0.1:1", Username: "hello", Secret: "world", Events: "call"}
	c, err := httpami.New(cfg)
	require.NoError(t, err)
	got := c.Config()
	want := cfg
	want.Encoding, want.Auth = httpami.Rawman, httpami.Cookie // the defaults New fills in
	assert.Equal(t, want, got)
	got.Username = "changed"
	assert.Equal(t, "hello", c.Config().Username, "Config returns a copy")
}
