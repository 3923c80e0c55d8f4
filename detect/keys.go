package detect

import (
	"strings"
)

// Account keys: AccountKey= in a connection string (percent-encoded or not,
// any case), and a value with the shape of a key (86 base64 characters and
// "==") assigned to a key name: az --account-key, AZURE_STORAGE_KEY=,
// storage_account_key / primary_access_key (Terraform), accountKey: (JSON,
// YAML), "value" of `az storage account keys list`. A Cosmos DB key in the
// same forms is not a storage key.

// cosmosEmulatorKey is the published key of the Azure Cosmos DB emulator
// (localhost:8081): public documentation, not a secret, and never a storage key.
const cosmosEmulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

func isB64Byte(c byte) bool { return isB64Char(c) || c == '=' }

func isConnByte(c byte) bool {
	return !isSpace(c) && c != '"' && c != '\'' && c != '`' && c != '<' && c != '>' && c != 0
}

// cosmosHints mark the text around a key as Cosmos DB's: its endpoint
// (AccountEndpoint=https://x.documents.azure.com:443/), its Table API host,
// its emulator's address. Not the word "cosmos" alone: a settings file may
// name a Cosmos database next to a storage key.
var cosmosHints = []string{"accountendpoint", ".documents.azure.com", ".cosmos.azure.com", "localhost:8081", "127.0.0.1:8081"}

func isCosmos(b []byte) bool {
	for _, h := range cosmosHints {
		if indexFold(b, 0, h) >= 0 {
			return true
		}
	}
	return false
}

// keyCtx is what pairing a key needs from its region: endpoints and account
// names, found once per region when first needed.
type keyCtx struct {
	b     []byte
	eps   []endpoint
	names []accountName
	done  bool
}

func (c *keyCtx) load() {
	if !c.done {
		c.eps, c.names, c.done = findEndpoints(c.b, maxEndpoints), findAccountNames(c.b, maxAccountNames), true
	}
}

// pair gives a key without an account the account or endpoint named
// nearest to [s, e), as for a bare SAS.
func (c *keyCtx) pair(tok *Token, s, e int) (tags []string) {
	c.load()
	r := rawSAS{qs: s, qe: e}
	r.pairContext(c.b, c.eps, c.names)
	switch {
	case r.hasHost:
		tok.Host, tok.Cloud = r.host.host, r.host.cloud
		if tok.Account = r.host.account; r.account != "" {
			tok.Account = r.account
		}
		if r.pairedAcct {
			tags = append(tags, TagPairedAccount)
		}
		tags = append(tags, TagPairedEndpoint)
	case r.account != "":
		tok.Account = r.account
		tags = append(tags, TagPairedAccount)
	}
	return tags
}

// addKey handles the AccountKey= at i; it returns the end of the key.
func (st *state) addKey(t *text, kc *keyCtx, i int) (int, bool) {
	b := t.b
	vs := i + len("accountkey=")
	ve := vs
	for ve < len(b) && isB64Byte(b[ve]) && ve-vs < 256 {
		ve++
	}
	key := string(b[vs:ve])
	if why := rejectKey(key); why != "" {
		st.reject(why, "AccountKey="+Redacted)
		return ve, true
	}
	cs := i
	for cs > 0 && isConnByte(b[cs-1]) && i-cs < maxConnLen {
		cs--
	}
	ce := ve
	for ce < len(b) && isConnByte(b[ce]) && ce-ve < maxConnLen {
		ce++
	}
	// a connection string percent-encoded as a whole keeps its ';' encoded
	// (normalisation leaves the bytes that end a value encoded)
	unsemi := strings.NewReplacer("%3B", ";", "%3b", ";")
	pairs := connPairs([]byte(unsemi.Replace(string(b[cs:ce]))), nil)
	if key == cosmosEmulatorKey || connValue(pairs, "accountendpoint") != "" || isCosmos(b[cs:ce]) {
		// Cosmos DB: AccountEndpoint=https://x.documents.azure.com:443/;AccountKey=...
		st.reject("cosmos-db", "AccountKey="+Redacted)
		return ve, true
	}
	tok := Token{Kind: KindAccountKey, Cloud: CloudNone}
	if a := strings.ToLower(connValue(pairs, "accountname")); ValidAccount(a) {
		tok.Account = a
	}
	endpoint := connValue(pairs, "blobendpoint")
	for _, svc := range []string{"queue", "table", "file"} {
		if endpoint == "" {
			endpoint = connValue(pairs, svc+"endpoint")
		}
	}
	if endpoint != "" {
		u := endpoint
		if k := strings.Index(u, "://"); k >= 0 {
			u = u[k+3:]
		}
		h, p, _ := strings.Cut(u, "/")
		h = strings.ToLower(h)
		if validHost(h) {
			hi := parseHost(h, "/"+p)
			tok.Host, tok.Cloud = hi.host, hi.cloud
			if tok.Account == "" {
				tok.Account = hi.account
			}
		}
	}
	if tok.Host == "" && tok.Account != "" && tok.Account != devStoreAccount {
		// the default endpoint of the connection string's account
		suffix := strings.ToLower(connValue(pairs, "endpointsuffix"))
		if suffix == "" {
			suffix = "core.windows.net"
		}
		h := tok.Account + ".blob." + strings.TrimPrefix(suffix, ".")
		if !validHost(h) { // an unusable EndpointSuffix counts as absent
			h = tok.Account + ".blob.core.windows.net"
		}
		if validHost(h) {
			hi := parseHost(h, "")
			tok.Host, tok.Cloud = hi.host, hi.cloud
		}
	}
	var tags []string
	if tok.Account == "" && tok.Host == "" {
		tags = kc.pair(&tok, cs, ce)
	}
	st.addKeyMatch(t, &tok, key, cs, ce, unsemi.Replace(string(b[cs:vs])+Redacted+string(b[ve:ce])), true, tags)
	// the end of the key, not of the connection string: a SharedAccessSignature=
	// after the key in the same connection string is a credential of its own
	return ve, true
}

