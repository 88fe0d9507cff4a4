package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/meshreach/meshreach/examples/seed"
	"github.com/meshreach/meshreach/mesh"
)

// loadMesh reads the manifests named by -f: files, directories (read
// recursively for *.yaml, *.yml and *.json, skipping directories whose name
// starts with ".", as mesh.Load does) and "-" for stdin, reported as
// mesh.StdinName. Expectations files are never read as manifests: skip (the
// file check was given) and, inside directories, every file named
// expect.yaml, the scenario layout's name for them. Warnings go to stderr
// as "warning: <text>". The error is a mesh.ErrorList.
//
// mesh.Load is not used because it reads os.Stdin itself and cannot leave
// files out.
func loadMesh(paths []string, skip string, stdin io.Reader, stderr io.Writer) (*mesh.Mesh, error) {
	var b mesh.Builder
	var errs mesh.ErrorList
	add := func(err error) {
		if l, ok := err.(mesh.ErrorList); ok {
			errs = append(errs, l...)
		}
	}
	seen := map[string]bool{}
	readStdin := false
	for _, p := range paths {
		if p == "-" {
			if readStdin {
				continue
			}
			readStdin = true
			src, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, &mesh.Error{Pos: mesh.Pos{File: mesh.StdinName}, Err: err})
				continue
			}
			add(b.AddManifest(mesh.StdinName, src))
			continue
		}
		files, err := manifestFiles(p, skip)
		if err != nil {
			errs = append(errs, &mesh.Error{Pos: mesh.Pos{File: p}, Err: pathless(err)})
			continue
		}
		for _, f := range files {
			if seen[f] {
				continue
			}
			seen[f] = true
			src, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, &mesh.Error{Pos: mesh.Pos{File: f}, Err: pathless(err)})
				continue
			}
			add(b.AddManifest(f, src))
		}
	}
	m, err := b.Build()
	add(err)
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	for _, w := range m.Warnings() {
		fmt.Fprintf(stderr, "warning: %v\n", w)
	}
	return m, nil
}

// manifestFiles expands one -f argument into files, in lexical order. A
// file named explicitly is read whatever its extension, unless it is skip.
func manifestFiles(p, skip string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		if samePath(p, skip) {
			return nil, nil
		}
		return []string{filepath.Clean(p)}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(f string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case e.IsDir() && f != p && strings.HasPrefix(e.Name(), "."):
			return filepath.SkipDir
		case e.IsDir() || e.Name() == seed.ExpectFile || samePath(f, skip):
			return nil
		}
		switch strings.ToLower(filepath.Ext(f)) {
		case ".yaml", ".yml", ".json":
			files = append(files, filepath.Clean(f))
		}
		return nil
	})
	return files, err
}

// pathless drops the operation and path of an *fs.PathError, which the
// error's position already names: "x.yaml: no such file or directory".
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err != nil {
		return pe.Err
	}
	return err
}

// samePath reports whether a and b name the same file.
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}
