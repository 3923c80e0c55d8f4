package verify

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// maxErrorBody is how much of an error response body is read, and only to
// find the error code and the kind of authentication failure. The body is
// never kept, logged or put in an error.
const maxErrorBody = 4 << 10

// Kinds of AuthenticationFailed, from AuthenticationErrorDetail (sas-spec §6.3).
const (
	authSignature = "signature-mismatch"  // "Signature did not match"
	authTime      = "time-frame"          // "Signature not valid in the specified time frame"
	authStart     = "expiry-before-start" // "Signed expiry time ... must be after signed start time"
	authMalformed = "malformed"           // "... is not well formed" / "... is mandatory"
)

// validCode reports whether s has the shape of an Azure error code: an
// ASCII letter, then at most 63 letters or digits. A loop, not a regular
// expression, which would be compiled at every start of the process.
func validCode(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// errorCode returns the sanitised Azure error code of resp (the x-ms-error-code
// header, or for a response with a body, <Code> or "code" in its first
// 4 KiB) and the kind of authentication failure the body names. It reads at
// most maxErrorBody bytes and returns nothing of the body itself.
func errorCode(resp *http.Response, sig string) (code, auth string) {
	code = resp.Header.Get("x-ms-error-code")
	if resp.Request == nil || resp.Request.Method != http.MethodHead {
		if resp.StatusCode >= 300 && resp.Body != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			if code == "" {
				code = bodyCode(body)
			}
			auth = authKind(body)
		}
	}
	code = strings.TrimSpace(code)
	if !validCode(code) || len(code) >= 16 && sig != "" && strings.Contains(sig, code) {
		code = ""
	}
	return code, auth
}

// bodyCode finds the error code in an XML (<Code>X</Code>) or JSON
// ("code":"X", table and dfs shapes) error body.
func bodyCode(b []byte) string {
	if _, rest, ok := bytes.Cut(b, []byte("<Code>")); ok {
		if v, _, ok := bytes.Cut(rest, []byte("</Code>")); ok {
			return string(v)
		}
	}
	if _, rest, ok := bytes.Cut(b, []byte(`"code"`)); ok {
		rest = bytes.TrimLeft(rest, " \t\r\n:")
		if len(rest) > 0 && rest[0] == '"' {
			if v, _, ok := bytes.Cut(rest[1:], []byte(`"`)); ok {
				return string(v)
			}
		}
	}
	return ""
}

func authKind(b []byte) string {
	s := strings.ToLower(string(b))
	switch {
	case strings.Contains(s, "signature did not match"):
		return authSignature
	case strings.Contains(s, "not valid in the specified time frame"):
		return authTime
	case strings.Contains(s, "signed expiry time") && strings.Contains(s, "after signed start time"):
		return authStart
	case strings.Contains(s, "not well formed"), strings.Contains(s, "is mandatory"):
		return authMalformed
	}
	return ""
}

// verdict maps one response to a liveness and a detail (sas-spec §6.3, with
// §6.4's Azurite answers): status, sanitised error code and the kind of
// authentication failure ("" when unknown; a HEAD response has no body).
//
// Where Azure and the emulator disagree, the mapping is the one that never
// calls a dead token live: 403 AuthorizationFailure (Azure: firewall or
// private endpoint; Azurite: bad signature or expired) is unknown, and 404
// ResourceNotFound (Azurite: unknown account, before authentication) is
// unknown, while the specific ContainerNotFound, BlobNotFound, ... that Azure
// returns after authentication mean live with the resource gone.
func verdict(status int, code, auth string) (Liveness, string) {
	switch {
	case status >= 200 && status < 300:
		return Live, ""
	case status >= 300 && status < 400:
		return Unknown, "redirect-not-followed"
	case status == http.StatusForbidden:
		switch code {
		case "AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch",
			"AuthorizationServiceMismatch", "AuthorizationProtocolMismatch":
			return Live, "operation-not-permitted"
		case "AuthorizationSourceIPMismatch":
			return LiveIPRestricted, ""
		case "AuthenticationFailed":
			switch auth {
			case authTime, authStart:
				return Expired, auth
			case authSignature, authMalformed:
				return RevokedOrInvalid, auth
			}
			return RevokedOrInvalid, "authentication-failed"
		case "AuthorizationFailure":
			return Unknown, "authorization-failure"
		case "KeyBasedAuthenticationNotPermitted":
			return Dormant, ""
		}
		return Unknown, "forbidden"
	case status == http.StatusNotFound:
		switch code {
		case "ContainerNotFound", "BlobNotFound", "QueueNotFound", "TableNotFound", "ShareNotFound",
			"ParentNotFound", "PathNotFound", "FilesystemNotFound":
			return Live, "resource-missing"
		}
		return Unknown, "not-found"
	case status == http.StatusBadRequest:
		if code == "AuthenticationFailed" {
			return RevokedOrInvalid, authMalformed
		}
		return Unknown, "bad-request"
	case status >= 500:
		return Unknown, "server-error"
	}
	return Unknown, "unexpected-status"
}

// Tags Adjust adds to a finding's reasons (sas-spec §7.5).
const (
	TagRevokedOrInvalid  = "revoked-or-invalid"
	TagDormant           = "dormant"
	TagNetworkRestricted = "network-restricted?"
	TagAccountDeleted    = "account-deleted"
)

// Adjust applies a liveness result to a finding's severity and reasons, per
// sas-spec §7.5, and returns new values (reasons is not modified):
//
//	live, live-ip-restricted      keep the offline severity
//	expired                       info, tag "expired"
//	revoked-or-invalid            info, tag "revoked-or-invalid"
//	dormant                       low (never raised), tag "dormant"
//	unknown, AuthorizationFailure keep, tag "network-restricted?"
//	account-gone                  info, tag "account-deleted"
//	unknown, unreachable, not-checked  keep
//
// Every result except not-checked also adds "liveness: VALUE" (with the
// error code when there is one). Adjust is a pure function.
func Adjust(sev detect.Severity, reasons []string, r Result) (detect.Severity, []string) {
	out := slices.Clone(reasons)
	tag := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	switch r.Liveness {
	case Expired:
		sev = detect.Info
		tag(detect.TagExpired)
	case RevokedOrInvalid:
		sev = detect.Info
		tag(TagRevokedOrInvalid)
	case Dormant:
		sev = min(sev, detect.Low)
		tag(TagDormant)
	case AccountGone:
		sev = detect.Info
		tag(TagAccountDeleted)
	case Unknown:
		if r.ErrorCode == "AuthorizationFailure" {
			tag(TagNetworkRestricted)
		}
	}
	if r.Liveness != NotChecked && r.Liveness != "" {
		s := "liveness: " + string(r.Liveness)
		if r.ErrorCode != "" {
			s += " (" + r.ErrorCode + ")"
		}
		tag(s)
	}
	return sev, out
}
