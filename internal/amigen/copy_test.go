package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/amihttp/amihttp/internal/transcript"
)

// TestCatalogUnchanged guards the rule that the catalog is copied, never
// edited: where the shared original is present beside the project, every
// file of testdata/asterisk-catalog must be identical to it.
func TestCatalogUnchanged(t *testing.T) {
	dir := filepath.Join("..", "..", catalogDir)
	shared := filepath.Join("..", "..", "..", "shared", "asterisk-catalog")
	if _, err := os.Stat(shared); err != nil {
		t.Skip("no shared catalog beside the project")
	}
	if n := transcript.CheckCopy(t, dir, shared); n < 15 {
		t.Errorf("compared %d files, want the whole copy", n)
	}
}
