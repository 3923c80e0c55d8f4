package detect

import (
	"encoding/base64"
	"strings"
)

// Rejection reasons: a candidate that is not a storage secret.
const (
	rejPlaceholder = "placeholder"
	rejLength      = "signature-not-32-bytes"
	rejVendor      = "other-vendor"
	rejServiceBus  = "service-bus"
	rejHex         = "hex-signature"
	rejNotSAS      = "not-a-sas" // G0: no sv/se/si
	rejKeyLength   = "key-not-64-bytes"
)

var placeholderWords = []string{"...", "xxxx", "redacted", "<", ">", "{", "}", "$", "%", "your", "placeholder",
	"example", "sig_here", "signature", "token", "****", "secret", "changeme", "dummy", "fake_", "todo"}

// isPlaceholder reports a documentation stand-in rather than a secret:
// <signature>, XXXX..., ..., REDACTED, ${VAR}, {sig}, %s, and low-entropy strings.
func isPlaceholder(v string) bool {
	if v == "" {
		return true
	}
	l := strings.ToLower(v)
	// A real signature is 44 random Base64 characters: about one in 9000
	// contains "todo", "your" or "xxxx" (any case) by chance. In a value
	// shaped like a signature, only words too long to occur by chance count.
	hmacShaped := len(v) == 44 && decodedLen(v) == 32
	for _, w := range placeholderWords {
		if hmacShaped && len(w) < 5 {
			continue
		}
		if strings.Contains(l, w) {
			return true
		}
	}
	if hmacShaped && strings.Contains(l, "xxxxxx") {
		return true
	}
	var seen [256]bool
	distinct := 0
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			distinct++
		}
	}
	return distinct <= 8
}

func isHexString(v string) bool {
	if len(v) < 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return false
		}
	}
	return true
}

// decodedLen returns the length of v decoded as standard padded base64, or -1.
func decodedLen(v string) int {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return -1
	}
	return len(b)
}

var vendorKeys = []string{"x-goog-signature", "x-goog-algorithm", "x-goog-credential", "googleaccessid",
	"x-amz-signature", "x-amz-algorithm", "x-amz-credential", "x-amz-security-token", "awsaccesskeyid",
	"signature", "key-pair-id", "policy", "expires"}

// rejectSAS returns why r is not a storage SAS, or "".
func rejectSAS(r *rawSAS) string {
	sig, _ := r.get("sig")
	// Azure Service Bus / Event Hubs / IoT Hub: "SharedAccessSignature sr=<uri>&sig=...&se=<unix>&skn=<rule>"
	if _, ok := r.get("skn"); ok {
		return rejServiceBus
	}
	if sr, _ := r.get("sr"); strings.Contains(sr, "://") || strings.Contains(strings.ToLower(sr), ".servicebus.") ||
		strings.Contains(strings.ToLower(sr), ".azure-devices.") {
		return rejServiceBus
	}
	if se, ok := r.get("se"); ok && se != "" && strings.Trim(se, "0123456789") == "" {
		return rejServiceBus
	}
	if strings.HasSuffix(strings.ToLower(strings.TrimRight(r.lead, " ")), "sharedaccesssignature") && !r.connString {
		return rejServiceBus
	}
	// storage versions are dates (2015-04-05); Logic Apps callback URLs carry sv=1.0&sp=...&sig=
	if sv, ok := r.get("sv"); ok && !isDateVersion(sv) {
		return rejVendor
	}
	for _, k := range vendorKeys {
		if _, ok := r.get(k); ok {
			return rejVendor
		}
	}
	if isHexString(sig) {
		return rejHex
	}
	if isPlaceholder(sig) {
		return rejPlaceholder
	}
	if decodedLen(sig) != 32 {
		return rejLength
	}
	// G0: sig and sv/se/si are required
	_, sv := r.get("sv")
	_, se := r.get("se")
	_, si := r.get("si")
	if !sv && !se && !si {
		return rejNotSAS
	}
	return ""
}

// rejectKey returns why an AccountKey= value is not a storage account key, or "".
func rejectKey(v string) string {
	if isPlaceholder(v) {
		return rejPlaceholder
	}
	if decodedLen(v) != 64 {
		return rejKeyLength
	}
	return ""
}

// isDateVersion reports a YYYY-MM-DD service version.
func isDateVersion(v string) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if i != 4 && i != 7 && (v[i] < '0' || v[i] > '9') {
			return false
		}
	}
	return true
}
