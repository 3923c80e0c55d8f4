// Command sasquatch is the only package that wires everything together:
// flags -> Config -> a source (crawler) -> a pool of detectors (detect) ->
// a collector that merges matches into findings -> sinks (report).
//
// run is the testable entry point: it takes the arguments and the standard
// streams and returns the exit code (design.md): 0 no finding at or above
// --fail-on, 1 findings, 2 usage or fatal error, 3 (only with --strict)
// coverage was incomplete. When both 1 and 3 apply, 1 wins: a leaked token
// is the more urgent news.
package main
