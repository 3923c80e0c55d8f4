package gitscan

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

const (
	waitDelay = 2 * time.Second
	// maxMetaSize bounds commits, tags and trees read for walking.
	maxMetaSize = 64 << 20
	// maxTreeDepth bounds the nesting of trees walked (git's own default
	// core.maxTreeDepth is 4096 in recent versions).
	maxTreeDepth = 4096
	// largeObjectThreshold makes go-git stream objects above it instead of
	// caching them.
	largeObjectThreshold = 1 << 20
)

// objReader reads single objects by ID. read returns the type and size and,
// when size <= max, the content. A missing object gives errMissing.
type objReader interface {
	read(oid string, max int64) (typ string, size int64, data []byte, err error)
	close() error
}

// goGitReader reads objects with go-git's filesystem storage.
type goGitReader struct {
	st *filesystem.Storage
}

// goGitCacheSize bounds go-git's object cache (objects above
// largeObjectThreshold are never cached).
const goGitCacheSize = 16 << 20

func openGoGit(gitDir string) *filesystem.Storage {
	return filesystem.NewStorageWithOptions(osfs.New(gitDir), cache.NewObjectLRU(goGitCacheSize),
		filesystem.Options{LargeObjectThreshold: largeObjectThreshold})
}

func (g *goGitReader) close() error { return g.st.Close() }

func (g *goGitReader) read(oid string, max int64) (typ string, size int64, data []byte, err error) {
	if !validOID(oid) {
		return "", 0, nil, fmt.Errorf("invalid object ID %q", oid)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("go-git panic reading %s: %v", oid, p)
		}
	}()
	obj, err := g.st.EncodedObject(plumbing.AnyObject, plumbing.NewHash(oid))
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return "", 0, nil, errMissing
		}
		return "", 0, nil, err
	}
	typ, size = obj.Type().String(), obj.Size()
	if size > max {
		return typ, size, nil, nil
	}
	rd, err := obj.Reader()
	if err != nil {
		return typ, size, nil, err
	}
	defer rd.Close()
	data = make([]byte, size)
	if _, err := io.ReadFull(rd, data); err != nil {
		return typ, size, nil, fmt.Errorf("read %s: %w", oid, err)
	}
	return typ, size, data, nil
}

var _ storer.EncodedObjectStorer = (*filesystem.Storage)(nil)

// commitInfo is what the walkers need from a commit object.
type commitInfo struct {
	tree    string
	parents []string
	author  string // "Name <email>"
	time    time.Time
	message []byte
}

// parseCommit parses a raw commit object leniently: unknown headers are
// ignored, a malformed author leaves author and time empty.
func parseCommit(data []byte) (commitInfo, error) {
	var c commitInfo
	hdr, msg := splitHeader(data)
	c.message = msg
	for len(hdr) > 0 {
		var line []byte
		line, hdr = cutLine(hdr)
		switch {
		case bytes.HasPrefix(line, []byte("tree ")):
			c.tree = string(line[5:])
		case bytes.HasPrefix(line, []byte("parent ")):
			c.parents = append(c.parents, string(line[7:]))
		case bytes.HasPrefix(line, []byte("author ")):
			c.author, c.time = parseIdent(line[7:])
		}
	}
	if !validOID(c.tree) {
		return c, errors.New("malformed commit: no valid tree")
	}
	for _, p := range c.parents {
		if !validOID(p) {
			return c, errors.New("malformed commit: invalid parent")
		}
	}
	return c, nil
}

// tagInfo is what the walkers need from an annotated tag object.
type tagInfo struct {
	object  string
	typ     string
	name    string
	tagger  string
	time    time.Time
	message []byte
}

func parseTag(data []byte) (tagInfo, error) {
	var t tagInfo
	hdr, msg := splitHeader(data)
	t.message = msg
	for len(hdr) > 0 {
		var line []byte
		line, hdr = cutLine(hdr)
		switch {
		case bytes.HasPrefix(line, []byte("object ")):
			t.object = string(line[7:])
		case bytes.HasPrefix(line, []byte("type ")):
			t.typ = string(line[5:])
		case bytes.HasPrefix(line, []byte("tag ")):
			t.name = string(line[4:])
		case bytes.HasPrefix(line, []byte("tagger ")):
			t.tagger, t.time = parseIdent(line[7:])
		}
	}
	if !validOID(t.object) {
		return t, errors.New("malformed tag: no valid object")
	}
	return t, nil
}

