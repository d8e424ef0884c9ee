package livetest

import "testing"

func TestGet(t *testing.T) {
	t.Setenv(EnvVar, "http://hello:world@127.0.0.1:8088/")
	got := Get(t)
	if want := (Target{Base: "http://127.0.0.1:8088", Username: "hello", Password: "world"}); got != want {
		t.Errorf("Get = %+v, want %+v", got, want)
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
