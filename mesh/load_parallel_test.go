package mesh

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// TestAbsorbKeepsEveryList fills every list of a part's Builder and
// manifest state and checks that absorb carries each into the target, so
// that a list added to Builder later cannot be dropped by parallel loads.
func TestAbsorbKeepsEveryList(t *testing.T) {
	t.Parallel()
	pt := &part{}
	fill := func(v reflect.Value, known map[string]bool) {
		for i := range v.NumField() {
			// Unexported fields are set through their address.
			f := reflect.NewAt(v.Field(i).Type(), unsafe.Pointer(v.Field(i).UnsafeAddr())).Elem()
			name := v.Type().Field(i).Name
			switch {
			case f.Kind() == reflect.Slice:
				f.Set(reflect.MakeSlice(f.Type(), 1, 1))
			case !known[name]:
				t.Errorf("%s.%s: absorb does not know this field", v.Type().Name(), name)
			}
		}
	}
	// Builder's config is the caller's (decoding never sets it) and its
	// manifests are the part's st; the manifest state's other fields are
	// absorbed below.
	fill(reflect.ValueOf(&pt.b).Elem(), map[string]bool{"config": true, "manifests": true})
	fill(reflect.ValueOf(&pt.st).Elem(), map[string]bool{"skipped": true, "noNS": true, "dirty": true})
	pt.st.skipped = map[string]*tally{"Secret": {n: 2, first: Pos{File: "b", Line: 3}}}
	pt.st.noNS = tally{n: 1, first: Pos{File: "b", Line: 1}}
	pt.st.dirty = true

	var b Builder
	b.manifests = &manifestState{skipped: map[string]*tally{"Secret": {n: 1, first: Pos{File: "a", Line: 9}}}}
	b.absorb([]*part{pt})
	check := func(v reflect.Value) {
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() != 1 {
				t.Errorf("%s.%s: %d entries after absorb, want 1", v.Type().Name(), v.Type().Field(i).Name, f.Len())
			}
		}
	}
	check(reflect.ValueOf(&b).Elem())
	check(reflect.ValueOf(b.manifests).Elem())
	want := tally{n: 3, first: Pos{File: "a", Line: 9}} // the earlier file's position
	if got := *b.manifests.skipped["Secret"]; got != want {
		t.Errorf("skipped tally %+v, want %+v", got, want)
	}
	if !b.manifests.dirty || b.manifests.noNS.n != 1 {
		t.Errorf("dirty=%t noNS=%+v, want true and the part's tally", b.manifests.dirty, b.manifests.noNS)
	}
}

// TestParallelDecodeIsSequential decodes the fixtures (good, bad and
// broken documents: objects, warnings, errors, folding across files) with
// one goroutine and one batch per file, and with several goroutines and
// one batch per document, and checks that the results are identical.
func TestParallelDecodeIsSequential(t *testing.T) {
	t.Parallel()
	var srcs []source
	err := filepath.WalkDir("testdata", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !isManifestName(e.Name()) {
			return err
		}
		src, err := os.ReadFile(path)
		srcs = append(srcs, source{name: path, src: src})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A generated file of many documents, so that batches interleave.
	var gen strings.Builder
	for i := range 200 {
		fmt.Fprintf(&gen, "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: ns%d, labels: {app: a%d}}\nspec:\n  containers: [{name: c, ports: [{containerPort: %d}]}]\n---\n", i, i%7, i%5, 1+i%3)
		if i%17 == 0 {
			fmt.Fprintf(&gen, "apiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: ns%d}\nspec: {ports: [{port: x}]}\n---\n", i, i%7)
		}
	}
	srcs = append(srcs, source{name: "gen.yaml", src: []byte(gen.String())})

	type result struct {
		Mesh     string
		Warnings []string
		Errors   []string
	}
	run := func(workers, size int) result {
		var b Builder
		var errs ErrorList
		for _, l := range b.decodeSources(srcs, workers, size) {
			errs = append(errs, l...)
		}
		var r result
		for _, e := range errs {
			r.Errors = append(r.Errors, e.Error())
		}
		m, err := b.Build()
		if err != nil {
			for _, e := range err.(ErrorList) {
				r.Errors = append(r.Errors, "build: "+e.Error())
			}
			return r
		}
		for _, w := range m.Warnings() {
			r.Warnings = append(r.Warnings, w.Error())
		}
		r.Mesh = fmt.Sprintf("%+v", [...]any{m.Config(), m.Namespaces(), m.Workloads(), m.Services(), m.ServiceEntries(),
			m.Sidecars(), m.PeerAuthentications(), m.DestinationRules(), m.AuthorizationPolicies()})
		return r
	}
	seq := run(1, 1<<30)
	if len(seq.Errors) == 0 {
		t.Fatal("the fixtures gave no error; the comparison would miss error order")
	}
	for _, workers := range []int{2, 3, 8} {
		if d := cmp.Diff(seq, run(workers, 1)); d != "" {
			t.Errorf("%d goroutines, one document per batch: results differ from one goroutine (-sequential +parallel):\n%s", workers, d)
		}
	}
}

// TestGroupsKeepOrder reads files in groups of every size and checks that
// the errors (reading errors among decoding ones) and objects come out as
// with one group.
func TestGroupsKeepOrder(t *testing.T) {
	t.Parallel()
	file := func(name, src string) input {
		return input{read: func() (string, []byte, error) { return name, []byte(src), nil }}
	}
	in := []input{
		file("a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: Pod\n"),
		{read: func() (string, []byte, error) { return "gone.yaml", nil, fs.ErrNotExist }},
		file("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {ports: [{port: 0}]}\n"),
		{err: &Error{Pos: Pos{File: "missing/"}, Err: fs.ErrNotExist}},
		file("c.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: c, labels: {istio-injection: on}}\n"),
	}
	run := func(limit int) []string {
		var b Builder
		var out []string
		for _, e := range b.addGroups(in, limit) {
			out = append(out, e.Error())
		}
		for _, ns := range b.namespaces {
			out = append(out, "namespace "+ns.Name)
		}
		return out
	}
	want := run(1 << 30)
	// c's label "on" is a YAML 1.1 boolean: an error, so one namespace.
	if len(want) != 6 {
		t.Fatalf("one group gave %d entries, want 5 errors and 1 namespace: %q", len(want), want)
	}
	for _, limit := range []int{1, 40, 100} {
		if d := cmp.Diff(want, run(limit)); d != "" {
			t.Errorf("groups of %d bytes differ from one group (-one +groups):\n%s", limit, d)
		}
	}
}
