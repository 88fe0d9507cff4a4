package mesh

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PatchAPIVersion and PatchDeleteKind identify the documents of a patch
// file that remove objects.
const (
	PatchAPIVersion = "meshreach.io/v1"
	PatchDeleteKind = "Delete"
)

// ApplyPatch applies a manifest patch file to b; name is used in positions.
//
// A patch is a multi-document YAML file. Every document but one of kind
// Delete is an ordinary manifest, read by the same strict loader as
// [Load], and added to b, replacing the object b holds with the same
// reference (a workload replaces the workload with the same namespace and
// name, whatever its kind). A mesh or injector ConfigMap replaces the mesh
// configuration as a whole, as the loader reads it. A document
//
//	apiVersion: meshreach.io/v1
//	kind: Delete
//	objects:
//	- kind: PeerAuthentication   # any modelled kind; Workload = any workload kind
//	  namespace: app
//	  name: default
//	- kind: Namespace
//	  name: legacy
//
// removes objects. Deletions apply before additions; deleting an object b
// does not hold, or one the same patch adds, is an error.
//
// Every problem is reported, as a positioned [ErrorList]; on error b is
// left unchanged. Warnings about the patch's objects go to b.
func (b *Builder) ApplyPatch(name string, src []byte) error {
	var errs ErrorList
	var deletes []patchDelete
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	lines := bytes.SplitAfter(src, []byte("\n"))
	kept := false
	for _, c := range splitDocuments(src) {
		var root yaml.Node
		if err := yaml.Unmarshal(c.text, &root); err != nil || len(root.Content) == 0 {
			kept = true // the loader reports syntax errors
			continue
		}
		doc := deref(root.Content[0])
		if !isDeleteDoc(doc) {
			kept = true
			continue
		}
		p := patchParser{file: name, doc: c.index, offset: c.first - 1}
		deletes = append(deletes, p.deleteDoc(doc)...)
		errs = append(errs, p.errs...)
		// Blank the document out, keeping line numbers, for the loader.
		n := bytes.Count(c.text, []byte("\n"))
		if !bytes.HasSuffix(c.text, []byte("\n")) {
			n++
		}
		for i := c.first - 1; i < c.first-1+n && i < len(lines); i++ {
			if bytes.HasSuffix(lines[i], []byte("\n")) {
				lines[i] = []byte("\n")
			} else {
				lines[i] = nil
			}
		}
	}

	// Decode the other documents in a Builder of their own, so that b is
	// untouched when they have errors.
	cfg := b.Config()
	tmp := &Builder{config: &cfg}
	if kept {
		if l, ok := tmp.AddManifest(name, bytes.Join(lines, nil)).(ErrorList); ok {
			errs = append(errs, l...)
		}
	}
	configured := tmp.manifests != nil && (len(tmp.manifests.meshCMs) > 0 || len(tmp.manifests.injectors) > 0)
	tmp.flushManifests()
	// Objects the patch declares twice are errors, as in a manifest set.
	if _, err := tmp.Build(); err != nil {
		if l, ok := err.(ErrorList); ok {
			errs = append(errs, l...)
		}
	}

	added := map[Ref]Pos{}
	addRef := func(r Ref, p Pos) { added[r] = p }
	for _, x := range tmp.namespaces {
		addRef(Ref{Kind: "Namespace", Name: x.Name}, x.Pos)
	}
	for _, x := range tmp.workloads {
		addRef(Ref{Kind: "Workload", Namespace: x.ID.Namespace, Name: x.ID.Name}, x.Pos)
	}
	for _, r := range tmp.refs() {
		addRef(r.ref, r.pos)
	}
	for _, d := range deletes {
		key := d.ref
		if IsWorkloadKind(key.Kind) {
			key.Kind = "Workload"
		}
		switch {
		case !b.Has(d.ref):
			errs = append(errs, &Error{Pos: d.pos, Ref: deleteRef, Path: d.path,
				Err: fmt.Errorf("%w: nothing to delete: no %s", ErrInvalidValue, d.ref)})
		case addedHas(added, key):
			errs = append(errs, &Error{Pos: d.pos, Ref: deleteRef, Path: d.path,
				Err: fmt.Errorf("%w: %s is both deleted and added by the patch (added at %s)", ErrInvalidValue, d.ref, orUnknown(added[key]))})
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return errs
	}

	for _, d := range deletes {
		b.Remove(d.ref)
	}
	if configured {
		b.SetConfig(tmp.Config())
	}
	for _, x := range tmp.namespaces {
		b.SetNamespace(x)
	}
	for _, x := range tmp.workloads {
		b.SetWorkload(x)
	}
	for _, x := range tmp.services {
		b.SetService(x)
	}
	for _, x := range tmp.entries {
		b.SetServiceEntry(x)
	}
	for _, x := range tmp.sidecars {
		b.SetSidecar(x)
	}
	for _, x := range tmp.peerAuths {
		b.SetPeerAuthentication(x)
	}
	for _, x := range tmp.destRules {
		b.SetDestinationRule(x)
	}
	for _, x := range tmp.authz {
		b.SetAuthorizationPolicy(x)
	}
	b.warnings = append(b.warnings, tmp.warnings...)
	return nil
}

func addedHas(m map[Ref]Pos, k Ref) bool {
	_, ok := m[k]
	return ok
}

type refPos struct {
	ref Ref
	pos Pos
}

// refs lists the references of the Builder's objects other than
// namespaces and workloads.
func (b *Builder) refs() []refPos {
	var out []refPos
	for _, x := range b.services {
		out = append(out, refPos{x.Ref, x.Pos})
	}
	for _, x := range b.entries {
		out = append(out, refPos{x.Ref, x.Pos})
	}
	for _, x := range b.sidecars {
		out = append(out, refPos{x.Ref, x.Pos})
	}
	for _, x := range b.peerAuths {
		out = append(out, refPos{x.Ref, x.Pos})
	}
	for _, x := range b.destRules {
		out = append(out, refPos{x.Ref, x.Pos})
	}
	for _, x := range b.authz {
		out = append(out, refPos{x.Ref, x.Pos})
	}
	return out
}

// deleteRef is the Ref errors in Delete documents carry.
var deleteRef = Ref{Kind: PatchDeleteKind}

// deletableKinds are the kinds a Delete document may name.
var deletableKinds = append([]string{"Namespace", "Service", "ServiceEntry", "Sidecar", "PeerAuthentication", "DestinationRule", "AuthorizationPolicy"}, workloadKinds...)

// isDeleteDoc reports whether a document's top-level kind is Delete (its
// apiVersion is checked by deleteDoc).
func isDeleteDoc(n *yaml.Node) bool {
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "kind" {
			v := deref(n.Content[i+1])
			return v != nil && v.Kind == yaml.ScalarNode && v.Value == PatchDeleteKind
		}
	}
	return false
}

