package verify

import (
	"github.com/sasquatch-sec/sasquatch/detect"
	"strings"
)

// storageSuffixes are the DNS suffixes of Azure Storage endpoints a probe may
// go to (sas-spec §5.1): the public cloud, China (21Vianet), US Government
// and the retired German cloud (its names no longer resolve, which a probe
// reports as account-gone). Azure DNS-zone endpoints are handled separately.
var storageSuffixes = []string{
	".core.windows.net",
	".core.chinacloudapi.cn",
	".core.usgovcloudapi.net",
	".core.cloudapi.de",
}

// probeServices are the storage services that have a probe (sas-spec §6.2).
// "web" (static websites) is not a storage API and is never contacted.
var probeServices = map[string]bool{"blob": true, "dfs": true, "file": true, "queue": true, "table": true}

// storageHost is an allow-listed storage host, split into its parts.
type storageHost struct {
	host    string // lower case, no port, no trailing dot: the name a probe connects to
	account string // the account the host belongs to (-secondary stripped)
	service string // blob, dfs, file, queue, table
	suffix  string // the cloud's suffix, e.g. ".core.windows.net"; ".storage.azure.net" with zone
	zone    string // "z12" for an Azure DNS-zone endpoint, else ""
	second  bool   // the read-access geo-redundant secondary endpoint
}

// withService returns the same account's host for another service of the same cloud.
func (h storageHost) withService(svc string) storageHost {
	label := h.account
	if h.second {
		label += "-secondary"
	}
	if h.zone != "" {
		h.host = label + "." + h.zone + "." + svc + h.suffix
	} else {
		h.host = label + "." + svc + h.suffix
	}
	h.service = svc
	return h
}

// parseStorageHost reports whether host (as found in a token: any case, with
// an optional port and trailing dot) is an Azure Storage endpoint a probe may
// go to, and splits it. Accepted, after lower-casing and removing one
// trailing dot, and with no port or port 443:
//
//	{account}[-secondary].{blob|dfs|file|queue|table}.{core.windows.net|core.chinacloudapi.cn|core.usgovcloudapi.net|core.cloudapi.de}
//	{account}[-secondary].z{NN}.{blob|dfs|file|queue|table}.storage.azure.net
//
// with account 3-24 of [a-z0-9]. Everything else is refused: IP literals,
// localhost and emulator hosts, private-link names, static-website hosts,
// Azure Stack and custom domains, userinfo, other ports, non-ASCII (so no
// IDN homoglyph passes) and names that merely contain a suffix
// (acct.blob.core.windows.net.evil.com).
func parseStorageHost(host string) (storageHost, bool) {
	h := strings.ToLower(host)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h, "]") {
		if h[i+1:] != "443" {
			return storageHost{}, false
		}
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return storageHost{}, false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return storageHost{}, false
		}
	}
	var sh storageHost
	var labels []string
	switch {
	case strings.HasSuffix(h, ".storage.azure.net"):
		sh.suffix = ".storage.azure.net"
		labels = strings.Split(strings.TrimSuffix(h, sh.suffix), ".")
		// account.zNN.service
		if len(labels) != 3 || !dnsZoneLabel(labels[1]) {
			return storageHost{}, false
		}
		sh.zone = labels[1]
		labels = []string{labels[0], labels[2]}
	default:
		for _, s := range storageSuffixes {
			if strings.HasSuffix(h, s) {
				sh.suffix = s
				break
			}
		}
		if sh.suffix == "" {
			return storageHost{}, false
		}
		labels = strings.Split(strings.TrimSuffix(h, sh.suffix), ".")
		if len(labels) != 2 { // privatelink, zNN static-website, deeper names
			return storageHost{}, false
		}
	}
	acct, svc := labels[0], labels[1]
	if !probeServices[svc] {
		return storageHost{}, false
	}
	if a, ok := strings.CutSuffix(acct, "-secondary"); ok {
		acct, sh.second = a, true
	}
	if !detect.ValidAccount(acct) {
		return storageHost{}, false
	}
	sh.host, sh.account, sh.service = h, acct, svc
	return sh, true
}

func dnsZoneLabel(l string) bool {
	if len(l) != 3 || l[0] != 'z' {
		return false
	}
	return '0' <= l[1] && l[1] <= '9' && '0' <= l[2] && l[2] <= '9'
}

// emulatorService maps the SDKs' path-style emulator ports to the service
// (sas-spec §5.1); "" when port is not one of them.
func emulatorService(port string) string {
	switch port {
	case "10000", "10100", "11000", "11100":
		return "blob"
	case "10001", "10101", "11001", "11101":
		return "queue"
	case "10002", "10102", "11002", "11102":
		return "table"
	}
	return ""
}
