package sim

// Rollout planning: what making a namespace (or one workload) STRICT
// breaks, why, and the edits that keep the broken clients working.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// StrictGoal is the change a rollout plans: namespace Namespace STRICT
// (its namespace-wide PeerAuthentication, replaced or added), or, when
// Workload is set, that workload of Namespace STRICT (a PeerAuthentication
// selecting its labels).
type StrictGoal struct {
	Namespace string
	Workload  string
}

// String renders "namespace app STRICT" or "workload app/api STRICT".
func (g StrictGoal) String() string {
	if g.Workload != "" {
		return "workload " + g.Namespace + "/" + g.Workload + " STRICT"
	}
	return "namespace " + g.Namespace + " STRICT"
}

// BreakReason is why the goal breaks a client.
type BreakReason uint8

// Break reasons.
const (
	// ReasonOther: none of the reasons below (the trace says why).
	ReasonOther BreakReason = iota
	// ReasonNoSidecar: the client has no sidecar, so it sends plaintext,
	// which STRICT refuses (mtls-authn-authz.md DT4, test T3).
	ReasonNoSidecar
	// ReasonPassthrough: the client's sidecar does not import the
	// destination (Sidecar egress, exportTo) and sends it through
	// PassthroughCluster, without mTLS (§3.4, test T16).
	ReasonPassthrough
	// ReasonDestinationRule: a DestinationRule that applies to the client
	// sets TLS other than ISTIO_MUTUAL (DT3).
	ReasonDestinationRule
	// ReasonAutoMTLSNamespaceMode: no DestinationRule, and auto mTLS reads
	// the namespace or mesh mode, which is DISABLE, so the client sends
	// plaintext to a workload-level STRICT (§3.2, istio/istio#56084).
	ReasonAutoMTLSNamespaceMode
	// ReasonAutoMTLSOff: no DestinationRule, and meshConfig.enableAutoMtls
	// is false, so the client sends plaintext (DT2 row 5).
	ReasonAutoMTLSOff
)

var breakReasonNames = [...]string{"other", "no-sidecar", "passthrough", "destination-rule", "auto-mtls-namespace-mode", "auto-mtls-off"}

// String returns the reason's name ("no-sidecar", "passthrough", …).
func (r BreakReason) String() string {
	if int(r) < len(breakReasonNames) {
		return breakReasonNames[r]
	}
	return "BreakReason(" + strconv.Itoa(int(r)) + ")"
}

// Break is a client the goal breaks.
type Break struct {
	Change Change // a Broken change of the goal alone
	Reason BreakReason
}

// FixKind is the kind of edit a [Fix] makes.
type FixKind uint8

// Fix kinds, from the narrowest to the widest.
const (
	// FixInjectWorkload labels the client sidecar.istio.io/inject=true.
	FixInjectWorkload FixKind = iota + 1
	// FixInjectNamespace labels the client's namespace
	// istio-injection=enabled.
	FixInjectNamespace
	// FixDestinationRule adds a DestinationRule for the destination host
	// in the client's namespace with tls ISTIO_MUTUAL (the workaround of
	// istio/istio#56084; the client's namespace is looked up first:
	// push_context.go destinationRule).
	FixDestinationRule
	// FixPortPermissive adds a PeerAuthentication selecting the server
	// workload with a port-level PERMISSIVE on its port: that port keeps
	// accepting plaintext.
	FixPortPermissive
)

var fixKindNames = [...]string{"", "inject-workload", "inject-namespace", "destination-rule", "port-permissive"}

// String returns the kind's name ("inject-workload", …).
func (k FixKind) String() string {
	if k > 0 && int(k) < len(fixKindNames) {
		return fixKindNames[k]
	}
	return "FixKind(" + strconv.Itoa(int(k)) + ")"
}

