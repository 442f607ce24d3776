// Command devdb runs an embedded FerretDB (SQLite backend) as a local,
// MongoDB wire-protocol compatible development and test database.
//
// It prints one line, "devdb: listening on mongodb://HOST:PORT/", to stdout once
// it accepts connections, so callers that ask for port 0 can learn the real port.
// SIGINT and SIGTERM stop it cleanly.
//
// Clients talk to a relay that lets one command at a time reach FerretDB (see
// serialize.go): that gives single-document operations the atomicity MongoDB guarantees.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (port 0 picks a free port)")
	dataDir := flag.String("data", "var/devdb", "directory for the SQLite database files")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dataDir, *logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "devdb: %s\n", err)
		os.Exit(1)
	}
}

func run(listen, dataDir, logLevel string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("invalid -log-level %q: %w", logLevel, err)
	}

	absData, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(absData, 0o700); err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// Clients connect to the relay on the public address; FerretDB itself listens on a
	// loopback port of its own.
	public, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	defer public.Close()

	// FerretDB wants a "file:" URI naming a directory, with a trailing slash.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + strings.TrimSuffix(absData, "/") + "/",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// MongoDBURI blocks until FerretDB's listener is bound.
	backend, err := url.Parse(f.MongoDBURI())
	if err != nil {
		return err
	}
	relay := &serializer{backend: backend.Host, logger: logger}
	go func() {
		<-ctx.Done()
		public.Close()
	}()
	go func() {
		if err := relay.serve(public); err != nil {
			logger.Error("relay stopped", "error", err)
			stop()
		}
	}()
	fmt.Printf("devdb: listening on mongodb://%s/\n", public.Addr())

	return <-done
}
