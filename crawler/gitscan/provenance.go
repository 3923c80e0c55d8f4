package gitscan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// maxOriginsPerBlob bounds the locations returned for one blob.
const maxOriginsPerBlob = 1000

type pathBlob struct{ path, blob string }

// provenance is the state of one Provenance call.
type provenance struct {
	r       *Repo
	rd      objReader
	targets map[string]bool
	memo    map[string][]pathBlob // tree -> target blobs under it (relative paths)
	treeOf  map[string]string     // commit -> tree, for commits already processed
	found   map[string]int        // blob + "\x00" + path -> index in out[blob]
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
	out := map[string][]crawler.Origin{}
	if r.empty || len(blobIDs) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithDeadline(ctx, r.deadline)
	defer cancel()
	p := &provenance{
		r: r, targets: map[string]bool{}, memo: map[string][]pathBlob{},
		treeOf: map[string]string{}, found: map[string]int{}, out: out,
	}
	for _, id := range blobIDs {
		if id = strings.ToLower(id); validOID(id) {
			p.targets[id] = true
		}
	}
	p.rd = r.reader(ctx)
	defer p.rd.close()
	var err error
	if r.git != "" {
		err = p.orderGit(ctx)
	} else {
		err = p.orderWalk(ctx)
	}
	if err == nil {
		err = ctx.Err()
	}
	r.mu.Lock()
	head := r.head
	r.mu.Unlock()
	if head != "" {
		if tree, ok := p.commitTree(head); ok {
			at := map[pathBlob]bool{}
			for _, pb := range p.targetsIn(tree, 0) {
				at[pb] = true
			}
			for blob, origins := range out {
				for i := range origins {
					origins[i].AtTip = at[pathBlob{origins[i].Path, blob}]
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
	if t, ok := p.treeOf[oid]; ok {
		return t, true
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

// targetsIn returns the target blobs under tree with their paths, memoised
// per tree so each tree is read once per call.
func (p *provenance) targetsIn(tree string, depth int) []pathBlob {
	if v, ok := p.memo[tree]; ok {
		return v
	}
	p.memo[tree] = nil
	if depth > maxTreeDepth {
		return nil
	}
	typ, _, data, err := p.rd.read(tree, maxMetaSize)
	if err == nil && (typ != "tree" || data == nil) {
		err = fmt.Errorf("%s is not a readable tree", tree)
	}
	var entries []treeEntry
	if err == nil {
		entries, err = parseTree(data)
	}
	if err != nil {
		p.fail(err)
	}
	var res []pathBlob
	for _, e := range entries {
		switch {
		case e.isTree():
			for _, sub := range p.targetsIn(e.oid, depth+1) {
				res = append(res, pathBlob{e.name + "/" + sub.path, sub.blob})
			}
		case e.isGitlink():
		default:
			if p.targets[e.oid] {
				res = append(res, pathBlob{e.name, e.oid})
			}
		}
	}
	p.memo[tree] = res
	return res
}

// visit processes one commit after all its parents.
func (p *provenance) visit(oid string, parents []string) {
	c, err := p.readCommit(oid)
	if err != nil {
		p.fail(err)
		return
	}
	p.treeOf[oid] = c.tree
	cur := p.targetsIn(c.tree, 0)
	if len(cur) == 0 {
		return
	}
	if parents == nil {
		parents = c.parents
	}
	var inParents []map[pathBlob]bool
	for _, par := range parents {
		pt, ok := p.treeOf[par]
		if !ok {
			continue // missing or shallow parent: its content is unknown
		}
		if pt == c.tree {
			return
		}
		m := map[pathBlob]bool{}
		for _, pb := range p.targetsIn(pt, 0) {
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
		key := pb.blob + "\x00" + pb.path
		if _, ok := p.found[key]; ok || len(p.out[pb.blob]) >= maxOriginsPerBlob {
			continue
		}
		p.found[key] = len(p.out[pb.blob])
		p.out[pb.blob] = append(p.out[pb.blob], crawler.Origin{
			Repo:   p.r.cfg.Repo,
			Commit: oid,
			Path:   strings.ToValidUTF8(pb.path, "\uFFFD"),
			Author: c.author,
			Time:   c.time,
		})
	}
}

// orderGit visits commits in `git rev-list --topo-order --reverse` order.
func (p *provenance) orderGit(ctx context.Context) error {
	errb := &tailBuffer{max: 2048}
	cmd := p.r.command(ctx, "rev-list", "--topo-order", "--reverse", "--parents", "--all")
	cmd.Stderr = errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git rev-list: %w", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if ctx.Err() != nil {
			break
		}
		f := strings.Fields(sc.Text())
		if len(f) == 0 || !validOID(f[0]) {
			continue
		}
		p.visit(f[0], append([]string{}, f[1:]...))
	}
	serr := sc.Err()
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if werr != nil {
		return fmt.Errorf("git rev-list: %w: %s", werr, errb.String())
	}
	return serr
}

// orderWalk visits commits parents-first by an iterative post-order walk
// from every ref (the go-git fallback).
func (p *provenance) orderWalk(ctx context.Context) error {
	refs, head, err := p.r.listRefs(ctx, p.rd)
	if err != nil {
		return err
	}
	shallow := shallowCommits(p.r.gitDir)
	type frame struct {
		oid     string
		parents []string
		next    int
	}
	state := map[string]uint8{} // 1 on stack, 2 done
	var starts []string
	for _, rf := range refs {
		starts = append(starts, rf.peeled)
	}
	if head != "" {
		starts = append(starts, head)
	}
	for _, s := range starts {
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
			if typ, _, _, err := p.rd.read(top.oid, 0); err == nil && typ == "commit" {
				p.visit(top.oid, top.parents)
			}
		}
	}
	return nil
}