// Fix is one edit of a plan.
type Fix struct {
	Kind FixKind
	// Target is the object the edit changes or adds: the client workload
	// or namespace, the DestinationRule or PeerAuthentication added.
	Target mesh.Ref
	// Detail says what the edit is, in one sentence.
	Detail string
	// For lists the broken clients the fix is for, sorted.
	For   []mesh.WorkloadID
	apply func(*mesh.Builder)
}

// Apply makes the edit on b.
func (f Fix) Apply(b *mesh.Builder) { f.apply(b) }

// RolloutPlan is the answer to "what if this goal were applied".
type RolloutPlan struct {
	Goal StrictGoal
	// Goal alone: every change, and the broken clients with why.
	Delta  *Delta
	Breaks []Break
	// Fixes are the edits that keep the broken clients working: one per
	// client or per (server, port), the narrowest that works.
	Fixes []Fix
	// Verified is the diff of the base mesh to the goal plus the fixes;
	// Remaining lists its Broken changes (none when the fixes work).
	Verified  *Delta
	Remaining []Change
}

// apply makes the goal's edit on b: the namespace-wide
// PeerAuthentication of g.Namespace (replacing one without selector, else
// adding "default") set to STRICT, or a PeerAuthentication
// "<workload>-strict" selecting the workload's labels.
func (g StrictGoal) apply(m *mesh.Mesh, b *mesh.Builder) error {
	if g.Workload != "" {
		w, ok := m.Workload(mesh.WorkloadID{Namespace: g.Namespace, Name: g.Workload})
		if !ok {
			return fmt.Errorf("sim: no workload %s/%s", g.Namespace, g.Workload)
		}
		if len(w.Labels) == 0 {
			return fmt.Errorf("sim: workload %s has no labels to select it by", w.ID)
		}
		b.SetPeerAuthentication(mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: g.Namespace, Name: g.Workload + "-strict"},
			Selector: maps.Clone(w.Labels), Mode: mesh.ModeStrict})
		return nil
	}
	if _, ok := m.Namespace(g.Namespace); !ok {
		return fmt.Errorf("sim: no namespace %s", g.Namespace)
	}
	pa := mesh.PeerAuthentication{Ref: mesh.Ref{Kind: "PeerAuthentication", Namespace: g.Namespace, Name: "default"}, Mode: mesh.ModeStrict}
	for _, p := range m.PeerAuthentications() {
		if p.Ref.Namespace == g.Namespace && len(p.Selector) == 0 {
			pa = p
			pa.Mode = mesh.ModeStrict
			break
		}
	}
	b.SetPeerAuthentication(pa)
	return nil
}

