// Package readbuf holds the buffer management that the zero-copy decoders
// of encoding/rawman and encoding/mxml share. Their decoded strings point
// into the buffer the input was read into, so a buffer whose bytes have
// been handed out is never written again: making room then means a new
// buffer, not moving bytes within the old one.
package readbuf
