package gitscan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ref is one ref as stored (oid may be an annotated tag) and peeled.
type ref struct {
	name    string
	oid     string
	peeled  string
	missing bool // the object the ref names (or a tag it peels through) is absent
}

// listRefs returns every ref of the repository and the commit at HEAD ("" if
// unborn or not a commit). A ref naming a missing object is listed with
// missing set, never an error.
func (r *Repo) listRefs(ctx context.Context, rd objReader) ([]ref, string, error) {
	if r.git != "" {
		return r.listRefsGit(ctx)
	}
	return r.listRefsGoGit(rd)
}

func (r *Repo) listRefsGit(ctx context.Context) ([]ref, string, error) {
	// HEAD is read, and the batch-check that types and peels the refs is
	// started, beside the listing: three short git processes at once
	// instead of one after the other.
	headOut := make(chan []byte, 1)
	go func() {
		out, err := r.runGit(ctx, nil, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
		if err != nil {
			out = nil // unborn, or not a commit
		}
		headOut <- out
	}()
	chk, err := r.startBatchCheck(ctx)
	if err != nil {
		<-headOut
		return nil, "", err
	}
	// Only names and IDs: asking for-each-ref to peel (%(*objectname))
	// makes it die on the first ref to a missing object.
	out, err := r.runGit(ctx, nil, "for-each-ref", "--format=%(refname)%00%(objectname)")
	if err != nil {
		chk.stop()
		<-headOut
		return nil, "", err
	}
	var refs []ref
	var names []string // per ref: its object, then the object it peels to
	for line := range bytes.SplitSeq(out, []byte("\n")) {
		name, oid, ok := bytes.Cut(line, []byte{0})
		if !ok || !validOID(oid) {
			continue
		}
		refs = append(refs, ref{name: string(name), oid: string(oid), peeled: string(oid)})
		names = append(names, string(oid), string(oid)+"^{}")
	}
	objs, err := chk.ask(names)
	if err != nil {
		<-headOut
		return nil, "", err
	}
	for i := range refs {
		obj, peeled := objs[2*i], objs[2*i+1]
		switch {
		case obj.missing || peeled.missing:
			// The ref's object, or one its tags lead to, is absent.
			refs[i].missing = true
		case obj.typ == "tag":
			refs[i].peeled = peeled.oid
		}
	}
	head := ""
	if s := strings.TrimSpace(string(<-headOut)); validOID(s) {
		head = s
	}
	return refs, head, nil
}

// checked is one answer of a batch check.
type checked struct {
	oid     string
	typ     string
	missing bool
}

// pendingCheck is a `git cat-file --batch-check` started before its
// questions are known, so that its start-up overlaps other work.
type pendingCheck struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  bytes.Buffer
	errb *tailBuffer
}

func (r *Repo) startBatchCheck(ctx context.Context) (*pendingCheck, error) {
	c := &pendingCheck{errb: &tailBuffer{max: 2048}}
	c.cmd = r.command(ctx, "cat-file", "--batch-check=%(objectname) %(objecttype)")
	in, err := c.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	c.in = in
	c.cmd.Stdout, c.cmd.Stderr = &c.out, c.errb
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	return c, nil
}

// stop ends a check that will not be asked.
func (c *pendingCheck) stop() { stopProcess(&c.cmd, c.in) }

// ask returns the ID and type of each object name (IDs, or "ID^{}" to
// peel), in order. The check ends with it.
func (c *pendingCheck) ask(names []string) ([]checked, error) {
	w := bufio.NewWriter(c.in)
	for _, n := range names {
		w.WriteString(n)
		w.WriteByte('\n')
	}
	werr := w.Flush()
	c.in.Close()
	if err := c.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git cat-file: %w: %s", err, c.errb.String())
	}
	if werr != nil {
		return nil, fmt.Errorf("git cat-file: %w", werr)
	}
	res := make([]checked, 0, len(names))
	for line := range bytes.SplitSeq(c.out.Bytes(), []byte("\n")) {
		if len(res) == len(names) {
			break
		}
		f := strings.Fields(string(line))
		switch {
		case len(f) == 2 && (f[1] == "missing" || f[1] == "ambiguous"):
			res = append(res, checked{missing: true})
		case len(f) == 2 && validOID(f[0]):
			res = append(res, checked{oid: f[0], typ: f[1]})
		default:
			return nil, fmt.Errorf("git cat-file: unexpected line %q", truncate(string(line), 100))
		}
	}
	if len(res) != len(names) {
		return nil, fmt.Errorf("git cat-file: %d answers for %d objects", len(res), len(names))
	}
	return res, nil
}

func (r *Repo) listRefsGoGit(rd objReader) (refs []ref, head string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("go-git panic reading refs: %v", p)
		}
	}()
	st := openGoGit(r.gitDir)
	defer st.Close()
	it, err := st.IterReferences()
	if err != nil {
		return nil, "", err
	}
	err = it.ForEach(func(rf *plumbing.Reference) error {
		if rf.Type() != plumbing.HashReference || rf.Name() == plumbing.HEAD {
			return nil
		}
		oid := rf.Hash().String()
		peeled, missing := peel(rd, oid)
		refs = append(refs, ref{name: rf.Name().String(), oid: oid, peeled: peeled, missing: missing})
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if h, err := storer.ResolveReference(st, plumbing.HEAD); err == nil {
		p, _ := peel(rd, h.Hash().String())
		if typ, _, _, err := rd.read(p, 0); err == nil && typ == "commit" {
			head = p
		}
	}
	return refs, head, nil
}

// peel follows annotated tags (at most 10) and returns the final object ID,
// and whether an object on the way is missing or unreadable.
func peel(rd objReader, oid string) (string, bool) {
	for range 10 {
		typ, _, data, err := rd.read(oid, maxMetaSize)
		if err != nil {
			return oid, true
		}
		if typ != "tag" || data == nil {
			return oid, false
		}
		t, err := parseTag(data)
		if err != nil {
			return oid, false
		}
		oid = t.object
	}
	return oid, false
}

func (r *Repo) reader(ctx context.Context) objReader {
	if r.git != "" {
		return r.newCatFile(ctx)
	}
	return &goGitReader{st: openGoGit(r.gitDir)}
}

func (r *Repo) loadTips(ctx context.Context) error {
	rd := r.reader(ctx)
	defer rd.close()
	refs, head, err := r.listRefs(ctx, rd)
	if err != nil {
		return err
	}
	tips := make(map[string]string, len(refs))
	for _, rf := range refs {
		tips[rf.name] = rf.peeled
	}
	r.mu.Lock()
	r.refs, r.tips, r.head = refs, tips, head
	r.mu.Unlock()
	return nil
}

// starts returns the distinct objects the scan starts from (refs as stored,
// or peeled when peeled is set, then HEAD), leaving out refs to missing
// objects.
func (r *Repo) starts(peeled ...bool) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]bool, len(r.refs)+1)
	out := make([]string, 0, len(r.refs)+1)
	for _, rf := range r.refs {
		id := rf.oid
		if len(peeled) > 0 && peeled[0] {
			id = rf.peeled
		}
		if !rf.missing && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if r.head != "" && !seen[r.head] {
		out = append(out, r.head)
	}
	return out
}

// missingRefs returns the refs whose object is missing.
func (r *Repo) missingRefs() []ref {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ref
	for _, rf := range r.refs {
		if rf.missing {
			out = append(out, rf)
		}
	}
	return out
}
