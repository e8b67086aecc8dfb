//go:build linux

package main

import (
	"bufio"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestCtrlC runs `make demo` in a session of its own on a pseudo-terminal, as a user does, waits
// until the demo is ready, and types Ctrl-C: once, and twice in a row. make must exit 0 after
// the demo stopped, and nothing of the session (kube-apiserver, etcd, the demo) may be left
// running. It runs the whole demo (about 30 s each, plus the builds), so `make test` leaves it
// out: run it with `make test-demo`.
func TestCtrlC(t *testing.T) {
	if os.Getenv("LICENSE_DEMO") == "" {
		t.Skip("runs `make demo` twice; set LICENSE_DEMO=1 or run `make test-demo`")
	}
	for _, tc := range []struct {
		name    string
		presses int
		stopped string // the line the demo prints once it has stopped
	}{
		{"once", 1, "Stopped. Removed "},
		{"twice", 2, "Second interrupt: killing kube-apiserver and etcd."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command("make", "demo", "DEMO_FLAGS=-metrics-bind-address=0 -kubeconfig="+filepath.Join(dir, "kubeconfig")+" -log="+filepath.Join(dir, "operator.log"))
			cmd.Dir = "../.."
			// pty.Start makes make the leader of a new session whose controlling terminal is the
			// pseudo-terminal: its process group is the terminal's foreground group.
			terminal, err := pty.Start(cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer terminal.Close()
			session := cmd.Process.Pid
			t.Cleanup(func() { killSession(session) })

			lines := make(chan string, 1000)
			go func() {
				defer close(lines)
				scanner := bufio.NewScanner(terminal)
				for scanner.Scan() {
					line := strings.TrimRight(scanner.Text(), "\r")
					t.Log(line)
					lines <- line
				}
			}()
			waitFor(t, lines, "Press Ctrl-C to stop.", 30*time.Minute) // the first time, make demo builds the control plane
			running := sessionProcesses(session)
			for _, want := range []string{"make", "demo", "kube-apiserver", "etcd"} {
				if !slices.Contains(slices.Collect(maps.Values(running)), want) {
					t.Fatalf("no %s runs in the demo's session: %v", want, running)
				}
			}

			// The terminal turns the character ^C into SIGINT for its foreground process group.
			if _, err := terminal.Write([]byte{3}); err != nil {
				t.Fatal(err)
			}
			if tc.presses == 2 {
				waitFor(t, lines, "Signal received, shutting down.", time.Minute)
				if _, err := terminal.Write([]byte{3}); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, lines, tc.stopped, 2*time.Minute)
			go func() {
				for range lines { // the rest, until the terminal closes
				}
			}()

			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					t.Errorf("make demo: %v, want exit status 0", exit.ProcessState)
				} else if err != nil {
					t.Error(err)
				}
			case <-time.After(time.Minute):
				t.Fatal("make demo did not exit within a minute of the demo's stop")
			}
			if left := sessionProcesses(session); len(left) > 0 {
				t.Errorf("still running after make demo exited: %v", left)
			}
		})
	}
}

// waitFor reads lines until one contains want.
func waitFor(t *testing.T, lines <-chan string, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the output ended before %q", want)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %s", want, timeout)
		}
	}
}

// sessionProcesses returns the command names of the processes of the session, by process id.
func sessionProcesses(session int) map[int]string {
	procs := map[int]string{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses.
		s := string(data)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp {
			continue
		}
		fields := strings.Fields(s[rp+1:])
		if len(fields) < 4 || fields[3] != strconv.Itoa(session) || fields[0] == "Z" {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:lp]))
		procs[pid] = s[lp+1 : rp]
	}
	return procs
}

// killSession kills what a failed test left running.
func killSession(session int) {
	for pid := range sessionProcesses(session) {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
}
