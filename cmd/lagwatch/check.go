package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/lagwatch/lagwatch/pkg/check"
	"github.com/lagwatch/lagwatch/pkg/discover"
	"github.com/lagwatch/lagwatch/pkg/quote"
)

type checkOptions struct {
	sourceOptions
	at     time.Time
	format string
}

func parseCheckFlags(args []string, stderr io.Writer) (checkOptions, error) {
	fs := flag.NewFlagSet("lagwatch check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o  checkOptions
		at string
	)
	o.register(fs)
	fs.StringVar(&at, "at", "", "check the data published up to this time: RFC3339 (2025-09-30T00:00:00Z) or a date (2025-09-30); default now")
	fs.StringVar(&o.format, "format", "text", "output format: text or json")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := o.check(); err != nil {
		return o, err
	}
	var err error
	if o.at, err = atFlag(at); err != nil {
		return o, err
	}
	if o.format != "text" && o.format != "json" {
		return o, fmt.Errorf("--format %q must be text or json", o.format)
	}
	return o, nil
}

// checkCommand checks every service of a catalog against its data: exit 0
// when all look right, 1 when some service has a problem (or could not be
// fetched), 2 on usage errors.
func checkCommand(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, err := parseCheckFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch check: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	counter := o.requestCounter()
	services, src, code, ok := o.open("check", stderr, getenv, counter, 0)
	if !ok {
		return code
	}
	defer src.Close()
	fmt.Fprintf(stderr, "lagwatch: checking %d services of %s\n", len(services), o.catalogPath)
	repair := &discover.Discoverer{Upstreams: src.GitHub, Charts: src.Charts()}
	rep := check.Runner{Upstreams: src.GitHub, Charts: src.Charts(), Repair: repair.Repair}.WithSecurity(src.GitHub, src.EOL, src.EOL != nil).Run(ctx, services, o.at)
	if o.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeCheck(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lagwatch check: writing output: %v\n", err)
		return exitPartial
	}
	fmt.Fprintf(stderr, "lagwatch: %s\n", counter.summary())
	if rep.Problems > 0 || rep.Failed > 0 {
		fmt.Fprintf(stderr, "lagwatch: %d of %d services have a problem, %d could not be fetched\n", rep.Problems, rep.Services, rep.Failed)
		return exitPartial
	}
	return exitOK
}

// writeCheck prints one block per service: its verdict, coverage, problems,
// fixes with their evidence, and the values left out.
func writeCheck(w io.Writer, rep check.Report) error {
	var b strings.Builder
	for _, r := range rep.Results {
		switch {
		case r.Error != "":
			fmt.Fprintf(&b, "%s: NOT CHECKED: %s\n", r.Service, r.Error)
			writeSecurity(&b, r) // checked all the same
			continue
		case r.OK:
			fmt.Fprintf(&b, "%s: ok", r.Service)
		default:
			fmt.Fprintf(&b, "%s: PROBLEM", r.Service)
		}
		cov := fmt.Sprintf("coverage %d of the last %d chart versions", r.Coverage.Matched, r.Coverage.Of)
		if r.Coverage.Of == 0 {
			cov = "coverage not judged: no chart version since the upstream history read starts"
		}
		fmt.Fprintf(&b, " (%s; upstream keeps %d of %d %s; packaged %s, upstream latest %s)\n",
			cov, r.Upstream.Kept, r.Upstream.Fetched, r.Upstream.Source, orDash(r.Chart.Packaged), orDash(r.Chart.UpstreamLatest))
		writeSecurity(&b, r)
		if !r.OK && len(r.Fixes) == 0 && entryProblem(r) {
			b.WriteString("  no fix from this data, and the chart's metadata names no verified upstream: check the pairing of chart and upstream\n")
		}
		for _, l := range r.LeftOut {
			fmt.Fprintf(&b, "  left out: %d %s", l.Count, l.Cause)
			if len(l.Examples) > 0 {
				fmt.Fprintf(&b, ", e.g. %s", strings.Join(quoted(l.Examples), ", "))
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "%d services at %s: %d with a problem, %d not checked\n", rep.Services, rep.At.Format(time.RFC3339), rep.Problems, rep.Failed)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSecurity writes the problems and fixes, and what the security
// inputs gave.
func writeSecurity(b *strings.Builder, r check.Result) {
	for _, p := range r.Problems {
		fmt.Fprintf(b, "  problem %s: %s\n", p.Kind, p.Message)
	}
	for _, f := range r.Fixes {
		fmt.Fprintf(b, "  fix: %s: %s  # %s\n", f.Field, yamlScalar(f.Value), f.Evidence)
	}
	if a := r.Advisories; a != nil {
		var ps []string
		for _, p := range a.Packages {
			ps = append(ps, fmt.Sprintf("%s %d", p.Name, p.Advisories))
		}
		fmt.Fprintf(b, "  advisories (%s): %s", a.Ecosystem, strings.Join(ps, ", "))
		if a.Error != "" {
			fmt.Fprintf(b, "; not read: %s", a.Error)
		}
		b.WriteString("\n")
	}
	if e := r.EOL; e != nil {
		fmt.Fprintf(b, "  eol: endoflife.date product %s", e.Product)
		switch {
		case e.Error != "":
			fmt.Fprintf(b, " not read: %s", e.Error)
		case e.Cycles > 0:
			fmt.Fprintf(b, ": %d of the last %d chart versions fall in its %d cycles", e.Matched, e.Of, e.Cycles)
			if e.Example != "" {
				fmt.Fprintf(b, " (%s)", e.Example)
			}
		}
		b.WriteString("\n")
	}
}

// entryProblem reports whether r has a problem of the upstream pairing (not
// only of its security inputs).
func entryProblem(r check.Result) bool {
	for _, p := range r.Problems {
		switch p.Kind {
		case check.AdvisoriesUnknownPackage, check.EOLUnknownProduct, check.EOLNoCycle:
		default:
			return true
		}
	}
	return false
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// yamlScalar writes a fix's value as it goes in the catalog: patterns in
// single quotes.
func yamlScalar(v string) string {
	if strings.ContainsAny(v, `\^$()[]{}*?|:#'"`) {
		return quote.YAML(v)
	}
	return v
}
