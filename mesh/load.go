package mesh

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// StdinName is the file name positions carry for input read from standard
// input by [Load] with the path "-".
const StdinName = "<stdin>"

// Load reads Kubernetes and Istio manifests from files and directories and
// builds a Mesh. A directory is read recursively for *.yaml, *.yml and
// *.json files (directories whose name starts with "." are skipped); a file
// named explicitly is read whatever its extension; "-" reads standard input,
// whose positions are reported as [StdinName]. Each file may hold several
// YAML documents and `kind: List` objects.
//
// Every problem of every file is reported: the error is an [ErrorList]
// sorted by position, whose entries wrap [ErrSyntax], [ErrUnknownField],
// [ErrInvalidValue], [ErrMissingField] or [ErrDuplicate]; on error the Mesh
// is nil. Legal but suspicious input is reported by [Mesh.Warnings].
func Load(paths ...string) (*Mesh, error) {
	var b Builder
	var in []input
	seen := map[string]bool{}
	for _, p := range paths {
		files, err := expandPath(p)
		if err != nil {
			in = append(in, input{err: &Error{Pos: Pos{File: p}, Err: err}})
			continue
		}
		for _, f := range files {
			if seen[f] {
				continue
			}
			seen[f] = true
			in = append(in, input{read: func() (string, []byte, error) { return readInput(f) }})
		}
	}
	return build(&b, b.addInputs(in))
}

// expandPath turns one Load argument into files, in lexical order.
func expandPath(p string) ([]string, error) {
	if p == "-" {
		return []string{p}, nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{filepath.Clean(p)}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(f string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if f != p && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if isManifestName(e.Name()) {
			files = append(files, filepath.Clean(f))
		}
		return nil
	})
	return files, err
}

func readInput(f string) (name string, src []byte, err error) {
	if f == "-" {
		src, err = io.ReadAll(os.Stdin)
		return StdinName, src, err
	}
	src, err = os.ReadFile(f)
	return f, src, err
}

// isManifestName reports whether a file found in a directory is read.
func isManifestName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// LoadFS is [Load] for a file system. Each pattern is a directory name (read
// recursively as in Load) or an [fs.Glob] pattern; a pattern that matches
// nothing is an error. Without patterns the whole file system is read.
// Positions carry the paths within fsys.
func LoadFS(fsys fs.FS, patterns ...string) (*Mesh, error) {
	var b Builder
	var in []input
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	seen := map[string]bool{}
	for _, pat := range patterns {
		files, err := expandFS(fsys, pat)
		if err != nil {
			in = append(in, input{err: &Error{Pos: Pos{File: pat}, Err: err}})
			continue
		}
		for _, f := range files {
			if seen[f] {
				continue
			}
			seen[f] = true
			in = append(in, input{read: func() (string, []byte, error) {
				src, err := fs.ReadFile(fsys, f)
				return f, src, err
			}})
		}
	}
	return build(&b, b.addInputs(in))
}

