// Command amigen writes the Go types of packages httpami/actions and
// httpami/events from the catalog of AMI actions and events kept in
// testdata/asterisk-catalog (a copy of the shared catalog, facts only).
//
//	go run ./internal/amigen            # rewrite the generated files
//	go run ./internal/amigen -check     # exit 1 if they are not up to date
//
// Run it from the module root; go generate in httpami/actions does.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", ".", "module root")
	check := flag.Bool("check", false, "compare with the files on disk instead of writing them")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "amigen:", err)
		os.Exit(1)
	}
}

// Paths of the input and outputs, relative to the module root.
const (
	catalogDir = "testdata/asterisk-catalog"
	actionsOut = "httpami/actions/actions_gen.go"
	eventsOut  = "httpami/events/events_gen.go"
)

func run(root string, check bool) error {
	files, err := generate(filepath.Join(root, catalogDir))
	if err != nil {
		return err
	}
	stale := 0
	for _, f := range files {
		path := filepath.Join(root, f.path)
		if check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, f.src) {
				fmt.Fprintf(os.Stderr, "amigen: %s is not what the catalog generates: run go generate ./httpami/actions\n", f.path)
				stale++
			}
			continue
		}
		if err := os.WriteFile(path, f.src, 0o644); err != nil {
			return err
		}
	}
	if stale > 0 {
		return fmt.Errorf("%d generated files out of date", stale)
	}
	return nil
}

type file struct {
	path string
	src  []byte
}

// generate returns the generated files for the catalog in dir.
func generate(dir string) ([]file, error) {
	c, err := loadCatalog(dir)
	if err != nil {
		return nil, err
	}
	if err := c.applySupplement(); err != nil {
		return nil, err
	}
	a, err := c.actionsFile()
	if err != nil {
		return nil, err
	}
	e, err := c.eventsFile()
	if err != nil {
		return nil, err
	}
	return []file{{actionsOut, a}, {eventsOut, e}}, nil
}
