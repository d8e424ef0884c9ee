// Package livetest gives tests the real Asterisk named by the
// AMIHTTP_TEST_URL environment variable, such as
// http://hello:world@127.0.0.1:8088/ (a manager user with all classes), and
// skips them when it is not set. The project's shared folder describes how
// to build and run that Asterisk.
package livetest
