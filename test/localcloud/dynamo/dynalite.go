// Package dynamo gives the local cloud DynamoDB by running dynalite (the
// npm package dynalite@4.0.0, a DynamoDB emulator on LevelDB) as a child
// process and forwarding DynamoDB requests to it unchanged.
//
// Dynalite is started on a free loopback port with every *Ms delay at 0, so
// tables are ACTIVE as soon as CreateTable answers. It checks only that a
// request carries an Authorization header, so requests signed for the local
// cloud's endpoint need no re-signing. Node and dynalite come from the
// pinned npm tree in test/node (`npm ci --prefix test/node`).
package dynamo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/nodetools"
)

// TargetPrefix starts the X-Amz-Target header of every DynamoDB request.
const TargetPrefix = "DynamoDB_20120810."

// ErrNotInstalled reports that Node or dynalite is missing from the npm
// tree; the error wrapping it names the missing file and the command to
// run.
var ErrNotInstalled = errors.New("dynalite is not installed")

// Options configures Start.
type Options struct {
	// NodeDir is the npm tree holding node_modules (test/node). If empty,
	// $PHOENIX_NODE_DIR is used, else test/node in the nearest ancestor of
	// the working directory that has one.
	NodeDir string
	// Output receives dynalite's stdout and stderr; discarded if nil.
	Output io.Writer
	// StartTimeout bounds how long dynalite may take to listen (30 s if
	// zero).
	StartTimeout time.Duration
}

// Server is a running dynalite process. Its Handler forwards DynamoDB
// requests to it.
type Server struct {
	cmd      *exec.Cmd
	endpoint *url.URL
	exited   chan struct{}
	proxy    *httputil.ReverseProxy

	closeOnce sync.Once
	closeErr  error
}

// Installation is where Node and dynalite were found.
type Installation struct {
	// Node is the Node executable (node_modules/.bin/node, Node 22).
	Node string
	// CLI is dynalite's command-line entry point.
	CLI string
}

// Find locates Node and dynalite in the npm tree. The error wraps
// ErrNotInstalled and names the npm command to run.
func Find(nodeDir string) (Installation, error) {
	if nodeDir == "" {
		nodeDir = nodetools.Dir()
	}
	if nodeDir == "" {
		return Installation{}, fmt.Errorf("%w: no test/node directory above the working directory and %s is unset: run %q from the repository root", ErrNotInstalled, nodetools.DirEnv, nodetools.InstallHint)
	}
	inst := Installation{
		Node: filepath.Join(nodeDir, "node_modules", ".bin", "node"),
		CLI:  filepath.Join(nodeDir, "node_modules", "dynalite", "cli.js"),
	}
	for _, f := range []string{inst.Node, inst.CLI} {
		if _, err := os.Stat(f); err != nil {
			return Installation{}, fmt.Errorf("%w: %s is missing: run %q from the repository root", ErrNotInstalled, f, nodetools.InstallHint)
		}
	}
	return inst, nil
}

// Start runs dynalite on a free loopback port and waits until it listens.
// ctx bounds the start only; Close stops the process.
func Start(ctx context.Context, opts Options) (*Server, error) {
	inst, err := Find(opts.NodeDir)
	if err != nil {
		return nil, err
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	// A free port can be taken between choosing it and dynalite binding it;
	// dynalite then exits, and another port is tried.
	var lastErr error
	for range 3 {
		s, err := start(ctx, inst, opts.Output)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, inst Installation, output io.Writer) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("dynamo: find a free port: %w", err)
	}
	cmd := exec.Command(inst.Node, inst.CLI,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.SysProcAttr = processGroup()
	cmd.Stderr = output
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("dynamo: pipe dynalite's output: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamo: start %s: %w", inst.Node, err)
	}
	s := &Server{cmd: cmd, exited: make(chan struct{}), endpoint: &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			fmt.Fprintln(output, sc.Text())
			if !signalled && strings.Contains(sc.Text(), "listening at") {
				close(listening)
				signalled = true
			}
		}
		// Waiting only after the pipe is drained keeps dynalite's output
		// whole.
		_ = cmd.Wait()
		close(s.exited)
	}()
	select {
	case <-listening:
	case <-s.exited:
		return nil, fmt.Errorf("dynamo: dynalite exited before listening on port %d: %v", port, cmd.ProcessState)
	case <-ctx.Done():
		_ = s.Close()
		return nil, fmt.Errorf("dynamo: dynalite did not listen on port %d: %w", port, ctx.Err())
	}
	s.proxy = s.newProxy()
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Endpoint returns dynalite's own URL, for clients that talk to it
// directly.
func (s *Server) Endpoint() string { return s.endpoint.String() }

// Handler forwards a DynamoDB request to dynalite and copies its answer
// back: method, path, headers (Host included) and body go out unchanged
// but for hop-by-hop headers, and status, headers (x-amz-crc32 included)
// and body come back unchanged. If dynalite cannot be reached the client
// gets DynamoDB's InternalServerError.
func (s *Server) Handler() http.Handler { return s.proxy }

func (s *Server) newProxy() *httputil.ReverseProxy {
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		// Compression is left to the client and dynalite: the proxy must not
		// decode a body whose checksum the client verifies.
		DisableCompression: true,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(s.endpoint)
			pr.Out.URL.Path, pr.Out.URL.RawPath = pr.In.URL.Path, pr.In.URL.RawPath
			pr.Out.Host = pr.In.Host
		},
		Transport: transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"__type":  "com.amazonaws.dynamodb.v20120810#InternalServerError",
				"message": "The local cloud could not reach dynalite: " + err.Error(),
			})
		},
	}
}

// IsDynamoDBRequest reports whether r is a DynamoDB API request, by its
// X-Amz-Target header, so that a server fronting several services can
// route it to Handler.
func IsDynamoDBRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// Close stops dynalite and everything it started: SIGTERM to its process
// group, SIGKILL if it is still running five seconds later. It is safe to
// call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.proxy != nil {
			if t, ok := s.proxy.Transport.(*http.Transport); ok {
				t.CloseIdleConnections()
			}
		}
		signalGroup(s.cmd.Process, false)
		select {
		case <-s.exited:
			return
		case <-time.After(5 * time.Second):
		}
		signalGroup(s.cmd.Process, true)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			s.closeErr = fmt.Errorf("dynamo: dynalite (pid %d) did not exit after SIGKILL", s.cmd.Process.Pid)
		}
	})
	return s.closeErr
}

// Pid returns dynalite's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }
