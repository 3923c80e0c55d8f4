package verify

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sasquatch-sec/sasquatch/detect"
)

// TestVerdict is the response table of sas-spec §6.3 (Azure) and §6.4 (Azurite).
func TestVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   string
		auth   string
		want   Liveness
		detail string
	}{
		// §6.3
		{"200", 200, "", "", Live, ""},
		{"206", 206, "", "", Live, ""},
		{"permission mismatch", 403, "AuthorizationPermissionMismatch", "", Live, "operation-not-permitted"},
		{"resource type mismatch", 403, "AuthorizationResourceTypeMismatch", "", Live, "operation-not-permitted"},
		{"service mismatch", 403, "AuthorizationServiceMismatch", "", Live, "operation-not-permitted"},
		{"protocol mismatch", 403, "AuthorizationProtocolMismatch", "", Live, "operation-not-permitted"},
		{"source IP mismatch", 403, "AuthorizationSourceIPMismatch", "", LiveIPRestricted, ""},
		{"signature did not match", 403, "AuthenticationFailed", authSignature, RevokedOrInvalid, authSignature},
		{"time frame", 403, "AuthenticationFailed", authTime, Expired, authTime},
		{"expiry before start", 403, "AuthenticationFailed", authStart, Expired, authStart},
		{"authentication failed, HEAD (no detail)", 403, "AuthenticationFailed", "", RevokedOrInvalid, "authentication-failed"},
		{"firewall / private endpoint", 403, "AuthorizationFailure", "", Unknown, "authorization-failure"},
		{"shared key disabled", 403, "KeyBasedAuthenticationNotPermitted", "", Dormant, ""},
		{"other 403", 403, "AccountIsDisabled", "", Unknown, "forbidden"},
		{"403 without code", 403, "", "", Unknown, "forbidden"},
		{"container gone", 404, "ContainerNotFound", "", Live, "resource-missing"},
		{"blob gone", 404, "BlobNotFound", "", Live, "resource-missing"},
		{"queue gone", 404, "QueueNotFound", "", Live, "resource-missing"},
		{"table gone", 404, "TableNotFound", "", Live, "resource-missing"},
		{"share gone", 404, "ShareNotFound", "", Live, "resource-missing"},
		{"malformed 400", 400, "AuthenticationFailed", authMalformed, RevokedOrInvalid, authMalformed},
		{"other 400", 400, "InvalidQueryParameterValue", "", Unknown, "bad-request"},
		{"server busy", 503, "ServerBusy", "", Unknown, "server-error"},
		{"500", 500, "InternalError", "", Unknown, "server-error"},
		{"redirect", 302, "", "", Unknown, "redirect-not-followed"},
		{"401", 401, "", "", Unknown, "unexpected-status"},
		// §6.4 Azurite: bad signature and expired are both AuthorizationFailure, never live
		{"azurite bad signature or expired", 403, "AuthorizationFailure", "", Unknown, "authorization-failure"},
		{"azurite unknown account", 404, "ResourceNotFound", "", Unknown, "not-found"},
		{"404 without code", 404, "", "", Unknown, "not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, detail := verdict(tt.status, tt.code, tt.auth)
			if got != tt.want || detail != tt.detail {
				t.Errorf("verdict(%d, %q, %q) = %q, %q; want %q, %q", tt.status, tt.code, tt.auth, got, detail, tt.want, tt.detail)
			}
		})
	}
}

// TestAuthorizationFailureNeverLive: whatever else the answer says.
func TestAuthorizationFailureNeverLive(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 409, 500} {
		for _, auth := range []string{"", authSignature, authTime, authStart, authMalformed} {
			if l, _ := verdict(status, "AuthorizationFailure", auth); l.IsLive() {
				t.Errorf("verdict(%d, AuthorizationFailure, %q) = %s", status, auth, l)
			}
		}
	}
}