// PlanStrict works out what goal g breaks on base's mesh, why, and the
// edits that keep the broken clients working, and verifies them by
// diffing the base mesh against the goal plus the edits.
//
// For each broken client it picks, by reason: a sidecar for a client
// without one (the workload label if that injects it, else the namespace
// label); a DestinationRule with ISTIO_MUTUAL in the client's namespace
// when a DestinationRule or auto mTLS makes the client send plaintext; a
// port-level PERMISSIVE on the server's port for passthrough traffic and
// whenever the first choice does not fix the client. Fixes are checked
// one client at a time, then all together.
func PlanStrict(base *Matrix, g StrictGoal) (*RolloutPlan, error) {
	m := base.s.Mesh()
	eb := m.Edit()
	if err := g.apply(m, eb); err != nil {
		return nil, err
	}
	goal, err := eb.Build()
	if err != nil {
		return nil, err
	}
	plan := &RolloutPlan{Goal: g, Delta: WhatIf(base, goal)}
	sg := plan.Delta.After()
	var broken []Change
	for c := range plan.Delta.Changes() {
		if c.Kind == Broken {
			broken = append(broken, c)
			plan.Breaks = append(plan.Breaks, Break{Change: c, Reason: breakReason(sg, c)})
		}
	}

	fixes := map[string]*Fix{}
	var order []string
	add := func(f *Fix, client mesh.WorkloadID) {
		k := f.Kind.String() + "|" + f.Target.String()
		have, ok := fixes[k]
		if !ok {
			fixes[k] = f
			order = append(order, k)
			have = f
		}
		if !slices.Contains(have.For, client) {
			have.For = append(have.For, client)
		}
	}
	for _, br := range plan.Breaks {
		c := br.Change
		var candidates []*Fix
		switch br.Reason {
		case ReasonNoSidecar:
			candidates = append(candidates, injectWorkload(c.From), injectNamespace(c.From.Namespace))
		case ReasonDestinationRule:
			candidates = append(candidates, mtlsRule(c))
			if f := mtlsEdit(goal, sg, c); f != nil {
				candidates = append(candidates, f)
			}
		case ReasonAutoMTLSNamespaceMode, ReasonAutoMTLSOff:
			candidates = append(candidates, mtlsRule(c))
		}
		if pf := portPermissive(sg, c); pf != nil {
			candidates = append(candidates, pf)
		}
		for i, f := range candidates {
			if i == len(candidates)-1 || fixWorks(goal, f, c) {
				add(f, c.From)
				break
			}
		}
	}

	vb := goal.Edit()
	for _, k := range order {
		f := fixes[k]
		slices.SortFunc(f.For, mesh.WorkloadID.Compare)
		plan.Fixes = append(plan.Fixes, *f)
		f.apply(vb)
	}
	fixed, err := vb.Build()
	if err != nil {
		return nil, err
	}
	plan.Verified = WhatIf(base, fixed)
	for c := range plan.Verified.Changes() {
		if c.Kind == Broken {
			plan.Remaining = append(plan.Remaining, c)
		}
	}
	return plan, nil
}

// fixWorks reports whether f alone, on the goal mesh, keeps c's cell allowed.
func fixWorks(goal *mesh.Mesh, f *Fix, c Change) bool {
	b := goal.Edit()
	f.apply(b)
	m, err := b.Build()
	if err != nil {
		return false
	}
	r, err := explainCell(New(m), Change{From: c.From, To: c.To, Port: c.Port, Host: c.Host, ViaPort: c.ViaPort, Proto: c.Proto})
	return err == nil && r.Allowed
}

// breakReason tells why c (Broken) broke, from the goal mesh's engine.
func breakReason(s *Simulator, c Change) BreakReason {
	e := s.e
	client, ok := e.wl[c.From]
	if !ok {
		return ReasonOther
	}
	if !e.injected(client) {
		return ReasonNoSidecar
	}
	p := c.Probe()
	d, _, err := e.resolve(client, p)
	if err != nil {
		return ReasonOther
	}
	rt := e.outbound(client, d, p.Protocol)
	switch rt.kind {
	case routePassthrough:
		return ReasonPassthrough
	case routeService:
	default:
		return ReasonOther
	}
	r, err := explainCell(s, c)
	if err != nil || r.Transport != Plaintext {
		return ReasonOther
	}
	for _, st := range r.Steps {
		if st.Stage == StageDestinationRule && st.By.Kind == "DestinationRule" {
			return ReasonDestinationRule
		}
	}
	if !e.cfg.EnableAutoMTLS {
		return ReasonAutoMTLSOff
	}
	return ReasonAutoMTLSNamespaceMode
}

func injectWorkload(id mesh.WorkloadID) *Fix {
	return &Fix{Kind: FixInjectWorkload, Target: mesh.Ref{Kind: "Workload", Namespace: id.Namespace, Name: id.Name},
		Detail: "label the pods of " + id.String() + " sidecar.istio.io/inject=true",
		apply:  func(b *mesh.Builder) { b.SetWorkloadLabel(id, "sidecar.istio.io/inject", "true") }}
}

func injectNamespace(ns string) *Fix {
	return &Fix{Kind: FixInjectNamespace, Target: mesh.Ref{Kind: "Namespace", Name: ns},
		Detail: "label namespace " + ns + " istio-injection=enabled (every workload in it gets a sidecar)",
		apply:  func(b *mesh.Builder) { b.SetNamespaceLabel(ns, "istio-injection", "enabled") }}
}

