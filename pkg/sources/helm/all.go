package helm

import (
	"context"
	"maps"
	"slices"
)

// AllCharts downloads a repository's index and returns every chart in it
// with all its versions (lagwatch discover). It is not cached: discovery
// reads a repository once.
func (s *Source) AllCharts(ctx context.Context, repository string) (Charts, error) {
	u, err := IndexURL(repository)
	if err != nil {
		return nil, err
	}
	e, err := s.fetchIndex(ctx, u, nil, nil)
	if err != nil {
		return nil, err
	}
	return e.Value.charts, nil
}

// Names lists the charts, sorted.
func (c Charts) Names() []string { return slices.Sorted(maps.Keys(c)) }
