package cases

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"
)

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 10 * time.Second
)

var readyLine = regexp.MustCompile(`kmsemu listening on (http://[^\s/]+)`)

type server struct {
	url    string
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readyWriter watches stdout for the ready line and sends its URL once.
type readyWriter struct {
	syncBuffer
	ready chan string
	seen  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if m := readyLine.FindStringSubmatch(w.String()); m != nil && !w.seen {
		w.seen = true
		w.ready <- m[1]
	}
	return n, err
}

// startServer runs kmsemu on a free port with the scenario and waits for
// its ready line.
func startServer(bin, scenario string) (*server, error) {
	stdout := &readyWriter{ready: make(chan string, 1)}
	s := &server{stderr: &syncBuffer{}, exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, "--listen", "127.0.0.1:0", "--scenario", scenario)
	s.cmd.Dir = root
	s.cmd.Stdout = stdout
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.exited <- s.cmd.Wait() }()
	select {
	case s.url = <-stdout.ready:
		return s, nil
	case err := <-s.exited:
		return nil, fmt.Errorf("%s exited before it was ready (%v); stderr: %s", bin, err, s.stderr)
	case <-time.After(startTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		return nil, fmt.Errorf("%s printed no ready line in %v; stderr: %s", bin, startTimeout, s.stderr)
	}
}

// stop sends SIGTERM and answers an error unless kmsemu exits with status 0.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("kmsemu could not be signalled: %v; stderr: %s", err, s.stderr)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			return fmt.Errorf("kmsemu ended with %v; stderr: %s", err, s.stderr)
		}
		return nil
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("kmsemu did not exit within %v of SIGTERM; stderr: %s", stopTimeout, s.stderr)
	}
}
