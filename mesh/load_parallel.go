package mesh

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
)

// Documents are independent until Build folds them together, so the
// loader decodes them in parallel: the documents of a group of files are
// cut into batches of consecutive documents, each batch is decoded by one
// of up to GOMAXPROCS goroutines into a Builder of its own, and the
// batches are merged into the caller's Builder in file and document order.
// Every list the Builder keeps, and every error list, is thus in the order
// a sequential decode gives, and the output is the same whatever the
// scheduling.

const (
	// batchBytes is the text a batch aims at: large enough that batches
	// cost little to hand out and merge, small enough to share work
	// evenly.
	batchBytes = 64 << 10
	// groupBytes is how much file content Load reads before decoding it,
	// so that a large directory is not held in memory all at once.
	groupBytes = 32 << 20
)

// source is one file's content.
type source struct {
	name string
	src  []byte
}

// input is a file to read, or the error met finding it.
type input struct {
	read func() (name string, src []byte, err error)
	err  *Error
}

// addInputs reads and decodes the files of in into b, a group of files at
// a time, and returns the problems in input order: reading errors where
// they occurred, each file's decoding errors sorted.
func (b *Builder) addInputs(in []input) ErrorList { return b.addGroups(in, groupBytes) }

// addGroups is addInputs with groups of about limit bytes.
func (b *Builder) addGroups(in []input, limit int) ErrorList {
	var errs ErrorList
	var group []source
	var order []*Error // per input of the group: its reading error, or nil for the next source
	size := 0
	flush := func() {
		if len(order) == 0 {
			return
		}
		perFile := b.addSources(group)
		for _, e := range order {
			if e != nil {
				errs = append(errs, e)
				continue
			}
			errs = append(errs, perFile[0]...)
			perFile = perFile[1:]
		}
		group, order, size = nil, nil, 0
	}
	for _, it := range in {
		if it.err == nil {
			name, src, err := it.read()
			if err != nil {
				it.err = &Error{Pos: Pos{File: name}, Err: err}
			} else {
				group = append(group, source{name: name, src: src})
				size += len(src)
			}
		}
		order = append(order, it.err)
		if size >= limit {
			flush()
		}
	}
	flush()
	return errs
}

// job is one document of a source.
type job struct {
	file int // index in the sources
	c    chunk
}

// part is what one batch decoded.
type part struct {
	b    Builder
	st   manifestState
	errs []fileErrors
}

type fileErrors struct {
	file int
	errs ErrorList
}

// addSources decodes every document of srcs into b and returns each
// source's errors, sorted.
func (b *Builder) addSources(srcs []source) []ErrorList {
	return b.decodeSources(srcs, runtime.GOMAXPROCS(0), batchBytes)
}

// decodeSources is addSources with up to workers goroutines and batches of
// about size bytes.
func (b *Builder) decodeSources(srcs []source, workers, size int) []ErrorList {
	if b.manifests == nil {
		b.manifests = &manifestState{}
	}
	chunks := make([][]chunk, len(srcs))
	n := 0
	for i, s := range srcs {
		chunks[i] = splitDocuments(s.src)
		n += len(chunks[i])
	}
	jobs := make([]job, 0, n)
	for i, cs := range chunks {
		for _, c := range cs {
			jobs = append(jobs, job{file: i, c: c})
		}
	}
	var batches [][]job
	for start := 0; start < len(jobs); {
		end := start
		for n := 0; end < len(jobs) && (end == start || n < size); end++ {
			n += len(jobs[end].c.text)
		}
		batches = append(batches, jobs[start:end:end])
		start = end
	}
	parts := make([]*part, len(batches))
	workers = min(workers, len(batches))
	if workers <= 1 {
		var w worker
		for i, bt := range batches {
			parts[i] = w.decode(srcs, bt)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		var crash atomic.Value // a worker's panic, re-raised here
		for range workers {
			wg.Go(func() {
				defer func() {
					if r := recover(); r != nil {
						crash.CompareAndSwap(nil, fmt.Sprintf("%v\n%s", r, debug.Stack()))
					}
				}()
				var w worker
				for {
					i := int(next.Add(1)) - 1
					if i >= len(batches) {
						return
					}
					parts[i] = w.decode(srcs, batches[i])
				}
			})
		}
		wg.Wait()
		if r := crash.Load(); r != nil {
			panic(r)
		}
	}
	b.absorb(parts)
	errs := make([]ErrorList, len(srcs))
	for _, pt := range parts {
		for _, fe := range pt.errs {
			errs[fe.file] = append(errs[fe.file], fe.errs...)
		}
	}
	for i := range errs {
		errs[i].Sort()
	}
	return errs
}

// worker is what one goroutine reuses from batch to batch.
type worker struct {
	parser fastParser
	sh     shared
}

// decode decodes a batch of consecutive documents.
func (w *worker) decode(srcs []source, jobs []job) *part {
	pt := &part{}
	for _, j := range jobs {
		d := decoder{b: &pt.b, st: &pt.st, file: srcs[j.file].name}
		d.chunk(j.c, w)
		if len(d.errs) > 0 {
			pt.errs = append(pt.errs, fileErrors{file: j.file, errs: d.errs})
		}
	}
	return pt
}

// absorb appends what the parts decoded to b, in order.
func (b *Builder) absorb(parts []*part) {
	var ns, ws, ss, ws2 int
	for _, pt := range parts {
		ns += len(pt.b.namespaces)
		ws += len(pt.st.workloads)
		ss += len(pt.b.services)
		ws2 += len(pt.b.warnings)
	}
	// The long lists grow once.
	b.namespaces = slices.Grow(b.namespaces, ns)
	b.services = slices.Grow(b.services, ss)
	b.warnings = slices.Grow(b.warnings, ws2)
	b.manifests.workloads = slices.Grow(b.manifests.workloads, ws)
	for _, pt := range parts {
		x := &pt.b
		b.namespaces = append(b.namespaces, x.namespaces...)
		b.workloads = append(b.workloads, x.workloads...)
		b.services = append(b.services, x.services...)
		b.entries = append(b.entries, x.entries...)
		b.sidecars = append(b.sidecars, x.sidecars...)
		b.peerAuths = append(b.peerAuths, x.peerAuths...)
		b.destRules = append(b.destRules, x.destRules...)
		b.authz = append(b.authz, x.authz...)
		b.warnings = append(b.warnings, x.warnings...)
		b.manifests.absorb(&pt.st)
	}
}

// absorb appends o, decoded after st, to st.
func (st *manifestState) absorb(o *manifestState) {
	st.workloads = append(st.workloads, o.workloads...)
	st.meshCMs = append(st.meshCMs, o.meshCMs...)
	st.injectors = append(st.injectors, o.injectors...)
	for k, t := range o.skipped {
		if st.skipped == nil {
			st.skipped = map[string]*tally{}
		}
		if st.skipped[k] == nil {
			st.skipped[k] = &tally{}
		}
		st.skipped[k].absorb(*t)
	}
	st.noNS.absorb(o.noNS)
	st.dirty = st.dirty || o.dirty
}

// absorb adds o, counted after t, to t: the first position stays t's on a
// tie, as with add.
func (t *tally) absorb(o tally) {
	if o.n == 0 {
		return
	}
	if t.n == 0 || comparePos(o.first, t.first) < 0 {
		t.first = o.first
	}
	t.n += o.n
}
