package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
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
	n := 0
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		a, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(shared, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s/%s differs from the shared catalog", catalogDir, rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 15 {
		t.Errorf("compared %d files, want the whole copy", n)
	}
}
