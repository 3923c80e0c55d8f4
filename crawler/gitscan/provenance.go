package gitscan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// maxOriginsPerBlob bounds the locations returned for one blob.
const maxOriginsPerBlob = 1000

type pathBlob struct{ path, blob string }

// provenance is the state of one Provenance call. What it keeps grows with
// the matched blobs and their locations (bounded by maxOriginsPerBlob), and,
// for the tree walk only, with the trees that hold a matched blob.
type provenance struct {
	r       *Repo
	rd      objReader
	targets map[oid20]string     // target blob -> hex ID
	memo    map[oid20][]pathBlob // tree -> target blobs under it (relative paths); tree walk only
	treeOf  map[oid20]oid20      // commit -> tree, for commits already processed; tree walk only
	found   map[string]int       // blob + "\x00" + path -> index in out[blob]
	out     map[string][]crawler.Origin
	errs    []error
	nerrs   int
}

// Provenance returns, for each of blobIDs (blobs that matched), one Origin
// per path at which the blob appears in any commit reachable from any ref:
// the oldest commit in topological order (parents before children) whose
// tree has the blob at that path while none of its parents does, with the
// commit's author and author time, and AtTip set when the default branch's
// tip still has the blob at that path. A renamed file therefore has one
// Origin at its original path and commit and one at the new path and the
// renaming commit; a merge's conflict resolution is attributed to the merge.
// Origins of a blob are in the order their commits were visited, oldest
// first. Missing or unreadable commits and trees are tolerated: the result
// is then partial and err says so. Blobs not found in any tree (e.g. only
// referenced by a tag) have no entry. Not safe for concurrent use.
func (r *Repo) Provenance(ctx context.Context, blobIDs []string) (map[string][]crawler.Origin, error) {
	return r.provenance(ctx, blobIDs, provAuto)
}

// Provenance strategies: provAuto is git log with the tree walk as
// fallback (git program) or the tree walk (go-git).
const (
	provAuto = iota
	provLog  // git log --raw -c only
	provWalk // parents-first walk through the object reader
)

// provenanceGrace is the least time Provenance gets, past the repository's
// deadline if need be.
const provenanceGrace = time.Minute

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (r *Repo) provenance(ctx context.Context, blobIDs []string, how int) (map[string][]crawler.Origin, error) {
	out := map[string][]crawler.Origin{}
	if r.empty || len(blobIDs) == 0 {
		return out, nil
	}
	// Provenance runs after the scan, for the few blobs that matched: it gets
	// at least provenanceGrace even when the repository's time is up, so
	// that findings made before a timeout still name their commit and path.
	ctx, cancel := context.WithDeadline(ctx, later(r.deadline, time.Now().Add(provenanceGrace)))
	defer cancel()
	p := &provenance{
		r: r, targets: map[oid20]string{}, memo: map[oid20][]pathBlob{},
		treeOf: map[oid20]oid20{}, found: map[string]int{}, out: out,
	}
	for _, id := range blobIDs {
		id = strings.ToLower(id)
		if o, ok := toOID20(id); ok {
			p.targets[o] = id
		}
	}
	p.rd = r.reader(ctx)
	defer p.rd.close()
	var err error
	switch {
	case how == provLog:
		err = p.fromLog(ctx)
	case how == provWalk:
		err = p.orderWalk(ctx)
	case r.git != "":
		err = p.fromLog(ctx)
		if err != nil && ctx.Err() == nil {
			// A missing or corrupt object stops git log; the walk tolerates it.
			r.log.Info("provenance: git log failed; walking trees instead", "repo", r.cfg.Repo, "err", err)
			clear(p.out)
			clear(p.found)
			err = p.orderWalk(ctx)
		}
	default:
		err = p.orderWalk(ctx)
	}
	if err == nil {
		err = ctx.Err()
	}
	r.mu.Lock()
	head := r.head
	r.mu.Unlock()
	if head != "" && ctx.Err() == nil {
		if tree, ok := p.commitTree(head); ok {
			// Each location is looked up by its path in the tip's tree, one
			// tree per path component: raw (non-UTF-8) names and paths of
			// any depth that the enumeration reached are judged alike.
			tl := &treeLookup{rd: p.rd, trees: map[string][]byte{}}
			for blob, origins := range out {
				for i := range origins {
					if ctx.Err() != nil {
						break
					}
					origins[i].AtTip = tl.blobAt(tree, origins[i].Path) == blob
				}
			}
		}
	}
	if p.nerrs > 0 {
		err = errors.Join(err, fmt.Errorf("%d objects unreadable during provenance (first: %w)", p.nerrs, p.errs[0]))
	}
	if err != nil {
		return out, fmt.Errorf("provenance %s: %w", r.cfg.Repo, err)
	}
	return out, nil
}

