// Package fakes provides in-process test servers (httptest) built from the
// real fixtures in testdata/fixtures/real: a GitHub API (REST releases,
// GraphQL tags, /rate_limit) and Helm HTTP repositories. Every test in the
// repository that needs "the internet" uses them.
//
//	gh := fakes.NewGitHub(t, fakes.FixturesDir())
//	up, _ := github.New(github.Config{BaseURL: gh.URL(), Token: "test", HTTPClient: gh.Client()})
//	tags, _, err := up.Releases(ctx, sources.UpstreamRef{Repo: "ollama/ollama", Kind: sources.KindTags})
//	hr := fakes.NewHelm(t, fakes.FixturesDir())
//	vs, _, err := helm.New(helm.Config{HTTPClient: hr.Client()}).ChartVersions(ctx,
//		sources.ChartRef{Repository: hr.RepoURL("otwld__ollama-helm"), Name: "ollama"})
//
// Fixture folders are named owner__repo. A folder with tags.tsv becomes the
// GitHub repository owner/repo; a folder with index.yaml becomes the Helm
// repository /<folder>.
package fakes

import (
	"fmt"
	"strings"

	"github.com/lagwatch/lagwatch/pkg/fixtures"
)

// FixturesDir is fixtures.Dir for tests: it panics outside the repository.
func FixturesDir() string {
	dir, err := fixtures.Dir()
	if err != nil {
		panic(fmt.Sprintf("fakes.FixturesDir: %v", err))
	}
	return dir
}

// RepoOfFolder turns a fixture folder name (owner__repo) into owner/repo.
func RepoOfFolder(folder string) string {
	return strings.Replace(folder, "__", "/", 1)
}
