//go:build !unix

package livetest

import "os"

// Elsewhere, run live tests one package at a time (go test -p 1).
func lockFileExclusive(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
