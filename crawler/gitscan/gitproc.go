package gitscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

var (
	gitOnce sync.Once
	gitPath string
)

// gitProgram returns the path of a usable git program (2.36 or later, for
// cat-file --batch-command), or "" when there is none.
func gitProgram() string {
	gitOnce.Do(func() {
		p, err := exec.LookPath("git")
		if err != nil {
			return
		}
		cmd := exec.Command(p, "version")
		cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=/nonexistent"}
		out, err := cmd.Output()
		if err != nil {
			return
		}
		if gitVersionOK(string(out)) {
			gitPath = p
		}
	})
	return gitPath
}

func gitVersionOK(s string) bool {
	f := strings.Fields(s) // "git version 2.39.5"
	if len(f) < 3 {
		return false
	}
	parts := strings.SplitN(f[2], ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return maj > 2 || (maj == 2 && min >= 36)
}

// hardenedArgs are given before every git subcommand: nothing configured in
// the repository may run a program, redirect object reads or reach a
// network. Local reads allow no protocol at all (a partial clone's promisor
// remote is never contacted); a clone or fetch allows only its own scheme
// (see [Repo.cloneCommand]).
var hardenedArgs = []string{
	"-c", "core.hooksPath=/dev/null",
	"-c", "core.fsmonitor=false",
	"-c", "core.untrackedCache=false",
	"-c", "core.sshCommand=false",
	"-c", "core.askPass=",
	"-c", "credential.helper=",
	"-c", "protocol.allow=never",
	"-c", "protocol.ext.allow=never",
	"-c", "protocol.file.allow=never",
	"-c", "core.alternateRefsCommand=",
	"-c", "uploadpack.packObjectsHook=",
	"-c", "gpg.program=false",
	"-c", "log.showSignature=false",
	"-c", "i18n.logOutputEncoding=UTF-8",
	"-c", "fetch.recurseSubmodules=false",
	"--no-replace-objects",
}

// command returns a hardened git command on the repository for local reads:
// a minimal environment (empty HOME, no system or global config, no
// prompts, no replace objects, no lazy fetching, no protocol allowed) and
// the overrides in hardenedArgs. Secrets are never passed on its command
// line. Cancelling ctx kills the command's whole process group.
func (r *Repo) command(ctx context.Context, args ...string) *exec.Cmd {
	full := make([]string, 0, len(hardenedArgs)+2+len(args))
	full = append(full, hardenedArgs...)
	full = append(full, "--git-dir="+r.gitDir)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, r.git, full...)
	cmd.Dir = r.gitDir
	cmd.Env = r.baseEnv("none")
	setupProcess(cmd)
	return cmd
}

// baseEnv is the environment of every git child. allow is the
// colon-separated list of transports git may use (GIT_ALLOW_PROTOCOL takes
// precedence over any protocol.* configuration, the repository's included);
// "none" names no transport.
func (r *Repo) baseEnv(allow string) []string {
	return []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + r.home,
		"XDG_CONFIG_HOME=" + r.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_NO_LAZY_FETCH=1",                             // git 2.44+: a missing object is never fetched
		"GIT_GRAFT_FILE=/nonexistent/sasquatch-no-grafts", // info/grafts could hide history
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ALLOW_PROTOCOL=" + allow,
		"GIT_PROTOCOL_FROM_USER=0",
		"GIT_OPTIONAL_LOCKS=0",
		"GIT_ATTR_NOSYSTEM=1",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"LC_ALL=C",
	}
}

// setupProcess starts cmd in its own process group (a Ctrl-C on the terminal
// reaches sasquatch, which cancels ctx and stops git cleanly, instead of
// killing git first and making an interrupted read look like a corrupt
// object) and makes cancellation kill the whole group: git's helpers
// (remote-https, index-pack, a lazy fetch) stop with it.
func setupProcess(cmd *exec.Cmd) {
	cmd.WaitDelay = waitDelay
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd) }
}

// runGit runs a short git command and returns its standard output.
func (r *Repo) runGit(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := r.command(ctx, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	errb := &tailBuffer{max: 2048}
	cmd.Stdout, cmd.Stderr = &out, errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return out.Bytes(), fmt.Errorf("git %s: %w: %s", args[0], err, errb.String())
	}
	return out.Bytes(), nil
}

// tailBuffer keeps the last max bytes written (stderr of git, for errors).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(strings.ToValidUTF8(string(t.b), "?"))
}

// catFile reads single objects through `git cat-file --batch-command`,
// restarting the process after a failure (a corrupt object kills it).
// Not safe for concurrent use.
type catFile struct {
	r        *Repo
	ctx      context.Context
	cmd      *exec.Cmd
	in       *bufio.Writer
	inClose  io.Closer
	out      *bufio.Reader
	stderr   *tailBuffer
	restarts int
}

const maxRestarts = 1000

func (r *Repo) newCatFile(ctx context.Context) *catFile {
	return &catFile{r: r, ctx: ctx}
}

