//go:build libsecp256k1 && !cgo

package secp

// The libsecp256k1 backend needs cgo: with the tag but CGO_ENABLED=0 the
// build stops here (an undefined name that says why) rather than quietly
// giving the pure-Go backend to someone who asked for the library.
var _ = the_libsecp256k1_build_tag_needs_cgo_enabled