func expandFS(fsys fs.FS, pat string) ([]string, error) {
	matches := []string{pat}
	if info, err := fs.Stat(fsys, pat); err != nil || !info.IsDir() {
		m, err := fs.Glob(fsys, pat)
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("no file matches %q", pat)
		}
		matches = m
	}
	var files []string
	for _, m := range matches {
		info, err := fs.Stat(fsys, m)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, m)
			continue
		}
		err = fs.WalkDir(fsys, m, func(f string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if f != m && strings.HasPrefix(e.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if isManifestName(e.Name()) {
				files = append(files, f)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// Parse builds a Mesh from one file's content (several YAML documents,
// JSON, or a `kind: List`). name is used in positions. Errors are reported
// as in [Load].
func Parse(name string, src []byte) (*Mesh, error) {
	var b Builder
	return build(&b, appendErrs(nil, b.AddManifest(name, src)))
}

// ParseReader is [Parse] for a reader; it reads r to the end.
func ParseReader(name string, r io.Reader) (*Mesh, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, ErrorList{{Pos: Pos{File: name}, Err: err}}
	}
	return Parse(name, src)
}

func appendErrs(errs ErrorList, err error) ErrorList {
	if l, ok := err.(ErrorList); ok {
		return append(errs, l...)
	}
	return errs
}

// build runs Build and merges its errors with the loader's.
func build(b *Builder, errs ErrorList) (*Mesh, error) {
	m, err := b.Build()
	errs = appendErrs(errs, err)
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return m, nil
}

// AddManifest decodes the Kubernetes and Istio objects of one file (name is
// used in positions) into b. Objects with errors are left out; the error is
// an [ErrorList] with every problem of the file, or nil. Warnings go to the
// Builder. Pods, ReplicaSets and Jobs are folded into their controllers,
// and the mesh and injector ConfigMaps are applied, when [Builder.Build]
// runs, so objects may be spread over several calls in any order. The
// documents are decoded by up to GOMAXPROCS goroutines, with the same
// result as decoding them one after the other.
func (b *Builder) AddManifest(name string, src []byte) error {
	return b.addSources([]source{{name: name, src: src}})[0].Err()
}

// chunk is one YAML document's text.
type chunk struct {
	index int // 1-based document index
	first int // file line of the chunk's first line
	text  []byte
}

// splitDocuments cuts a YAML stream at document markers ("---" starts a
// document, "..." ends one), so that a syntax error in one document does
// not hide the others. Documents without content (blank lines, comments)
// are dropped, and document indexes count the remaining ones from 1;
// directives (%YAML, %TAG) stay with the document they precede.
func splitDocuments(src []byte) []chunk {
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	out := make([]chunk, 0, bytes.Count(src, []byte("\n---"))+1) // about one per marker
	start, startLine, line := 0, 1, 1
	content, directive := false, false
	flush := func(end int) {
		if content {
			out = append(out, chunk{index: len(out) + 1, first: startLine, text: src[start:end]})
		}
		content = false
	}
	for i := 0; i < len(src); {
		j := bytes.IndexByte(src[i:], '\n')
		next := len(src)
		if j >= 0 {
			next = i + j + 1
		}
		if content && src[i] != '-' && src[i] != '.' {
			// Inside a document only a marker changes anything.
			i = next
			line++
			continue
		}
		l := bytes.TrimRight(src[i:next], "\r\n")
		switch {
		case isMarker(l, "---"):
			// A new document starts here, unless only a directive came
			// before, which belongs to this document.
			flush(i)
			if !directive {
				start, startLine = i, line
			}
			directive = false
			if rest := bytes.TrimSpace(l[3:]); len(rest) > 0 && rest[0] != '#' {
				content = true
			}
		case isMarker(l, "..."):
			flush(next)
			start, startLine, directive = next, line+1, false
		default:
			switch t := bytes.TrimSpace(l); {
			case len(t) == 0 || t[0] == '#':
			case t[0] == '%' && !content:
				if !directive {
					start, startLine = i, line
				}
				directive = true
			default:
				content = true
			}
		}
		i = next
		line++
	}
	flush(len(src))
	return out
}

func isMarker(l []byte, m string) bool {
	return bytes.HasPrefix(l, []byte(m)) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t')
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserErrors are the messages of yaml.v3's parser (not scanner)
// errors, whose "line N" is 0-based: it reports context_mark.line without
// the +1 it adds for scanner errors (go.yaml.in/yaml/v3 decode.go fail).
var yamlParserErrors = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// syntaxError splits a yaml.v3 error into a 1-based line (0 if unknown)
// and a message.
func syntaxError(err error) (int, string) {
	msg := err.Error()
	m := yamlLineErr.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	if yamlParserErrors[m[2]] {
		n++
	}
	return n, m[2]
}

// chunk parses one document and decodes its object, with w's scanner and
// string copies.
func (d *decoder) chunk(c chunk, w *worker) {
	visits := 0
	w.sh.reset()
	dc := &doc{file: d.file, index: c.index, offset: c.first - 1, visits: &visits, sh: &w.sh}
	root, err := w.parser.parse(c.text)
	if err != nil {
		n, msg := syntaxError(err)
		line := c.first
		if n > 0 {
			line = c.first - 1 + n
		}
		d.errs = append(d.errs, &Error{Pos: Pos{File: d.file, Doc: c.index, Line: line}, Err: fmt.Errorf("%w: %s", ErrSyntax, msg)})
		return
	}
	if len(root.Content) == 0 || isNull(deref(root.Content[0])) {
		return
	}
	d.object(dc, root.Content[0], typeMeta{}, 0)
}

// manifestState is what AddManifest decoded and Build has not yet folded:
// workloads waiting for their owners, the mesh and injector configuration
// candidates, and counts for the aggregate warnings.
type manifestState struct {
	workloads []*rawWorkload
	meshCMs   []*meshConfigMap
	injectors []*injectorSource
	skipped   map[string]*tally // kind → objects not modelled
	noNS      tally             // objects put in "default"
	dirty     bool
}

// tally counts objects and remembers the first one's position.
type tally struct {
	n     int
	first Pos
}

func (t *tally) add(p Pos) {
	if t.n == 0 || comparePos(p, t.first) < 0 {
		t.first = p
	}
	t.n++
}

func comparePos(a, b Pos) int {
	return compareErrors(&Error{Pos: a}, &Error{Pos: b})
}

// flushManifests folds what AddManifest decoded into b: workloads into
// their controllers, the mesh and injector configuration into b's Config,
// and the warnings that need the whole input. It is a no-op when nothing
// was added since the last call.
func (b *Builder) flushManifests() {
	st := b.manifests
	if st == nil || !st.dirty {
		return
	}
	st.dirty = false
	b.foldWorkloads(st.workloads)
	st.workloads = nil
	b.applyConfig(st)
	for _, k := range slices.Sorted(maps.Keys(st.skipped)) {
		t := st.skipped[k]
		b.AddWarning(&Error{Pos: t.first, Err: fmt.Errorf("skipped %d %s %s (not modelled)", t.n, k, plural(t.n, "object", "objects"))})
	}
	st.skipped = nil
	if st.noNS.n > 0 {
		b.AddWarning(&Error{Pos: st.noNS.first, Err: fmt.Errorf("%d %s without metadata.namespace put in namespace \"default\", as kubectl does",
			st.noNS.n, plural(st.noNS.n, "object", "objects"))})
		st.noNS = tally{}
	}
	b.crossObjectWarnings()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
