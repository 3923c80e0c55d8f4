//go:build !unix

package crawler

import "os"

// openRegular opens name for reading. Without O_NOFOLLOW the walk relies on
// the directory listing (which never follows links) and on the fstat check
// after opening.
func openRegular(name string) (*os.File, error) { return os.Open(name) }

// openDirectory opens a directory for listing.
func openDirectory(name string) (*os.File, error) { return os.Open(name) }

// dirID is not available here: loops can only come from symbolic links or
// junctions, which the walk never follows.
func dirID(*os.File) (fileID, bool) { return fileID{}, false }
