package sandbox_test

import (
	"testing"

	"github.com/consent-operator/consent-operator/internal/providerdocs"
)

// The contract tests validate answers against TrueLayer's OpenAPI documents: without
// them the package stops before any test, with one message saying how to get them.
func TestMain(m *testing.M) { providerdocs.Main(m, providerdocs.TrueLayer) }
