package main

import (
	"context"
	"encoding/base64"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/report"
)

// azuriteEndpoint returns the running Azurite's blob base URL for
// devstoreaccount1 (SASQUATCH_AZURITE, started by .ci/azurite.sh). Under CI
// a missing Azurite fails the test; elsewhere it is skipped.
func azuriteEndpoint(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("SASQUATCH_AZURITE")
	if raw == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(`CI is set and SASQUATCH_AZURITE is not: eval "$(.ci/azurite.sh)"`)
		}
		t.Skip("SASQUATCH_AZURITE is not set")
	}
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatalf("Azurite at %s does not answer: %v", raw, err)
	}
	c.Close()
	return u.String() + "/devstoreaccount1"
}

// mintAccountSAS signs a real account SAS for the emulator's account with
// the Azure SDK.
func mintAccountSAS(t *testing.T, expiry time.Time) string {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential("devstoreaccount1", detect.EmulatorKey)
	if err != nil {
		t.Fatal(err)
	}
	perms := sas.AccountPermissions{Read: true, List: true}
	q, err := sas.AccountSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: expiry, Permissions: perms.String(),
		ResourceTypes: (&sas.AccountResourceTypes{Service: true, Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	return "https://devstoreaccount1.blob.core.windows.net/?" + q.Encode()
}

// TestVerifyCommand: the verify command asks Azurite (through
// --verify-endpoint) whether the stored tokens work, keeps the answer, and
// report shows it: a minted token is live, the same token with its
// signature tampered with is not.
func TestVerifyCommand(t *testing.T) {
	t.Parallel()
	endpoint := azuriteEndpoint(t)
	good := mintAccountSAS(t, time.Now().Add(24*time.Hour))
	// The same token with one bit of its signature flipped: well formed, wrong.
	u, _ := url.Parse(good)
	q := u.Query()
	raw, err := base64.StdEncoding.DecodeString(q.Get("sig"))
	if err != nil {
		t.Fatal(err)
	}
	raw[0] ^= 1
	q.Set("sig", base64.StdEncoding.EncodeToString(raw))
	u.RawQuery = q.Encode()
	bad := u.String()
	db := filepath.Join(t.TempDir(), "v.db")
	var st *store.Store
	ctx := context.Background()
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	det := detect.New(detect.Config{})
	var fs []report.Finding
	for i, text := range []string{good, bad} {
		res := det.Detect([]byte("url = " + text + "\n"))
		if len(res.Matches) != 1 {
			t.Fatalf("token %d: %d matches", i, len(res.Matches))
		}
		f := report.NewFinding(res.Matches[0], false)
		f.Locations = []report.Location{{Path: "cfg.txt", Line: 1, Column: 7, Repo: "acme/web"}}
		fs = append(fs, f)
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpsertRepo(ctx, store.Repo{ID: 1, FullName: "acme/web", Private: true}); err != nil {
			return err
		}
		run, err := tx.BeginRun(ctx, "test")
		if err != nil {
			return err
		}
		_, err = tx.AddFindings(ctx, run, 1, fs)
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, _ := runCLI(t, "", "verify", "--db", db, "--verify-endpoint", endpoint, "--format", "jsonl")
	live := map[string]string{}
	for _, f := range readJSONL(t, out) {
		live[f.Fingerprint] = f.Liveness
	}
	if live[fs[0].Fingerprint] != "live" || live[fs[1].Fingerprint] == "live" || live[fs[1].Fingerprint] == "" {
		t.Errorf("liveness %v: want the minted token live and the tampered one checked but not live\n%s", live, stderr)
	}
	if !strings.Contains(stderr, "liveness: ") {
		t.Errorf("no liveness summary:\n%s", stderr)
	}
	out, _, _ = runCLI(t, "", "report", "--db", db, "--format", "jsonl")
	for _, f := range readJSONL(t, out) {
		if f.Liveness != live[f.Fingerprint] {
			t.Errorf("report shows %s as %q, verify said %q", f.Fingerprint, f.Liveness, live[f.Fingerprint])
		}
	}
}

// TestScanVerify: --verify-endpoint on scan probes the emulator; the JSON
// carries liveness, an expired token is "expired" without a request, and
// the summary counts the results.
func TestScanVerify(t *testing.T) {
	t.Parallel()
	endpoint := azuriteEndpoint(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "live.txt"), "url = "+mintAccountSAS(t, time.Now().Add(24*time.Hour))+"\n")
	write(t, filepath.Join(dir, "old.txt"), "url = "+mintAccountSAS(t, time.Now().Add(-24*time.Hour))+"\n")
	out, stderr, _ := runCLI(t, "", "scan", "--verify-endpoint", endpoint, "--format", "jsonl", dir)
	got := map[string]string{}
	for _, f := range readJSONL(t, out) {
		got[f.Locations[0].Path] = f.Liveness
	}
	if got["live.txt"] != "live" || got["old.txt"] != "expired" {
		t.Errorf("liveness %v, want live.txt live and old.txt expired\n%s", got, stderr)
	}
	if !strings.Contains(stderr, "sasquatch: liveness: expired 1, live 1") {
		t.Errorf("summary lacks the liveness line:\n%s", stderr)
	}
}
