package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// stopOnSignals returns a context that is cancelled by the first SIGINT or SIGTERM: the demo then
// stops the operator and the control plane and exits 0. A second signal, while it stops, kills
// kube-apiserver and etcd at once (envtest runs them in process groups of their own, so no Ctrl-C
// reaches them), and the stop finishes without waiting for them. A third exits at once.
func stopOnSignals() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 3)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		cancel()
		<-signals
		fmt.Println("\nSecond interrupt: killing kube-apiserver and etcd.")
		killChildren()
		<-signals
		killChildren()
		os.Exit(1)
	}()
	return ctx
}
