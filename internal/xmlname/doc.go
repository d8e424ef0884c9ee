// Package xmlname implements the rule by which Asterisk's manager turns an
// AMI header name into an XML attribute name in its /mxml and /amxml
// answers: ASCII letters are lowered, ASCII digits kept, every other byte
// (punctuation, blanks, each byte of a non-ASCII character) becomes '_',
// and a name that begins with a digit gets a '_' in front (Asterisk 16.25,
// 18.11, 19.3, 20.0 and later; older versions wrote the digit as is).
//
// It is shared by encoding/rawman, whose lookups compare keys in this form
// for messages decoded from mxml, and encoding/mxml, whose Encoder writes it.
package xmlname
