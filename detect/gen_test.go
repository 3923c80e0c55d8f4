package detect

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// genSource deterministically generates n bytes of source-like text without
// any SAS: identifiers, braces, strings, URLs to non-storage hosts and the
// words "signature"/"sig"/"design" that are not anchors. With every > 0 a
// synthetic token (sas-spec §8.2 style) is inserted every `every` bytes.
func genSource(n, every int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	idents := []string{"signature", "sig", "design", "assign", "value", "count", "config", "handler", "request",
		"response", "buffer", "index", "result", "err", "ctx", "storage", "account", "window", "token", "blob"}
	hosts := []string{"example.com", "github.com", "cdn.example.org", "api.contoso.test", "pkg.go.dev"}
	kw := []string{"func", "return", "if", "for", "var", "const", "import", "package", "def", "class"}
	var b strings.Builder
	b.Grow(n + 1024)
	next := every
	tok := 0
	for b.Len() < n {
		if every > 0 && b.Len() >= next {
			tok++
			b.WriteString(`url := "https://contosobench.blob.core.windows.net/c/f.bin?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDE%3D"` + "\n")
			next += every
		}
		switch r.IntN(8) {
		case 0:
			b.WriteString(kw[r.IntN(len(kw))])
			b.WriteByte(' ')
		case 1:
			b.WriteString(idents[r.IntN(len(idents))])
			b.WriteString(" := ")
			b.WriteString(idents[r.IntN(len(idents))])
			b.WriteString(".Get(\"")
			b.WriteString(idents[r.IntN(len(idents))])
			b.WriteString("\")\n")
		case 2:
			b.WriteString("\thttp.Get(\"https://")
			b.WriteString(hosts[r.IntN(len(hosts))])
			b.WriteString("/path/")
			b.WriteString(idents[r.IntN(len(idents))])
			b.WriteString("?q=1&page=2\")\n")
		case 3:
			b.WriteString("{\n\t")
			b.WriteString(idents[r.IntN(len(idents))])
			b.WriteString("Sig = compute(x, y) // the signature is checked below\n}\n")
		case 4:
			b.WriteString("if x == nil { return fmt.Errorf(\"%s: %w\", name, err) }\n")
		case 5:
			for range 1 + r.IntN(4) {
				b.WriteString(idents[r.IntN(len(idents))])
				b.WriteByte('_')
			}
			b.WriteString("= 0x")
			b.WriteString(strconv.Itoa(r.IntN(1 << 30)))
			b.WriteString(";\n")
		case 6:
			b.WriteString("    # ")
			b.WriteString(strings.Repeat("lorem ipsum dolor sit amet ", 1+r.IntN(3)))
			b.WriteByte('\n')
		case 7:
			b.WriteString("\tdesignSignal.assign(sigma, \"" + idents[r.IntN(len(idents))] + "\", [1, 2, 3]);\n")
		}
	}
	return []byte(b.String()[:n])
}
