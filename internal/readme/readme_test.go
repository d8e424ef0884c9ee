package readme

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// marker names the source of the Go snippet that follows it:
// <!-- snippet: path/from/the/root.go FuncName --> (FuncName optional:
// the whole file).
var marker = regexp.MustCompile(`^<!-- snippet: (\S+\.go)(?: (\S+))? -->$`)

type snippet struct {
	line       int // of the opening fence
	file, fn   string
	code       []string
	hasMarker  bool
	markerLine int
}

// TestSnippets checks that the lines of every ```go block of README.md
// appear, in order, in the function its marker names.
func TestSnippets(t *testing.T) {
	snips := readSnippets(t, "../../README.md")
	if len(snips) < 8 {
		t.Fatalf("found %d Go snippets in README.md; the quick start has more", len(snips))
	}
	for _, s := range snips {
		if !s.hasMarker {
			t.Errorf("README.md:%d: a Go snippet without a <!-- snippet: file.go Func --> line before it", s.line)
			continue
		}
		src, err := source(filepath.Join("../..", s.file), s.fn)
		if err != nil {
			t.Errorf("README.md:%d: %v", s.markerLine, err)
			continue
		}
		if missing := notIn(s.code, src); missing != "" {
			t.Errorf("README.md:%d: line %q is not in %s %s (in this order)", s.line, missing, s.file, s.fn)
		}
	}
}

// readSnippets returns the ```go blocks of the Markdown file at path.
func readSnippets(t *testing.T, path string) []snippet {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []snippet
	var cur *snippet
	var last string
	lastLine := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text()) // fences may be indented in lists
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.code = append(cur.code, line)
		case line == "```go":
			cur = &snippet{line: n}
			if m := marker.FindStringSubmatch(last); m != nil {
				cur.hasMarker, cur.markerLine, cur.file, cur.fn = true, lastLine, m[1], m[2]
			}
		}
		if line != "" {
			last, lastLine = line, n
		}
	}
	if cur != nil {
		t.Fatalf("README.md:%d: a Go block that never ends", cur.line)
	}
	return out
}

// source returns the lines of function fn in the Go file at path, or of
// the whole file when fn is empty.
func source(path, fn string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if fn == "" {
		return strings.Split(string(data), "\n"), nil
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, data, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == fn {
			body := data[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset]
			return strings.Split(string(body), "\n"), nil
		}
	}
	return nil, &notFound{path, fn}
}

type notFound struct{ path, fn string }

func (e *notFound) Error() string { return "no function " + e.fn + " in " + e.path }

// notIn returns the first line of code (trimmed, blank lines skipped)
// that does not appear in src after the previous ones, or "".
func notIn(code, src []string) string {
	j := 0
	for _, c := range code {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		for j < len(src) && strings.TrimSpace(src[j]) != c {
			j++
		}
		if j == len(src) {
			return c
		}
		j++
	}
	return ""
}
