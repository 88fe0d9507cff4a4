package mesh

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// A live dump (`kubectl get all -A -o yaml`) holds a Deployment, its
// ReplicaSets and their Pods; meshreach models them as one workload. Each
// object follows its controller owner reference (metav1.GetControllerOf)
// up to the top-level controller: owners present in the input absorb their
// children; an absent owner is named from the reference (a ReplicaSet
// whose pods carry pod-template-hash H is named <deployment>-H by the
// Deployment controller, pkg/controller/deployment/sync.go, so the
// Deployment's name is recovered by trimming it).

// rawWorkload is a decoded Pod, ReplicaSet, Deployment, StatefulSet,
// DaemonSet, Job or CronJob waiting to be folded.
type rawWorkload struct {
	ref     Ref
	uid     string
	owner   *ownerRef
	hash    string // pod-template-hash label
	tmpl    podTemplate
	running bool // a Pod with status.phase Running
	ip      string
	pos     Pos
	fold    *folded // the workload it is the top of, while folding
}

// rank orders kinds from the top of the ownership chain down, to pick the
// most authoritative pod template for a workload.
func rank(kind string) int {
	switch kind {
	case "Pod":
		return 3
	case "ReplicaSet", "Job":
		return 2
	}
	return 1
}

// folded is one workload being assembled.
type folded struct {
	w    Workload
	src  *rawWorkload   // where the pod template comes from; nil for an existing workload
	pods []*rawWorkload // its running pods
}

// foldWorkloads adds one workload per top-level controller to b.
func (b *Builder) foldWorkloads(raws []*rawWorkload) {
	if len(raws) == 0 {
		return
	}
	slices.SortStableFunc(raws, func(x, y *rawWorkload) int {
		return cmp.Or(strings.Compare(x.ref.Namespace, y.ref.Namespace), rank(x.ref.Kind)-rank(y.ref.Kind),
			strings.Compare(x.ref.Name, y.ref.Name), comparePos(x.pos, y.pos))
	})
	// Owners are looked up only when some object names one.
	var present map[Ref]*rawWorkload
	if slices.ContainsFunc(raws, func(r *rawWorkload) bool { return r.owner != nil }) {
		present = make(map[Ref]*rawWorkload, len(raws))
		for _, r := range raws {
			if _, ok := present[r.ref]; !ok {
				present[r.ref] = r
			}
		}
	}
	lookupOwner := func(ref Ref, uid string) *rawWorkload {
		p := present[ref]
		if p == nil || (uid != "" && p.uid != "" && uid != p.uid) {
			return nil
		}
		return p
	}
	// resolve returns the top-level present object, or the reference of
	// an absent top-level owner and the highest present object below it.
	resolve := func(r *rawWorkload) (*rawWorkload, Ref, *rawWorkload) {
		cur := r
		for steps := 0; ; steps++ {
			o := cur.owner
			if o == nil || o.kind == "Node" || steps > 8 { // mirror pods name their Node
				return cur, cur.ref, cur
			}
			key := Ref{Kind: o.kind, Namespace: cur.ref.Namespace, Name: o.name}
			if p := lookupOwner(key, o.uid); p != nil {
				cur = p
				continue
			}
			if dep, ok := strings.CutSuffix(o.name, "-"+cur.hash); ok && o.kind == "ReplicaSet" && cur.hash != "" && dep != "" {
				key = Ref{Kind: "Deployment", Namespace: cur.ref.Namespace, Name: dep}
				if p := lookupOwner(key, ""); p != nil {
					cur = p
					continue
				}
			}
			return nil, key, cur
		}
	}

	all := make([]folded, 0, len(raws)) // at most one workload per object: never reallocated
	var tops []*folded                  // present top-level objects, in order (duplicates kept for Build)
	bySynth := map[Ref]*folded{}        // absent owner → its workload
	var synths []*folded
	for _, r := range raws {
		top, ref, src := resolve(r)
		var f *folded
		switch {
		case top != nil:
			if f = top.fold; f == nil {
				all = append(all, folded{src: top, w: top.tmpl.workload(WorkloadID{Namespace: top.ref.Namespace, Name: top.ref.Name}, top.ref.Kind, top.pos)})
				f = &all[len(all)-1]
				top.fold = f
				tops = append(tops, f)
			}
		default:
			if f = bySynth[ref]; f == nil {
				all = append(all, folded{src: src, w: src.tmpl.workload(WorkloadID{Namespace: ref.Namespace, Name: ref.Name}, ref.Kind, src.pos)})
				f = &all[len(all)-1]
				bySynth[ref] = f
				synths = append(synths, f)
			}
		}
		if r.ref.Kind == "Pod" && r.running {
			f.pods = append(f.pods, r)
		}
	}
	var existing map[WorkloadID]int
	if len(synths) > 0 {
		existing = make(map[WorkloadID]int, len(b.workloads))
		for i, w := range b.workloads {
			existing[w.ID] = i
		}
	}
	b.workloads = slices.Grow(b.workloads, len(tops)+len(synths))
	// In file order, so that of two objects with one ID (a Pod and a
	// Deployment both named web) Build reports the later one.
	byPos := func(x, y *folded) int { return comparePos(x.w.Pos, y.w.Pos) }
	slices.SortStableFunc(tops, byPos)
	slices.SortStableFunc(synths, byPos)
	for _, f := range tops {
		f.src.fold = nil
		b.templateWarnings(f.src)
		b.observe(f)
		b.workloads = append(b.workloads, f.w)
	}
	for _, f := range synths {
		if i, ok := existing[f.w.ID]; ok {
			// Pods of a workload added earlier (another Build, or code).
			f.w, f.src = b.workloads[i], nil
			b.observe(f)
			b.workloads[i] = f.w
			continue
		}
		b.templateWarnings(f.src)
		b.observe(f)
		b.workloads = append(b.workloads, f.w)
	}
}

