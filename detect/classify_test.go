package detect

import (
	"slices"
	"testing"
)

// TestModifiersAndFloor: modifiers apply after the matrix and never take a
// live token below LOW; gates win over modifiers.
func TestModifiersAndFloor(t *testing.T) {
	t.Parallel()
	u := "https://contosomod.blob.core.windows.net/c/f.txt?sv=2022-11-02&sr=b&sp=r&se=2030-01-01&spr=https"
	cases := []struct {
		name, extra string
		sev         Severity
		tag         string
	}{
		{"S1 PR LOW, ip -1 floors at LOW", "&sip=10.0.0.1-10.0.0.9", Low, "ip-restricted"},
		{"/8 range is still restricting", "&sip=10.0.0.0-10.255.255.255", Low, "ip-restricted"},
		{"wider than 2^24 is ineffective", "&sip=10.0.0.0-11.0.0.0", Low, "ip-restriction-ineffective"},
		{"unparseable sip is ineffective", "&sip=any", Low, "ip-restriction-ineffective"},
		{"sduoid -2 floors at LOW", "&sduoid=33333333-3333-3333-3333-333333333333", Low, "user-bound"},
		{"rscd is informational", "&rscd=attachment", Low, "response-header-override"},
		{"mixed kinds: evaluated as account (S3 PR without l: HIGH)", "&ss=b&srt=sco&skoid=1", High, "mixed-kinds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := New(Config{Now: specNow}).Detect([]byte(u + c.extra + "&sig=" + sig07))
			if len(res.Matches) != 1 {
				t.Fatalf("got %d matches", len(res.Matches))
			}
			m := res.Matches[0]
			if m.Severity != c.sev || !slices.Contains(m.Reasons, c.tag) {
				t.Errorf("severity %s reasons %q, want %s with %q", m.Severity, m.Reasons, c.sev, c.tag)
			}
		})
	}
	// account S3 PW T3 CRITICAL with sip and sduoid: -3 steps -> LOW
	res := New(Config{Now: specNow}).Detect([]byte("https://contosomod.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2031-01-01&sip=1.2.3.4&sduoid=x&sig=" + sig07))
	if len(res.Matches) != 1 || res.Matches[0].Severity != Low {
		t.Errorf("want LOW after -3 steps, got %+v", res.Matches)
	}
	// an expired emulator token is INFO whatever the modifiers
	res = New(Config{Now: specNow}).Detect([]byte("http://127.0.0.1:10000/devstoreaccount1/c?sv=2022-11-02&sr=c&sp=rwdl&se=2020-01-01&sig=" + sig07))
	if m := res.Matches; len(m) != 1 || m[0].Severity != Info || !slices.Contains(m[0].Reasons, "emulator") || !slices.Contains(m[0].Reasons, "expired") || !m[0].Expired {
		t.Errorf("want INFO emulator+expired, got %+v", m)
	}
}

func TestMatrix(t *testing.T) {
	t.Parallel()
	// sas-spec §7.3, rows S3PW S3PR S2PW S2PR S1PW S1PR, columns T3 T2 T1 T0
	want := [6][4]Severity{
		{Critical, Critical, High, High},
		{High, High, Medium, Medium},
		{High, High, Medium, Medium},
		{Medium, Medium, Low, Low},
		{Medium, Medium, Low, Low},
		{Low, Low, Low, Low},
	}
	lives := [4]int{lifeT3, lifeT2, lifeT1, lifeT0}
	for r, row := range want {
		scope := []int{scopeS3, scopeS3, scopeS2, scopeS2, scopeS1, scopeS1}[r]
		write := r%2 == 0
		for c, sev := range row {
			if got := matrix(scope, write, lives[c]); got != sev {
				t.Errorf("matrix(S%d, write=%v, T%d) = %s, want %s", scope, write, 3-c, got, sev)
			}
		}
	}
	if matrix(scopeS3, true, lifeExpired) != Info {
		t.Error("expired is not INFO")
	}
}
