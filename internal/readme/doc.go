// Package readme holds the test that keeps the project's README.md
// honest: every Go snippet in it must be taken from a function that CI
// compiles (an Example function or an example program), so that a
// snippet cannot rot while the code it shows changes. It has no code of
// its own.
package readme
