//go:build mage
// +build mage

// Magefile builds the backend: `go run github.com/magefile/mage@v1.17.2 -v`
// writes dist/gpx_lagwatch_<os>_<arch> for the four platforms Lagwatch ships.
package main

import (
	"github.com/magefile/mage/mg"

	// mage:import
	build "github.com/grafana/grafana-plugin-sdk-go/build"
)

// Default builds the plugin binary for every shipped platform.
var Default = Platforms

// Platforms builds linux/amd64, linux/arm64, darwin/arm64 and windows/amd64.
func Platforms() {
	b := build.Build{}
	mg.Deps(b.Linux, b.LinuxARM64, b.DarwinARM64, b.Windows)
}
