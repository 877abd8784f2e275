// Command exec-shim serves Granda's hot protocol (docs/hot-functions.md) for a run-mode program: for every request it
// runs the program once, as Granda's run mode would, and answers with what it did.
//
// Usage: exec-shim -- <program> [<arg>...]
//
// Per request the program gets the payload (the request body) as its last argument when it is not empty, under
// 128 KiB and has no NUL byte (the limits of one Linux argument), and on stdin always; GRANDA_METHOD, GRANDA_PATH and
// GRANDA_QUERY say what the call was (path and query as sent, still percent-encoded). Exit 0 answers 200 with its
// stdout as text/plain; any other exit 502 with the JSON Granda answers for a failing run-mode function
// ({"error":"function_error","message","exitCode","logTail","output"}). At the request's Granda-Timeout-Ms the
// program and everything it started are killed (SIGKILL to its process group) and the answer is 502: Granda's own
// deadline decides what the caller sees. The program's stderr goes to the shim's stderr as well, so it is in the
// container's log.
//
// Without GRANDA_SOCKET the shim just becomes the program (run mode: arguments passed on), like hot-echo does.
//
// The Go functions and the shell runtime of granda-runtimes use it. It needs nothing but the standard library of
// Go 1.19 (Debian 12's), and is built with CGO_ENABLED=0 so it runs on any base image.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	maxArgumentBytes = 128 * 1024       // Linux's MAX_ARG_STRLEN, with its terminating NUL
	logTailBytes     = 4096             // how much of a failed program's stderr the 502 answer carries
	outputHeadBytes  = 4096             // ...and of its stdout
	maxOutputBytes   = 64 * 1024 * 1024 // stdout kept beyond this is dropped and the call fails: Granda's limit is lower
	leftoverWait     = 2 * time.Second  // how long output is still read after the program's process group is killed
)

func main() {
	command := os.Args[1:]
	if len(command) > 0 && command[0] == "--" {
		command = command[1:]
	}
	if len(command) == 0 {
		fatalf("usage: exec-shim -- <program> [<arg>...]")
	}
	socket := os.Getenv("GRANDA_SOCKET")
	if socket == "" {
		becomeProgram(command)
	}
	shim := &shim{command: command, name: filepath.Base(command[len(command)-1])}
	listener := listen(socket)
	stopOnSignal(socket)
	fmt.Fprintf(os.Stderr, "granda: exec-shim serving %s on %s\n", strings.Join(command, " "), socket)
	server := &http.Server{Handler: shim, MaxHeaderBytes: 64 * 1024}
	if err := server.Serve(listener); err != nil {
		fatalf("serve: %v", err)
	}
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "granda: exec-shim: "+format+"\n", args...)
	os.Exit(1)
}

// becomeProgram replaces the shim with the program, for run mode: the payload Granda appended to the entrypoint is
// already the command's last argument.
func becomeProgram(command []string) {
	path, err := exec.LookPath(command[0])
	if err != nil {
		fatalf("%v", err)
	}
	err = syscall.Exec(path, command, os.Environ())
	fatalf("exec %s: %v", path, err)
}

// listen binds under a temporary name and renames the socket into place once it listens, since Granda takes the
// socket's existence as readiness; umask 0 makes it connectable by anyone, as Granda may run as another user.
func listen(path string) net.Listener {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		fatalf("%v", err)
	}
	temporary := path + ".new"
	os.Remove(path)
	os.Remove(temporary)
	oldMask := syscall.Umask(0)
	listener, err := net.Listen("unix", temporary)
	syscall.Umask(oldMask)
	if err != nil {
		fatalf("listen: %v", err)
	}
	// The listener would remove the temporary name on Close; the socket lives at its final name instead.
	listener.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Rename(temporary, path); err != nil {
		fatalf("rename %s to %s: %v", temporary, path, err)
	}
	return listener
}

// stopOnSignal exits on SIGTERM and SIGINT, which PID 1 would otherwise ignore.
func stopOnSignal(socket string) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-signals
		os.Remove(socket)
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
}

type shim struct {
	command []string
	name    string // the program's name in messages: "function", "handler.sh"
}

type failureBody struct {
	Error    string `json:"error"`
	Message  string `json:"message"`
	ExitCode *int   `json:"exitCode"`
	LogTail  string `json:"logTail"`
	Output   string `json:"output"`
}

func (s *shim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.TransferEncoding) > 0 {
		w.Header().Set("Connection", "close")
		answer(w, http.StatusNotImplemented, "text/plain; charset=utf-8", []byte("request bodies must have a Content-Length\n"))
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		return // the connection broke: nobody to answer
	}
	rawPath, rawQuery := r.RequestURI, ""
	if i := strings.IndexByte(rawPath, '?'); i >= 0 {
		rawPath, rawQuery = rawPath[:i], rawPath[i+1:]
	}
	var timeout time.Duration
	if ms, err := strconv.ParseInt(r.Header.Get("Granda-Timeout-Ms"), 10, 64); err == nil && ms >= 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	result := s.run(payload, []string{"GRANDA_METHOD=" + r.Method, "GRANDA_PATH=" + rawPath, "GRANDA_QUERY=" + rawQuery}, timeout)
	if result.ok() {
		answer(w, http.StatusOK, "text/plain; charset=utf-8", result.stdout)
		return
	}
	body, _ := json.Marshal(failureBody{Error: "function_error", Message: result.message(s.name, timeout),
		ExitCode: result.exitCode(), LogTail: tail(result.stderr, logTailBytes), Output: head(result.stdout, outputHeadBytes)})
	answer(w, http.StatusBadGateway, "application/json", body)
}

