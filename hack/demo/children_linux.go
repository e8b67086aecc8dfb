package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// killChildren kills every process the demo started that still runs (kube-apiserver, etcd and
// kubectl) with SIGKILL. Linux lists each thread's children in /proc/self/task/<tid>/children.
func killChildren() {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(field); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// takeTerminal makes the demo the terminal's foreground process group when it runs in the
// foreground group of another process, as it does under make: Ctrl-C then interrupts the demo
// alone, and make waits for its exit status instead of dying of the interrupt itself (GNU make
// waits for its children and then kills itself with the same signal). It returns a function that
// gives the terminal back. Without a terminal, or when the demo leads its group already, it
// does nothing.
func takeTerminal() (restore func()) {
	fd := int(os.Stdin.Fd())
	foreground, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || foreground != unix.Getpgrp() || foreground == os.Getpid() {
		return func() {}
	}
	if err := unix.Setpgid(0, 0); err != nil {
		return func() {}
	}
	setForeground := func(pgrp int) {
		// A process outside the foreground group that changes it is sent SIGTTOU, which stops it
		// unless it ignores the signal.
		signal.Ignore(syscall.SIGTTOU)
		defer signal.Reset(syscall.SIGTTOU)
		_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pgrp)
	}
	setForeground(os.Getpid())
	return func() { setForeground(foreground) }
}
