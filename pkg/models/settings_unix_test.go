//go:build unix

package models

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lagwatch/lagwatch/pkg/catalog"
)

// catalogPath names a file on the Grafana server, set by whoever may edit the
// datasource: devices, FIFOs, directories and huge files are refused before
// they are read, and no error quotes a file's content.
func TestCatalogPathIsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", catalog.MaxBytes+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero":              `(jsonData.catalogPath) "/dev/zero" is not a regular file`,
		fifo:                     "is not a regular file",
		dir:                      "is not a regular file",
		big:                      "is 1024 KiB, more than the limit of 1024 KiB",
		filepath.Join(dir, "no"): "no such file or directory",
	} {
		_, _, err := (&Settings{CatalogPath: path}).CatalogSource()
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "open ") {
			t.Errorf("%s: err = %v, want %q", path, err, want)
		}
	}
	if _, _, err := (&Settings{Catalog: strings.Repeat("#", catalog.MaxBytes+1)}).CatalogSource(); err == nil || !strings.Contains(err.Error(), "more than the limit of 1024 KiB") {
		t.Errorf("inline: err = %v", err)
	}
}