// templateWarnings adds the warnings about the pod template a workload
// keeps (not those of its ReplicaSets and Pods, which repeat them).
func (b *Builder) templateWarnings(r *rawWorkload) {
	for _, w := range r.tmpl.warns {
		w.Ref = r.ref
		b.AddWarning(w)
	}
}

// workload builds a Workload from a pod template.
func (t podTemplate) workload(id WorkloadID, kind string, pos Pos) Workload {
	return Workload{
		ID:             id,
		Kind:           kind,
		Labels:         t.labels,
		Annotations:    t.annotations,
		ServiceAccount: t.serviceAccount,
		HostNetwork:    t.hostNetwork,
		Ports:          t.ports,
		AppMTLS:        t.appMTLS,
		Pos:            pos,
	}
}

// observe records what the running pods of f show: an istio-proxy
// container or the injector's sidecar.istio.io/status annotation means
// injected; containers without either mean not injected. Pods that
// disagree (a rollout in progress) leave the decision to the injection
// rules, with a warning. The IP is the first running pod's, by name.
func (b *Builder) observe(f *folded) {
	var yes, no int
	for _, p := range f.pods {
		_, status := p.tmpl.annotations[annotSidecarStatus]
		switch {
		case p.tmpl.proxy || status:
			yes++
		case p.tmpl.containers > 0:
			no++
		}
		if f.w.IP == "" {
			f.w.IP = p.ip
		}
	}
	if yes+no == 0 {
		return
	}
	if f.w.Observed != nil {
		switch *f.w.Observed {
		case true:
			yes++
		default:
			no++
		}
	}
	switch {
	case no == 0:
		t := true
		f.w.Observed = &t
	case yes == 0:
		t := false
		f.w.Observed = &t
	default:
		f.w.Observed = nil
		b.AddWarning(&Error{Pos: f.w.Pos, Ref: f.w.Ref(),
			Err: fmt.Errorf("running pods disagree on sidecar injection (%d with istio-proxy, %d without): decided by the injection rules", yes, no)})
	}
}
