package detect

import (
	"testing"
)

// TestEmulatorsWherever: path-style URLs on the emulator ports on loopback
// in any spelling, private and IPv6 addresses and non-Azure host names (a
// docker-compose service), and the account devstoreaccount1 anywhere, are
// the emulator's: cloud emulator, INFO, the account from the first path
// segment; queue and table letters keep their own meanings. Azure hosts on
// those ports and public hosts elsewhere are not emulators.
func TestEmulatorsWherever(t *testing.T) {
	t.Parallel()
	sig := pctSig(20)
	q := "?sv=2022-11-02&sr=c&sp=rwdl&se=2030-01-01&sig=" + sig
	emu := func(acct, host string, perms ...string) expect {
		return expect{account: acct, host: host, cloud: CloudEmulator, sev: Info, tags: []string{TagEmulator}, perms: perms}
	}
	cases := []struct {
		name, in string
		want     expect
	}{
		{"ipv6 loopback", "http://[::1]:10000/contosoemu01/c" + q, emu("contosoemu01", "[::1]:10000", "read", "write", "delete", "list")},
		{"ipv6 loopback, long form", "http://[0:0:0:0:0:0:0:1]:10000/contosoemu02/c" + q, emu("contosoemu02", "[0:0:0:0:0:0:0:1]:10000")},
		{"ipv6 unique local", "http://[fd00::a:1]:10000/contosoemu03/c" + q, emu("contosoemu03", "[fd00::a:1]:10000")},
		{"127.0.0.2", "http://127.0.0.2:10000/contosoemu04/c" + q, emu("contosoemu04", "127.0.0.2:10000")},
		{"private ipv4", "http://172.18.0.3:10000/contosoemu05/c" + q, emu("contosoemu05", "172.18.0.3:10000")},
		{"compose service name", "BLOB=http://azurite:10000/contosoemu06/c" + q, emu("contosoemu06", "azurite:10000")},
		{"compose service with dashes", "http://storage-emulator:10000/devstoreaccount1/c" + q, emu("devstoreaccount1", "storage-emulator:10000")},
		{"queue on 10001, queue letters",
			"http://azurite-q:10001/contosoemu08/jobs?sv=2022-11-02&sp=raup&se=2030-01-01&sig=" + sig,
			emu("contosoemu08", "azurite-q:10001", "read", "add", "update", "process")},
		{"table on 10002, table letters",
			"http://[::1]:10002/contosoemu09/Orders?sv=2022-11-02&tn=orders&sp=raud&se=2030-01-01&sig=" + sig,
			emu("contosoemu09", "[::1]:10002", "read", "add", "update", "delete")},
		{"devstoreaccount1 named near a bare token, no invented host",
			"AccountName=devstoreaccount1\nSAS=sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2030-01-01&sig=" + sig,
			expect{kind: KindAccount, account: "devstoreaccount1", host: "-", cloud: CloudEmulator, sev: Info, tags: []string{TagEmulator}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if m, ok := detectOne(t, c.in); ok {
				c.want.check(t, m)
			}
		})
	}
	// not emulators
	for _, c := range []struct{ name, in, cloud string }{
		{"azure host on an emulator port", "https://contosoemu10.blob.core.windows.net:10000/c" + q, CloudPublic},
		{"private ipv4 on another port", "http://10.0.0.8:8080/contosoemu11/c" + q, CloudCustom},
		{"public host name on another port", "https://files.contoso.test:8443/c" + q, CloudCustom},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if m, ok := detectOne(t, c.in); ok && (m.Token.Cloud != c.cloud || m.Severity == Info) {
				t.Errorf("cloud %s severity %s, want %s and not info", m.Token.Cloud, m.Severity, c.cloud)
			}
		})
	}
}

// TestNoSPPermissionsUnknown: a token without sp has no permissions: none
// are listed and the reasons say "unknown", never "read-only".
func TestNoSPPermissionsUnknown(t *testing.T) {
	t.Parallel()
	sig := pctSig(21)
	for _, c := range []struct{ name, in, reason string }{
		{"account SAS without sp", "https://contosonosp01.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&se=2030-01-01&sig=" + sig, "permissions: unknown (no sp)"},
		{"service SAS without sp", "https://contosonosp02.blob.core.windows.net/c?sv=2022-11-02&sr=c&se=2030-01-01&sig=" + sig, "permissions: unknown (no sp)"},
		{"stored policy without sp", "https://contosonosp03.blob.core.windows.net/c?sv=2022-11-02&sr=c&si=p1&sig=" + sig, "permissions: unknown (stored policy)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, ok := detectOne(t, c.in)
			if !ok {
				return
			}
			if len(m.Token.Permissions) != 0 || m.Token.SP != "" {
				t.Errorf("permissions %q sp %q, want none", m.Token.Permissions, m.Token.SP)
			}
			for _, r := range m.Reasons {
				if r == "permissions: read-only" {
					t.Errorf("reasons %q say read-only", m.Reasons)
				}
			}
			expect{tags: []string{c.reason}, sev: m.Severity}.check(t, m)
		})
	}
}

// TestUTF16Column: columns in UTF-16 text count characters, not bytes (a
// surrogate pair is one character; the BOM is not one).
func TestUTF16Column(t *testing.T) {
	t.Parallel()
	u := "https://contosowide01.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01&sig=" + pctSig(22)
	cases := []struct {
		name    string
		text    string
		be, bom bool
		line    int
		col     int
	}{
		{"le bom, line 1", "ab\u00e9 " + u, false, true, 1, 5},
		{"le bom, line 3", "x\r\n\u00e9\u00e9\u00e9\u00e9\n  url=" + u, false, true, 3, 7},
		{"be bom, surrogate pair", "\U0001F600 = " + u, true, true, 1, 5},
		{"le without bom, line 2", "first\nk='" + u + "'", false, false, 2, 4},
		{"be without bom", "\u4e2d\u6587 " + u, true, false, 1, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := New(Config{Now: specNow}).Detect(encodeUTF16(c.text, c.be, c.bom))
			if len(res.Matches) != 1 {
				t.Fatalf("got %d matches", len(res.Matches))
			}
			if m := res.Matches[0]; m.Line != c.line || m.Column != c.col {
				t.Errorf("at %d:%d, want %d:%d", m.Line, m.Column, c.line, c.col)
			}
		})
	}
	// 8-bit text still counts bytes
	res := New(Config{Now: specNow}).Detect([]byte("\u00e9\u00e9 " + u))
	if len(res.Matches) != 1 || res.Matches[0].Column != 6 {
		t.Errorf("UTF-8 column: %+v, want 6", res.Matches)
	}
}
