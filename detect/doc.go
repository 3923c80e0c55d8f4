// Package detect finds Azure Storage shared access signatures (SAS) and account
// keys in bytes and classifies how dangerous each one is.
//
// Contract: bytes in, matches out. The package does no I/O, no logging and no
// networking, and imports none of sasquatch's other packages. A [Detector] is
// safe for concurrent use; [Detector.Detect] never returns an error (bad input
// is a non-match) and does not retain or modify its input.
//
// Stages, each in its own file:
//
//	prefilter  one Aho-Corasick automaton over the anchors (sig=, sig%3d, .core.windows.net,
//	           SharedAccessSignature, AccountKey=, ... in every case variant); a blob with no
//	           hit costs one pass and no allocation
//	normalise  a window around each hit: percent-decoding (three rounds), HTML and JSON
//	           escapes, split string literals, UTF-16, CRLF
//	parse      URLs on every storage host form, bare tokens, connection strings
//	classify   sas-spec.md §7: gates, the scope x permission x lifetime matrix, modifiers
//	reject     placeholders, signatures that are not 32 bytes, other vendors' sig=
//
// Secrets never leave the package unwrapped: signatures are [Secret] values
// that redact themselves in every format.
package detect
