package verify

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/sasquatch-sec/sasquatch/detect"
)

// Tests against Azurite 3.35.0, the Azure Storage emulator, with tokens
// minted by the Azure SDK. Start it with
//
//	eval "$(.ci/azurite.sh)"   # sets SASQUATCH_AZURITE=http://127.0.0.1:10000
//
// Without SASQUATCH_AZURITE the tests skip, unless CI is set: then they fail,
// so that CI can never skip them silently.

// azurite returns the blob base URL (http://127.0.0.1:10000) and the
// account and key to sign with: the first account of AZURITE_ACCOUNTS
// ("name:key1[:key2];...") when it is set, else the well-known
// devstoreaccount1.
func azurite(t *testing.T) (base *url.URL, account, key string) {
	t.Helper()
	raw := os.Getenv("SASQUATCH_AZURITE")
	if raw == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(`CI is set and SASQUATCH_AZURITE is not: start Azurite with eval "$(.ci/azurite.sh)"`)
		}
		t.Skip(`SASQUATCH_AZURITE is not set; start Azurite with eval "$(.ci/azurite.sh)" to run this test`)
	}
	base, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || base.Scheme != "http" || base.Port() == "" {
		t.Fatalf("SASQUATCH_AZURITE=%q: want http://HOST:PORT", raw)
	}
	if ip, err := net.ResolveIPAddr("ip", base.Hostname()); err != nil || !ip.IP.IsLoopback() {
		t.Fatalf("SASQUATCH_AZURITE=%q: Azurite must be on loopback", raw)
	}
	c, err := net.DialTimeout("tcp", base.Host, 5*time.Second)
	if err != nil {
		t.Fatalf("SASQUATCH_AZURITE=%q does not answer: %v", raw, err)
	}
	c.Close()
	account, key = "devstoreaccount1", detect.EmulatorKey
	if accts := os.Getenv("AZURITE_ACCOUNTS"); accts != "" {
		first, _, _ := strings.Cut(accts, ";")
		parts := strings.Split(first, ":")
		if len(parts) < 2 {
			t.Fatal("AZURITE_ACCOUNTS: want name:key1[:key2];...")
		}
		account, key = parts[0], parts[1]
	}
	return base, account, key
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// tamper changes one character of the signature in a minted query string,
// keeping it 32 bytes of base64 (so the detector still takes it).
func tamper(t *testing.T, query string) string {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	s := []byte(q.Get("sig"))
	if s[0] == 'A' {
		s[0] = 'B'
	} else {
		s[0] = 'A'
	}
	q.Set("sig", string(s))
	return q.Encode()
}

