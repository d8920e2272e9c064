// Package xmlguard enforces the byte-level limits of an XMPP stream (RFC 6120
// §11 "restricted XML" and the box's resource limits) before any XML parser
// sees the bytes: maximum stanza size, maximum element depth, and no DTDs,
// comments or processing instructions after the XML declaration.
//
// encoding/xml happily buffers a gigabyte attribute or text node, so the
// limits must be checked on the raw bytes, as they arrive. The Guard is an
// io.ByteReader so xml.Decoder reads through it without its own bufio layer.
//
// It imports only the standard library.
package xmlguard
