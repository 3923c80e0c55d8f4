package report

// CodeSpan returns s as a Markdown code span exactly as the Markdown sink
// writes repository-controlled values: verbatim, fenced by one more backtick
// than the longest backtick run in s, padded when it starts or ends with a
// backtick or a space, and Go-quoted when it holds a control character (a
// newline would end the span). Inside it nothing is a link, a mention, an
// emphasis or HTML. It returns "(empty)" for "". Safe for concurrent use;
// GitHub issue bodies (package filing) use it for every such value.
func CodeSpan(s string) string { return codeSpan(s) }
