package github

import (
	"net/url"
	"strconv"
	"strings"
)

// Permalink returns https://HOST/OWNER/NAME/blob/COMMIT/PATH#Lline.
// base is either the web root (https://github.com, https://ghe.example.com,
// see [Client.WebURL]) or the repository's html_url (which already ends in
// /OWNER/NAME). Path segments are escaped; line <= 0 omits the fragment.
// Without a repository of the form OWNER/NAME, a commit or a path there is
// no page to link to, and Permalink returns "".
// Permalink is safe for concurrent use.
func Permalink(base, repo, commit, filePath string, line int) string {
	owner, name, ok := strings.Cut(repo, "/")
	if base == "" || !ok || owner == "" || name == "" || strings.Contains(name, "/") ||
		commit == "" || strings.Trim(filePath, "/") == "" {
		return ""
	}
	base = strings.TrimRight(base, "/")
	if repo != "" && strings.HasSuffix(strings.ToLower(base), "/"+strings.ToLower(repo)) {
		base = base[:len(base)-len(repo)-1]
	}
	var b strings.Builder
	b.WriteString(base)
	for _, seg := range strings.Split(repo, "/") {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	b.WriteString("/blob/")
	b.WriteString(url.PathEscape(commit))
	for _, seg := range strings.Split(strings.TrimLeft(filePath, "/"), "/") {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	if line > 0 {
		b.WriteString("#L")
		b.WriteString(strconv.Itoa(line))
	}
	return b.String()
}
