// Package pipeline runs sources of blobs through one bounded pool of
// detector goroutines into a findings store, and says what a run covered.
//
// Contract:
//   - A [Pipeline] owns exactly Config.Workers detector goroutines for its
//     whole life. Every [Pipeline.Scan] and every job of [Pipeline.RunAll]
//     shares them: N repositories in flight never start N pools.
//   - Scan ranges one [crawler.Source] (the only consumer of its iterator),
//     hands each blob to the pool, adds one location per occurrence to the
//     [Store], and for history sources asks [crawler.Provenancer] for the
//     origins of only the blobs that matched; a [crawler.ProvenanceStarter]
//     is told at the first match, so that its provenance runs beside the
//     rest of the scan. It returns a [Result]: blobs
//     and bytes scanned, candidates rejected, and skips by typed reason.
//   - One coverage path: a skip is counted exactly once, from the
//     [*crawler.Skip] values the source yields. A [crawler.CoverageReporter]
//     adds only whether the source was complete and the problems no skip
//     describes.
//   - Every detection holds a place in [Pipeline.Gate], which has Workers
//     places. A source that reads through the same gate (the directory
//     source's readers) shares them: reading and detecting together never
//     run more than Workers goroutines at once.
//   - Nothing found is dropped because a run is interrupted: hits from blobs
//     already read reach the store, and provenance gets a short grace period.
//   - The package starts goroutines; its callers (cmd/sasquatch, the sweep
//     worker) need none.
package pipeline
