package detect

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
)

// Clouds (Token.Cloud).
const (
	CloudPublic         = "public"
	CloudChina          = "china"
	CloudUSGov          = "usgov"
	CloudGermanyRetired = "germany-retired"
	CloudAzureStack     = "azurestack"
	CloudEmulator       = "emulator"
	CloudCustom         = "custom"
	CloudNone           = "none"
)

// hostInfo is what a storage host (plus, for path-style emulator URLs, the
// first path segment) says about a token.
type hostInfo struct {
	host    string // lower case, with port
	account string
	service string // blob, file, queue, table, dfs, web; "" unknown
	cloud   string
	tags    []string // private-link, secondary-endpoint, dns-zone, static-website
	path    string   // path after the account segment for path-style URLs
	pathAcc bool     // account came from the path (emulator path-style)
}

var cloudSuffixes = []struct{ suffix, cloud string }{
	{".core.windows.net", CloudPublic},
	{".core.chinacloudapi.cn", CloudChina},
	{".core.usgovcloudapi.net", CloudUSGov},
	{".core.cloudapi.de", CloudGermanyRetired},
	{".storage.azure.net", CloudPublic},
}

var storageServices = map[string]bool{"blob": true, "file": true, "queue": true, "table": true, "dfs": true, "web": true}

// emulatorPort reports the SDKs' path-style emulator ports (sas-spec §5.1).
func emulatorPort(p int) bool {
	for _, base := range []int{10000, 10100, 11000, 11100} {
		if p >= base && p <= base+4 {
			return true
		}
	}
	return false
}

func splitHostPort(h string) (host string, port int) {
	if strings.HasPrefix(h, "[") {
		if i := strings.Index(h, "]"); i >= 0 {
			host, rest := h[:i+1], h[i+1:]
			if strings.HasPrefix(rest, ":") {
				p, _ := strconv.Atoi(rest[1:])
				return host, p
			}
			return host, 0
		}
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		p, err := strconv.Atoi(h[i+1:])
		if err != nil {
			return h[:i], -1
		}
		return h[:i], p
	}
	return h, 0
}

// ValidAccount reports whether s is a storage account name: 3-24 of
// [a-z0-9]. The liveness checker uses it too.
func ValidAccount(s string) bool {
	if len(s) < 3 || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// validHost reports whether h looks like a DNS name or an IP literal (with optional port).
func validHost(h string) bool {
	h = strings.TrimSuffix(h, ".") // parseHost drops the root dot
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	host, port := splitHostPort(h)
	if strings.HasPrefix(host, "[") {
		return strings.HasSuffix(host, "]") && len(host) > 2
	}
	if host == "localhost" {
		return true
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || strings.ContainsAny(l, "[]:") {
			return false
		}
	}
	// one label is a host only with a port: a docker-compose service
	// (http://azurite:10000/...), not a word followed by "?"
	return len(labels) >= 2 || port > 0
}

// ipLiteral parses an IPv4 address or a bracketed IPv6 address.
func ipLiteral(name string) (netip.Addr, bool) {
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
		if i := strings.IndexByte(name, '%'); i >= 0 { // zone
			name = name[:i]
		}
		a, err := netip.ParseAddr(name)
		return a, err == nil && a.Is6()
	}
	if name == "" || name[0] < '0' || name[0] > '9' {
		// not an IPv4 address (every host name of a storage URL gets
		// here, and a failed ParseAddr allocates its error)
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(name)
	return a, err == nil && a.Is4()
}

// isAzureHostName reports a host name under a storage suffix of an Azure
// cloud or of Azure Stack: never an emulator, whatever its port.
func isAzureHostName(name string) bool {
	for _, cs := range cloudSuffixes {
		if strings.HasSuffix(name, cs.suffix) {
			return true
		}
	}
	return strings.HasSuffix(name, ".azurestack.external") || strings.HasSuffix(name, ".azure.com") ||
		strings.HasSuffix(name, ".azure.net") || strings.HasSuffix(name, ".windows.net")
}

// isEmulatorHost reports the hosts an emulator (Azurite, the storage
// emulator) runs on, path-style: loopback in any spelling and
// host.docker.internal on any port; any other IP address (private,
// IPv6...) or a host name outside Azure (a docker-compose service such as
// "azurite") on an emulator port.
func isEmulatorHost(name string, port int) bool {
	if name == "localhost" || name == "host.docker.internal" || name == "0.0.0.0" {
		return true
	}
	if a, ok := ipLiteral(name); ok {
		return a.IsLoopback() || a.IsUnspecified() || emulatorPort(port)
	}
	return emulatorPort(port) && !isAzureHostName(name)
}

// parseHost classifies host (lower case, optional port) and path (starting with '/', may be "").
func parseHost(host, path string) hostInfo {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	hi := hostInfo{host: host, cloud: CloudCustom, path: path}
	name, port := splitHostPort(host)
	name = strings.TrimSuffix(name, ".")
	labels := strings.Split(name, ".")
	// Azurite production-style: {acct}.blob.localhost:10000
	if strings.HasSuffix(name, ".localhost") {
		hi.cloud = CloudEmulator
		if len(labels) >= 3 && storageServices[labels[1]] {
			hi.account, hi.service = labels[0], labels[1]
		}
		return hi
	}
	// Azurite / emulator, path-style: http://127.0.0.1:10000/devstoreaccount1/...
	if isEmulatorHost(name, port) {
		hi.cloud = CloudEmulator
		switch port {
		case 10000, 10100, 11000, 11100:
			hi.service = "blob"
		case 10001, 10101, 11001, 11101:
			hi.service = "queue"
		case 10002, 10102, 11002, 11102:
			hi.service = "table"
		}
		seg := strings.TrimPrefix(path, "/")
		acc, rest, _ := strings.Cut(seg, "/")
		if acc = strings.ToLower(acc); ValidAccount(acc) {
			hi.account = acc
			hi.pathAcc = true
			hi.path = "/" + rest
			if rest == "" {
				hi.path = ""
			}
		}
		return hi
	}
	for _, cs := range cloudSuffixes {
		if !strings.HasSuffix(name, cs.suffix) {
			continue
		}
		hi.cloud = cs.cloud
		pre := strings.Split(strings.TrimSuffix(name, cs.suffix), ".")
		// pre = [acct, (privatelink|zNN)?, svc] ; storage.azure.net: [acct, zNN, svc]
		if len(pre) < 2 || !storageServices[pre[len(pre)-1]] {
			return hostInfo{host: host, cloud: CloudCustom, path: path}
		}
		hi.service = pre[len(pre)-1]
		if cs.suffix == ".storage.azure.net" {
			hi.tags = append(hi.tags, "dns-zone")
		}
		for _, mid := range pre[1 : len(pre)-1] {
			switch {
			case mid == "privatelink":
				hi.tags = append(hi.tags, "private-link")
			case len(mid) >= 2 && len(mid) <= 3 && mid[0] == 'z':
				if hi.service == "web" {
					hi.tags = append(hi.tags, "static-website")
				} else if cs.suffix != ".storage.azure.net" {
					hi.tags = append(hi.tags, "dns-zone")
				}
			}
		}
		hi.account = accountLabel(pre[0], &hi)
		if hi.account == devStoreAccount {
			hi.cloud = CloudEmulator // the emulator's account, whatever the host says
		}
		return hi
	}
	// Azure Stack Hub: {acct}.{svc}.{region}.{fqdn}; ASDK: {acct}.blob.local.azurestack.external
	if len(labels) >= 4 && storageServices[labels[1]] && labels[1] != "web" {
		hi.cloud = CloudAzureStack
		hi.service = labels[1]
		hi.account = accountLabel(labels[0], &hi)
		return hi
	}
	return hi
}

// accountLabel strips -secondary / -ipv6 / -dualstack from the first host label.
func accountLabel(l string, hi *hostInfo) string {
	for _, suf := range []string{"-ipv6", "-dualstack"} {
		l = strings.TrimSuffix(l, suf)
	}
	if s, ok := strings.CutSuffix(l, "-secondary"); ok {
		hi.tags = append(hi.tags, "secondary-endpoint")
		l = s
	}
	if !ValidAccount(l) {
		return ""
	}
	return l
}

// devStoreAccount is the emulator's well-known account: a token or key of
// that account is an emulator's wherever its host says it runs.
const devStoreAccount = "devstoreaccount1"

// endpointSuffixes are the suffixes whose occurrence in text marks an endpoint
// a bare token can pair with.
var endpointSuffixes = []string{".core.windows.net", ".core.chinacloudapi.cn", ".core.usgovcloudapi.net",
	".core.cloudapi.de", ".storage.azure.net", ".azurestack.external", ".blob.localhost"}

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-'
}

