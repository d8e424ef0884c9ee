package livetest

import "testing"

func TestGet(t *testing.T) {
	t.Setenv(EnvVar, "http://hello:world@127.0.0.1:8088/")
	got := Get(t)
	if want := (Target{Base: "http://127.0.0.1:8088", Username: "hello", Password: "world"}); got != want {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	for query, want := range map[string]string{
		"":                          "http://hello:world@127.0.0.1:8088/",
		"auth=digest&encoding=mxml": "http://hello:world@127.0.0.1:8088/?auth=digest&encoding=mxml",
	} {
		if u := got.URL(query); u != want {
			t.Errorf("URL(%q) = %q, want %q", query, u, want)
		}
	}
}

func TestGetSkips(t *testing.T) {
	t.Setenv(EnvVar, "")
	ran := make(chan bool, 1)
	t.Run("inner", func(t *testing.T) {
		defer func() { ran <- t.Skipped() }()
		Get(t)
		t.Error("Get did not skip")
	})
	if !<-ran {
		t.Error("the test was not skipped")
	}
}