func TestAzurite(t *testing.T) {
	base, account, key := azurite(t)
	ctx := context.Background()
	cred, err := azblob.NewSharedKeyCredential(account, key)
	if err != nil {
		t.Fatal(err)
	}
	accountURL := base.String() + "/" + account
	client, err := azblob.NewClientWithSharedKeyCredential(accountURL+"/", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	container, blob := randomName("sasq"), "dir/b 1.txt"
	if _, err := client.CreateContainer(ctx, container, nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	if _, err := client.UploadBuffer(ctx, container, blob, []byte("synthetic test data"), nil); err != nil {
		t.Fatalf("upload blob: %v", err)
	}
	blobPath := "/" + container + "/dir/b%201.txt"

	now := time.Now().UTC()
	const sv = "2024-11-04" // a version Azurite 3.35.0 knows
	any := sas.ProtocolHTTPSandHTTP
	accountSAS := func(perms, rt string, proto sas.Protocol, st, se time.Time) string {
		q, err := sas.AccountSignatureValues{Version: sv, Protocol: proto, StartTime: st, ExpiryTime: se,
			Permissions: perms, ResourceTypes: rt}.SignWithSharedKey(cred)
		if err != nil {
			t.Fatal(err)
		}
		return q.Encode()
	}
	blobSAS := func(perms, blobName string, st, se time.Time) string {
		q, err := sas.BlobSignatureValues{Version: sv, Protocol: any, StartTime: st, ExpiryTime: se,
			Permissions: perms, ContainerName: container, BlobName: blobName}.SignWithSharedKey(cred)
		if err != nil {
			t.Fatal(err)
		}
		return q.Encode()
	}
	hour := time.Hour
	acctQ := accountSAS("rl", "sco", any, time.Time{}, now.Add(hour))
	contQ := blobSAS("r", "", time.Time{}, now.Add(hour))
	blobQ := blobSAS("r", blob, time.Time{}, now.Add(hour))

	rec := &recorder{}
	// the rate limit has its own tests; here it would only slow the run down
	v, err := New(Config{Endpoint: accountURL, PerAccountPerMinute: 1000, transport: rec.wrap})
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, v *Verifier, foundURL string, expired bool) (detect.Token, Result) {
		t.Helper()
		tok := mustParse(t, foundURL)
		if tok.Account != account {
			t.Fatalf("parsed account %q, want %q", tok.Account, account)
		}
		return tok, v.Check(ctx, tok, expired)
	}

	live := []struct {
		name, url, code string
	}{
		{"account SAS", accountURL + "/?" + acctQ, ""},
		{"container SAS", accountURL + "/" + container + "?" + contQ, ""},
		{"blob SAS", accountURL + blobPath + "?" + blobQ, ""},
		// the signature is valid, the operation not permitted: still live
		{"container SAS, list only", accountURL + "/" + container + "?" + blobSAS("l", "", time.Time{}, now.Add(hour)), "AuthorizationPermissionMismatch"},
		{"blob SAS, write only", accountURL + blobPath + "?" + blobSAS("w", blob, time.Time{}, now.Add(hour)), "AuthorizationPermissionMismatch"},
		{"account SAS, https only", accountURL + "/?" + accountSAS("r", "sco", sas.ProtocolHTTPS, time.Time{}, now.Add(hour)), "AuthorizationProtocolMismatch"},
		// the found URL names another operation: the probe is still the fixed one
		{"account SAS found on a listing URL", accountURL + "/" + container + "?restype=container&comp=list&" + accountSAS("rwl", "sco", any, time.Time{}, now.Add(hour)), ""},
	}
	for _, tt := range live {
		t.Run("live/"+tt.name, func(t *testing.T) {
			_, r := check(t, v, tt.url, false)
			if r.Liveness != Live || r.ErrorCode != tt.code {
				t.Errorf("Check = %+v, want live (%q)", r, tt.code)
			}
		})
	}

	// a tampered signature is never live: Azurite answers AuthorizationFailure
	for _, tt := range []struct{ name, url string }{
		{"account SAS", accountURL + "/?" + tamper(t, acctQ)},
		{"container SAS", accountURL + "/" + container + "?" + tamper(t, contQ)},
		{"blob SAS", accountURL + blobPath + "?" + tamper(t, blobQ)},
	} {
		t.Run("tampered/"+tt.name, func(t *testing.T) {
			_, r := check(t, v, tt.url, false)
			if r.Liveness.IsLive() {
				t.Fatalf("tampered token reads as %s", r.Liveness)
			}
			if r.Liveness != Unknown || r.ErrorCode != "AuthorizationFailure" || r.Status != 403 {
				t.Errorf("Check = %+v, want unknown (AuthorizationFailure)", r)
			}
			sev, reasons := Adjust(detect.High, nil, r)
			if sev != detect.High || !strings.Contains(strings.Join(reasons, ","), TagNetworkRestricted) {
				t.Errorf("Adjust = %s %v", sev, reasons)
			}
		})
	}

	// expired by our clock: expired, and no request at all
	t.Run("expired/by clock", func(t *testing.T) {
		before := len(rec.requests())
		for _, u := range []string{
			accountURL + "/?" + accountSAS("rl", "sco", any, now.Add(-2*hour), now.Add(-hour)),
			accountURL + "/" + container + "?" + blobSAS("r", "", now.Add(-2*hour), now.Add(-hour)),
			accountURL + blobPath + "?" + blobSAS("r", blob, now.Add(-2*hour), now.Add(-hour)),
		} {
			if _, r := check(t, v, u, false); r.Liveness != Expired || r.Detail != "expired-locally" {
				t.Errorf("Check = %+v, want expired (expired-locally)", r)
			}
		}
		// the match says expired: believed, nothing sent
		if _, r := check(t, v, accountURL+"/?"+accountSAS("r", "s", any, time.Time{}, now.Add(hour)), true); r.Liveness != Expired {
			t.Errorf("Check(expired=true) = %+v, want expired", r)
		}
		if n := len(rec.requests()) - before; n != 0 {
			t.Errorf("%d requests for expired tokens, want 0", n)
		}
	})

	// expired by Azurite's clock, not ours (our clock is two hours slow):
	// Azurite says AuthorizationFailure, which must not read as live
	t.Run("expired/by server", func(t *testing.T) {
		slow := func() time.Time { return now.Add(-2 * hour) }
		vs, err := New(Config{Endpoint: accountURL, Now: slow, PerAccountPerMinute: 1000, transport: rec.wrap})
		if err != nil {
			t.Fatal(err)
		}
		u := accountURL + blobPath + "?" + blobSAS("r", blob, now.Add(-3*hour), now.Add(-hour))
		_, r := check(t, vs, u, false)
		if r.Liveness.IsLive() || r.ErrorCode != "AuthorizationFailure" {
			t.Errorf("Check = %+v, want not live (AuthorizationFailure)", r)
		}
	})

	// one probe per fingerprint
	t.Run("cached", func(t *testing.T) {
		before := len(rec.requests())
		_, r1 := check(t, v, accountURL+"/?"+acctQ, false)
		_, r2 := check(t, v, accountURL+"/some/other/path?"+acctQ, false)
		if r1 != r2 || r1.Liveness != Live {
			t.Errorf("cached results %+v, %+v", r1, r2)
		}
		if n := len(rec.requests()) - before; n != 0 {
			t.Errorf("%d new requests for a checked fingerprint, want 0", n)
		}
	})

	t.Run("queue and table", func(t *testing.T) { azuriteQueueTable(t, base, account, key) })

	// the recording proxy: everything that reached Azurite was a documented
	// read-only probe, to the endpoint only
	reqs := rec.requests()
	if len(reqs) == 0 {
		t.Fatal("no request recorded")
	}
	assertReadOnly(t, reqs, base.Host)
	for _, r := range reqs {
		if r.URL.Scheme != "http" || !strings.HasPrefix(r.URL.Path, "/"+account+"/") {
			t.Errorf("request %s %s outside the endpoint", r.Method, redactedURL(r.URL))
		}
	}
}

// azuriteQueueTable covers Get Service Properties, Get Queue Metadata and
// the table query against Azurite's queue and table services, with SAS
// tokens signed by hand (sas-spec §1.4): the azblob SDK mints blob tokens only.
func azuriteQueueTable(t *testing.T, base *url.URL, account, key string) {
	port, _ := strconv.Atoi(base.Port())
	queueURL := "http://" + net.JoinHostPort(base.Hostname(), strconv.Itoa(port+1)) + "/" + account
	tableURL := "http://" + net.JoinHostPort(base.Hostname(), strconv.Itoa(port+2)) + "/" + account
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(s string) string {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(s))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	const sv = "2024-11-04"
	se := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05Z")
	accountSAS := func(ss, srt, sp string) string {
		// account\nsp\nss\nsrt\nst\nse\nsip\nspr\nsv\nses\n
		sig := sign(strings.Join([]string{account, sp, ss, srt, "", se, "", "https,http", sv, "", ""}, "\n"))
		return url.Values{"sv": {sv}, "ss": {ss}, "srt": {srt}, "sp": {sp}, "se": {se}, "spr": {"https,http"}, "sig": {sig}}.Encode()
	}
	queue, table := randomName("sasqq"), randomName("sasqt")

	// set-up (the test's own writes, not the verifier's): a queue and a table
	do := func(method, u string, body string, hdr map[string]string) {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		for h, v := range hdr {
			req.Header.Set(h, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("set-up %s: %v", method, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("set-up %s: %d %s", method, resp.StatusCode, resp.Header.Get("x-ms-error-code"))
		}
	}
	do("PUT", queueURL+"/"+queue+"?"+accountSAS("q", "c", "c"), "", nil)
	do("POST", tableURL+"/Tables?"+accountSAS("t", "c", "c"), `{"TableName":"`+table+`"}`,
		map[string]string{"Content-Type": "application/json", "Accept": "application/json;odata=nometadata"})

	// service SAS: sp\nst\nse\n/queue/acct/q\nsi\nsip\nspr\nsv ; table adds \ntn-range fields
	queueSig := sign(strings.Join([]string{"r", "", se, "/queue/" + account + "/" + queue, "", "", "https,http", sv}, "\n"))
	queueQ := url.Values{"sv": {sv}, "sp": {"r"}, "se": {se}, "spr": {"https,http"}, "sig": {queueSig}}.Encode()
	tableSig := sign(strings.Join([]string{"r", "", se, "/table/" + account + "/" + table, "", "", "https,http", sv, "", "", "", ""}, "\n"))
	tableQ := url.Values{"sv": {sv}, "tn": {table}, "sp": {"r"}, "se": {se}, "spr": {"https,http"}, "sig": {tableSig}}.Encode()

	for _, tt := range []struct {
		name, endpoint, url string
		live                bool
	}{
		{"queue account SAS", queueURL, queueURL + "/?" + accountSAS("q", "s", "r"), true},
		{"queue SAS", queueURL, queueURL + "/" + queue + "?" + queueQ, true},
		{"queue SAS tampered", queueURL, queueURL + "/" + queue + "?" + tamper(t, queueQ), false},
		{"table account SAS", tableURL, tableURL + "/?" + accountSAS("t", "s", "r"), true},
		{"table SAS", tableURL, tableURL + "/" + table + "?" + tableQ, true},
		{"table SAS tampered", tableURL, tableURL + "/" + table + "?" + tamper(t, tableQ), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			v, err := New(Config{Endpoint: tt.endpoint, transport: rec.wrap})
			if err != nil {
				t.Fatal(err)
			}
			tok := mustParse(t, tt.url)
			r := v.Check(context.Background(), tok, false)
			if r.Liveness.IsLive() != tt.live {
				t.Errorf("Check = %+v, want live=%v", r, tt.live)
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			u, _ := url.Parse(tt.endpoint)
			assertReadOnly(t, reqs, u.Host)
			t.Logf("%s -> %s", r.Probe, r)
		})
	}
}