func (p *provenance) fail(err error) {
	p.nerrs++
	if len(p.errs) < 5 {
		p.errs = append(p.errs, err)
	}
}

// commitTree returns the tree of a commit, reading it when not yet known.
func (p *provenance) commitTree(oid string) (string, bool) {
	if o, ok := toOID20(oid); ok {
		if t, ok := p.treeOf[o]; ok {
			return t.String(), true
		}
	}
	c, err := p.readCommit(oid)
	if err != nil {
		return "", false
	}
	return c.tree, true
}

func (p *provenance) readCommit(oid string) (commitInfo, error) {
	typ, _, data, err := p.rd.read(oid, maxMetaSize)
	if err == nil && (typ != "commit" || data == nil) {
		err = fmt.Errorf("%s is not a readable commit", oid)
	}
	if err != nil {
		return commitInfo{}, err
	}
	return parseCommit(data)
}

// targetsIn20 returns the target blobs under tree with their paths,
// memoised per tree so each tree is read once per call.
func (p *provenance) targetsIn20(tree oid20, depth int) []pathBlob {
	if v, ok := p.memo[tree]; ok {
		return v
	}
	p.memo[tree] = nil
	if depth > maxTreeDepth {
		return nil
	}
	data, err := p.readTree(tree.String())
	if err != nil {
		p.fail(err)
		return nil
	}
	var res []pathBlob
	err = forEachEntry(data, func(mode, name, id []byte) {
		switch {
		case isTreeMode(mode):
			for _, sub := range p.targetsIn20(oid20(id), depth+1) {
				res = append(res, pathBlob{string(name) + "/" + sub.path, sub.blob})
			}
		case isGitlinkMode(mode):
		default:
			if hexID, ok := p.targets[oid20(id)]; ok {
				res = append(res, pathBlob{string(name), hexID})
			}
		}
	})
	if err != nil {
		p.fail(fmt.Errorf("tree %x: %w", tree[:], err))
	}
	p.memo[tree] = res
	return res
}

func (p *provenance) readTree(tree string) ([]byte, error) {
	typ, _, data, err := p.rd.read(tree, maxMetaSize)
	if err == nil && (typ != "tree" || data == nil) {
		err = fmt.Errorf("%s is not a readable tree", tree)
	}
	return data, err
}

// visit processes one commit after all its parents (as rewritten by
// shallow grafts: parents lists only those to compare with).
func (p *provenance) visit(oid string, c commitInfo, parents []string) {
	c20, ok1 := toOID20(oid)
	t20, ok2 := toOID20(c.tree)
	if !ok1 || !ok2 {
		return
	}
	p.treeOf[c20] = t20
	cur := p.targetsIn20(t20, 0)
	if len(cur) == 0 {
		return
	}
	var inParents []map[pathBlob]bool
	for _, par := range parents {
		par20, _ := toOID20(par)
		pt, ok := p.treeOf[par20]
		if !ok {
			continue // missing or shallow parent: its content is unknown
		}
		if pt == t20 {
			return
		}
		m := map[pathBlob]bool{}
		for _, pb := range p.targetsIn20(pt, 0) {
			m[pb] = true
		}
		inParents = append(inParents, m)
	}
	for _, pb := range cur {
		introduced := true
		for _, m := range inParents {
			if m[pb] {
				introduced = false
				break
			}
		}
		if !introduced {
			continue
		}
		p.record(pb.blob, pb.path, oid, c)
	}
}

