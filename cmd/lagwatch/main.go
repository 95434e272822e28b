// Command lagwatch runs the Lagwatch engine from the command line, without
// Grafana: it reads a catalog, fetches every service's upstream releases and
// Helm chart versions with the same sources the plugin uses, and prints the
// status table.
//
//	lagwatch report --catalog provisioning/catalog/homelab-stack.yaml
//	lagwatch serve --catalog FILE --listen :9465
//	lagwatch validate --catalog FILE
//	lagwatch check --catalog FILE        # does each entry fit its data? coverage, problems, fixes
//	lagwatch discover --repo URL --chart NAME   # catalog entries from the chart itself
//
// Exit codes: 0 success; 1 a report was printed but some services failed
// (each one is named in a warning on stderr), check found a problem, or
// discover verified no entry for some chart; 2 usage or catalog error.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
