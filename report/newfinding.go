package report

import (
	"slices"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// NewFinding maps one match to the JSONL schema of design.md, with no
// locations (a [Collector] adds them). Severity is written lower-case by
// detect.Severity; times are UTC (RFC 3339 in JSON) or null when absent;
// Services, ResourceTypes, Permissions, Reasons and Locations are never nil, so
// they encode as [] rather than null. Token and URL are filled from the
// match's secrets only when reveal is true. When the match carries no
// fingerprint it is computed with [detect.Fingerprint].
//
// NewFinding can be called concurrently; it copies every slice it takes from m.
func NewFinding(m detect.Match, reveal bool) Finding {
	t := m.Token
	fp := m.Fingerprint
	if fp == "" {
		fp = detect.Fingerprint(t.Signature.Reveal())
	}
	f := Finding{
		Fingerprint:   fp,
		Severity:      m.Severity,
		Kind:          t.Kind,
		Account:       t.Account,
		Host:          t.Host,
		Cloud:         t.Cloud,
		Services:      cloneStrings(t.Services),
		ResourceTypes: cloneStrings(t.ResourceTypes),
		Resource:      t.Resource,
		Permissions:   cloneStrings(t.Permissions),
		SP:            t.SP,
		Start:         timePtr(t.Start),
		Expiry:        timePtr(t.Expiry),
		Expired:       m.Expired,
		Reasons:       cloneStrings(m.Reasons),
		Redacted:      t.Redacted,
		Locations:     []Location{},
		Credential:    t,
	}
	if reveal {
		f.Token = t.Query.Reveal()
		f.URL = t.URL.Reveal()
	}
	return f
}

// cloneStrings returns a copy of s that is never nil.
func cloneStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// timePtr returns nil for the zero time, else a pointer to t in UTC.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// normalized returns f with nil slices replaced by empty ones, times in
// UTC and dates JSON cannot hold dropped ([printable]), so every sink
// encodes the same shape whoever built the Finding.
func normalized(f Finding) Finding {
	f = shaped(f)
	if f.Remediation == "" {
		f.Remediation = Remediation(f)
	}
	return f
}

// shaped is normalized but for the remediation text.
func shaped(f Finding) Finding {
	if f.Services == nil {
		f.Services = []string{}
	}
	if f.ResourceTypes == nil {
		f.ResourceTypes = []string{}
	}
	if f.Permissions == nil {
		f.Permissions = []string{}
	}
	if f.Reasons == nil {
		f.Reasons = []string{}
	}
	if f.Locations == nil {
		f.Locations = []Location{}
	}
	if f.Start != nil {
		f.Start = printable(timePtr(*f.Start))
	}
	if f.Expiry != nil {
		f.Expiry = printable(timePtr(*f.Expiry))
	}
	cloned := false
	for i := range f.Locations {
		d := f.Locations[i].Date
		if p := printable(d); p != d {
			if !cloned {
				// Copied before the first change: the caller's slice is
				// not changed under it.
				f.Locations, cloned = slices.Clone(f.Locations), true
			}
			f.Locations[i].Date = p
		}
	}
	return f
}

// printable returns t when JSON can hold it (RFC 3339: a year from 0 to
// 9999, a zone offset under a day), t in UTC when only its zone is out of
// range, and nil when its year is: encoding/json fails on such a time, and
// a date from a hostile repository must not fail the report that holds
// every finding.
func printable(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return nil
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 || t.Year() < 0 || t.Year() > 9999 {
		return &u // in its own zone it would not print (e.g. 10000-01-01T00:30+01:00)
	}
	return t
}
