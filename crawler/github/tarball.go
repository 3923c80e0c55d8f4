package github

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"

	gh "github.com/google/go-github/v56/github"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

// Tarball bounds (History "none").
const (
	defaultTarBlobMax  = 64 << 20
	defaultTarRepoMax  = 8 << 30
	maxTarEntries      = 5_000_000
	maxProvenanceItems = 1_000_000
)

// tarballSource streams the default branch's tarball: every regular file is
// one Blob with Origin.Commit the branch tip. Nothing is written to disk.
// Blobs can be ranged once. Not safe for concurrent use.
type tarballSource struct {
	c      *Client
	repo   Repo
	commit string
	body   io.ReadCloser

	used      bool
	truncated string
	mu        sync.Mutex
	origins   map[string][]crawler.Origin
}

func isHex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// openTarball resolves the default branch tip and opens its tarball. reason
// is "" on success, "empty" for an empty repository, else a skip reason.
func (c *Client) openTarball(ctx context.Context, r Repo) (*tarballSource, string, error) {
	owner, name, _ := strings.Cut(r.FullName, "/")
	ref := r.DefaultBranch
	if ref == "" {
		ref = "HEAD"
	}
	var sha string
	_, err := c.call(ctx, "repo "+r.FullName, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		sha, resp, err = c.gh.Repositories.GetCommitSHA1(ctx, owner, name, ref, "")
		return resp, err
	})
	if err != nil {
		code := statusOf(err)
		if code == http.StatusConflict || (code == http.StatusNotFound && r.SizeKiB == 0) {
			return nil, "empty", nil
		}
		if reason := reasonForStatus(code); reason != "" {
			return nil, reason, err
		}
		return nil, "api-error", err
	}
	sha = strings.TrimSpace(sha)
	if !isHex40(sha) {
		return nil, "api-error", fmt.Errorf("default branch tip is not a 40-hex SHA")
	}
	u := c.apiURL.ResolveReference(&url.URL{Path: "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/tarball/" + sha})
	u.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "api-error", err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := c.archive.Do(req)
	if err != nil {
		return nil, "download-failed", stripURLQuery(err)
	}
	if resp.StatusCode != http.StatusOK {
		drain(resp)
		err := fmt.Errorf("tarball: HTTP %d", resp.StatusCode)
		if resp.StatusCode == http.StatusConflict {
			return nil, "empty", nil
		}
		if reason := reasonForStatus(resp.StatusCode); reason != "" {
			return nil, reason, err
		}
		return nil, "download-failed", err
	}
	return &tarballSource{c: c, repo: r, commit: sha, body: resp.Body, origins: map[string][]crawler.Origin{}}, "", nil
}

// Close releases the download.
func (s *tarballSource) Close() error { return s.body.Close() }

// Coverage implements crawler.CoverageReporter: a tarball is complete when
// it was read to its end.
func (s *tarballSource) Coverage() crawler.Coverage {
	if s.truncated != "" {
		return crawler.Coverage{Problems: []string{s.truncated}}
	}
	return crawler.Coverage{Complete: s.used}
}