func (c *catFile) start() error {
	if c.restarts >= maxRestarts {
		return errors.New("git cat-file: too many failures")
	}
	c.restarts++
	cmd := c.r.command(c.ctx, "cat-file", "--batch-command")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	c.stderr = &tailBuffer{max: 2048}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	c.cmd, c.in, c.inClose, c.out = cmd, bufio.NewWriter(in), in, bufio.NewReaderSize(out, 64<<10)
	return nil
}

func (c *catFile) stop() {
	stopProcess(&c.cmd, c.inClose)
}

// stopProcess closes a git child's standard input, kills it and reaps it.
func stopProcess(cmd **exec.Cmd, in io.Closer) {
	if *cmd == nil {
		return
	}
	in.Close()
	killGroup(*cmd)
	(*cmd).Wait()
	*cmd = nil
}

func (c *catFile) close() error { c.stop(); return nil }

// errMissing reports an object that git cannot find or whose header it
// cannot read.
var errMissing = errors.New("object missing or unreadable")

// read returns the object's type and size, and its content when size <= max.
func (c *catFile) read(oid string, max int64) (typ string, size int64, data []byte, err error) {
	if !validOID(oid) {
		return "", 0, nil, fmt.Errorf("invalid object ID %q", oid)
	}
	if c.cmd == nil {
		if err := c.start(); err != nil {
			return "", 0, nil, err
		}
	}
	fmt.Fprintf(c.in, "info %s\n", oid)
	if err := c.in.Flush(); err != nil {
		return "", 0, nil, c.fail(err)
	}
	typ, size, err = readHeader(c.out, oid)
	if err != nil {
		if errors.Is(err, errMissing) {
			return "", 0, nil, err
		}
		return "", 0, nil, c.fail(err)
	}
	if size > max {
		return typ, size, nil, nil
	}
	fmt.Fprintf(c.in, "contents %s\n", oid)
	if err := c.in.Flush(); err != nil {
		return "", 0, nil, c.fail(err)
	}
	typ2, size2, err := readHeader(c.out, oid)
	if err != nil || typ2 != typ || size2 != size {
		if err == nil {
			err = errors.New("object changed between reads")
		}
		return "", 0, nil, c.fail(err)
	}
	data, err = readBody(c.out, size)
	if err != nil {
		return typ, size, nil, c.fail(err)
	}
	return typ, size, data, nil
}

func (c *catFile) fail(err error) error {
	if c.ctx.Err() != nil {
		c.stop()
		return c.ctx.Err()
	}
	c.stop()
	msg := ""
	if c.stderr != nil {
		msg = c.stderr.String()
	}
	if msg != "" {
		return fmt.Errorf("git cat-file: %w: %s", err, msg)
	}
	return fmt.Errorf("git cat-file: %w", err)
}

// readHeader reads "<oid> <type> <size>\n" or "<oid> missing\n" without
// allocating.
func readHeader(br *bufio.Reader, oid string) (string, int64, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", 0, err
	}
	id, rest, _ := bytes.Cut(bytes.TrimSuffix(line, []byte("\n")), []byte(" "))
	typ, sz, ok := bytes.Cut(rest, []byte(" "))
	if !ok {
		if string(typ) == "missing" || string(typ) == "ambiguous" {
			return "", 0, errMissing
		}
		return "", 0, fmt.Errorf("unexpected cat-file header %q", truncate(string(line), 100))
	}
	if oid != "" && string(id) != oid {
		return "", 0, fmt.Errorf("unexpected cat-file header %q", truncate(string(line), 100))
	}
	size, err := parseSize(sz)
	if err != nil {
		return "", 0, fmt.Errorf("bad object size in %q", truncate(string(line), 100))
	}
	return objectType(typ), size, nil
}

// parseSize parses a non-negative decimal size without allocating.
func parseSize(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 18 {
		return 0, errors.New("bad size")
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("bad size")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// objectType returns the type name as a constant string (no allocation for
// the four object types).
func objectType(b []byte) string {
	switch string(b) {
	case "blob":
		return "blob"
	case "tree":
		return "tree"
	case "commit":
		return "commit"
	case "tag":
		return "tag"
	}
	return string(b)
}

func readBody(br *bufio.Reader, size int64) ([]byte, error) {
	data := make([]byte, size)
	if err := readBodyInto(br, data); err != nil {
		return nil, err
	}
	return data, nil
}

// readBodyInto reads len(data) bytes of object content and the newline
// after them. A read at least as large as the reader's buffer goes straight
// from the pipe into data.
func readBodyInto(br *bufio.Reader, data []byte) error {
	if _, err := io.ReadFull(br, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if b, err := br.ReadByte(); err != nil || b != '\n' {
		return errors.New("object not terminated by newline")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "?")
}

// validOID reports whether s is a lower-case hex SHA-1 object ID.
func validOID[T string | []byte](s T) bool {
	if len(s) != 40 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
