package github

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lagwatch/lagwatch/pkg/sources"
)

// Prefetch reads several repositories per GraphQL request, page after page,
// and gives the same releases as REST; unknown repositories are left to
// Releases, which reports them.
func TestPrefetchMatchesREST(t *testing.T) {
	batched := newEnv(t, testToken, false)
	refs := []sources.UpstreamRef{{Repo: "ollama/ollama"}, {Repo: "NVIDIA/gpu-operator", Kind: sources.KindReleases}, {Repo: "nobody/nothing"}, {Repo: "chroma-core/chroma", Kind: sources.KindTags}}
	batched.src.Prefetch(context.Background(), refs)
	// ollama has 635 releases (7 pages): 7 requests hold both repositories.
	if got := batched.gh.RequestsTo("/graphql"); got != 7 {
		t.Errorf("%d GraphQL requests, want 7", got)
	}
	plain := newEnv(t, "", false) // no token: REST only
	for _, repo := range []string{"ollama/ollama", "NVIDIA/gpu-operator"} {
		before := batched.gh.Requests()
		got, _, err := batched.src.Releases(context.Background(), sources.UpstreamRef{Repo: repo})
		if err != nil {
			t.Fatal(err)
		}
		if batched.gh.Requests() != before {
			t.Errorf("%s: prefetched, but Releases sent %d requests", repo, batched.gh.Requests()-before)
		}
		want, _, err := plain.src.Releases(context.Background(), sources.UpstreamRef{Repo: repo})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d releases batched, %d over REST, or they differ", repo, len(got), len(want))
		}
	}
	if _, _, err := batched.src.Releases(context.Background(), sources.UpstreamRef{Repo: "nobody/nothing"}); err == nil {
		t.Error("an unknown repository was not reported")
	}
	// Already cached: a second prefetch sends nothing.
	before := batched.gh.RequestsTo("/graphql")
	batched.src.Prefetch(context.Background(), refs)
	if batched.gh.RequestsTo("/graphql") != before {
		t.Error("a second prefetch sent requests for cached repositories")
	}
	// Without a token there is no GraphQL.
	plain.src.Prefetch(context.Background(), refs)
	if plain.gh.RequestsTo("/graphql") != 0 {
		t.Error("prefetched without a token")
	}
}

// After a batched cold start the first REST refresh keeps the list when page
// 1 has nothing new, and reads everything again when it has.
func TestFirstRefreshAfterPrefetch(t *testing.T) {
	e := newEnv(t, testToken, false)
	ref := sources.UpstreamRef{Repo: "NVIDIA/gpu-operator"}
	e.src.Prefetch(context.Background(), []sources.UpstreamRef{ref})
	e.clock.Advance(time.Hour)
	e.gh.ResetCounters()
	if _, _, err := e.src.Releases(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if e.gh.Requests() != 1 {
		t.Errorf("first refresh: %d requests, want page 1 only", e.gh.Requests())
	}
	e.clock.Advance(time.Hour)
	e.gh.ResetCounters()
	if _, _, err := e.src.Releases(context.Background(), ref); err != nil || e.gh.NotModified() != 1 {
		t.Errorf("second refresh: %d requests, %d answered 304, %v", e.gh.Requests(), e.gh.NotModified(), err)
	}

	e2 := newEnv(t, testToken, false)
	e2.src.Prefetch(context.Background(), []sources.UpstreamRef{ref})
	e2.gh.AddRelease("NVIDIA/gpu-operator", "v99.0.0", t0, false)
	e2.clock.Advance(time.Hour)
	rs, _, err := e2.src.Releases(context.Background(), ref)
	if err != nil || rs[0].Tag != "v99.0.0" {
		t.Errorf("a new release after the prefetch: newest %v, %v", rs[0].Tag, err)
	}
}
