package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lagwatch/lagwatch/pkg/exporter"
	"github.com/lagwatch/lagwatch/pkg/models"
)

// serve runs the Prometheus exporter until SIGINT, SIGTERM or the end of
// parent: every service of the catalog refreshed every --refresh, the numbers
// on /metrics, a /healthz. ready, when not nil, receives the listening
// address (tests).
func serve(parent context.Context, args []string, stderr io.Writer, getenv func(string) string, ready chan<- string) int {
	fs := flag.NewFlagSet("lagwatch serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o               sourceOptions
		listen, refresh string
	)
	o.register(fs)
	fs.StringVar(&listen, "listen", ":9465", "address of the /metrics and /healthz endpoints")
	fs.StringVar(&refresh, "refresh", models.DefaultCacheTTL.String(), "how often every service is fetched again (the cache TTL)")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err == nil {
		err = o.check()
	}
	var every time.Duration
	if err == nil {
		every, err = durationFlag("--refresh", refresh, time.Minute, maxDuration, "15m")
	}
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch serve: %v\n", err)
		return exitUsage
	}

	requests := exporter.NewRequestCounter()
	// The sources' cache lives as long as one refresh interval, so each
	// refresh revalidates (ETags, 304s) instead of serving the last one.
	services, src, code, ok := o.open("serve", stderr, getenv, exporter.InstrumentTransport(nil, requests), every-time.Second)
	if !ok {
		return code
	}
	defer src.Close()
	ex := exporter.New(exporter.Config{Collector: src.Collector(), Services: services, Verdict: o.verdict, Requests: requests})

	l, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch serve: --listen %q: %v\n", listen, err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: ex.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	go ex.Run(ctx, every)
	fmt.Fprintf(stderr, "lagwatch serve: %d services of %s, refreshed every %s; metrics on http://%s/metrics\n", len(services), o.catalogPath, every, l.Addr())
	if ready != nil {
		ready <- l.Addr().String()
	}
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "lagwatch serve: %v\n", err)
		return exitPartial
	}
	return exitOK
}
