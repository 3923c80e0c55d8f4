package gitscan

// API contract (owned by the gitscan implementer; cmd and crawler/github code against it):
//
//	type Config struct {
//		MaxBlobSize  int64         // largest blob scanned (default 64 MiB); bigger: *crawler.Skip "too-large"
//		MaxRepoBytes int64         // total blob bytes scanned per repository (default 8 GiB)
//		Timeout      time.Duration // per repository, clone + scan (default 1h)
//		TempDir      string        // parent of temporary clones (default os.TempDir())
//		Keep         bool          // keep the temporary bare clone
//		CacheDir     string        // clone/fetch into CacheDir/<key> instead of a temp dir, kept
//		Auth         transport.AuthMethod // go-git auth for clones (x-access-token basic auth); nil for none
//		Repo         string        // name put into Origin.Repo ("OWNER/NAME"); default the path or URL
//		SinceTips    []string      // only objects not reachable from these commits (incremental)
//		Logger       *slog.Logger
//	}
//	func Open(ctx context.Context, pathOrURL string, cfg Config) (*Repo, error)
//	func (r *Repo) Blobs(ctx context.Context) iter.Seq2[crawler.Blob, error]
//	func (r *Repo) Provenance(ctx context.Context, blobIDs []string) (map[string][]crawler.Origin, error)
//	func (r *Repo) Coverage() Coverage // after Blobs: skips, shallow, bytes, objects
//	func (r *Repo) Tips() map[string]string // ref name -> commit SHA, for the next incremental sweep
//	func (r *Repo) Close() error