type patchDelete struct {
	ref  Ref
	pos  Pos
	path string
}

type patchParser struct {
	file   string
	doc    int
	offset int // file line of the document's line 0
	errs   ErrorList
}

func (p *patchParser) pos(n *yaml.Node) Pos {
	return Pos{File: p.file, Doc: p.doc, Line: p.offset + n.Line}
}

func (p *patchParser) fail(n *yaml.Node, path string, err error) {
	p.errs = append(p.errs, &Error{Pos: p.pos(n), Ref: deleteRef, Path: path, Err: err})
}

// fieldsOf returns a mapping's values by key, reporting keys not in allowed
// and keys given twice.
func (p *patchParser) fieldsOf(n *yaml.Node, path string, allowed []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		kp := joinPath(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			p.fail(k, path, fmt.Errorf("%w: a key must be a field name", ErrInvalidValue))
		case !slices.Contains(allowed, k.Value):
			p.fail(k, kp, fmt.Errorf("%w %q (want %s)", ErrUnknownField, k.Value, patchList(allowed)))
		case out[k.Value] != nil:
			p.fail(k, kp, fmt.Errorf("%w: field given twice", ErrInvalidValue))
		default:
			out[k.Value] = v
		}
	}
	return out
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func patchList(l []string) string {
	if len(l) == 1 {
		return l[0]
	}
	return strings.Join(l[:len(l)-1], ", ") + " or " + l[len(l)-1]
}

// str returns a scalar string field, reporting it when required and
// missing, or when it is not a string.
func (p *patchParser) str(parent *yaml.Node, f map[string]*yaml.Node, path, key string, required bool) (string, bool) {
	v, ok := f[key]
	if !ok || isNull(v) {
		if required {
			p.fail(parent, joinPath(path, key), ErrMissingField)
			return "", false
		}
		return "", true
	}
	if v.Kind != yaml.ScalarNode || kindOf(v) != kindString || v.Value == "" {
		p.fail(v, joinPath(path, key), fmt.Errorf("%w: want a non-empty string", ErrInvalidValue))
		return "", false
	}
	return v.Value, true
}

// deleteDoc decodes a Delete document.
func (p *patchParser) deleteDoc(n *yaml.Node) []patchDelete {
	f := p.fieldsOf(n, "", []string{"apiVersion", "kind", "objects"})
	if v, ok := p.str(n, f, "", "apiVersion", true); ok && v != PatchAPIVersion {
		p.fail(f["apiVersion"], "apiVersion", fmt.Errorf("%w %q (want %s)", ErrInvalidValue, v, PatchAPIVersion))
	}
	list, ok := f["objects"]
	if !ok || isNull(list) {
		p.fail(n, "objects", ErrMissingField)
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		p.fail(list, "objects", fmt.Errorf("%w: want a list of {kind, namespace, name}", ErrInvalidValue))
		return nil
	}
	var out []patchDelete
	seen := map[Ref]int{}
	for i, item := range list.Content {
		item = deref(item)
		path := fmt.Sprintf("objects[%d]", i)
		if item == nil || item.Kind != yaml.MappingNode {
			p.fail(list, path, fmt.Errorf("%w: want a mapping with kind, namespace and name", ErrInvalidValue))
			continue
		}
		before := len(p.errs)
		g := p.fieldsOf(item, path, []string{"kind", "namespace", "name"})
		kind, _ := p.str(item, g, path, "kind", true)
		name, _ := p.str(item, g, path, "name", true)
		ns, _ := p.str(item, g, path, "namespace", false)
		switch {
		case kind == "":
		case !slices.Contains(deletableKinds, kind):
			p.fail(g["kind"], path+".kind", fmt.Errorf("%w %q (want %s)", ErrInvalidValue, kind, patchList(deletableKinds)))
		case kind == "Namespace" && ns != "":
			p.fail(g["namespace"], path+".namespace", fmt.Errorf("%w: a Namespace has no namespace", ErrInvalidValue))
		case kind != "Namespace" && ns == "" && g["namespace"] == nil:
			p.fail(item, path+".namespace", ErrMissingField)
		}
		if len(p.errs) > before {
			continue
		}
		r := Ref{Kind: kind, Namespace: ns, Name: name}
		if first, ok := seen[r]; ok {
			p.fail(item, path, fmt.Errorf("%w: %s listed twice (first as objects[%d])", ErrInvalidValue, r, first))
			continue
		}
		seen[r] = i
		out = append(out, patchDelete{ref: r, pos: p.pos(item), path: path})
	}
	return out
}
