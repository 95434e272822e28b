package github

import (
	"context"
	"fmt"
	"net/http"

	"github.com/lagwatch/lagwatch/pkg/cache"
	"github.com/lagwatch/lagwatch/pkg/sources"
)

// listWalk is how a walk through a REST list ended.
type listWalk struct {
	notModified        bool   // page 1 answered 304: the cached list holds
	etag, lastModified string // page 1's validators
	notices            []sources.Notice
}

// walkList reads a REST list of the API through GitHub's Link cursor,
// from first, at most max pages. what names the list in messages ("releases
// of o/r"), who the repository or package for send and statusError, order
// which pages a cap keeps ("newest", "first"). With a cached entry prev,
// page 1 is conditional on it and a 304 ends the walk with notModified. read gets every 200 page (its body is closed afterwards) and
// ends the walk early by returning stop. A cursor that loops or runs past
// max pages ends the walk with a notice.
func walkList[V any](ctx context.Context, s *Source, first, what, who, order string, max int, prev *cache.Entry[V],
	read func(page int, resp *http.Response) (stop bool, err error)) (w listWalk, err error) {
	seen := map[string]bool{}
	next := first
	for page := 1; next != ""; page++ {
		if seen[next] {
			w.notices = append(w.notices, sources.Notice(fmt.Sprintf("%s: GitHub's next-page link points back to a page already read; stopped after %d pages", what, page-1)))
			break
		}
		seen[next] = true
		if page > max {
			w.notices = append(w.notices, sources.Notice(fmt.Sprintf("%s: only the %s %d pages were read", what, order, max)))
			break
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return w, fmt.Errorf("%s: %w", what, err)
		}
		if page == 1 {
			prev.Condition(req)
		}
		resp, err := s.send(req, resourceCore, who)
		if err != nil {
			return w, err
		}
		if page == 1 && resp.StatusCode == http.StatusNotModified && prev != nil {
			resp.Body.Close()
			w.notModified = true
			return w, nil
		}
		if resp.StatusCode != http.StatusOK {
			err := s.statusError(who, req, resp)
			resp.Body.Close()
			return w, err
		}
		if page == 1 {
			w.etag, w.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		}
		stop, err := read(page, resp)
		resp.Body.Close()
		if err != nil {
			return w, fmt.Errorf("%s: GET %s: %w", what, req.URL.RequestURI(), err)
		}
		if stop {
			break
		}
		if next, err = nextLink(req.URL, resp.Header.Values("Link")); err != nil {
			return w, fmt.Errorf("%s: GET %s: %w", what, req.URL.RequestURI(), err)
		}
	}
	return w, nil
}
