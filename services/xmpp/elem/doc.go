// Package elem is the box's in-memory XML element: one stanza read from a
// stream, changed (to/from stamped, delay added) and written to another
// stream, to the offline store, or inside a carbon copy.
//
// It writes namespaces itself (an xmlns attribute only where an element's
// namespace differs from its parent's) because encoding/xml's Encoder
// repeats and mangles them. It imports only the standard library.
package elem