// endpoint is a storage host found in normalised text.
type endpoint struct {
	start, end int
	info       hostInfo
}

// findEndpoints returns the storage hosts in b (at most max), in order.
func findEndpoints(b []byte, limit int) []endpoint {
	var out []endpoint
	for _, suf := range endpointSuffixes {
		for i := 0; len(out) < limit; {
			j := indexFold(b, i, suf)
			if j < 0 {
				break
			}
			s := j
			for s > 0 && isHostByte(b[s-1]) && j-s < 64 {
				s--
			}
			e := j + len(suf)
			for e < len(b) && isHostByte(b[e]) && e-j < 128 {
				e++
			}
			if e < len(b) && b[e] == ':' {
				p := e + 1
				for p < len(b) && '0' <= b[p] && b[p] <= '9' && p-e < 6 {
					p++
				}
				e = p
			}
			hi := parseHost(string(b[s:e]), "")
			if hi.account != "" {
				out = append(out, endpoint{start: s, end: e, info: hi})
			}
			i = j + len(suf)
		}
	}
	// emulator endpoints: path-style URLs, host:port/account (the account
	// named elsewhere, AccountName=devstoreaccount1 or UseDevelopmentStorage,
	// is an account name without a host: findAccountNames)
	for i := 0; len(out) < limit; {
		j := bytes.IndexByte(b[i:], '/')
		if j < 0 {
			break
		}
		j += i
		i = j + 1
		if j == 0 || b[j-1] < '0' || b[j-1] > '9' {
			continue // the port's last digit comes before the path
		}
		s := j
		for s > 0 && (isHostByte(b[s-1]) || b[s-1] == ':' || b[s-1] == '[' || b[s-1] == ']') && j-s < 64 {
			s--
		}
		e := j + 1
		for e < len(b) && e-j <= 25 && ('a' <= b[e] && b[e] <= 'z' || '0' <= b[e] && b[e] <= '9') {
			e++
		}
		h := strings.ToLower(string(b[s:j]))
		if !strings.Contains(h, ":") || !validHost(h) {
			continue
		}
		if hi := parseHost(h, string(b[j:e])); hi.cloud == CloudEmulator && hi.account != "" {
			out = append(out, endpoint{start: s, end: e, info: hi})
		}
	}
	return out
}
