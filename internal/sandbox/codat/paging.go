package codat

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging limits. The pageSize parameter accepts up to 5000, but the PagingInfo
// schema caps the pageSize a response reports at 2000, so larger requests are
// served 2000 at a time (the answer says so in pageSize and _links).
const (
	defaultPageSize   = 100
	maxPageSizeParam  = 5000
	maxPageSizeServed = 2000
)

// pageJSON is Codat's paged envelope (results + PagingInfo).
type pageJSON[T any] struct {
	Results      []T      `json:"results"`
	PageNumber   int      `json:"pageNumber"`
	PageSize     int      `json:"pageSize"`
	TotalResults int      `json:"totalResults"`
	Links        halLinks `json:"_links"`
}

type halLinks struct {
	Self     halRef  `json:"self"`
	Current  halRef  `json:"current"`
	Next     *halRef `json:"next,omitempty"`
	Previous *halRef `json:"previous,omitempty"`
}

type halRef struct {
	Href string `json:"href"`
}

// pageParams are the parsed paging, query and orderBy parameters.
type pageParams struct {
	page, pageSize int
	query, orderBy string
}

func parsePageParams(r *http.Request) (pageParams, *httpError) {
	q := r.URL.Query()
	p := pageParams{page: 1, pageSize: defaultPageSize, query: q.Get("query"), orderBy: q.Get("orderBy")}
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, errBadRequest("Error processing request - not valid.", "page must be an integer of at least 1")
		}
		p.page = n
	}
	if s := q.Get("pageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSizeParam {
			return p, errBadRequest("Error processing request - not valid.", "pageSize must be an integer between 1 and 5000")
		}
		p.pageSize = min(n, maxPageSizeServed)
	}
	return p, nil
}

// paginate filters items with the request's query, orders them by orderBy (or
// keeps the given order, which callers make deterministic) and cuts the
// requested page. model names the item type in "could not resolve property"
// errors.
func paginate[T any](r *http.Request, service, model string, items []T, rec func(T) record) (*pageJSON[T], *httpError) {
	p, herr := parsePageParams(r)
	if herr != nil {
		return nil, herr
	}
	var zero T
	fields := rec(zero)
	selected := items
	if p.query != "" || p.orderBy != "" {
		// Records are computed once per item, not once per comparison.
		type entry struct {
			item T
			rec  record
		}
		entries := make([]entry, 0, len(items))
		var pred predicate
		if p.query != "" {
			var qerr *queryError
			pred, qerr = compileQuery(p.query, fields)
			if qerr != nil {
				if qerr.property != "" {
					return nil, errUnresolvedProperty(service, qerr.property, model)
				}
				return nil, errMalformedQuery(service)
			}
		}
		field, desc := strings.CutPrefix(p.orderBy, "-")
		if p.orderBy != "" {
			if _, ok := fields[field]; !ok {
				return nil, errUnresolvedProperty(service, field, model)
			}
		}
		for _, it := range items {
			r := rec(it)
			if pred == nil || pred(r) {
				entries = append(entries, entry{it, r})
			}
		}
		if p.orderBy != "" {
			slices.SortStableFunc(entries, func(a, b entry) int {
				c := compareValues(a.rec[field], b.rec[field])
				if desc {
					return -c
				}
				return c
			})
		}
		selected = make([]T, len(entries))
		for i, en := range entries {
			selected[i] = en.item
		}
	}
	total := len(selected)
	start := min((p.page-1)*p.pageSize, total)
	end := min(start+p.pageSize, total)
	out := &pageJSON[T]{
		Results:      append(make([]T, 0, end-start), selected[start:end]...),
		PageNumber:   p.page,
		PageSize:     p.pageSize,
		TotalResults: total,
		Links: halLinks{
			Self:    halRef{Href: r.URL.Path},
			Current: halRef{Href: pageHref(r.URL.Path, p, p.page)},
		},
	}
	if end < total {
		out.Links.Next = &halRef{Href: pageHref(r.URL.Path, p, p.page+1)}
	}
	if p.page > 1 {
		out.Links.Previous = &halRef{Href: pageHref(r.URL.Path, p, p.page-1)}
	}
	return out, nil
}

func pageHref(path string, p pageParams, page int) string {
	v := url.Values{}
	v.Set("page", strconv.Itoa(page))
	v.Set("pageSize", strconv.Itoa(p.pageSize))
	if p.query != "" {
		v.Set("query", p.query)
	}
	if p.orderBy != "" {
		v.Set("orderBy", p.orderBy)
	}
	return path + "?" + v.Encode()
}
