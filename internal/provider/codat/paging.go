package codat

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// maxPages bounds how many pages one list read follows, so that a server
// that always answers with a "next" link cannot keep a reconcile busy forever.
// At the default page size it is ten million records.
const maxPages = 10000

// list is a paged list read.
type list struct {
	op, endpoint, path string
	kind               opKind
	// query is Codat's query-language filter ("" for none).
	query string
}

// listAll reads every page of l, calling each for every result in order.
func listAll[T any](ctx context.Context, c *Client, conn provider.Connection, l list, each func(T) error) error {
	for page := 1; ; page++ {
		if page > maxPages {
			return &provider.Error{Class: provider.ClassRetryLater, Op: l.op + ": GET " + l.endpoint, Code: "too_many_pages",
				Description: fmt.Sprintf("the list did not end after %d pages", maxPages)}
		}
		q := url.Values{}
		q.Set("page", strconv.Itoa(page))
		q.Set("pageSize", strconv.Itoa(c.opts.PageSize))
		if l.query != "" {
			q.Set("query", l.query)
		}
		var p pageJSON[T]
		if err := c.sendJSON(ctx, conn, call{op: l.op, kind: l.kind, method: http.MethodGet, endpoint: l.endpoint,
			path: l.path, query: q, idempotent: true}, &p); err != nil {
			return err
		}
		for _, r := range p.Results {
			if err := each(r); err != nil {
				return err
			}
		}
		if !morePages(p, page) {
			return nil
		}
	}
}

// morePages decides from a page whether another follows: the "next" link
// when the answer has links, the totals otherwise.
func morePages[T any](p pageJSON[T], page int) bool {
	if len(p.Results) == 0 {
		return false
	}
	if p.Links != nil {
		return p.Links.Next != nil
	}
	size := p.PageSize
	if size <= 0 {
		size = len(p.Results)
	}
	return page*size < p.TotalResults
}
