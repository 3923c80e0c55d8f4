package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// checkCloneURL accepts only the API's clone host over https (http only when
// the API URL is http), with no credentials in the URL.
func (c *Client) checkCloneURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return errors.New("clone URL missing or unparsable")
	}
	if u.User != nil {
		return errors.New("clone URL carries credentials")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && c.scheme == "http") {
		return fmt.Errorf("clone URL scheme %q not allowed", u.Scheme)
	}
	if h := canonicalHost(u); h != c.cloneHost {
		return fmt.Errorf("clone host %s is not the GitHub host %s", h, c.cloneHost)
	}
	return nil
}

// cloneAuth returns go-git basic auth with the token, or nil without one.
func (c *Client) cloneAuth() transport.AuthMethod {
	if c.cfg.Token.IsZero() {
		return nil
	}
	return &githttp.BasicAuth{Username: "x-access-token", Password: c.cfg.Token.v}
}

// classifyCloneError maps a clone error to a skip reason and whether it is
// transient (worth retrying). "empty" means an empty repository.
func classifyCloneError(err error) (reason string, transient bool) {
	switch {
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return "empty", false
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return "not-found", false
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return "unauthorized", false
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return "forbidden", false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout", false
	}
	he, ok := errors.AsType[*githttp.Err](err)
	if !ok {
		if ue, isUE := errors.AsType[*plumbing.UnexpectedError](err); isUE {
			he, ok = errors.AsType[*githttp.Err](ue.Err)
		}
	}
	if ok && he.Response != nil {
		code := he.Response.StatusCode
		if code >= 500 || code == 429 {
			return "clone-failed", true
		}
		if r := reasonForStatus(code); r != "" {
			return r, false
		}
		return "clone-failed", false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) {
		return "clone-failed", true
	}
	// A dial or read failure, or a timeout, is worth another try; a
	// *url.Error that is neither (a refused cross-host redirect) is not.
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return "clone-failed", true
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return "clone-failed", true
	}
	// Anything else (a refused cross-host redirect, a corrupt pack, an
	// unknown failure) is permanent: retrying cannot help, and "empty"
	// (scanned and clean) is decided only by the sentinel above.
	return "clone-failed", false
}