// splitHeader splits a commit or tag at the first blank line. Continuation
// lines (gpgsig) start with a space and are kept in the header.
func splitHeader(data []byte) (hdr, msg []byte) {
	if bytes.HasPrefix(data, []byte("\n")) {
		return nil, data[1:]
	}
	if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
		return data[:i+1], data[i+2:]
	}
	return data, nil
}

func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// parseIdent parses "Name <email> 1700000000 +0100".
func parseIdent(b []byte) (string, time.Time) {
	gt := bytes.LastIndexByte(b, '>')
	if gt < 0 {
		return string(bytes.ToValidUTF8(b, []byte("?"))), time.Time{}
	}
	who := string(bytes.ToValidUTF8(b[:gt+1], []byte("?")))
	f := bytes.Fields(b[gt+1:])
	if len(f) < 1 {
		return who, time.Time{}
	}
	sec, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return who, time.Time{}
	}
	if y := time.Unix(sec, 0).UTC().Year(); y < 1 || y > 9999 {
		// A date no report can hold (JSON's RFC 3339 has four-digit years,
		// and a report failing on one would lose every finding): unknown.
		return who, time.Time{}
	}
	loc := time.UTC
	if len(f) >= 2 && len(f[1]) == 5 && (f[1][0] == '+' || f[1][0] == '-') {
		h, e1 := strconv.Atoi(string(f[1][1:3]))
		m, e2 := strconv.Atoi(string(f[1][3:5]))
		// An offset of a day or more (git accepts "+9959") is no zone:
		// the time is kept in UTC.
		if e1 == nil && e2 == nil && h < 24 && m < 60 {
			off := (h*60 + m) * 60
			if f[1][0] == '-' {
				off = -off
			}
			loc = time.FixedZone(string(f[1]), off)
		}
	}
	return who, time.Unix(sec, 0).In(loc)
}

// treeEntry is one entry of a tree object.
type treeEntry struct {
	mode string
	name string
	oid  string
}

func (e treeEntry) isTree() bool    { return e.mode == "40000" || e.mode == "040000" }
func (e treeEntry) isGitlink() bool { return e.mode == "160000" }

// parseTree parses a raw tree object. Names are kept as raw bytes.
func parseTree(data []byte) ([]treeEntry, error) {
	var out []treeEntry
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			return out, errors.New("malformed tree: no mode")
		}
		nul := bytes.IndexByte(data[sp+1:], 0)
		if nul < 0 {
			return out, errors.New("malformed tree: no name terminator")
		}
		end := sp + 1 + nul + 1
		if len(data) < end+20 {
			return out, errors.New("malformed tree: truncated entry")
		}
		out = append(out, treeEntry{
			mode: string(data[:sp]),
			name: string(data[sp+1 : sp+1+nul]),
			oid:  hex.EncodeToString(data[end : end+20]),
		})
		data = data[end+20:]
	}
	return out, nil
}

// forEachEntry calls fn for each entry of a raw tree without allocating;
// name and id alias data. It returns an error for a malformed tree (after
// calling fn for the well-formed entries before it).
func forEachEntry(data []byte, fn func(mode, name, id []byte)) error {
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			return errors.New("malformed tree: no mode")
		}
		nul := bytes.IndexByte(data[sp+1:], 0)
		if nul < 0 {
			return errors.New("malformed tree: no name terminator")
		}
		end := sp + 1 + nul + 1
		if len(data) < end+20 {
			return errors.New("malformed tree: truncated entry")
		}
		fn(data[:sp], data[sp+1:sp+1+nul], data[end:end+20])
		data = data[end+20:]
	}
	return nil
}

func isTreeMode(m []byte) bool    { return string(m) == "40000" || string(m) == "040000" }
func isGitlinkMode(m []byte) bool { return string(m) == "160000" }

// oid20 is a binary SHA-1 object ID, a cheap map key.
type oid20 [20]byte

func toOID20[T string | []byte](hexID T) (oid20, bool) {
	var o oid20
	if !validOID(hexID) {
		return o, false
	}
	for i := range o {
		hi, lo := unhex(hexID[2*i]), unhex(hexID[2*i+1])
		o[i] = hi<<4 | lo
	}
	return o, true
}

func (o oid20) String() string { return hex.EncodeToString(o[:]) }

// unhex returns the value of a lower-case hex digit (checked by validOID).
func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}