func TestErrorCode(t *testing.T) {
	t.Parallel()
	const sig = "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDE="
	xmlBody := `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.
RequestId:00000000-0000-0000-0000-000000000000
Time:2026-09-01T00:00:00.0000000Z</Message><AuthenticationErrorDetail>Signature not valid in the specified time frame: Start [Mon, 01 Jan 2024 00:00:00 GMT] - Expiry [Tue, 02 Jan 2024 00:00:00 GMT] - Current [Tue, 01 Sep 2026 00:00:00 GMT]</AuthenticationErrorDetail></Error>`
	tests := []struct {
		name     string
		method   string
		status   int
		header   string
		body     string
		code     string
		auth     string
		consumed bool // the body may be read (GET)
	}{
		{"header", "HEAD", 403, "AuthorizationPermissionMismatch", "", "AuthorizationPermissionMismatch", "", false},
		{"HEAD body ignored", "HEAD", 403, "", "<Error><Code>AuthenticationFailed</Code></Error>", "", "", false},
		{"xml body", "GET", 403, "", xmlBody, "AuthenticationFailed", authTime, true},
		{"header and detail", "GET", 403, "AuthenticationFailed", "<Error><Code>AuthenticationFailed</Code><AuthenticationErrorDetail>Signature did not match. String to sign used was r\n\n</AuthenticationErrorDetail></Error>", "AuthenticationFailed", authSignature, true},
		{"start after expiry", "GET", 403, "", "<Error><Code>AuthenticationFailed</Code><AuthenticationErrorDetail>Signed expiry time [x] must be after signed start time [y]</AuthenticationErrorDetail></Error>", "AuthenticationFailed", authStart, true},
		{"table json", "GET", 403, "", `{"odata.error":{"code":"AuthorizationPermissionMismatch","message":{"lang":"en-US","value":"..."}}}`, "AuthorizationPermissionMismatch", "", true},
		{"dfs json", "GET", 403, "", `{"error":{"code" : "KeyBasedAuthenticationNotPermitted","message":"..."}}`, "KeyBasedAuthenticationNotPermitted", "", true},
		{"hostile header", "HEAD", 403, "Code<script>alert(1)</script>", "", "", "", false},
		{"header too long", "HEAD", 403, strings.Repeat("A", 65), "", "", "", false},
		{"header echoes the signature", "HEAD", 403, "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDE", "", "", "", false},
		{"body code past 4 KiB", "GET", 403, "", strings.Repeat(" ", 5000) + "<Code>AuthenticationFailed</Code>", "", "", true},
		{"200 body not read", "GET", 200, "", "<StorageServiceProperties/>", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := &countingReader{r: strings.NewReader(tt.body)}
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: io.NopCloser(body),
				Request: &http.Request{Method: tt.method}}
			if tt.header != "" {
				resp.Header.Set("x-ms-error-code", tt.header)
			}
			code, auth := errorCode(resp, sig)
			if code != tt.code || auth != tt.auth {
				t.Errorf("errorCode = %q, %q; want %q, %q", code, auth, tt.code, tt.auth)
			}
			if body.n > maxErrorBody {
				t.Errorf("read %d bytes of the body, limit %d", body.n, maxErrorBody)
			}
			if !tt.consumed && body.n != 0 {
				t.Errorf("read %d bytes of a body it must not read", body.n)
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestAdjust is sas-spec §7.5.
func TestAdjust(t *testing.T) {
	t.Parallel()
	base := []string{"full-control", "kind: account SAS"}
	tests := []struct {
		name    string
		sev     detect.Severity
		r       Result
		want    detect.Severity
		reasons []string
	}{
		{"live keeps", detect.Critical, Result{Liveness: Live}, detect.Critical,
			[]string{"full-control", "kind: account SAS", "liveness: live"}},
		{"live with mismatch keeps", detect.High, Result{Liveness: Live, ErrorCode: "AuthorizationPermissionMismatch"}, detect.High,
			[]string{"full-control", "kind: account SAS", "liveness: live (AuthorizationPermissionMismatch)"}},
		{"ip-restricted keeps", detect.High, Result{Liveness: LiveIPRestricted, ErrorCode: "AuthorizationSourceIPMismatch"}, detect.High,
			[]string{"full-control", "kind: account SAS", "liveness: live-ip-restricted (AuthorizationSourceIPMismatch)"}},
		{"expired is info", detect.Critical, Result{Liveness: Expired}, detect.Info,
			[]string{"full-control", "kind: account SAS", "expired", "liveness: expired"}},
		{"revoked is info", detect.Critical, Result{Liveness: RevokedOrInvalid, ErrorCode: "AuthenticationFailed"}, detect.Info,
			[]string{"full-control", "kind: account SAS", "revoked-or-invalid", "liveness: revoked-or-invalid (AuthenticationFailed)"}},
		{"dormant is low", detect.Critical, Result{Liveness: Dormant, ErrorCode: "KeyBasedAuthenticationNotPermitted"}, detect.Low,
			[]string{"full-control", "kind: account SAS", "dormant", "liveness: dormant (KeyBasedAuthenticationNotPermitted)"}},
		{"dormant never raises", detect.Info, Result{Liveness: Dormant}, detect.Info,
			[]string{"full-control", "kind: account SAS", "dormant", "liveness: dormant"}},
		{"authorization failure keeps, tagged", detect.Critical, Result{Liveness: Unknown, ErrorCode: "AuthorizationFailure"}, detect.Critical,
			[]string{"full-control", "kind: account SAS", "network-restricted?", "liveness: unknown (AuthorizationFailure)"}},
		{"account gone is info", detect.High, Result{Liveness: AccountGone}, detect.Info,
			[]string{"full-control", "kind: account SAS", "account-deleted", "liveness: account-gone"}},
		{"unknown keeps", detect.Medium, Result{Liveness: Unknown, ErrorCode: "ServerBusy"}, detect.Medium,
			[]string{"full-control", "kind: account SAS", "liveness: unknown (ServerBusy)"}},
		{"unreachable keeps", detect.Medium, Result{Liveness: Unreachable}, detect.Medium,
			[]string{"full-control", "kind: account SAS", "liveness: unreachable"}},
		{"not-checked keeps, untouched", detect.High, Result{Liveness: NotChecked, Detail: "host-not-allowed"}, detect.High,
			[]string{"full-control", "kind: account SAS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append([]string(nil), base...)
			in = in[:len(in):len(in)]
			sev, reasons := Adjust(tt.sev, in, tt.r)
			if sev != tt.want {
				t.Errorf("severity = %s, want %s", sev, tt.want)
			}
			if d := cmp.Diff(tt.reasons, reasons); d != "" {
				t.Errorf("reasons (-want +got):\n%s", d)
			}
			if d := cmp.Diff(base, in); d != "" {
				t.Errorf("Adjust modified its input (-want +got):\n%s", d)
			}
		})
	}
	// an "expired" reason already present is not repeated
	_, r := Adjust(detect.Info, []string{"expired"}, Result{Liveness: Expired, Detail: "expired-locally"})
	if d := cmp.Diff([]string{"expired", "liveness: expired"}, r); d != "" {
		t.Errorf("reasons (-want +got):\n%s", d)
	}
}
