package report

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendFindingRecord appends f's JSONL record and its newline to b: byte
// for byte what encoding/json writes for typedFinding{"finding",
// normalized(f)} with HTML escaping off. TestAppendFindingRecord proves it
// on random findings with every field set, and fails for a field added to
// Finding or Location but not here. It is the end of a report of
// thousands of findings: no reflection, and the remediation text is
// rendered into scratch and escaped into b, never made a string.
func appendFindingRecord(b []byte, scratch *[]byte, f Finding) []byte {
	f = shaped(f)
	b = append(b, `{"type":"finding","fingerprint":`...)
	b = appendJSONString(b, f.Fingerprint)
	b = append(b, `,"severity":`...)
	b = appendJSONString(b, f.Severity.String())
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(f.Kind))
	b = append(b, `,"account":`...)
	b = appendJSONString(b, f.Account)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, f.Host)
	b = append(b, `,"cloud":`...)
	b = appendJSONString(b, f.Cloud)
	b = append(b, `,"services":`...)
	b = appendJSONStrings(b, f.Services)
	b = append(b, `,"resource_types":`...)
	b = appendJSONStrings(b, f.ResourceTypes)
	b = append(b, `,"resource":`...)
	b = appendJSONString(b, f.Resource)
	b = append(b, `,"permissions":`...)
	b = appendJSONStrings(b, f.Permissions)
	b = append(b, `,"sp":`...)
	b = appendJSONString(b, f.SP)
	b = append(b, `,"start":`...)
	b = appendJSONTime(b, f.Start)
	b = append(b, `,"expiry":`...)
	b = appendJSONTime(b, f.Expiry)
	b = append(b, `,"expired":`...)
	b = strconv.AppendBool(b, f.Expired)
	b = append(b, `,"reasons":`...)
	b = appendJSONStrings(b, f.Reasons)
	b = append(b, `,"redacted":`...)
	b = appendJSONString(b, f.Redacted)
	if f.Liveness != "" {
		b = append(b, `,"liveness":`...)
		b = appendJSONString(b, f.Liveness)
	}
	if f.LivenessCode != "" {
		b = append(b, `,"liveness_code":`...)
		b = appendJSONString(b, f.LivenessCode)
	}
	if f.Remediation != "" {
		b = append(b, `,"remediation":`...)
		b = appendJSONString(b, f.Remediation)
	} else if *scratch = appendRemediation((*scratch)[:0], f); len(*scratch) > 0 {
		b = append(b, `,"remediation":`...)
		b = appendJSONString(b, *scratch)
	}
	b = append(b, `,"locations":[`...)
	for i := range f.Locations {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLocation(b, &f.Locations[i])
	}
	b = append(b, ']')
	if f.LocationsTruncated != 0 {
		b = append(b, `,"locations_truncated":`...)
		b = strconv.AppendInt(b, int64(f.LocationsTruncated), 10)
	}
	if f.Token != "" {
		b = append(b, `,"token":`...)
		b = appendJSONString(b, f.Token)
	}
	if f.URL != "" {
		b = append(b, `,"url":`...)
		b = appendJSONString(b, f.URL)
	}
	return append(b, "}\n"...)
}

func appendLocation(b []byte, l *Location) []byte {
	b = append(b, `{"path":`...)
	b = appendJSONString(b, l.Path)
	if len(l.PathBytes) > 0 {
		b = append(b, `,"path_bytes":"`...)
		b = base64.StdEncoding.AppendEncode(b, l.PathBytes)
		b = append(b, '"')
	}
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(l.Line), 10)
	b = append(b, `,"column":`...)
	b = strconv.AppendInt(b, int64(l.Column), 10)
	if l.Commit != "" {
		b = append(b, `,"commit":`...)
		b = appendJSONString(b, l.Commit)
	}
	if l.Author != "" {
		b = append(b, `,"author":`...)
		b = appendJSONString(b, l.Author)
	}
	if l.Date != nil {
		b = append(b, `,"date":`...)
		b = appendJSONTime(b, l.Date)
	}
	if l.Repo != "" {
		b = append(b, `,"repo":`...)
		b = appendJSONString(b, l.Repo)
	}
	if l.Permalink != "" {
		b = append(b, `,"permalink":`...)
		b = appendJSONString(b, l.Permalink)
	}
	if l.AtTip != nil {
		b = append(b, `,"at_tip":`...)
		b = strconv.AppendBool(b, *l.AtTip)
	}
	if l.Message {
		b = append(b, `,"message":true`...)
	}
	if l.Blob != "" {
		b = append(b, `,"blob":`...)
		b = appendJSONString(b, l.Blob)
	}
	return append(b, '}')
}

func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONTime writes t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds), or null. shaped has made every time printable.
func appendJSONTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString writes s as encoding/json does with HTML escaping off:
// quotes, backslashes and control characters escaped (\b \f \n \r \t by
// name, the rest as \u00XX), invalid UTF-8 as \ufffd, and U+2028 and
// U+2029, which end a line in JavaScript, as \u2028 and \u2029.
func appendJSONString[S string | []byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
