package detect

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite testdata/fuzz/* from the seeds in fuzz_test.go")

// fuzzSeeds are the seeds shared by the fuzz targets; each has a comment
// saying what it exercises. The spec vectors of sas-spec §8.2 are added too.
var fuzzSeeds = []string{
	// plain service SAS URL (SIG07 of §8.2)
	sasURL07,
	// bare account SAS with a leading '?' and no endpoint (V30 shape)
	"?sv=2019-12-12&ss=bfqt&srt=sco&sp=rwdlacupx&se=2028-10-08T09:31:33Z&st=2020-10-08T01:31:33Z&spr=https&sig=" + sig07,
	// connection string with an HTML-escaped SAS (V25 shape)
	"BlobEndpoint=https://contosofz.blob.core.windows.net;SharedAccessSignature=sv=2015-07-08&amp;sig=" + sig07 + "&amp;se=2030-01-01&amp;srt=s&amp;ss=b&amp;sp=rl",
	// account key connection string (V38 shape)
	"DefaultEndpointsProtocol=https;AccountName=contosofz;AccountKey=U1lOVEhFVElDLUZBS0UtQUNDT1VOVC1LRVktTk9ULUEtUkVBTC1TRUNSRVQtMDAwMDAwMDAwMDAwMDAwMDAwMA==;EndpointSuffix=core.windows.net",
	// JSON-escaped URL (.ipynb, \u0026 and \/)
	`{"source": ["u = \"https:\/\/contosofz.blob.core.windows.net\/c?sv=2021-06-08\u0026sr=c\u0026sp=rl\u0026se=2027-12-31\u0026sig=` + sig07 + `\"\n"]}`,
	// whole URL percent-encoded inside another URL (double-encoded values)
	"https://example.org/r?u=https%3A%2F%2Fcontosofz.blob.core.windows.net%2Fc%3Fsv%3D2022-11-02%26sr%3Dc%26sp%3Drl%26se%3D2030-01-01%26sig%3DU1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%253D",
	// Python implicit concatenation across lines
	"u = (\"https://contosofz.blob.core.windows.net/c?sv=2022-11-02&sr=c\"\n     \"&sp=rl&se=2030-01-01&sig=" + sig07 + "\")",
	// Service Bus SharedAccessSignature: must be rejected
	"SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2F&sig=" + sig07 + "&se=1790000000&skn=RootManageSharedAccessKey",
	// placeholder signature: rejected
	"https://contosofz.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01&sig=<signature>",
	// emulator path-style URL
	"http://127.0.0.1:10000/devstoreaccount1/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01&sig=" + sig07,
	// raw '+' in the signature
	"https://contosofz.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01&sig=U1lOVEhFVElDLVNJRy1QTFVTLVNMQVNILTAx++++//8=",
	// degenerate anchors
	"sig=sig=sig%3Dsig%253Dsig\\u003dSIG=AccountKey=",
	// UTF-16LE text with a BOM
	string(encodeUTF16("x='"+sasURL07+"'", false, true)),
	// truncated escapes and a lone '?'
	"?sig=%2&sv=%&se=%3",
}

// corpusSeeds returns the files of fixtures/corpus when that directory exists
// (another package builds it; we only read it, bounded).
func corpusSeeds() []string {
	var out []string
	root := filepath.Join("..", "fixtures", "corpus")
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || len(out) >= 200 {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > 64<<10 {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil {
			out = append(out, string(b))
		}
		return nil
	})
	return out
}

func allSeeds() []string {
	s := slices.Clone(fuzzSeeds)
	for _, v := range specVectors {
		s = append(s, v.in) // sas-spec §8.2 vector v.id
	}
	return append(s, corpusSeeds()...)
}

// TestWriteFuzzSeeds writes the seeds as committed corpus files
// (go test -run TestWriteFuzzSeeds -write-seeds).
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("use -write-seeds")
	}
	seeds := slices.Clone(fuzzSeeds)
	for _, v := range specVectors {
		seeds = append(seeds, v.in)
	}
	for _, target := range []string{"FuzzDetect", "FuzzPrefilter", "FuzzParse"} {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			typ := "[]byte"
			if target == "FuzzParse" {
				typ = "string"
			}
			body := fmt.Sprintf("go test fuzz v1\n%s(%s)\n", typ, strconv.Quote(s))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzDetect: Detect never panics, spans are inside the input, and two calls
// give the same result.
func FuzzDetect(f *testing.F) {
	for _, s := range allSeeds() {
		f.Add([]byte(s))
	}
	d := New(Config{Now: specNow})
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		a := d.detect(data)
		for _, m := range a.Matches {
			if m.Start < 0 || m.Start >= m.End || m.End > len(data) {
				t.Fatalf("bad span [%d,%d) of %d", m.Start, m.End, len(data))
			}
			if m.Line < 1 || m.Column < 1 {
				t.Fatalf("bad position %d:%d", m.Line, m.Column)
			}
		}
		b := d.detect(data)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("not deterministic")
		}
		if !bytes.Equal(orig, data) {
			t.Fatal("input modified")
		}
	})
}

// FuzzPrefilter: a match implies the prefilter hit, and the prefilter (pre-pass
// plus automaton) agrees with a naive search for every candidate anchor.
func FuzzPrefilter(f *testing.F) {
	for _, s := range allSeeds() {
		f.Add([]byte(s))
	}
	d := New(Config{Now: specNow})
	p := defaultPrefilter()
	f.Fuzz(func(t *testing.T, data []byte) {
		hit := d.Prefilter(data)
		if len(d.detect(data).Matches) > 0 && !hit {
			t.Fatal("match without a prefilter hit")
		}
		// every anchor in any ASCII case: the automaton runs on folded text
		low := lowerBytes(data)
		naive := false
		for _, a := range p.anchors {
			if bytes.Contains(low, a.pat) {
				naive = true
				break
			}
		}
		for e := keyLen; e <= len(data) && !naive; e++ {
			_, naive = keyShapeEnd(data, e)
		}
		if naive != hit {
			t.Fatalf("Prefilter = %v, naive search = %v", hit, naive)
		}
	})
}

// lowerBytes folds ASCII letters only (bytes.ToLower would decode UTF-8 and
// change the length of invalid input).
func lowerBytes(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = lower(c)
	}
	return out
}

// refParams is the slow reference: strings.Split of the query string, keys
// lower-cased, first value wins.
func refParams(q string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(q, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		k = strings.ToLower(k)
		if _, dup := m[k]; !dup {
			m[k] = v
		}
	}
	return m
}

type tokenFields struct {
	Kind                                 Kind
	Account, Host, Cloud, Resource, SP   string
	Services, ResourceTypes, Permissions []string
	Start, Expiry                        string
	Sig, Fingerprint                     string
}

func fieldsOf(t Token) tokenFields {
	return tokenFields{t.Kind, t.Account, t.Host, t.Cloud, t.Resource, t.SP, t.Services, t.ResourceTypes, t.Permissions,
		t.Start.String(), t.Expiry.String(), t.Signature.Reveal(), Fingerprint(t.Signature.Reveal())}
}

// FuzzParse: Parse(t.Canonical()) round-trips, and the parameters agree with
// a strings.Split reference.
func FuzzParse(f *testing.F) {
	for _, s := range allSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if strings.Contains(err.Error(), "sig=") && !strings.Contains(err.Error(), "sig="+Redacted) {
				// every sig= in the message must be masked
				for _, part := range strings.Split(err.Error(), "sig=")[1:] {
					if i := strings.Index(part, "..."); i >= 0 && i < len(Redacted) {
						part = Redacted[:i] // the mask itself was truncated
					}
					if !strings.HasPrefix(part, Redacted[:min(len(part), len(Redacted))]) {
						t.Fatalf("ParseError not redacted: %v", err)
					}
				}
			}
			return
		}
		if tok.Kind != KindAccountKey {
			ref := refParams(tok.Query.Reveal())
			// A '%' left in the decoded query is an escape kept encoded on
			// purpose (a byte that ends a query, such as %00 or %22); the
			// signature ends there.
			refSig, _, _ := strings.Cut(ref["sig"], "%")
			if refSig != tok.Signature.Reveal() || ref["sp"] != tok.SP {
				t.Fatalf("reference split disagrees: sig ok=%v sp %q vs %q", refSig == tok.Signature.Reveal(), ref["sp"], tok.SP)
			}
			if se, ok := parseTime(ref["se"]); ok && tok.Kind != KindUserDelegation && !se.Equal(tok.Expiry) {
				t.Fatalf("expiry %v, reference %v", tok.Expiry, se)
			}
		}
		// percent signs that survive decoding are ambiguous by design (three
		// rounds of decoding while delimiters remain): no round trip promise
		if strings.ContainsAny(tok.Query.Reveal()+tok.URL.Reveal(), "%\\") {
			return
		}
		// A URL whose path holds a byte that ends a URL or a query ('#', '&',
		// a quote, a space) is re-encoded by Canonical, and the parser keeps
		// such escapes encoded on purpose (percentRound's keepEncoded): the
		// round trip is promised for URLs already in canonical form.
		if u, _, _ := strings.Cut(tok.URL.Reveal(), "?"); escapePath(u) != u {
			return
		}
		c := tok.Canonical().Reveal()
		tok2, err := Parse(c)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v", err)
		}
		if a, b := fieldsOf(tok), fieldsOf(tok2); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip differs:\n%+v\n%+v", a, b)
		}
	})
}
