//go:build !linux

package main

// killChildren does nothing outside Linux: a second Ctrl-C there waits for the stop like the first.
func killChildren() {}

// takeTerminal does nothing outside Linux.
func takeTerminal() (restore func()) { return func() {} }
