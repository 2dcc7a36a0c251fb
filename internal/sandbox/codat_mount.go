package sandbox

import (
	"fmt"
	"net/http"

	"github.com/consent-operator/consent-operator/internal/sandbox/codat"
)

// MountCodat serves the Codat emulator on this server's address, behind the same
// request logging, fault injection and call counting as the TrueLayer endpoints. The
// emulator shares the server's clock, seed, dataset size and anchor, so both providers
// serve the same mock bank. Calls are counted with the API key's client "codat" and the
// company id as the connection.
func (s *Server) MountCodat(opts codat.Options) (*codat.Emulator, error) {
	opts.Clock = s.clock
	opts.Seed = s.opts.Seed
	opts.DataSize = s.opts.DatasetSize
	opts.DataAnchor = s.opts.DatasetAnchor
	if opts.Logger == nil {
		opts.Logger = s.opts.Logger
	}
	if opts.PublicBaseURL == "" {
		opts.PublicBaseURL = s.opts.PublicURL
	}
	e, err := codat.New(opts)
	if err != nil {
		return nil, fmt.Errorf("creating Codat emulator: %w", err)
	}
	h := e.Handler()
	annotated := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Annotate(r, "codat", e.Classify(r).CompanyID)
		h.ServeHTTP(w, r)
	})
	for _, p := range codat.MountPaths {
		if err := s.Mount(p, annotated); err != nil {
			return nil, err
		}
	}
	return e, nil
}
