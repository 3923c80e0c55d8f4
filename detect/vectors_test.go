package detect

import (
	"slices"
	"testing"
	"time"
)

// specNow is the fixed evaluation clock of sas-spec §8.2.
var specNow = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// vector is one synthetic test vector of sas-spec §8.2. The inputs are copied
// verbatim from the spec table (V15, V35 and V42 are built from V13 and V41 as
// the spec describes); every signature is base64 of the ASCII text
// "SYNTHETIC-TEST-VECTOR-SIG-0000NN" (or "SYNTHETIC-SIG-PLUS-SLASH-01..."),
// every account name is invented.
type vector struct {
	id      string
	in      string
	now     time.Time // zero: specNow
	none    bool      // no match expected
	kind    Kind
	sev     Severity
	account string
	tags    []string // each must be in Reasons
	notTags []string // none may be in Reasons
}

var specVectors = []vector{
	{id: "V01", in: `https://contosoresearch01.blob.core.windows.net/public-models/robust/m.ckpt?sv=2020-08-04&ss=bfqt&srt=sco&sp=rwdlacupitfx&se=2051-10-06T07:09:59Z&st=2021-10-05T23:09:59Z&spr=https,http&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDE%3D`,
		kind: KindAccount, sev: Critical, account: "contosoresearch01", tags: []string{"full-control", "far-future-expiry", "issued-lifetime>1y", "http-allowed", "scope: account-wide (srt=sco)", "lifetime: >365 days"}},
	{id: "V02", in: `https://contosodata02.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&st=2026-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDI%3D`,
		kind: KindAccount, sev: Critical, account: "contosodata02", tags: []string{"permissions: read-only (read,list)"}, notTags: []string{"http-allowed"}},
	{id: "V03", in: `https://contosodata03.blob.core.windows.net/public-models/a.ckpt?sv=2019-10-10&ss=b&srt=sco&sp=rlx&se=2021-10-05T15:06:23Z&st=2020-06-10T07:06:23Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDM%3D`,
		kind: KindAccount, sev: Info, account: "contosodata03", tags: []string{"expired"}},
	{id: "V03@2020-07-20", in: `https://contosodata03.blob.core.windows.net/public-models/a.ckpt?sv=2019-10-10&ss=b&srt=sco&sp=rlx&se=2021-10-05T15:06:23Z&st=2020-06-10T07:06:23Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDM%3D`,
		now: time.Date(2020, 7, 20, 0, 0, 0, 0, time.UTC), kind: KindAccount, sev: Critical, account: "contosodata03", tags: []string{"issued-lifetime>1y", "permissions: write (read,list,delete-version)"}, notTags: []string{"expired"}},
	{id: "V04", in: `https://contosoapp04.blob.core.windows.net/?sv=2024-11-04&ss=b&srt=co&sp=rwdlac&se=2026-09-01T02:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDQ%3D`,
		kind: KindAccount, sev: High, account: "contosoapp04", tags: []string{"full-control", "no-start-time", "lifetime: <=24 hours"}},
	{id: "V05", in: `https://contosoapp05.blob.core.windows.net/?restype=service&comp=properties&sv=2021-06-08&ss=b&srt=s&sp=rwl&se=2030-06-01T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDU%3D`,
		kind: KindAccount, sev: High, account: "contosoapp05", tags: []string{"http-allowed", "no-start-time", "scope: service-level (srt=s)"}},
	{id: "V06", in: `https://contosoapp06.blob.core.windows.net/uploads?sv=2023-11-03&sr=c&sp=racwdl&se=2028-09-01T00:00:00Z&st=2026-08-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDY%3D`,
		kind: KindService, sev: High, account: "contosoapp06", tags: []string{"full-control", "issued-lifetime>1y", "scope: container (sr=c)"}},
	{id: "V07", in: `https://contosocdn07.blob.core.windows.net/public/setup.zip?sv=2022-11-02&sr=b&sp=r&se=2029-09-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDc%3D`,
		kind: KindService, sev: Low, account: "contosocdn07", tags: []string{"scope: single blob (sr=b)", "permissions: read-only (read)"}},
	{id: "V08", in: `https://contosoapp08.blob.core.windows.net/in/report.csv?sv=2025-05-05&sr=b&sp=rw&se=2026-09-01T01:00:00Z&st=2026-08-31T23:45:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDg%3D`,
		kind: KindService, sev: Low, account: "contosoapp08"},
	{id: "V09", in: `https://contosoapp09.blob.core.windows.net/logs?sv=2021-08-06&sr=c&sp=rl&se=2026-11-30T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDk%3D`,
		kind: KindService, sev: Medium, account: "contosoapp09", tags: []string{"lifetime: <=365 days"}},
	{id: "V10", in: `https://contosoapp10.blob.core.windows.net/share1?sv=2019-02-02&sr=c&si=partner-policy&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTA%3D`,
		kind: KindService, sev: Medium, account: "contosoapp10", tags: []string{"stored-policy", "needs-live-check", "http-allowed"}, notTags: []string{"malformed"}},
	{id: "V11", in: `https://contosoapp11.blob.core.windows.net/share1?sv=2019-02-02&sr=c&si=p1&sp=rwdl&se=2028-12-31T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTE%3D`,
		kind: KindService, sev: High, account: "contosoapp11", tags: []string{"stored-policy", "full-control", "http-allowed"}, notTags: []string{"needs-live-check"}},
	{id: "V12", in: `https://contosoud12.blob.core.windows.net/c1/b1.txt?sp=r&st=2026-08-31T00:00:00Z&se=2026-09-06T00:00:00Z&skoid=11111111-1111-1111-1111-111111111111&sktid=22222222-2222-2222-2222-222222222222&skt=2026-08-31T00:00:00Z&ske=2026-09-06T00:00:00Z&sks=b&skv=2022-11-02&spr=https&sv=2022-11-02&sr=b&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTI%3D`,
		kind: KindUserDelegation, sev: Low, account: "contosoud12", tags: []string{"user-delegation"}},
	{id: "V13", in: `https://contosoud13.blob.core.windows.net/c1?sp=racwdl&se=2026-09-07T00:00:00Z&skoid=11111111-1111-1111-1111-111111111111&sktid=22222222-2222-2222-2222-222222222222&skt=2026-08-31T00:00:00Z&ske=2026-09-07T00:00:00Z&sks=b&skv=2024-11-04&sv=2024-11-04&sr=c&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTM%3D`,
		kind: KindUserDelegation, sev: Medium, account: "contosoud13", tags: []string{"full-control", "http-allowed", "user-delegation"}},
	{id: "V14", in: `https://contosoud14.blob.core.windows.net/c1?sp=rw&se=2030-01-01T00:00:00Z&skoid=11111111-1111-1111-1111-111111111111&sktid=22222222-2222-2222-2222-222222222222&skt=2026-08-28T00:00:00Z&ske=2026-09-04T00:00:00Z&sks=b&skv=2024-11-04&sv=2024-11-04&sr=c&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTQ%3D`,
		kind: KindUserDelegation, sev: Medium, account: "contosoud14", tags: []string{"se-exceeds-key-expiry", "lifetime: <=30 days"}},
	{id: "V15", in: `https://contosoud15.blob.core.windows.net/c1?sp=racwdl&se=2026-09-05T00:00:00Z&skoid=11111111-1111-1111-1111-111111111111&sktid=22222222-2222-2222-2222-222222222222&skt=2026-08-24T00:00:00Z&ske=2026-08-31T00:00:00Z&sks=b&skv=2024-11-04&sv=2024-11-04&sr=c&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTU%3D`,
		kind: KindUserDelegation, sev: Info, account: "contosoud15", tags: []string{"expired"}},
	{id: "V16", in: `https://contosoold16.blob.core.windows.net/?sv=2021-04-10&ss=bfqt&srt=sco&sp=rwdlacupx&se=2023-04-01T00:00:00Z&st=2022-04-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTY%3D`,
		kind: KindAccount, sev: Info, account: "contosoold16", tags: []string{"expired", "full-control"}},
	{id: "V17", in: `https://contosoip17.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2031-01-01T00:00:00Z&sip=203.0.113.7&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTc%3D`,
		kind: KindAccount, sev: High, account: "contosoip17", tags: []string{"ip-restricted", "full-control"}},
	{id: "V18", in: `https://contosoip18.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rwdl&se=2031-01-01T00:00:00Z&sip=0.0.0.0-255.255.255.255&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTg%3D`,
		kind: KindAccount, sev: Critical, account: "contosoip18", tags: []string{"ip-restriction-ineffective"}, notTags: []string{"ip-restricted"}},
	{id: "V19", in: `http://127.0.0.1:10000/devstoreaccount1/test?sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMTk%3D`,
		kind: KindAccount, sev: Info, account: "devstoreaccount1", tags: []string{"emulator"}},
	{id: "V20", in: `http://devstoreaccount1.blob.localhost:10000/test/a.txt?sv=2021-10-04&sr=b&sp=rw&se=2099-01-01T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjA%3D`,
		kind: KindService, sev: Info, account: "devstoreaccount1", tags: []string{"emulator"}},
	{id: "V21", in: `https://contosocn21.blob.core.chinacloudapi.cn/?sv=2021-12-02&ss=bf&srt=co&sp=rwdl&se=2040-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjE%3D`,
		kind: KindAccount, sev: Critical, account: "contosocn21", tags: []string{"cloud=china", "full-control"}},
	{id: "V22", in: `https://contosogov22.file.core.usgovcloudapi.net/share1?sv=2020-08-04&sr=s&sp=rcwdl&se=2027-10-06T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjI%3D`,
		kind: KindService, sev: High, account: "contosogov22", tags: []string{"cloud=usgov", "full-control", "scope: share (sr=s)"}},
	{id: "V23", in: `https://contosode23.blob.core.cloudapi.de/?sv=2019-02-02&ss=b&srt=sco&sp=rwdl&se=2040-01-01T00:00:00Z&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjM%3D`,
		kind: KindAccount, sev: Info, account: "contosode23", tags: []string{"retired-cloud"}},
	{id: "V24", in: `BlobEndpoint=https://contosoapp24.blob.core.windows.net;QueueEndpoint=https://contosoapp24.queue.core.windows.net;SharedAccessSignature=sv=2022-11-02&ss=bq&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjQ%3D`,
		kind: KindAccount, sev: Critical, account: "contosoapp24", tags: []string{"connection-string", "full-control", "no-start-time"}},
	{id: "V25", in: `BlobEndpoint=https://contosoapp25.blob.core.windows.net;SharedAccessSignature=sv=2015-07-08&amp;sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjU%3D&amp;spr=https&amp;st=2026-08-01T00%3A00%3A00Z&amp;se=2026-12-01T00%3A00%3A00Z&amp;srt=s&amp;ss=bf&amp;sp=rwl`,
		kind: KindAccount, sev: High, account: "contosoapp25", tags: []string{"html-escaped", "connection-string"}},
	{id: "V26", in: `"source": ["url = \"https://contosonb26.blob.core.windows.net/data?sv=2021-06-08\u0026ss=b\u0026srt=co\u0026sp=rl\u0026se=2027-12-31T00:00:00Z\u0026sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjY%3D\"\n"]`,
		kind: KindAccount, sev: Critical, account: "contosonb26", tags: []string{"json-escaped", "ipynb", "http-allowed"}},
	{id: "V27", in: `https://example.org/dl?target=https%3A%2F%2Fcontosoenc27.blob.core.windows.net%2Fc1%2Ff.bin%3Fsv%3D2022-11-02%26sr%3Db%26sp%3Dr%26se%3D2026-09-01T06%253A00%253A00Z%26spr%3Dhttps%26sig%3DU1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjc%253D`,
		kind: KindService, sev: Low, account: "contosoenc27", tags: []string{"double-url-encoded", "lifetime: <=24 hours"}},
	{id: "V28", in: "SAS_URL = (\"https://contosopy28.blob.core.windows.net\"\n           \"/models/{}?sv=2020-08-04&ss=b&srt=sco&sp=rlx\"\n           \"&se=2031-01-01T00:00:00Z&st=2021-01-01T00:00:00Z&spr=https\"\n           \"&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjg%3D\")\n",
		kind: KindAccount, sev: Critical, account: "contosopy28", tags: []string{"split-string", "issued-lifetime>1y"}},
	{id: "V29", in: `azcopy copy "https://contosoaz29.blob.core.windows.net/backups?sv=2023-11-03&sr=c&sp=racwdl&se=2026-09-20T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMjk%3D" ./restore --recursive`,
		kind: KindService, sev: Medium, account: "contosoaz29", tags: []string{"full-control"}},
	{id: "V30", in: `?sv=2019-12-12&ss=bfqt&srt=sco&sp=rwdlacupx&se=2028-10-08T09:31:33Z&st=2020-10-08T01:31:33Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMzA%3D`,
		kind: KindAccount, sev: Critical, account: "", tags: []string{"no-endpoint", "issued-lifetime>1y", "full-control"}},
	{id: "V31", in: `svc = TableServiceClient(endpoint="https://contosotb31.table.core.windows.net", credential=AzureSasCredential("sv=2024-11-04&ss=t&srt=o&sp=rau&se=2027-06-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMzE%3D"))`,
		kind: KindAccount, sev: Critical, account: "contosotb31", tags: []string{"paired-endpoint"}, notTags: []string{"no-endpoint"}},
	{id: "V32", in: `https://contosotbl32.table.core.windows.net/Orders?sv=2019-02-02&tn=orders&sp=raud&se=2029-01-01T00:00:00Z&spk=cust001&epk=cust001&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMzI%3D`,
		kind: KindService, sev: Medium, account: "contosotbl32", tags: []string{"http-allowed", "scope: single table partition (spk=epk)"}},
	{id: "V33", in: `https://contosoq33.queue.core.windows.net/jobs?sv=2021-08-06&sp=raup&se=2027-03-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMzM%3D`,
		kind: KindService, sev: High, account: "contosoq33", tags: []string{"scope: queue", "permissions: write (read,add,update,process)"}},
	{id: "V34", in: `https://contosodl34.dfs.core.windows.net/fs1/raw/2024?sv=2020-02-10&sr=d&sdd=2&sp=racwdlmeop&se=2027-09-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMzQ%3D`,
		kind: KindService, sev: High, account: "contosodl34", tags: []string{"full-control", "scope: directory (sr=d)"}},
	{id: "V35", in: `https://contosoud35.blob.core.windows.net/c1?sp=racwdl&se=2026-09-07T00:00:00Z&skoid=11111111-1111-1111-1111-111111111111&sktid=22222222-2222-2222-2222-222222222222&skt=2026-08-31T00:00:00Z&ske=2026-09-07T00:00:00Z&sks=b&skv=2025-07-05&sv=2025-07-05&sr=c&skdutid=22222222-2222-2222-2222-222222222222&sduoid=33333333-3333-3333-3333-333333333333&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMzU%3D`,
		kind: KindUserDelegation, sev: Low, account: "contosoud35", tags: []string{"user-bound"}},
	{id: "V36", in: `https://contosoweb36.blob.core.windows.net/$web/index.html?sv=2022-11-02&timeout=30`, none: true},
	{id: "V37", in: `https://contosopl37.privatelink.blob.core.windows.net/c1?sv=2022-11-02&sr=c&sp=rl&se=2027-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMzc%3D`,
		kind: KindService, sev: Medium, account: "contosopl37", tags: []string{"private-link"}},
	{id: "V38", in: `DefaultEndpointsProtocol=https;AccountName=contosokey38;AccountKey=U1lOVEhFVElDLUZBS0UtQUNDT1VOVC1LRVktTk9ULUEtUkVBTC1TRUNSRVQtMDAwMDAwMDAwMDAwMDAwMDAwMA==;EndpointSuffix=core.windows.net`,
		kind: KindAccountKey, sev: Critical, account: "contosokey38", tags: []string{"connection-string", "kind: account-key"}},
	{id: "V39", in: `DefaultEndpointsProtocol=https;AccountName=contosokey39;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==`,
		kind: KindAccountKey, sev: Info, account: "contosokey39", tags: []string{"emulator-well-known-key"}},
	{id: "V40", in: `https://contosorag40-secondary.blob.core.windows.net/c1?sv=2022-11-02&sr=c&sp=rl&se=2029-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwNDA%3D`,
		kind: KindService, sev: Medium, account: "contosorag40", tags: []string{"secondary-endpoint"}},
	{id: "V41", in: `https://contososig41.blob.core.windows.net/c1/f.txt?sv=2022-11-02&sr=b&sp=rcw&se=2028-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVNJRy1QTFVTLVNMQVNILTAx%2B%2B%2B%2B%2F%2F8%3D`,
		kind: KindService, sev: Medium, account: "contososig41", notTags: []string{"sig-unencoded-plus"}},
	{id: "V42", in: `https://contososig42.blob.core.windows.net/c1/f.txt?sv=2022-11-02&sr=b&sp=rcw&se=2028-01-01T00:00:00Z&spr=https&sig=U1lOVEhFVElDLVNJRy1QTFVTLVNMQVNILTAx++++//8=`,
		kind: KindService, sev: Medium, account: "contososig42", tags: []string{"sig-unencoded-plus"}},
	{id: "V43", in: `https://contosofut43.blob.core.windows.net/?sv=2023-08-03&ss=b&srt=sco&sp=rl&st=2027-01-01T00:00:00Z&se=2027-02-01T00:00:00Z&spr=https&ses=scope1&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwNDM%3D`,
		kind: KindAccount, sev: High, account: "contosofut43", tags: []string{"not-yet-valid", "encryption-scope"}},
	{id: "V44", in: `https://contosomal44.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sig=U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwNDQ%3D`,
		kind: KindAccount, sev: Info, account: "contosomal44", tags: []string{"malformed"}},
}

