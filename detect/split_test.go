package detect

import (
	"strings"
	"testing"
)

// TestSplitPiecesEveryLanguage: a token split over string pieces is joined
// before parsing in every common language, with LF and CRLF, and judged as
// the whole token (an account SAS whose ss/srt sit in the first piece is
// CRITICAL, not a malformed service SAS).
func TestSplitPiecesEveryLanguage(t *testing.T) {
	t.Parallel()
	sig := pctSig(1)
	acct := expect{kind: KindAccount, sev: Critical, tags: []string{TagSplitString}, notTags: []string{TagMalformed}}
	cases := []struct {
		name, in string
		account  string
	}{
		{"js template literals +", "const u = `https://contososplit01.blob.core.windows.net/in?sv=2023-01-03&ss=b&srt=co` +\n    `&sp=rwl&se=2029-06-30T00:00:00Z&sig=" + sig + "`;", "contososplit01"},
		{"ts template literal and quote +", "let u: string = `https://contososplit02.blob.core.windows.net/?sv=2023-01-03&ss=bf&srt=sco` + '&sp=racwl&se=2029-06-30&sig=" + sig + "';", "contososplit02"},
		{"js ${} hole in the path", "const url = `https://contososplit03.blob.core.windows.net/${container}/${name}?sv=2023-01-03&ss=b&srt=sco` +\r\n  `&sp=rwdl&se=2029-06-30&sig=" + sig + "`", "contososplit03"},
		{"js ${} hole in the host", "const storage = 'contososplit04';\nconst url = `https://${storage}.blob.core.windows.net/data?sv=2023-01-03&ss=b&srt=sco` +\n  `&sp=rl&se=2031-01-01&sig=" + sig + "`", "contososplit04"},
		{"go raw strings +", "var u = `https://contososplit05.blob.core.windows.net/?sv=2022-11-02&ss=bq&srt=sco` +\n\t`&sp=rwdlacup&se=2030-02-01T00:00:00Z&sig=" + sig + "`", "contososplit05"},
		{"go raw and interpreted +", "u := \"https://contososplit06.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco\" + `&sp=rw&se=2030-02-01&sig=" + sig + "`", "contososplit06"},
		{"c# verbatim @ CRLF", "var u = @\"https://contososplit07.blob.core.windows.net/?sv=2022-11-02&ss=bt&srt=sco\" +\r\n        @\"&sp=rwdl&se=2030-02-01&sig=" + sig + "\";", "contososplit07"},
		{"c# interpolated $ with hole", "var acct = \"contososplit08\";\r\nvar u = $\"https://{acct}.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco\" +\r\n    $\"&sp=rwdl&se=2030-02-01&sig=" + sig + "\";", "contososplit08"},
		{"c# $@ mixed", "string u = $@\"https://contososplit09.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco\"\n  + @\"&sp=wl&se=2030-02-01&sig=" + sig + "\";", "contososplit09"},
		{"powershell + backtick CRLF", "$u = \"https://contososplit10.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco\" + `\r\n     \"&sp=rwdl&se=2030-02-01&sig=" + sig + "\"", "contososplit10"},
		{"powershell single quotes + backtick", "$sas = 'https://contososplit11.blob.core.windows.net/?sv=2022-11-02&ss=f&srt=co' + `\n  '&sp=rcwl&se=2030-02-01&sig=" + sig + "'", "contososplit11"},
		{"shell adjacent quoted pieces", "curl \"https://contososplit12.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=sco\"'&sp=rl&se=2030-02-01'\"&sig=" + sig + "\" -o out", "contososplit12"},
		{"yaml double-quoted scalar continued with \\", "storage:\n  sas_url: \"https://contososplit13.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco\\\n    &sp=rwdl&se=2030-02-01T00:00:00Z&sig=" + sig + "\"\n", "contososplit13"},
		{"yaml continuation CRLF", "sas: \"https://contososplit14.blob.core.windows.net/?sv=2022-11-02&ss=q&srt=sco&sp=rap\\\r\n      &se=2030-02-01&sig=" + sig + "\"\r\n", "contososplit14"},
		{"python f-strings in parentheses", "account = \"contososplit15\"\nurl = (\n    f\"https://{account}.blob.core.windows.net/models?sv=2022-11-02&ss=b&srt=sco\"\n    f\"&sp=rl&se=2031-01-01&sig=" + sig + "\"\n)", "contososplit15"},
		{"python implicit concatenation CRLF", "URL = (\"https://contososplit16.blob.core.windows.net/?sv=2022-11-02\"\r\n       '&ss=b&srt=sco&sp=rwl'\r\n       \"&se=2030-02-01&sig=" + sig + "\")", "contososplit16"},
		{"python raw and bytes prefixes", "u = (r\"https://contososplit17.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco\"\n     rb\"&sp=rwd&se=2030-02-01&sig=" + sig + "\")", "contososplit17"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, ok := detectOne(t, c.in)
			if !ok {
				return
			}
			e := acct
			e.account = c.account
			e.check(t, m)
			if got := c.in[m.Start:m.End]; !strings.Contains(got, "sig=") {
				t.Errorf("span %q does not hold the signature", got)
			}
		})
	}
}