// Blobs yields each regular file of the tarball (top-level directory
// stripped). Symbolic links and oversized files are yielded as
// *crawler.Skip; a broken stream is yielded as an error and ends the
// sequence (the repository is then marked incomplete).
func (s *tarballSource) Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error] {
	return func(yield func(crawler.Blob, error) bool) {
		if s.used {
			yield(crawler.Blob{}, errors.New("tarball already consumed"))
			return
		}
		s.used = true
		maxBlob := s.c.cfg.MaxBlobSize
		if maxBlob <= 0 {
			maxBlob = defaultTarBlobMax
		}
		maxRepo := s.c.cfg.MaxRepoBytes
		if maxRepo <= 0 {
			maxRepo = defaultTarRepoMax
		}
		fail := func(reason string, err error) {
			s.truncated = reason
			yield(crawler.Blob{}, fmt.Errorf("tarball %s: %s: %w", s.repo.FullName, reason, s.c.cfg.Token.redactErr(err)))
		}
		zr, err := gzip.NewReader(s.body)
		if err != nil {
			fail("bad gzip", err)
			return
		}
		defer zr.Close()
		tr := tar.NewReader(zr)
		var total int64
		for n := 0; ; n++ {
			if ctx.Err() != nil {
				s.truncated = "cancelled"
				yield(crawler.Blob{}, ctx.Err())
				return
			}
			if n >= maxTarEntries {
				fail("too many entries", errors.New("limit reached"))
				return
			}
			hdr, err := tr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				fail("read", err)
				return
			}
			p, ok := stripTop(hdr.Name)
			if !ok {
				if !isTopDir(hdr.Name) {
					// ../x, /abs and the like: never written anywhere, but
					// counted, since their content was not scanned.
					sk := &crawler.Skip{Origin: crawler.Origin{Repo: s.repo.FullName, Commit: s.commit, Path: hdr.Name}, Reason: crawler.SkipUnsafePath, Size: hdr.Size}
					if !yield(crawler.Blob{}, sk) {
						return
					}
				}
				continue
			}
			origin := crawler.Origin{Repo: s.repo.FullName, Commit: s.commit, Path: p, AtTip: true}
			switch hdr.Typeflag {
			case tar.TypeReg: // the reader reports the old TypeRegA as TypeReg
			case tar.TypeSymlink, tar.TypeLink:
				if !yield(crawler.Blob{}, &crawler.Skip{Origin: origin, Reason: crawler.SkipSymlink}) {
					return
				}
				continue
			case tar.TypeDir, tar.TypeXGlobalHeader, tar.TypeXHeader:
				continue
			default:
				if !yield(crawler.Blob{}, &crawler.Skip{Origin: origin, Reason: crawler.SkipUnsupported}) {
					return
				}
				continue
			}
			if hdr.Size > maxBlob {
				if !yield(crawler.Blob{}, &crawler.Skip{Origin: origin, Reason: crawler.SkipTooLarge, Size: hdr.Size}) {
					return
				}
				continue
			}
			if total+hdr.Size > maxRepo {
				s.truncated = "repo-bytes-limit"
				yield(crawler.Blob{}, &crawler.Skip{Origin: origin, Reason: crawler.SkipRepoBytes, Size: hdr.Size})
				return
			}
			data := make([]byte, hdr.Size)
			if _, err := io.ReadFull(tr, data); err != nil {
				fail("read "+p, err)
				return
			}
			total += hdr.Size
			id := gitBlobID(data)
			s.mu.Lock()
			if len(s.origins) < maxProvenanceItems {
				s.origins[id] = append(s.origins[id], origin)
			}
			s.mu.Unlock()
			if !yield(crawler.Blob{ID: id, Data: data, Origin: origin, Line: 1}, nil) {
				return
			}
		}
	}
}

// Provenance returns the tip origins recorded for the given blob IDs while
// Blobs ran (the tarball carries no history).
func (s *tarballSource) Provenance(ctx context.Context, ids []string) (map[string][]crawler.Origin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]crawler.Origin, len(ids))
	for _, id := range ids {
		if o, ok := s.origins[id]; ok {
			out[id] = append([]crawler.Origin(nil), o...)
		}
	}
	return out, nil
}

// isTopDir reports whether name is the tarball's top-level directory entry
// (OWNER-NAME-SHA/), the one entry stripTop rejects that is not unsafe.
func isTopDir(name string) bool {
	name = strings.TrimSuffix(strings.TrimPrefix(name, "./"), "/")
	return name != "" && !strings.Contains(name, "/") && name != "." && name != ".."
}

// stripTop removes the tarball's top-level directory and rejects unsafe
// paths. ok is false for the top directory itself and for bad names.
func stripTop(name string) (string, bool) {
	name = strings.TrimPrefix(name, "./")
	top, rest, ok := strings.Cut(name, "/")
	if !ok || rest == "" || top == "" || top == ".." {
		return "", false // the top directory itself, or /abs, ../x
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" || strings.HasPrefix(rest, "/") {
		return "", false
	}
	clean := path.Clean(rest)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return clean, true
}

// gitBlobID is the git object ID of data as a blob, so tarball blobs dedup
// with history blobs.
func gitBlobID(data []byte) string {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// stripURLQuery removes the query from a *url.Error's URL: a codeload
// redirect carries a short-lived download token there.
func stripURLQuery(err error) error {
	ue, ok := errors.AsType[*url.Error](err)
	if !ok {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return &url.Error{Op: ue.Op, URL: "(unparsable URL)", Err: ue.Err}
	}
	u.RawQuery, u.User = "", nil
	return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}
