// Package amicorpus builds the deterministic corpus of AMI traffic that the
// decoders' benchmarks read: WaitEvent-shaped rawman bodies modelled on the
// recordings of a real Asterisk 23. The mxml benchmarks encode the same
// bodies as Asterisk's mxml would, so both encodings are measured on the
// same messages.
package amicorpus
