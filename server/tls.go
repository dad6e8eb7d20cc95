package main

import (
	"crypto/tls"
	"fmt"
	"net"
)

func loadTLS(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return cert, fmt.Errorf("server.tls: load %s / %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

func tlsListener(ln net.Listener, cert tls.Certificate) net.Listener {
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
}
