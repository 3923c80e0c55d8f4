// Package sweep runs stateful, resumable GitHub sweeps as a job queue
// (github.com/riverqueue/river) over the durable store (internal/store),
// on SQLite for one machine or PostgreSQL for many.
//
// Contract:
//   - A sweep of a target is one store run. Its first job preflights the
//     target (a typo fails at once), lists it, records every repository and
//     enqueues one scan job per repository, unique by run and repository
//     ID: a sweep never scans a repository twice, and tomorrow's run is not
//     deduplicated against today's.
//   - A scan job opens the repository since the tips recorded by the last
//     complete scan (a repository whose advertised refs did not move is not
//     fetched at all), runs it through the shared detector pool, and in ONE
//     transaction adds its findings and locations and records its new tips.
//     Adding is idempotent, so a job re-run after a crash adds nothing twice.
//   - When every scan job of the run is done, the target is listed again and
//     repositories created meanwhile are scanned; then the run is finished
//     with its counts and whether it covered everything.
//   - A killed process loses at most the repositories in flight: jobs it left
//     running are made available again by [Queue.RescueRunning] when the next
//     single-process sweep starts, and by River's rescuer (after the job
//     timeout) when many workers share PostgreSQL.
package sweep
