// Command gpx_lagwatch is the Lagwatch backend plugin process that Grafana starts.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/lagwatch/lagwatch/pkg/plugin"
)

func main() {
	if err := datasource.Manage("lagwatch-datasource", plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}
