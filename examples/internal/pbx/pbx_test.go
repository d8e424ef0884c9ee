package pbx

import (
	"context"
	"log/slog"
	"testing"

	"github.com/amihttp/amihttp/httpami"
)

func TestURL(t *testing.T) {
	t.Setenv(EnvURL, "")
	u, stop := URL("auth=digest", slog.New(slog.DiscardHandler))
	defer stop()
	c, err := httpami.Dial(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if c.Config().Auth != httpami.Digest {
		t.Errorf("auth %q, want the query's digest", c.Config().Auth)
	}
	if r, err := c.Action(context.Background(), "Ping"); err != nil || r.Get("Ping") != "Pong" {
		t.Fatalf("ping the fake: %v", err)
	}

	t.Setenv(EnvURL, "http://u:s@pbx.example:8088/")
	if u, _ := URL("", slog.New(slog.DiscardHandler)); u != "http://u:s@pbx.example:8088/" {
		t.Errorf("URL %q, want AMIHTTP_URL's", u)
	}
}
