package github

import "github.com/sasquatch-sec/sasquatch/crawler"

// What each kind of source can say (checked at compile time).
var (
	_ crawler.CoverageReporter = gitSource{}
	_ crawler.Provenancer      = gitSource{}
	_ crawler.Tipper           = gitSource{}
	_ crawler.CoverageReporter = (*tarballSource)(nil)
	_ crawler.Provenancer      = (*tarballSource)(nil)
	_ crawler.Tipper           = unchangedSource{}
)