func TestSpecVectors(t *testing.T) {
	t.Parallel()
	for _, v := range specVectors {
		t.Run(v.id, func(t *testing.T) {
			t.Parallel()
			now := v.now
			if now.IsZero() {
				now = specNow
			}
			d := New(Config{Now: now})
			res := d.Detect([]byte(v.in))
			if v.none {
				if len(res.Matches) != 0 {
					t.Fatalf("got %d matches, want none: %v", len(res.Matches), res.Matches)
				}
				return
			}
			if len(res.Matches) != 1 {
				t.Fatalf("got %d matches (rejected %d), want 1: %+v", len(res.Matches), res.Rejected, res.Matches)
			}
			m := res.Matches[0]
			if m.Token.Kind != v.kind || m.Severity != v.sev || m.Token.Account != v.account {
				t.Errorf("got kind=%s severity=%s account=%q, want %s %s %q; reasons %q",
					m.Token.Kind, m.Severity, m.Token.Account, v.kind, v.sev, v.account, m.Reasons)
			}
			for _, tag := range v.tags {
				if !slices.Contains(m.Reasons, tag) {
					t.Errorf("reason %q missing from %q", tag, m.Reasons)
				}
			}
			for _, tag := range v.notTags {
				if slices.Contains(m.Reasons, tag) {
					t.Errorf("reason %q present in %q", tag, m.Reasons)
				}
			}
			if m.Start < 0 || m.End > len(v.in) || m.Start >= m.End {
				t.Errorf("bad span [%d,%d) for input of %d bytes", m.Start, m.End, len(v.in))
			}
			if m.Fingerprint != Fingerprint(m.Token.Signature.Reveal()) {
				t.Errorf("fingerprint mismatch")
			}
			if m.Expired != slices.Contains(m.Reasons, "expired") {
				t.Errorf("Expired=%v but reasons %q", m.Expired, m.Reasons)
			}
		})
	}
}
