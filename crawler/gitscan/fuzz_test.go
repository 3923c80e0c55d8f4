package gitscan

import "testing"

// FuzzParseObjects: hostile commit, tag and tree bytes never panic, and
// parsed IDs are always valid.
func FuzzParseObjects(f *testing.F) {
	f.Add([]byte("tree 0123456789012345678901234567890123456789\nparent 0123456789012345678901234567890123456789\nauthor A <a@b> 1 +0000\n\nmsg"))
	f.Add([]byte("object 0123456789012345678901234567890123456789\ntype commit\ntag v\ntagger T <t> 1 -0100\n\nm"))
	f.Add([]byte("100644 a\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14"))
	f.Add([]byte("\n\n"))
	f.Add([]byte("author >>> < 99999999999999999999 +9999"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := parseCommit(data); err == nil {
			if !validOID(c.tree) {
				t.Fatalf("invalid tree %q accepted", c.tree)
			}
		}
		if tg, err := parseTag(data); err == nil && !validOID(tg.object) {
			t.Fatalf("invalid object %q accepted", tg.object)
		}
		entries, _ := parseTree(data)
		for _, e := range entries {
			if !validOID(e.oid) {
				t.Fatalf("bad entry id %q", e.oid)
			}
		}
		n := 0
		forEachEntry(data, func(_, _, id []byte) {
			n++
			if len(id) != 20 {
				t.Fatalf("id of %d bytes", len(id))
			}
		})
		if n != len(entries) {
			t.Fatalf("forEachEntry saw %d entries, parseTree %d", n, len(entries))
		}
		parseIdent(data)
	})
}
