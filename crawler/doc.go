// Package crawler turns places into blobs with provenance: a directory tree
// here, git history in [github.com/sasquatch-sec/sasquatch/crawler/gitscan],
// GitHub organisations in [github.com/sasquatch-sec/sasquatch/crawler/github].
//
// Contract: a [Source] yields [Blob] values (bytes plus [Origin]) through a
// Go iterator, and reports everything it could not read as a [*Skip] so that
// coverage is never silently lost. Sources never follow symbolic links, never
// execute content, and bound every resource (file size, chunk size). A
// [Gate] bounds how many goroutines work at once across a scan's stages
// (readers here, detectors in the pipeline). The package imports none of
// sasquatch's other packages.
package crawler
