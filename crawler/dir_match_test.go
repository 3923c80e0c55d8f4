package crawler

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMatchPatterns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		path    string
		isDir   bool
		want    bool
	}{
		// No '/': the name at any depth.
		{pattern: "*.min.js", path: "a.min.js", want: true},
		{pattern: "*.min.js", path: "web/static/a.min.js", want: true},
		{pattern: "*.min.js", path: "web/a.js", want: false},
		{pattern: "node_modules", path: "node_modules", isDir: true, want: true},
		{pattern: "node_modules", path: "pkg/node_modules", isDir: true, want: true},
		{pattern: "[xy]", path: "d/y", want: true},
		// A '/' anchors at the path argument.
		{pattern: "vendor/*", path: "vendor/x.go", want: true},
		{pattern: "vendor/*", path: "vendor/a/x.go", want: false},
		{pattern: "vendor/*", path: "src/vendor/x.go", want: false},
		{pattern: "/build", path: "build", isDir: true, want: true},
		{pattern: "/build", path: "src/build", isDir: true, want: false},
		// '*' never crosses a '/'.
		{pattern: "src/*.go", path: "src/a/b.go", want: false},
		// "**" is any number of elements, none included.
		{pattern: "docs/**/*.md", path: "docs/a.md", want: true},
		{pattern: "docs/**/*.md", path: "docs/x/y/a.md", want: true},
		{pattern: "docs/**/*.md", path: "src/docs/a.md", want: false},
		{pattern: "**/testdata/**", path: "a/testdata/b/c.txt", want: true},
		{pattern: "**/testdata/**", path: "testdata", isDir: true, want: true},
		{pattern: "a/**", path: "a/b/c", want: true},
		{pattern: "**/**/*.pem", path: "k.pem", want: true},
		{pattern: "**", path: "anything/at/all", want: true},
		// A trailing '/' matches directories only.
		{pattern: "testdata/", path: "pkg/testdata", isDir: true, want: true},
		{pattern: "testdata/", path: "pkg/testdata", isDir: false, want: false},
		// path.Match syntax inside an element.
		{pattern: "f?le.[ch]", path: "x/file.c", want: true},
		{pattern: `\*`, path: "*", want: true},
		{pattern: `\*`, path: "a", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			pats, err := compilePatterns([]string{tt.pattern})
			if err != nil {
				t.Fatal(err)
			}
			if got := matchAny(pats, strings.Split(tt.path, "/"), tt.isDir); got != tt.want {
				t.Errorf("match(%q, %q, dir %v) = %v, want %v", tt.pattern, tt.path, tt.isDir, got, tt.want)
			}
		})
	}
}

func TestMayMatchBelow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		dir     string
		want    bool
	}{
		{pattern: "src/*.go", dir: "src", want: true},
		{pattern: "src/*.go", dir: "docs", want: false},
		{pattern: "src/*.go", dir: "src/a", want: false},
		{pattern: "src/**/*.go", dir: "src/a/b", want: true},
		{pattern: "*.go", dir: "any/where", want: true}, // unanchored: any depth
		{pattern: "a/b", dir: "a/b", want: false},       // the directory itself, nothing below
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.dir, func(t *testing.T) {
			t.Parallel()
			pats, err := compilePatterns([]string{tt.pattern})
			if err != nil {
				t.Fatal(err)
			}
			if got := mayMatchBelow(pats, strings.Split(tt.dir, "/")); got != tt.want {
				t.Errorf("mayMatchBelow(%q, %q) = %v, want %v", tt.pattern, tt.dir, got, tt.want)
			}
		})
	}
}

func TestDirIncludeExclude(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, name := range []string{
		"README.md",
		"docs/guide.md",
		"docs/img/logo.svg",
		"main.go",
		"node_modules/lib/index.js",
		"src/app.go",
		"src/app.min.js",
		"src/deep/x/y.go",
		"src/node_modules/z.js",
		"src/testdata/fixture.go",
		"vendor/mod/m.go",
	} {
		writeFile(t, root, name, name+"\n")
	}
	tests := []struct {
		name         string
		cfg          DirConfig
		paths        []string // default: root
		want         []string
		wantExcluded int64
	}{
		{name: "nothing", want: []string{"README.md", "docs/guide.md", "docs/img/logo.svg", "main.go", "node_modules/lib/index.js",
			"src/app.go", "src/app.min.js", "src/deep/x/y.go", "src/node_modules/z.js", "src/testdata/fixture.go", "vendor/mod/m.go"}},
		{name: "exclude a name at any depth; the directory is not descended",
			cfg:  DirConfig{Exclude: []string{"node_modules", "*.min.js"}},
			want: []string{"README.md", "docs/guide.md", "docs/img/logo.svg", "main.go", "src/app.go", "src/deep/x/y.go", "src/testdata/fixture.go", "vendor/mod/m.go"},
			// node_modules, src/app.min.js, src/node_modules
			wantExcluded: 3},
		{name: "exclude anchored and directory-only",
			cfg:          DirConfig{Exclude: []string{"/vendor", "testdata/", "docs/**/*.svg"}},
			want:         []string{"README.md", "docs/guide.md", "main.go", "node_modules/lib/index.js", "src/app.go", "src/app.min.js", "src/deep/x/y.go", "src/node_modules/z.js"},
			wantExcluded: 3},
		{name: "include by extension",
			cfg:  DirConfig{Include: []string{"*.go"}},
			want: []string{"main.go", "src/app.go", "src/deep/x/y.go", "src/testdata/fixture.go", "vendor/mod/m.go"},
			// README.md, docs/guide.md, docs/img/logo.svg, index.js, app.min.js, z.js
			wantExcluded: 6},
		{name: "include an anchored tree prunes the rest",
			cfg:  DirConfig{Include: []string{"src/**/*.go"}},
			want: []string{"src/app.go", "src/deep/x/y.go", "src/testdata/fixture.go"},
			// README.md, docs, main.go, node_modules, src/app.min.js, src/node_modules/z.js, vendor
			wantExcluded: 7},
		{name: "include a directory includes all below it",
			cfg:  DirConfig{Include: []string{"docs"}},
			want: []string{"docs/guide.md", "docs/img/logo.svg"},
			// "docs" is unanchored, so every directory may hold one and is
			// walked; the files left out are counted one by one: README.md,
			// main.go, index.js, app.go, app.min.js, y.go, z.js,
			// fixture.go, m.go.
			wantExcluded: 9},
		{name: "exclude wins over include",
			cfg:          DirConfig{Include: []string{"*.go"}, Exclude: []string{"testdata", "vendor"}},
			want:         []string{"main.go", "src/app.go", "src/deep/x/y.go"},
			wantExcluded: 8},
		{name: "path arguments are never excluded",
			cfg:          DirConfig{Include: []string{"*.go"}, Exclude: []string{"*.md"}},
			paths:        []string{root + "/README.md"},
			want:         []string{root + "/README.md"},
			wantExcluded: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			paths := tt.paths
			if paths == nil {
				paths = []string{root}
			}
			d := mustDir(t, paths, tt.cfg)
			var got []string
			for _, it := range collect(t, t.Context(), d) {
				if it.Reason != "" {
					t.Errorf("unexpected skip %+v", it)
					continue
				}
				got = append(got, it.Path)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("paths mismatch (-want +got):\n%s", diff)
			}
			if n := d.Excluded(); n != tt.wantExcluded {
				t.Errorf("Excluded() = %d, want %d", n, tt.wantExcluded)
			}
		})
	}
}
