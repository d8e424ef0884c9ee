// Package transcript reads the byte-exact HTTP exchanges recorded from a real
// Asterisk that live under testdata/asterisk-23, for the tests of every
// package: the codecs decode their bodies, the fake server replays them.
//
// A recorded group is a folder of steps NNN-name.req (bytes written),
// NNN-name.resp (bytes read) and NNN-name.meta (JSON); see the README of the
// transcript folder. This package never changes a file.
package transcript