func answer(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// outcome is what one run of the program did.
type outcome struct {
	stdout, stderr []byte
	state          *os.ProcessState // nil when it could not be started
	startError     error
	killedAtEnd    bool // still running at its deadline
	outputTooLarge bool
}

func (o *outcome) ok() bool {
	return o.state != nil && !o.killedAtEnd && !o.outputTooLarge && o.state.ExitCode() == 0
}

func (o *outcome) exitCode() *int {
	if o.state == nil || o.killedAtEnd {
		return nil
	}
	code := o.state.ExitCode()
	if status, isUnix := o.state.Sys().(syscall.WaitStatus); isUnix && status.Signaled() {
		code = 128 + int(status.Signal()) // as a shell, and docker, report it
	}
	return &code
}

func (o *outcome) message(name string, timeout time.Duration) string {
	switch {
	case o.state == nil:
		return fmt.Sprintf("%s could not be started: %v", name, o.startError)
	case o.killedAtEnd:
		return fmt.Sprintf("%s was still running at its deadline (%d ms) and was killed", name, timeout.Milliseconds())
	case o.outputTooLarge:
		return fmt.Sprintf("%s wrote more than %d bytes to stdout", name, maxOutputBytes)
	}
	if status, isUnix := o.state.Sys().(syscall.WaitStatus); isUnix && status.Signaled() {
		return fmt.Sprintf("%s was killed by signal %d (%v)", name, int(status.Signal()), status.Signal())
	}
	return fmt.Sprintf("%s exited with code %d", name, o.state.ExitCode())
}

// run runs the program once with the payload as its last argument (when it fits in one) and on stdin.
func (s *shim) run(payload []byte, env []string, timeout time.Duration) *outcome {
	args := append([]string{}, s.command[1:]...)
	if fitsInOneArgument(payload) {
		args = append(args, string(payload))
	}
	cmd := exec.Command(s.command[0], args...)
	cmd.Env = append(childEnv(), env...)
	// A process group of its own, so that a deadline kills whatever the program started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	// Pipes of our own rather than exec's: its Wait would also wait for anything the program left running with
	// the pipes open, and the process group is killed only after the program exits.
	stdinRead, stdinWrite, err1 := os.Pipe()
	stdoutRead, stdoutWrite, err2 := os.Pipe()
	stderrRead, stderrWrite, err3 := os.Pipe()
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			return &outcome{startError: err}
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinRead, stdoutWrite, stderrWrite
	err := cmd.Start()
	stdinRead.Close()
	stdoutWrite.Close()
	stderrWrite.Close()
	if err != nil {
		stdinWrite.Close()
		stdoutRead.Close()
		stderrRead.Close()
		return &outcome{startError: err}
	}
	pid := cmd.Process.Pid

	go func() {
		stdinWrite.Write(payload) // EPIPE when it exits without reading it all: fine
		stdinWrite.Close()
	}()
	result := &outcome{}
	stdout := &cappedBuffer{max: maxOutputBytes}
	stderr := &tailBuffer{max: logTailBytes, echo: os.Stderr}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { io.Copy(stdout, stdoutRead); readers.Done() }()
	go func() { io.Copy(stderr, stderrRead); readers.Done() }()

	var killed sync.Mutex
	var timer *time.Timer
	if timeout > 0 {
		timer = time.AfterFunc(timeout, func() {
			killed.Lock()
			result.killedAtEnd = true
			killed.Unlock()
			syscall.Kill(-pid, syscall.SIGKILL)
		})
	}
	cmd.Wait()
	if timer != nil {
		timer.Stop()
	}
	syscall.Kill(-pid, syscall.SIGKILL) // whatever it left running; the container's end would kill it in run mode

	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(leftoverWait): // a process that left the group still holds the pipes: stop waiting for it
		stdoutRead.Close()
		stderrRead.Close()
		<-done
	}
	stdoutRead.Close()
	stderrRead.Close()

	killed.Lock()
	defer killed.Unlock()
	result.state = cmd.ProcessState
	result.stdout = stdout.buf.Bytes()
	result.outputTooLarge = stdout.overflow
	result.stderr = stderr.bytes()
	return result
}

func fitsInOneArgument(payload []byte) bool {
	return len(payload) > 0 && len(payload) < maxArgumentBytes && bytes.IndexByte(payload, 0) < 0
}

// childEnv is the shim's environment without GRANDA_SOCKET: the program is a run-mode program, not a second server.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRANDA_SOCKET=") {
			env = append(env, kv)
		}
	}
	return env
}

func head(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// cappedBuffer keeps the first max bytes written and notes whether more came.
type cappedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if len(p) > room {
		c.overflow = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// tailBuffer keeps the last max bytes written, and copies everything to echo.
type tailBuffer struct {
	buf  []byte
	max  int
	echo io.Writer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.echo.Write(p)
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append([]byte{}, t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	if len(t.buf) > t.max {
		return t.buf[len(t.buf)-t.max:]
	}
	return t.buf
}