// TestSplitNotJoined: pieces that are not one literal stay apart, so no
// token is made up from them.
func TestSplitNotJoined(t *testing.T) {
	t.Parallel()
	sig := pctSig(2)
	cases := []struct{ name, in string }{
		// "" inside a C#/CSV/SQL literal is an escaped quote, not two pieces
		{"escaped quote", "x = \"https://contosonj01.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01\"\"&sig=" + sig + "\""},
		// blanks between a 'single' and a "double" literal: prose or YAML, not code
		{"different quotes, blanks only", "'https://contosonj02.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01' \"&sig=" + sig + "\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, m := range New(Config{Now: specNow}).Detect([]byte(c.in)).Matches {
				if m.Token.Account != "" && strings.Contains(m.Token.Redacted, "sr=c&sp=rl") {
					t.Errorf("pieces joined: %s", m.Token.Redacted)
				}
			}
		})
	}
}

// TestFragmentNeverDowngraded: when only the piece with sig= parses (the
// pieces are joined through variables), the parameters of the neighbouring
// pieces are taken, nearest first, and tagged; the token is judged as the
// whole it is part of. Values that are not SAS values are not taken, and
// another token's parameters are not borrowed.
func TestFragmentNeverDowngraded(t *testing.T) {
	t.Parallel()
	sig := pctSig(3)
	cases := []struct {
		name, in string
		want     expect
	}{
		{"head and tail variables (python)",
			"BASE = \"https://contosofrag01.blob.core.windows.net\"\nHEAD = \"sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacup\"\nTAIL = \"se=2031-01-01T00:00:00Z&sig=" + sig + "\"\ntoken = HEAD + \"&\" + TAIL\n",
			expect{kind: KindAccount, account: "contosofrag01", sev: Critical, tags: []string{"inferred=sv,ss,srt,sp", TagPairedEndpoint}}},
		{"tail before head (js)",
			"const tail = '&sp=rl&se=2030-05-01&sig=" + sig + "';\nconst head = '?sv=2021-08-06&ss=b&srt=co';\nconst url = endpoint + head + tail;\n",
			expect{kind: KindAccount, sev: Critical, tags: []string{"inferred=sv,ss,srt"}, notTags: []string{TagMalformed}}},
		{"service fragment takes sr and sp",
			"accountName: contosofrag03\nparts:\n  - \"sv=2022-11-02&sr=c&sp=racwdl\"\n  - \"se=2030-01-01&sig=" + sig + "\"\n",
			expect{kind: KindService, account: "contosofrag03", sev: High, tags: []string{"inferred=sv,sp,sr", TagPairedAccount}}},
		{"a stray sp=3 is not a permission",
			"sp=3\nconst t = \"sv=2022-11-02&ss=b&srt=sco&se=2030-01-01&sig=" + sig + "\"\n",
			expect{kind: KindAccount, sev: Info, tags: []string{TagMalformed, "permissions: unknown (no sp)"}, perms: []string{}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if m, ok := detectOne(t, c.in); ok {
				c.want.check(t, m)
			}
		})
	}
	// a complete token before the fragment lends it nothing
	in := "a = \"https://contosofrag05.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2030-01-01&sig=" + pctSig(4) + "\"\n" +
		"b = \"se=2030-01-01&sig=" + sig + "\"\n"
	res := New(Config{Now: specNow}).Detect([]byte(in))
	if len(res.Matches) != 2 {
		t.Fatalf("got %d matches, want 2", len(res.Matches))
	}
	expect{kind: KindService, sev: Info, tags: []string{TagMalformed}, perms: []string{}}.check(t, res.Matches[1])
}
