package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestNoOutputLeaksSignature: no way of printing, encoding or logging what
// Detect returns contains the signature (raw or percent-encoded) or the key.
func TestNoOutputLeaksSignature(t *testing.T) {
	t.Parallel()
	key := "U1lOVEhFVElDLUZBS0UtQUNDT1VOVC1LRVktTk9ULUEtUkVBTC1TRUNSRVQtMDAwMDAwMDAwMDAwMDAwMDAwMA=="
	in := sasURL07 + "\n" +
		"BlobEndpoint=https://contosoleak.blob.core.windows.net;SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01&sig=" + sig07 + "\n" +
		"DefaultEndpointsProtocol=https;AccountName=contosoleak;AccountKey=" + key + ";EndpointSuffix=core.windows.net\n"
	res := New(Config{Now: specNow}).Detect([]byte(in))
	if len(res.Matches) != 3 {
		t.Fatalf("got %d matches, want 3", len(res.Matches))
	}
	secrets := []string{sig07, strings.TrimSuffix(sig07, "="), "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%3D", key, key[:40]}
	var outputs []string
	for _, m := range res.Matches {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			outputs = append(outputs, fmt.Sprintf(verb, m), fmt.Sprintf(verb, m.Token), fmt.Sprintf(verb, &m), fmt.Sprintf(verb, []Match{m}))
		}
		outputs = append(outputs, fmt.Sprint(m), fmt.Sprintln(m.Token), m.Token.String(), m.Token.Redacted, m.Token.GoString())
		for _, v := range []any{m, m.Token, res} {
			j, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, string(j))
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("found", "match", m, "token", m.Token, "sig", m.Token.Signature)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("found", "match", m, "token", m.Token)
		outputs = append(outputs, buf.String())
	}
	for _, o := range outputs {
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Fatalf("output leaks a secret: %s", o)
			}
		}
	}
	// the secrets are still reachable on purpose
	if res.Matches[0].Token.Signature.Reveal() != sig07 || res.Matches[2].Token.Signature.Reveal() != key {
		t.Error("Reveal does not return the secrets")
	}
	if !strings.Contains(res.Matches[0].Token.Canonical().Reveal(), "sig=") {
		t.Error("Canonical has no sig")
	}
}
