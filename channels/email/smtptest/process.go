package smtptest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childEnv tells a re-executed test binary to serve a Sink (ServeChild).
const childEnv = "TEST_SMTP_SINK_CHILD"

// Process is a Sink in a child process, so that a benchmark measuring the
// sender's CPU does not also count the server's. It only counts messages.
type Process struct {
	url   string
	cmd   *exec.Cmd
	stdin io.Closer

	mu          sync.Mutex
	first, done time.Time
	count       int
	cpu         float64 // the child's CPU-seconds when the last message arrived
	finished    chan struct{}
}

// StartProcess re-executes the test binary running only the test named
// testName, which must call ServeChild; the child's Sink reports when
// the first message and the want-th message are accepted. It stops when
// the test ends.
func StartProcess(tb testing.TB, testName string, want int) *Process {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+testName+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.Itoa(want))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("smtptest: start the sink process: %v", err)
	}
	p := &Process{cmd: cmd, stdin: stdin, finished: make(chan struct{})}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "smtptest-addr "); ok {
			p.url = u
			break
		}
	}
	if p.url == "" {
		tb.Fatalf("smtptest: the sink process (%s) did not report its address", testName)
	}
	go p.read(lines)
	return p
}

// read follows the child's reports.
func (p *Process) read(lines *bufio.Scanner) {
	for lines.Scan() {
		word, arg, _ := strings.Cut(lines.Text(), " ")
		now := time.Now()
		p.mu.Lock()
		switch word {
		case "smtptest-first":
			p.first = now
		case "smtptest-count":
			p.count, _ = strconv.Atoi(arg)
		case "smtptest-done":
			p.done = now
			p.cpu, _ = strconv.ParseFloat(arg, 64)
			close(p.finished)
		}
		p.mu.Unlock()
	}
}

// URL is the SMTP URL of the child's Sink.
func (p *Process) URL() string { return p.url }

// Wait waits up to timeout for the want-th message and returns when the
// first and the last arrived, and the CPU-seconds the sink process used.
// On timeout it fails with the count last reported.
func (p *Process) Wait(tb testing.TB, timeout time.Duration) (first, last time.Time, sinkCPU float64) {
	tb.Helper()
	select {
	case <-p.finished:
	case <-time.After(timeout):
		p.mu.Lock()
		defer p.mu.Unlock()
		tb.Fatalf("smtptest: the sink process has %d messages after %v", p.count, timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first, p.done, p.cpu
}

// ServeChild is the body of the test StartProcess runs in the child: it
// serves a Sink that only counts, reports its address, the first message,
// the count twice a second and the want-th message with its CPU time on
// stdout, and returns when stdin closes. Outside a child it skips.
func ServeChild(t *testing.T) {
	want, err := strconv.Atoi(os.Getenv(childEnv))
	if err != nil {
		t.Skip("runs only as the child of smtptest.StartProcess")
	}
	s := New(t)
	s.KeepMessages(false)
	fmt.Println("smtptest-addr", s.URL())
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var first bool
		last := time.Now()
		for range tick.C {
			n := s.Count()
			if !first && n > 0 {
				first = true
				fmt.Println("smtptest-first")
			}
			if n >= want {
				fmt.Println("smtptest-done", strconv.FormatFloat(cpuSeconds(), 'f', 3, 64))
				return
			}
			if time.Since(last) >= 500*time.Millisecond {
				last = time.Now()
				fmt.Println("smtptest-count", n)
			}
		}
	}()
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// cpuSeconds is the user and system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