// keyName returns the name a value starting at ks is assigned to, and
// where the name starts: name = "KEY", name: KEY, "name": "KEY",
// --flag KEY, name => "KEY". The name is normalised (normKey).
func keyName(b []byte, ks int) (string, int, bool) {
	j := ks
	if j > 0 && isQuote(b[j-1]) {
		j--
	}
	blanks := func() int {
		n := 0
		for j > 0 && (b[j-1] == ' ' || b[j-1] == '\t') && n < 16 {
			j--
			n++
		}
		return n
	}
	sp := blanks()
	switch {
	case j > 1 && b[j-1] == '>' && b[j-2] == '=':
		j -= 2
	case j > 0 && (b[j-1] == '=' || b[j-1] == ':'):
		j--
	case sp > 0: // a command-line flag: --account-key KEY
	default:
		return "", 0, false
	}
	blanks()
	if j > 0 && isQuote(b[j-1]) {
		j--
	}
	ie := j
	for j > 0 && isKeyByte(b[j-1]) && ie-j < 64 {
		j--
	}
	if j == ie {
		return "", 0, false
	}
	if sp > 0 && ie == ks-sp && b[j] != '-' {
		return "", 0, false // "name KEY" without a separator is a flag only
	}
	return normKey(b[j:ie]), j, true
}

// storageKeyName reports a name that holds a storage account key, given
// the text around it (a generic name such as primary_access_key is a
// storage key only near a storage hint: Azure Batch and Maps use it too).
func storageKeyName(name string, around []byte) bool {
	for _, other := range otherServices {
		if strings.Contains(name, other) {
			return false
		}
	}
	switch {
	case strings.HasSuffix(name, "accountkey"), strings.HasSuffix(name, "storagekey"):
		return true
	case strings.HasSuffix(name, "accesskey"):
		return indexFold(around, 0, "storage") >= 0 || indexFold(around, 0, ".core.windows.net") >= 0
	case name == "value":
		// `az storage account keys list`: {"keyName": "key1", "value": "..."}
		return indexFold(around, 0, `"keyname"`) >= 0
	}
	return false
}

// otherServices name Azure services whose keys have the shape of a storage
// key (Batch and Cosmos DB keys are 64 bytes too): batchAccountKey is not a
// storage key.
var otherServices = []string{"cosmos", "documentdb", "mongo", "cassandra", "gremlin", "batch", "redis", "servicebus",
	"eventhub", "signalr", "relay", "iothub", "maps", "search", "cognitive", "openai", "communication", "media"}

// keyAround is how much text around a key is searched for hints.
const keyAround = 256

// addContextKey handles a value with the shape of an account key that
// ends at e (its "==" padding); it returns the end of the key.
func (st *state) addContextKey(t *text, kc *keyCtx, e int) (int, bool) {
	b := t.b
	ks, ok := keyShapeEnd(b, e)
	if !ok {
		return 0, false
	}
	name, ns, ok := keyName(b, ks)
	if !ok {
		return 0, false
	}
	around := b[max(0, ks-keyAround):min(len(b), e+keyAround)]
	if !storageKeyName(name, around) {
		return 0, false
	}
	st.budget--
	key := string(b[ks:e])
	if why := rejectKey(key); why != "" {
		st.reject(why, name+"="+Redacted)
		return e, true
	}
	if key == cosmosEmulatorKey || isCosmos(around) {
		st.reject("cosmos-db", name+"="+Redacted)
		return e, true
	}
	ce := e
	if ns > 0 && isQuote(b[ns-1]) && ce < len(b) && b[ce] == b[ns-1] {
		ns-- // "primary_access_key": "...": the name's quotes are part of the occurrence
	}
	if ce < len(b) && isQuote(b[ce]) {
		ce++
	}
	tok := Token{Kind: KindAccountKey, Cloud: CloudNone}
	tags := kc.pair(&tok, ns, ce)
	st.addKeyMatch(t, &tok, key, ns, ce, string(b[ns:ks])+Redacted+string(b[e:ce]), false, tags)
	return e, true
}

// addKeyMatch completes tok, an account key found in t.b[s:e] (a connection
// string when inConn, else a name and its value), and adds its match.
// redacted is the occurrence with the key replaced by Redacted.
func (st *state) addKeyMatch(t *text, tok *Token, key string, s, e int, redacted string, inConn bool, tags []string) {
	tok.Signature = NewSecret(key)
	tok.Redacted = maskValues(redacted)
	tok.Query = NewSecret(string(t.b[s:e]))
	sev, reasons := classifyKey(tok, key, inConn, t.flags(s, e), tags)
	st.add(Match{
		Start:       t.origStart(s),
		End:         t.origEnd(e - 1),
		Token:       *tok,
		Severity:    sev,
		Reasons:     reasons,
		Fingerprint: Fingerprint(key),
	})
}
