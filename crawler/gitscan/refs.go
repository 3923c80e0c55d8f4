package gitscan

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ref is one ref as stored (oid may be an annotated tag) and peeled.
type ref struct {
	name   string
	oid    string
	peeled string
}

// listRefs returns every ref of the repository and the commit at HEAD ("" if
// unborn or not a commit).
func (r *Repo) listRefs(ctx context.Context, rd objReader) ([]ref, string, error) {
	if r.git != "" {
		return r.listRefsGit(ctx)
	}
	return r.listRefsGoGit(rd)
}

func (r *Repo) listRefsGit(ctx context.Context) ([]ref, string, error) {
	out, err := r.runGit(ctx, nil, "for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)")
	if err != nil {
		return nil, "", err
	}
	var refs []ref
	for _, line := range bytes.Split(out, []byte("\n")) {
		f := bytes.Split(line, []byte{0})
		if len(f) != 3 || !validOID(string(f[1])) {
			continue
		}
		rf := ref{name: string(f[0]), oid: string(f[1]), peeled: string(f[2])}
		if rf.peeled == "" {
			rf.peeled = rf.oid
		}
		refs = append(refs, rf)
	}
	head := ""
	if out, err := r.runGit(ctx, nil, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"); err == nil {
		if s := strings.TrimSpace(string(out)); validOID(s) {
			head = s
		}
	}
	return refs, head, nil
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
		refs = append(refs, ref{name: rf.Name().String(), oid: oid, peeled: peel(rd, oid)})
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if h, err := storer.ResolveReference(st, plumbing.HEAD); err == nil {
		p := peel(rd, h.Hash().String())
		if typ, _, _, err := rd.read(p, 0); err == nil && typ == "commit" {
			head = p
		}
	}
	return refs, head, nil
}

// peel follows annotated tags (at most 10) and returns the final object ID.
func peel(rd objReader, oid string) string {
	for range 10 {
		typ, _, data, err := rd.read(oid, maxMetaSize)
		if err != nil || typ != "tag" || data == nil {
			return oid
		}
		t, err := parseTag(data)
		if err != nil {
			return oid
		}
		oid = t.object
	}
	return oid
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
	r.tips, r.head = tips, head
	r.mu.Unlock()
	return nil
}
