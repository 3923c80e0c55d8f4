// Package verify asks Azure Storage whether a leaked SAS token still works,
// without doing harm: the opt-in, networked liveness check behind --verify
// (sas-spec §6, §7.5; reliability §4.3).
//
// Contract. Input: a [detect.Token] and its match's Expired flag. Output: a
// [Result] (liveness, Azure error code, HTTP status, the redacted probe), and
// [Adjust] turns a Result into the finding's new severity and reasons. The
// package imports detect; detect never imports it. A [Verifier] is safe for
// concurrent use and is meant to live for one run. [Verifier.Check] never
// returns an error: every failure is a Liveness.
//
// What is sent: at most one request per token (per fingerprint, per
// Verifier), built by this package from the parsed token, never the URL that
// was found. The path is the token's own container, blob, queue, share or
// table (nothing for an account SAS); the query is the token's SAS
// parameters, rebuilt from the parsed values (known SAS keys only), plus the
// fixed parameters of one metadata-level operation:
//
//	account SAS, blob or dfs host    HEAD /?restype=account&comp=properties   (Get Account Information)
//	account SAS, sv < 2018-03-28     GET  /?restype=service&comp=properties   (Get Service Properties)
//	account SAS, queue/table/file    GET  /?restype=service&comp=properties   (Get Service Properties)
//	container SAS (sr=c)             HEAD /CONTAINER?restype=account&comp=properties
//	directory SAS (sr=d)             HEAD /CONTAINER/DIR?restype=account&comp=properties
//	blob SAS (sr=b, bs, bv)          HEAD /CONTAINER/BLOB?restype=account&comp=properties[&snapshot=|&versionid=]
//	share SAS (sr=s)                 HEAD /SHARE?restype=share                (Get Share Properties)
//	file SAS (sr=f)                  HEAD /SHARE/PATH                         (Get File Properties: headers only)
//	queue SAS                        HEAD /QUEUE?comp=metadata                (Get Queue Metadata)
//	table SAS                        GET  /TABLE()?$filter=PartitionKey eq '<random>'&$top=1  (matches nothing)
//
// Only HEAD and GET ever leave the package (a guard on the transport refuses
// anything else, and any request body); no blob or file body is downloaded,
// queue messages are never read (Get Messages dequeues; Peek reads data), no
// write of any kind is made. Get Account Information answers with the SKU and
// account kind only. Response bodies are not read, except at most 4 KiB of an
// error body to find the error code; nothing of a body is kept. A dfs host is
// probed on the same account's blob host; a static-website host is never
// contacted; an account key is never used to sign anything (NotChecked).
//
// Where it goes: only to the host the token was found attached to, and only
// when that host is an Azure Storage endpoint of the token's own account:
// {account}[-secondary].{blob,dfs,file,queue,table}.core.windows.net, the
// same under core.chinacloudapi.cn, core.usgovcloudapi.net and the retired
// core.cloudapi.de, and {account}.zNN.{service}.storage.azure.net; https on
// port 443 only. A token without a host, or with any other host (an IP,
// localhost, an emulator, private link, a custom domain, evil.example.com),
// is NotChecked and nothing is sent. Names are resolved by the package, and
// every resolved address is checked twice, before dialing and in the
// net.Dialer's Control hook (which sees the exact IP after DNS, before
// connect(2)): loopback, private (RFC 1918, IPv6 ULA), link-local (IMDS),
// CGNAT, multicast, unspecified, reserved, documentation and
// address-embedding (NAT64, 6to4, Teredo) ranges and Azure's 168.63.129.16
// are refused. Redirects are never followed (a 3xx is the answer, Unknown);
// no proxy from the environment is used. The only way to reach any other
// address is Config.Endpoint (--verify-endpoint), which sends every probe to
// one base URL that the user names (an emulator, a private endpoint), and
// only probes of the account that base names ([New] refuses a base that
// names no account: tokens of every account would go there).
//
// Bounded: a token already past its expiry (by its match's flag or by
// Config.Now) is Expired with no request; a token whose start is more than
// 15 minutes ahead is not probed. At most Config.PerAccountPerMinute probes (default 3) go to one
// account in any rolling minute; the rest wait their turn, none is dropped.
// Each probe has a timeout (default 10 s; connect and TLS at most 5 s) and a
// 64 KiB response-header limit.
//
// Secrets: the signature is only ever in the request URL on the wire. Result,
// log records and errors carry the probe with sig=REDACTED; the error code
// is sanitised (an identifier of at most 64 characters) so an answer cannot
// smuggle text into a report.
//
// Reading answers (sas-spec §6.3, §6.4): 2xx and 403 Authorization
// {Permission,ResourceType,Service,Protocol}Mismatch are Live (the service
// checks the signature and the time before permissions);
// AuthorizationSourceIPMismatch is LiveIPRestricted; AuthenticationFailed is
// RevokedOrInvalid, or Expired when the detail says so;
// KeyBasedAuthenticationNotPermitted is Dormant; a name that does not resolve
// is AccountGone. 403 AuthorizationFailure is Unknown and never Live: Azure
// sends it for a firewall or private endpoint, Azurite for a bad signature
// and for an expired token alike. 404 ResourceNotFound is Unknown too
// (Azurite sends it for an unknown account before authenticating), while
// ContainerNotFound, BlobNotFound and the like are Live (resource missing).
package verify
