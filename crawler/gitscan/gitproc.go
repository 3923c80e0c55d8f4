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
// the repository may run a program or redirect object reads.
var hardenedArgs = []string{
	"-c", "core.hooksPath=/dev/null",
	"-c", "core.fsmonitor=false",
	"-c", "core.untrackedCache=false",
	"-c", "core.sshCommand=false",
	"-c", "core.askPass=",
	"-c", "credential.helper=",
	"-c", "protocol.allow=never",
	"-c", "protocol.https.allow=always",
	"-c", "protocol.http.allow=always",
	"-c", "protocol.ext.allow=never",
	"-c", "protocol.file.allow=never",
	"-c", "core.alternateRefsCommand=",
	"-c", "uploadpack.packObjectsHook=",
	"-c", "gpg.program=false",
	"-c", "log.showSignature=false",
	"-c", "i18n.logOutputEncoding=UTF-8",
	"--no-replace-objects",
}

// command returns a hardened git command on the repository: a minimal
// environment (empty HOME, no system or global config, no prompts, no
// replace objects, http/https only) and the overrides in hardenedArgs.
// Secrets are never passed on its command line.
func (r *Repo) command(ctx context.Context, args ...string) *exec.Cmd {
	full := make([]string, 0, len(hardenedArgs)+2+len(args))
	full = append(full, hardenedArgs...)
	full = append(full, "--git-dir="+r.gitDir)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, r.git, full...)
	cmd.Dir = r.gitDir
	cmd.Env = []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + r.home,
		"XDG_CONFIG_HOME=" + r.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_GRAFT_FILE=/nonexistent/sasquatch-no-grafts", // info/grafts could hide history
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ALLOW_PROTOCOL=http:https",
		"GIT_OPTIONAL_LOCKS=0",
		"GIT_ATTR_NOSYSTEM=1",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"LC_ALL=C",
	}
	cmd.WaitDelay = waitDelay
	// Its own process group: a Ctrl-C on the terminal reaches sasquatch,
	// which cancels ctx and stops git cleanly, instead of killing git first
	// and making an interrupted read look like a corrupt object.
	ownProcessGroup(cmd)
	return cmd
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

	bulk      *exec.Cmd // cat-file --batch for readMany, started lazily
	bulkIn    *bufio.Writer
	bulkClose io.Closer
	bulkOut   *bufio.Reader
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
	if (*cmd).Process != nil {
		(*cmd).Process.Kill()
	}
	(*cmd).Wait()
	*cmd = nil
}

func (c *catFile) close() error { c.stop(); c.stopBulk(); return nil }

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

// readHeader reads "<oid> <type> <size>\n" or "<oid> missing\n".
func readHeader(br *bufio.Reader, oid string) (string, int64, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", 0, err
	}
	f := strings.Fields(string(line))
	if len(f) == 2 && f[1] == "missing" || len(f) == 2 && f[1] == "ambiguous" {
		return "", 0, errMissing
	}
	if len(f) != 3 || (oid != "" && f[0] != oid) {
		return "", 0, fmt.Errorf("unexpected cat-file header %q", truncate(string(line), 100))
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return "", 0, fmt.Errorf("bad object size in %q", truncate(string(line), 100))
	}
	return f[1], size, nil
}

func readBody(br *bufio.Reader, size int64) ([]byte, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(br, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if b, err := br.ReadByte(); err != nil || b != '\n' {
		return nil, errors.New("object not terminated by newline")
	}
	return data, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "?")
}

func validOID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// maxBatch bounds the IDs written to cat-file --batch before reading the
// answers: 1000 lines of 41 bytes fit in a pipe buffer, so writing never
// blocks on git's full stdout.
const maxBatch = 1000

// readMany reads small objects (trees, commits) in batches through a
// `git cat-file --batch` process: one round trip per batch instead of per
// object, and fn runs on each object as it arrives, while git produces the
// next. fn gets data or err; data is only valid during the call. Objects
// larger than max are read and discarded, with an error. After a failure
// the rest of the batch is read one object at a time.
func (c *catFile) readMany(oids []string, max int64, fn func(i int, typ string, data []byte, err error)) {
	for lo := 0; lo < len(oids); lo += maxBatch {
		hi := min(lo+maxBatch, len(oids))
		c.batch(oids[lo:hi], max, func(i int, typ string, data []byte, err error) { fn(lo+i, typ, data, err) })
	}
}

func (c *catFile) batch(oids []string, max int64, fn func(i int, typ string, data []byte, err error)) {
	done := 0
	defer func() {
		for i := done; i < len(oids); i++ {
			typ, _, data, err := c.read(oids[i], max)
			if err == nil && data == nil {
				err = fmt.Errorf("object of type %s too large", typ)
			}
			fn(i, typ, data, err)
		}
	}()
	if c.bulk == nil {
		if err := c.startBulk(); err != nil {
			return
		}
	}
	for _, oid := range oids {
		if !validOID(oid) {
			return
		}
		c.bulkIn.WriteString(oid)
		c.bulkIn.WriteByte('\n')
	}
	if err := c.bulkIn.Flush(); err != nil {
		c.stopBulk()
		return
	}
	var buf []byte
	for i, oid := range oids {
		typ, size, err := readHeader(c.bulkOut, oid)
		if errors.Is(err, errMissing) {
			done = i + 1
			fn(i, "", nil, err)
			continue
		}
		if err != nil {
			c.stopBulk()
			return
		}
		if size > max {
			if _, err := io.CopyN(io.Discard, c.bulkOut, size+1); err != nil {
				c.stopBulk()
				return
			}
			done = i + 1
			fn(i, typ, nil, fmt.Errorf("%s %s of %d bytes is too large", typ, oid, size))
			continue
		}
		if int64(cap(buf)) < size+1 {
			buf = make([]byte, size+1)
		}
		buf = buf[:size+1]
		if _, err := io.ReadFull(c.bulkOut, buf); err != nil || buf[size] != '\n' {
			c.stopBulk()
			return
		}
		done = i + 1
		fn(i, typ, buf[:size], nil)
	}
}

func (c *catFile) startBulk() error {
	cmd := c.r.command(c.ctx, "cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = &tailBuffer{max: 1024}
	if err := cmd.Start(); err != nil {
		return err
	}
	c.bulk, c.bulkIn, c.bulkClose, c.bulkOut = cmd, bufio.NewWriterSize(in, 64<<10), in, bufio.NewReaderSize(out, 256<<10)
	return nil
}

func (c *catFile) stopBulk() {
	stopProcess(&c.bulk, c.bulkClose)
}
