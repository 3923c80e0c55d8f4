// Package detect finds Azure Storage shared access signatures (SAS) and account
// keys in bytes and classifies how dangerous each one is.
//
// Contract: bytes in, matches out. The package does no I/O, no logging and no
// networking, and imports none of sasquatch's other packages. A [Detector] is
// safe for concurrent use; [Detector.Detect] never returns an error (bad input
// is a non-match), never panics, and does not retain or modify its input.
// [Parse] turns one URL, bare token or connection string into a [Token]
// (unclassified: severity needs a clock, which only a Detector has).
//
// Stages, each in its own file:
//
//	prefilter.go  one Aho-Corasick automaton (github.com/cloudflare/ahocorasick) over 12
//	              anchors in lower case, matched on text folded to lower case: sig= with
//	              every encoding of '=' (%3d, %253d, %25253d, \u003d, &#61;, &#x3d;),
//	              AccountKey= and AccountKey%3D, and their UTF-16 forms. It is built in
//	              about a millisecond. A pre-pass finds trigger positions (one of '=',
//	              '%', '\', '&' after a g or y, or an '=' after an '=') in one AVX2 pass
//	              (prepass_amd64.s; elsewhere one bytes.IndexByte pass per trigger byte,
//	              checked equal by TestPrepassKernels and TestFallbackPassesAgree),
//	              and hands the automaton only small windows around triggers that end
//	              "sig" or "accountkey": the automaton alone runs below 1 GB/s
//	              (BenchmarkAhoCorasickCore). A blob with no candidate costs one pass
//	              and no allocation.
//	              The pre-pass also yields the candidates no pattern names: a value with
//	              the shape of an account key (86 base64 characters and "==", found at
//	              its second '=').
//	normalize.go  a window around each candidate (4 KiB before, 2 KiB after, merged):
//	              line continuations (a YAML escaped line break drops the indentation),
//	              .ipynb source items, HTML entities, JSON escapes, adjacent/concatenated
//	              string literals in every common language ("" '' `` @"" $"" f"", + and
//	              PowerShell's backtick, shell words "a"'b'), percent-decoding (up to three
//	              rounds while %3F/%26/%3D remain), UTF-16 LE/BE. Every output byte keeps
//	              its original span (as pieces: a run copied unchanged is one piece), so
//	              offsets map back to the input.
//	parse.go      URLs (a host only from scheme://host or a storage host name; a
//	              Markdown autolink may hold spaces), bare tokens (with or without '?',
//	              after a prefix such as SharedAccessSignature= or an env var), parameters
//	              in any order, keys case-insensitive, first value wins; a connection
//	              string's SAS takes the endpoint of its own service.
//	accounts.go   context of a bare token or key: the nearest storage endpoint or account
//	              name (--account-name, AccountName=, AZURE_STORAGE_ACCOUNT=, account_name,
//	              accountName:), the variable of a templated host (${account}.blob...),
//	              and the parameters a fragment takes from neighbouring string pieces.
//	hosts.go      every host form of sas-spec §5.1; emulators on loopback, private and
//	              IPv6 addresses and non-Azure host names.
//	reject.go     placeholders, signatures that are not 32 bytes of base64, other
//	              vendors (Google, AWS, hex, Azure Service Bus/Event Hubs/IoT Hub).
//	keys.go       account keys: connection strings (percent-encoded, any case) and key
//	              names (--account-key, AZURE_STORAGE_KEY, primary_access_key, accountKey:);
//	              Cosmos DB keys are rejected.
//	classify.go   sas-spec §7: a token's fields from its parameters (tokenOf), then gates
//	              G0-G5, the scope x permission x lifetime matrix, modifiers, the floor LOW
//	              for live tokens (judgeSAS); account keys (classifyKey); every tag
//	              becomes a reason.
//	detect.go     [New], [Detector.Detect], [Detector.Prefilter], positions.
//
// Bounds per Detect call: 65536 anchor occurrences, 16384 extracted candidates,
// 4096 matches, windows merged up to 1 MiB, tokens up to 4 KiB.
//
// Secrets never leave the package unwrapped: signatures and keys are [Secret]
// values that redact themselves in every format, [Token.String] is the redacted
// form, and [Token.Canonical] is the only method that rebuilds a working token.
package detect