// orderWalk visits commits parents-first by an iterative post-order walk
// from every ref (the go-git fallback).
func (p *provenance) orderWalk(ctx context.Context) error {
	shallow := shallowCommits(p.r.gitDir)
	type frame struct {
		oid     string
		parents []string
		next    int
	}
	state := map[string]uint8{} // 1 on stack, 2 done
	for _, s := range p.r.starts(true) {
		if state[s] != 0 {
			continue
		}
		var stack []frame
		push := func(oid string) {
			state[oid] = 1
			c, err := p.readCommit(oid)
			if err != nil {
				// Not a commit (a tag to a tree or blob) or missing: no parents.
				stack = append(stack, frame{oid: oid, parents: nil, next: 0})
				return
			}
			var ps []string
			if !shallow[oid] {
				ps = c.parents
			}
			stack = append(stack, frame{oid: oid, parents: ps})
		}
		push(s)
		for len(stack) > 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			top := &stack[len(stack)-1]
			if top.next < len(top.parents) {
				par := top.parents[top.next]
				top.next++
				if state[par] == 0 {
					push(par)
				}
				continue
			}
			stack = stack[:len(stack)-1]
			state[top.oid] = 2
			if c, err := p.readCommit(top.oid); err == nil {
				p.visit(top.oid, c, top.parents)
			}
		}
	}
	return nil
}

// fromLog finds introductions with one `git log --raw -c` over every ref in
// topological order, oldest first: git's own tree diffs list, per commit,
// the paths whose blob differs from the parent's (for merges: from every
// parent), which is exactly where a blob is introduced. Memory is constant
// apart from the results. The log started early by [Repo.StartProvenance]
// is read from its file when it completed; otherwise git log runs now.
func (p *provenance) fromLog(ctx context.Context) error {
	if f, release, err := p.r.earlyLogOutput(ctx); err != nil {
		return err
	} else if f != nil {
		defer release()
		return p.parseLog(ctx, bufio.NewReaderSize(f, 256<<10))
	}
	return p.r.runLog(ctx, func(out io.Reader) error {
		return p.parseLog(ctx, bufio.NewReaderSize(out, 256<<10))
	})
}

// runLog runs logCommand, hands its output to consume, and returns the
// first failure: the end of ctx, then consume's error, then git's.
func (r *Repo) runLog(ctx context.Context, consume func(io.Reader) error) error {
	errb := &tailBuffer{max: 2048}
	cmd := r.logCommand(ctx)
	cmd.Stderr = errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git log: %w", err)
	}
	cerr := consume(out)
	if cerr != nil {
		// Stop git before waiting for it: it may be blocked on a full pipe.
		killGroup(cmd)
	}
	werr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case cerr != nil:
		return cerr
	case werr != nil:
		return fmt.Errorf("git log: %w: %s", werr, errb.String())
	}
	return nil
}

// logCommand is the git log that provenance reads: every start, oldest
// commit first, raw diffs against every parent, nothing that a
// repository's configuration could change.
func (r *Repo) logCommand(ctx context.Context) *exec.Cmd {
	cmd := r.command(ctx, "-c", "core.quotePath=true", "-c", "color.ui=false", "-c", "diff.renames=false",
		"log", "--stdin", "--topo-order", "--reverse", "--raw", "--no-abbrev", "-c", "--root",
		"--no-renames", "--no-ext-diff", "--no-textconv", "--no-mailmap", "--no-notes", "--no-decorate",
		"--date=raw", "--format=%x01%H%n%T %ad %an <%ae>")
	var stdin strings.Builder
	for _, t := range r.starts() {
		stdin.WriteString(t + "\n")
	}
	cmd.Stdin = strings.NewReader(stdin.String())
	return cmd
}

