package controller

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// JWKSPath is where the manager serves the public keys of the entitlements.
const JWKSPath = "/.well-known/jwks.json"

// JWKSHandler serves the public keys that verify the entitlements, as a JWKS document, from the
// cache of reader: any replica serves it.
func JWKSHandler(reader client.Reader, namespace string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		keys, err := signingKeys(req.Context(), reader, namespace)
		if err != nil || keys == nil {
			http.Error(w, "the signing keys are not available yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(keys.PublicJSON())
	})
}

// ServeJWKS serves JWKSHandler at JWKSPath on addr, in every replica (not only the leader).
func ServeJWKS(addr string, reader client.Reader, namespace string) manager.Runnable {
	return jwksServer{addr: addr, handler: JWKSHandler(reader, namespace)}
}

type jwksServer struct {
	addr    string
	handler http.Handler
}

func (s jwksServer) NeedLeaderElection() bool { return false }

func (s jwksServer) Start(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("GET "+JWKSPath, s.handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
