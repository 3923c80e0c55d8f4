// Package crawler turns places into blobs with provenance: a directory tree
// here, git history in [github.com/sasquatch-sec/sasquatch/crawler/gitscan],
// GitHub organisations in [github.com/sasquatch-sec/sasquatch/crawler/github].
//
// Contract: a [Source] yields [Blob] values (bytes plus [Origin]) through a
// Go iterator, and reports everything it could not read as a [*Skip] so that
// coverage is never silently lost. Sources never follow symbolic links, never
// execute content, and bound every resource (file size, chunk size). The
// package imports none of sasquatch's other packages.
package crawler