// parseLog reads logCommand's output to its end (or ctx's) and records
// the introductions of the target blobs. Most lines name no target: a raw
// line is looked at whole, and its commit's author parsed, only when the ID
// it gives its path is one.
func (p *provenance) parseLog(ctx context.Context, br *bufio.Reader) error {
	var commit []byte
	var ident []byte // "<tree> <unix> <tz> <name> <<email>>" of commit
	var info commitInfo
	infoDone := false
	expectIdent := false
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// An absurd path; skip the rest of the line.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if len(line) == 0 && err != nil {
			break
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		switch {
		case len(line) > 0 && line[0] == 1:
			commit = append(commit[:0], bytes.TrimSpace(line[1:])...)
			ident, infoDone, expectIdent = ident[:0], false, true
		case expectIdent:
			expectIdent = false
			ident = append(ident, line...)
		case len(line) > 0 && line[0] == ':' && validOID(commit):
			o, ok := toOID20(resultID(line))
			if !ok || p.targets[o] == "" {
				continue
			}
			if !infoDone {
				info, infoDone = identInfo(ident), true
			}
			p.logEntry(string(commit), info, line)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// resultID returns the ID a raw diff line gives its path: the last of its
// IDs, just before the status. It is nil for a line not shaped so.
func resultID(line []byte) []byte {
	meta, _, ok := bytes.Cut(line, []byte("\t"))
	if !ok {
		return nil
	}
	sp := bytes.LastIndexByte(meta, ' ')
	if sp < 41 || meta[sp-41] != ' ' {
		return nil
	}
	return meta[sp-40 : sp]
}

// identInfo parses "<tree> <unix> <tz> <name> <<email>>" into the author
// and author time.
func identInfo(line []byte) commitInfo {
	var info commitInfo
	f := bytes.SplitN(line, []byte(" "), 4)
	if len(f) == 4 {
		info.author, info.time = parseIdent(append(append(append(append([]byte{}, f[3]...), ' '), f[1]...), append([]byte(" "), f[2]...)...))
	}
	return info
}

// logEntry handles one raw diff line: ":m1 m2 o1 o2 S\tpath" or, for an
// n-parent merge, n colons, n+1 modes, n+1 IDs, the status and the path.
func (p *provenance) logEntry(commit string, info commitInfo, line []byte) {
	n := 0
	for n < len(line) && line[n] == ':' {
		n++
	}
	meta, rawPath, ok := bytes.Cut(line[n:], []byte("\t"))
	if !ok {
		return
	}
	f := bytes.Fields(meta)
	if len(f) != 2*(n+1)+1 {
		return
	}
	mode := f[n]
	result := f[2*n+1]
	if string(mode) == "160000" || string(mode) == "000000" {
		return
	}
	o, _ := toOID20(result)
	hexID := p.targets[o]
	if hexID == "" || hexID != string(result) {
		return
	}
	for _, par := range f[n+1 : 2*n+1] {
		if bytes.Equal(par, result) {
			return // only the mode changed
		}
	}
	path := string(rawPath)
	if strings.HasPrefix(path, "\"") {
		if u, err := strconv.Unquote(path); err == nil {
			path = u
		}
	}
	p.record(hexID, path, commit, info)
}

// record adds the first introduction of blob at path.
func (p *provenance) record(blob, path, commit string, c commitInfo) {
	key := blob + "\x00" + path
	if _, ok := p.found[key]; ok || len(p.out[blob]) >= maxOriginsPerBlob {
		return
	}
	p.found[key] = len(p.out[blob])
	p.out[blob] = append(p.out[blob], crawler.Origin{
		Repo:   p.r.cfg.Repo,
		Commit: commit,
		Path:   path, // raw bytes, as git stores the names
		Author: c.author,
		Time:   c.time,
	})
}

// treeLookup resolves paths in trees, reading each tree once.
type treeLookup struct {
	rd    objReader
	trees map[string][]byte // tree ID -> raw tree
}

// blobAt returns the ID of the blob at the slash-separated path under tree
// (hex), or "" when there is none. Names are compared as raw bytes; the
// depth is that of the path, with no limit of its own.
func (tl *treeLookup) blobAt(tree, path string) string {
	cur := tree
	for path != "" {
		name, rest, more := strings.Cut(path, "/")
		data, ok := tl.trees[cur]
		if !ok {
			typ, _, d, err := tl.rd.read(cur, maxMetaSize)
			if err != nil || typ != "tree" || d == nil {
				return ""
			}
			data = d
			tl.trees[cur] = data
		}
		next := ""
		nextTree := false
		forEachEntry(data, func(mode, n, id []byte) {
			if next == "" && string(n) == name {
				next, nextTree = hex.EncodeToString(id), isTreeMode(mode)
			}
		})
		switch {
		case next == "":
			return ""
		case more && !nextTree:
			return ""
		case !more:
			if nextTree || next == "" {
				return ""
			}
			return next
		}
		cur, path = next, rest
	}
	return ""
}
