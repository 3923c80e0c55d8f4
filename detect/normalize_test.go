package detect

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

const sasURL07 = "https://contosonorm.blob.core.windows.net/c/f.txt?sv=2022-11-02&sr=b&sp=rw&se=2030-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%3D"

func encodeUTF16(s string, bigEndian, bom bool) []byte {
	var out []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// TestTextForms covers the text forms of sas-spec §5.3: each input holds the
// same token and must give one match with the listed tags, an account, and
// offsets that cover the token in the original bytes.
func TestTextForms(t *testing.T) {
	t.Parallel()
	q := strings.SplitN(sasURL07, "?", 2)[1]
	cases := []struct {
		name  string
		in    []byte
		tags  []string
		texts []string // substrings the original span must contain
	}{
		{"plain", []byte("see " + sasURL07 + " ok"), nil, []string{"https://", "%3D"}},
		{"markdown link", []byte("[download](" + sasURL07 + ")"), nil, []string{"https://", "%3D"}},
		{"html attribute", []byte(`<a href="` + strings.ReplaceAll(sasURL07, "&", "&amp;") + `">x</a>`), []string{"html-escaped"}, []string{"&amp;sig="}},
		{"json slashes", []byte(`{"url":"` + strings.ReplaceAll(strings.ReplaceAll(sasURL07, "/", `\/`), "&", `\u0026`) + `"}`), []string{"json-escaped"}, []string{`https:\/\/`}},
		{"go +", []byte("u := \"https://contosonorm.blob.core.windows.net/c/f.txt?\" +\n\t\"" + q[:40] + "\" +\n\t\"" + q[40:] + "\"\n"), []string{"split-string"}, []string{"https://", "%3D"}},
		{"python implicit", []byte("u = (\"https://contosonorm.blob.core.windows.net/c/f.txt?" + q[:50] + "\"\r\n     \"" + q[50:] + "\")\r\n"), []string{"split-string"}, []string{"\r\n"}},
		{"shell continuation", []byte("curl \"https://contosonorm.blob.core.windows.net/c/f.txt?" + q[:50] + "\" \\\n\"" + q[50:] + "\"\n"), []string{"split-string"}, nil},
		{"ipynb source items", []byte(`{"cell_type":"code","source": ["x = \"https://contosonorm.blob.core.windows.net/c/f.txt?` + q[:30] + `\n", "` + q[30:] + `\"\n"]}`), []string{"split-string", "ipynb"}, nil},
		{"ipynb python implicit concatenation", []byte("{\"source\": [\n    \"U = (\\\"https://contosonorm.blob.core.windows.net/c/f.txt\\\"\\n\",\n    \"     \\\"?" + q[:30] + "\\\"\\n\",\n    \"     \\\"" + q[30:] + "\\\")\\n\"\n]}"), []string{"split-string"}, nil},
		{"crlf", []byte("line1\r\nurl=" + sasURL07 + "\r\nline3\r\n"), nil, nil},
		{"utf-16le bom", encodeUTF16("x = '"+sasURL07+"'\r\n", false, true), []string{"utf-16"}, nil},
		{"utf-16le", encodeUTF16("x = '"+sasURL07+"'\r\n", false, false), []string{"utf-16"}, nil},
		{"utf-16be bom", encodeUTF16("x = '"+sasURL07+"'\r\n", true, true), []string{"utf-16"}, nil},
		{"utf-16be", encodeUTF16("x = '"+sasURL07+"'\r\n", true, false), []string{"utf-16"}, nil},
		{"triple encoded", []byte("https://a.example/?u=" + strings.NewReplacer("%", "%25", ":", "%253A", "/", "%252F", "?", "%253F", "=", "%253D", "&", "%2526").Replace(sasURL07)), []string{"double-url-encoded"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := New(Config{Now: specNow}).Detect(c.in)
			if len(res.Matches) != 1 {
				t.Fatalf("got %d matches (rejected %d), want 1", len(res.Matches), res.Rejected)
			}
			m := res.Matches[0]
			if m.Token.Account != "contosonorm" || m.Token.SP != "rw" || m.Token.Signature.Reveal() != sig07 {
				t.Errorf("account=%q sp=%q sig ok=%v", m.Token.Account, m.Token.SP, m.Token.Signature.Reveal() == sig07)
			}
			for _, tag := range c.tags {
				if !slices.Contains(m.Reasons, tag) {
					t.Errorf("reason %q missing from %q", tag, m.Reasons)
				}
			}
			if m.Start < 0 || m.End > len(c.in) || m.Start >= m.End {
				t.Fatalf("bad span [%d,%d)", m.Start, m.End)
			}
			span := string(c.in[m.Start:m.End])
			for _, s := range c.texts {
				if !strings.Contains(span, s) {
					t.Errorf("span %q does not contain %q", span, s)
				}
			}
			if strings.HasPrefix(c.name, "utf-16") {
				// the span decodes back to the URL
				if (m.End-m.Start)%2 != 0 {
					t.Errorf("UTF-16 span of odd length %d", m.End-m.Start)
				}
				if want := 2 * len(sasURL07); m.End-m.Start != want {
					t.Errorf("UTF-16 span %d bytes, want %d", m.End-m.Start, want)
				}
			}
		})
	}
}

func TestLineColumnAndDuplicates(t *testing.T) {
	t.Parallel()
	in := "first line\n  x = \"" + sasURL07 + "\"\n\ty = \"" + sasURL07 + "\"\n"
	res := New(Config{Now: specNow}).Detect([]byte(in))
	if len(res.Matches) != 2 {
		t.Fatalf("got %d matches, want 2", len(res.Matches))
	}
	a, b := res.Matches[0], res.Matches[1]
	if a.Line != 2 || a.Column != 8 || b.Line != 3 || b.Column != 7 {
		t.Errorf("positions %d:%d and %d:%d, want 2:8 and 3:7", a.Line, a.Column, b.Line, b.Column)
	}
	if a.Fingerprint != b.Fingerprint || a.Fingerprint != Fingerprint(sig07) {
		t.Errorf("fingerprints %s %s differ or are wrong", a.Fingerprint, b.Fingerprint)
	}
	if in[a.Start:a.End] != sasURL07 {
		t.Errorf("span %q, want the URL", in[a.Start:a.End])
	}
}

func TestPermissionWords(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []string
	}{
		{"https://contosop1.blob.core.windows.net/?sv=2020-08-04&ss=bfqt&srt=sco&sp=rwdxylacuptfi&se=2030-01-01&sig=" + sig07,
			[]string{"read", "write", "delete", "delete-version", "permanent-delete", "list", "add", "create", "update", "process", "tag", "filter", "immutability"}},
		{"https://contosop1.dfs.core.windows.net/fs/d?sv=2020-02-10&sr=d&sdd=1&sp=racwdxltmeopi&se=2030-01-01&sig=" + sig07,
			[]string{"read", "add", "create", "write", "delete", "delete-version", "list", "tag", "move", "execute", "ownership", "permissions", "immutability"}},
		{"https://contosop1.queue.core.windows.net/q?sv=2020-02-10&sp=raup&se=2030-01-01&sig=" + sig07, []string{"read", "add", "update", "process"}},
		{"https://contosop1.table.core.windows.net/T?sv=2020-02-10&tn=t&sp=raud&se=2030-01-01&sig=" + sig07, []string{"read", "add", "update", "delete"}},
		{"https://contosop1.file.core.windows.net/s/f?sv=2020-02-10&sr=f&sp=rcwd&se=2030-01-01&sig=" + sig07, []string{"read", "create", "write", "delete"}},
	}
	for _, c := range cases {
		tok, err := Parse(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tok.Permissions, c.want) {
			t.Errorf("%s: permissions %q, want %q", c.in[:40], tok.Permissions, c.want)
		}
	}
}

// TestNoJoinAfterCompleteToken: a literal that ends with a whole token is not
// glued to the next one.
func TestNoJoinAfterCompleteToken(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"urls = (\"" + sasURL07 + "\"\n  \"https://example.com/other\")",
		"x = [\"" + sasURL07 + "\"\n\"second line\"]",
		`{"source": ["!wget ` + sasURL07 + `\n", "print(1)\n"]}`,
	} {
		res := New(Config{Now: specNow}).Detect([]byte(in))
		if len(res.Matches) != 1 || res.Matches[0].Token.Signature.Reveal() != sig07 {
			t.Errorf("Detect(%q): %d matches, rejected %d", in, len(res.Matches), res.Rejected)
		}
	}
}

func TestUTF16PercentEncoded(t *testing.T) {
	t.Parallel()
	in := encodeUTF16("u='"+strings.NewReplacer(":", "%3A", "/", "%2F", "?", "%3F", "=", "%3D", "&", "%26").Replace(sasURL07)+"'", false, false)
	res := New(Config{Now: specNow}).Detect(in)
	if len(res.Matches) != 1 || res.Matches[0].Token.Account != "contosonorm" {
		t.Fatalf("got %d matches", len(res.Matches))
	}
}