func mtlsRule(c Change) *Fix {
	name := "mtls-" + strings.ReplaceAll(strings.TrimSuffix(c.Host, "."), ".", "-")
	if len(name) > 63 {
		name = name[:63]
	}
	dr := mesh.DestinationRule{Ref: mesh.Ref{Kind: "DestinationRule", Namespace: c.From.Namespace, Name: strings.TrimRight(name, "-")},
		Host: c.Host, TrafficPolicy: &mesh.TrafficPolicy{TLS: mesh.TLSIstioMutual}}
	return &Fix{Kind: FixDestinationRule, Target: dr.Ref,
		Detail: fmt.Sprintf("DestinationRule %s/%s: host %s, tls ISTIO_MUTUAL", dr.Ref.Namespace, dr.Ref.Name, c.Host),
		apply:  func(b *mesh.Builder) { b.SetDestinationRule(dr) }}
}

// mtlsEdit sets tls ISTIO_MUTUAL in the DestinationRule that decides c's
// client TLS (top level, and at c's service port when a port-level
// setting has tls), for when a new rule cannot win over it: two rules for
// one host in one namespace merge, the older one's traffic policy first
// (destination_rule.go mergeDestinationRule). Nil when no rule decides.
func mtlsEdit(goal *mesh.Mesh, s *Simulator, c Change) *Fix {
	r, err := explainCell(s, c)
	if err != nil {
		return nil
	}
	var ref mesh.Ref
	for _, st := range r.Steps {
		if st.Stage == StageDestinationRule && st.By.Kind == "DestinationRule" {
			ref = st.By
		}
	}
	i := slices.IndexFunc(goal.DestinationRules(), func(d mesh.DestinationRule) bool { return d.Ref == ref })
	if i < 0 {
		return nil
	}
	dr := goal.DestinationRules()[i]
	tp := mesh.TrafficPolicy{}
	if dr.TrafficPolicy != nil {
		tp = *dr.TrafficPolicy
	}
	tp.TLS = mesh.TLSIstioMutual
	tp.PortLevel = slices.Clone(tp.PortLevel)
	for j := range tp.PortLevel {
		if tp.PortLevel[j].Port == c.ViaPort && tp.PortLevel[j].TLS != mesh.TLSUnset {
			tp.PortLevel[j].TLS = mesh.TLSIstioMutual
		}
	}
	dr.TrafficPolicy = &tp
	return &Fix{Kind: FixDestinationRule, Target: ref,
		Detail: fmt.Sprintf("set tls ISTIO_MUTUAL in %s (it decides the client's TLS to %s)", ref, c.Host),
		apply:  func(b *mesh.Builder) { b.SetDestinationRule(dr) }}
}

// portPermissive is a PeerAuthentication selecting c's server with
// port-level PERMISSIVE on c's port; nil when the server is not a
// workload with labels.
func portPermissive(s *Simulator, c Change) *Fix {
	if c.To.Kind != NodeWorkload {
		return nil
	}
	w, ok := s.e.wl[c.To.Workload]
	if !ok || len(w.Labels) == 0 {
		return nil
	}
	sel := maps.Clone(w.Labels)
	ref := mesh.Ref{Kind: "PeerAuthentication", Namespace: w.ID.Namespace, Name: w.ID.Name + "-" + strconv.Itoa(int(c.Port)) + "-permissive"}
	port := c.Port
	return &Fix{Kind: FixPortPermissive, Target: ref,
		Detail: fmt.Sprintf("PeerAuthentication %s/%s: selects %s, port %d PERMISSIVE (plaintext stays accepted there)", ref.Namespace, ref.Name, w.ID, port),
		apply: func(b *mesh.Builder) {
			b.SetPeerAuthentication(mesh.PeerAuthentication{Ref: ref, Selector: sel, PortModes: map[uint32]mesh.Mode{port: mesh.ModePermissive}})
		}}
}
