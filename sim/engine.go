package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// Simulator answers probes against one mesh. It is immutable once built and
// safe for concurrent use.
type Simulator struct {
	e *engine
}

// engine is the evaluation state shared by every stage; read-only after New.
type engine struct {
	*index
	sec *security // PeerAuthentication and DestinationRule lookups (tls.go)
	az  *authz    // compiled AuthorizationPolicies (authz.go)
	// inj memoises the injection decision of every workload of the mesh.
	inj map[*mesh.Workload]bool
}

// New builds a Simulator for m. The mesh is not copied: it is immutable.
func New(m *mesh.Mesh) *Simulator {
	if m == nil {
		panic("sim: New called with a nil *mesh.Mesh")
	}
	ix := newIndex(m)
	e := &engine{index: ix, sec: newSecurity(ix), az: newAuthz(m, ix.cfg), inj: make(map[*mesh.Workload]bool, len(ix.wls))}
	for _, w := range ix.wls {
		e.inj[w], _ = e.injection(w)
	}
	return &Simulator{e: e}
}

// injected is the decision of injection for w, without its steps.
func (e *engine) injected(w *mesh.Workload) bool {
	if v, ok := e.inj[w]; ok {
		return v
	}
	v, _ := e.injection(w)
	return v
}

// Mesh returns the mesh the simulator was built from.
func (s *Simulator) Mesh() *mesh.Mesh { return s.e.m }

// Injected reports whether workload id runs an Istio sidecar, with the
// steps that decided it.
func (s *Simulator) Injected(id mesh.WorkloadID) (bool, []Step, error) {
	w, ok := s.e.wl[id]
	if !ok {
		return false, nil, fmt.Errorf("sim: unknown workload %s", id)
	}
	inj, steps := s.e.injection(w)
	return inj, steps, nil
}

// destKind is what a dialled name resolved to.
type destKind uint8

const (
	destService      destKind = iota // a Kubernetes Service
	destServiceEntry                 // a ServiceEntry host
	destExternal                     // a host outside the registry
	destPod                          // a pod IP
)

// dest is a resolved destination.
type dest struct {
	kind    destKind
	host    string               // FQDN of the Service, the ServiceEntry host, or the external host
	svc     *service             // destService
	entries []*serviceEntryMatch // destServiceEntry: every ServiceEntry declaring host
	pod     *mesh.Workload       // destPod
	port    uint32               // the port dialled
	svcPort *mesh.ServicePort    // destService: the Service port dialled; nil if it has none
	routed  *mesh.ServiceEntry   // destServiceEntry: the copy the client's sidecar routes to, once outbound chose it
}

// serviceEntryMatch is a ServiceEntry that declares a host, with the port
// the probe dialled (nil when the entry does not declare it).
type serviceEntryMatch struct {
	se   *mesh.ServiceEntry
	port *mesh.ServiceEntryPort
}

// resolve turns a dialled name into a destination. Errors are probe errors
// (unknown workload, a cluster-local name that names no Service).
func (e *engine) resolve(client *mesh.Workload, p Probe) (*dest, []Step, error) {
	if p.To == "" {
		w, ok := e.wl[p.ToWorkload]
		if !ok {
			return nil, nil, fmt.Errorf("sim: unknown destination workload %s", p.ToWorkload)
		}
		return &dest{kind: destPod, pod: w, port: p.Port}, []Step{{Stage: StageDestination, Side: Client, Subject: client.ID,
			Detail: fmt.Sprintf("direct call to a pod IP of %s: no Service, no Istio route", w.ID)}}, nil
	}
	name := strings.TrimSuffix(strings.ToLower(p.To), ".")
	suffix := "." + e.cfg.DomainSuffix
	// Kubernetes DNS search path of a pod in namespace ns: ns.svc.<suffix>,
	// svc.<suffix>, <suffix>. So "a" → a.ns.svc…, "a.b" → a.b.svc…,
	// "a.b.svc" → a.b.svc.<suffix>.
	var candidates []string
	parts := strings.Split(name, ".")
	// clusterLocal: a name only Kubernetes DNS can resolve; if it names no
	// Service or ServiceEntry the probe is wrong, not the mesh.
	clusterLocal := false
	switch {
	case strings.HasSuffix(name, ".svc"+suffix):
		candidates, clusterLocal = []string{name}, true
	case len(parts) == 1:
		candidates, clusterLocal = []string{serviceHost(name, client.ID.Namespace, e.cfg.DomainSuffix)}, true
	case len(parts) == 2:
		candidates = []string{serviceHost(parts[0], parts[1], e.cfg.DomainSuffix)}
		_, clusterLocal = e.ns[parts[1]] // "name.ns" when ns exists; else a public name like example.com
	case len(parts) == 3 && parts[2] == "svc":
		candidates, clusterLocal = []string{name + suffix}, true
	case strings.HasSuffix(name, suffix):
		clusterLocal = true
	}
	for _, h := range candidates {
		if sv, ok := e.svcByHost[h]; ok {
			d := &dest{kind: destService, host: h, svc: sv, port: p.Port}
			for i := range sv.svc.Ports {
				if sv.svc.Ports[i].Port == p.Port && (sv.svc.Ports[i].Protocol == "" || sv.svc.Ports[i].Protocol == "TCP") {
					d.svcPort = &sv.svc.Ports[i]
				}
			}
			return d, []Step{{Stage: StageDestination, Side: Client, Subject: client.ID, By: sv.svc.Ref, Pos: sv.svc.Pos,
				Detail: fmt.Sprintf("%q resolves to Service host %s", p.To, h)}}, nil
		}
	}
	if ms := e.entriesFor(name, p.Port); len(ms) > 0 {
		return &dest{kind: destServiceEntry, host: name, entries: ms, port: p.Port},
			[]Step{{Stage: StageDestination, Side: Client, Subject: client.ID, By: ms[0].se.Ref, Pos: ms[0].se.Pos,
				Detail: fmt.Sprintf("%q is a ServiceEntry host", p.To)}}, nil
	}
	if clusterLocal {
		return nil, nil, fmt.Errorf("sim: %q (dialled from namespace %s) names no Service or ServiceEntry", p.To, client.ID.Namespace)
	}
	return &dest{kind: destExternal, host: name, port: p.Port}, []Step{{Stage: StageDestination, Side: Client, Subject: client.ID,
		Detail: fmt.Sprintf("%q is not in the mesh registry: an external host", p.To)}}, nil
}

// entriesFor returns the ServiceEntries declaring host, exactly or by a
// wildcard host, sorted by namespace and name.
func (e *engine) entriesFor(host string, port uint32) []*serviceEntryMatch {
	var out []*serviceEntryMatch
	for _, se := range e.entries {
		for _, h := range se.Hosts {
			if h == host || (strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:])) {
				m := &serviceEntryMatch{se: se}
				for i := range se.Ports {
					if se.Ports[i].Number == port {
						m.port = &se.Ports[i]
					}
				}
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// appTransport is what the client's application puts on the wire by itself.
func appTransport(w *mesh.Workload, p Protocol) Transport {
	switch {
	case w.AppMTLS:
		return MTLS
	case p == HTTPS:
		return TLS
	}
	return Plaintext
}

// Probe evaluates one connection attempt. The error reports a bad probe (an
// unknown workload or a name that resolves to nothing); it never depends on
// the mesh's configuration.
func (s *Simulator) Probe(p Probe) (Verdict, error) {
	e := s.e
	client, ok := e.wl[p.From]
	if !ok {
		return Verdict{}, fmt.Errorf("sim: unknown client workload %s", p.From)
	}
	if err := p.Validate(); err != nil {
		return Verdict{}, err
	}
	d, dSteps, err := e.resolve(client, p)
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{Probe: p}
	switch d.kind {
	case destService:
		v.Service = d.svc.svc.Ref
	case destServiceEntry:
		v.Service = d.entries[0].se.Ref
	}

	// Client side.
	cInj, cSteps := e.injection(client)
	steps := append(cSteps, dSteps...)
	var rt route
	if cInj {
		rt = e.outbound(client, d, p.Protocol)
		steps = append(steps, rt.steps...)
		if rt.entry != nil {
			v.Service = rt.entry.Ref
			d.route(rt.entry)
		}
	} else {
		rt.kind = routeBypass
		steps = append(steps, Step{Stage: StageOutbound, Side: Client, Subject: client.ID,
			Default: "no sidecar: no Istio processing (mtls-authn-authz.md §3)",
			Detail:  "the client has no sidecar, so its traffic leaves as the app sends it"})
	}

	// Destination side: endpoints.
	targets, noEndpoint := e.targets(d)
	v.External = len(targets) == 0 && noEndpoint == ""

	appT := appTransport(client, p.Protocol)
	wire := func(ep *mesh.Workload, epPort uint32) (Transport, []Step) {
		return e.wire(client, d, rt.kind, appT, ep, epPort)
	}

	blocked := rt.kind == routeBlackhole
	hasIdentity := cInj || client.AppMTLS
	evalEndpoint := func(t endpoint) Endpoint {
		ep := Endpoint{Workload: t.w.ID, TargetPort: t.port}
		if blocked {
			ep.Default = Result{Steps: slices.Clone(steps)}
			ep.Plaintext = ep.Default
			ep.MTLS = ep.Default
			return ep
		}
		wt, wSteps := wire(t.w, t.port)
		srv := func(tr Transport) (bool, string, []Step) { return e.serverSide(t.w, t.port, tr, client, p) }
		ok, und, sSteps := srv(wt)
		ep.Default = Result{Allowed: ok, Transport: wt, Steps: concat(steps, wSteps, sSteps), Undecided: und}
		ok, und, sSteps = srv(Plaintext)
		ep.Plaintext = Result{Allowed: ok, Transport: Plaintext, Steps: concat(steps, sSteps), Undecided: und}
		if hasIdentity {
			ok, und, sSteps = srv(MTLS)
			ep.MTLS = Result{Allowed: ok, Transport: MTLS, Steps: concat(steps, sSteps), Undecided: und}
		} else {
			ep.MTLS = Result{Steps: concat(steps, []Step{{Stage: StageClientTLS, Side: Client, Subject: client.ID,
				Default: "mTLS needs a mesh identity (mtls-authn-authz.md §6)",
				Detail:  "the client has no sidecar and its app does not do mTLS: it has no mesh certificate"}})}
		}
		return ep
	}

	switch {
	case noEndpoint != "":
		st := concat(steps, []Step{{Stage: StageDestination, Side: Server, Detail: noEndpoint}})
		v.Default = Result{Steps: st}
		v.Plaintext = Result{Steps: st}
		v.MTLS = Result{Steps: st}
	case v.External:
		v.Default, v.Plaintext, v.MTLS = e.external(client, rt, d, steps, appT)
	default:
		for _, t := range targets {
			v.Endpoints = append(v.Endpoints, evalEndpoint(t))
		}
		slices.SortFunc(v.Endpoints, func(a, b Endpoint) int { return a.Workload.Compare(b.Workload) })
		v.Default = aggregate(v.Endpoints, func(ep Endpoint) Result { return ep.Default })
		v.Plaintext = aggregate(v.Endpoints, func(ep Endpoint) Result { return ep.Plaintext })
		v.MTLS = aggregate(v.Endpoints, func(ep Endpoint) Result { return ep.MTLS })
	}
	return v, nil
}

// route records that the client's sidecar routes d to the ServiceEntry
// copy se. When d was a Service, a ServiceEntry claiming the Service's
// hostname won the collision in the client's scope (selectServices keeps
// the client namespace's copy): the sidecar routes to the entry.
func (d *dest) route(se *mesh.ServiceEntry) {
	d.routed = se
	if d.kind != destService {
		return
	}
	m := &serviceEntryMatch{se: se}
	for i := range se.Ports {
		if se.Ports[i].Number == d.port {
			m.port = &se.Ports[i]
		}
	}
	d.kind, d.entries, d.svc, d.svcPort = destServiceEntry, []*serviceEntryMatch{m}, nil, nil
}

// endpoint is one endpoint a connection to a destination may reach: a
// workload and the container port.
type endpoint struct {
	w    *mesh.Workload
	port uint32
}

// targets lists the endpoints of d, in registry order, and why there are
// none when a Service or a ServiceEntry with a workloadSelector has none
// (then noEndpoint is set). Neither is set for an external destination.
func (e *engine) targets(d *dest) (targets []endpoint, noEndpoint string) {
	switch d.kind {
	case destPod:
		targets = append(targets, endpoint{d.pod, d.port})
	case destService:
		if d.svcPort == nil {
			return nil, fmt.Sprintf("Service %s has no TCP port %d: nothing listens on that address", d.svc.svc.Ref.Name, d.port)
		}
		for _, w := range d.svc.endpoints {
			if tp, ok := targetPort(*d.svcPort, w); ok {
				targets = append(targets, endpoint{w, tp})
			}
		}
		if len(targets) == 0 {
			noEndpoint = fmt.Sprintf("Service %s has no endpoints for port %d", d.svc.svc.Ref.Name, d.port)
		}
	case destServiceEntry:
		se := d.entries[0].se
		if d.routed != nil {
			se = d.routed
		}
		if se.WorkloadSelector != nil {
			for _, w := range e.wlByNS[se.Ref.Namespace] {
				if len(se.WorkloadSelector) > 0 && subsetOf(se.WorkloadSelector, w.Labels) {
					tp := d.port
					for _, sp := range se.Ports {
						if sp.Number == d.port && sp.TargetPort != 0 {
							tp = sp.TargetPort
						}
					}
					targets = append(targets, endpoint{w, tp})
				}
			}
			if len(targets) == 0 {
				noEndpoint = fmt.Sprintf("ServiceEntry %s selects no workloads", se.Ref.Name)
			}
		}
	}
	return targets, noEndpoint
}

// wire is the transport client's connection to endpoint (ep, epPort) of d
// carries, given the client sidecar's route kind and what the app sends.
func (e *engine) wire(client *mesh.Workload, d *dest, kind routeKind, appT Transport, ep *mesh.Workload, epPort uint32) (Transport, []Step) {
	switch kind {
	case routeService:
		var svcPort uint32
		if d.svcPort != nil {
			svcPort = d.svcPort.Port
		} else {
			svcPort = d.port
		}
		t, st := e.clientTLS(client, d, svcPort, "", ep, epPort)
		if t == Plaintext && appT == TLS {
			t = TLS
		}
		return t, st
	case routePassthrough:
		t := Plaintext
		if appT == TLS {
			t = TLS
		}
		return t, []Step{{Stage: StageClientTLS, Side: Client, Subject: client.ID,
			Default: "PassthroughCluster has no TLS transport socket (cluster_builder.go buildDefaultPassthroughCluster)",
			Detail:  fmt.Sprintf("passthrough traffic leaves the sidecar as %s, without mTLS", t)}}
	}
	return appT, []Step{{Stage: StageClientTLS, Side: Client, Subject: client.ID,
		Detail: fmt.Sprintf("the app sends %s", appT)}}
}

// external decides traffic that leaves the mesh: an unregistered host, or a
// ServiceEntry without workload endpoints. The remote server is assumed to
// accept plaintext and TLS; it has no mesh identity, so Istio mTLS fails.
func (e *engine) external(client *mesh.Workload, rt route, d *dest, steps []Step, appT Transport) (def, plain, mtls Result) {
	if rt.kind == routeBlackhole {
		r := Result{Steps: steps}
		return r, r, r
	}
	t := appT
	var st []Step
	if rt.kind == routeService && d.kind == destServiceEntry {
		var ct Transport
		ct, st = e.clientTLS(client, d, d.port, "", nil, 0)
		t = ct
		if ct == Plaintext && appT == TLS {
			t = TLS
		}
	} else if rt.kind == routePassthrough && appT == MTLS {
		t = MTLS
	}
	srv := Step{Stage: StageServer, Side: Server, Default: "a server outside the mesh has no mesh identity",
		Detail: "the external server accepts plaintext and TLS, but cannot complete Istio mTLS"}
	def = Result{Allowed: t != MTLS, Transport: t, Steps: concat(steps, st, []Step{srv})}
	plain = Result{Allowed: true, Transport: Plaintext, Steps: concat(steps, []Step{srv})}
	mtls = Result{Transport: MTLS, Steps: concat(steps, []Step{srv})}
	return def, plain, mtls
}

// serverSide decides whether what arrives at (w, port) from client, dialled
// as p, is accepted: no sidecar or an uncaptured port hands bytes to the
// app (DT4 row "no sidecar"; sidecar-injection-egress.md §6); otherwise the
// sidecar's PeerAuthentication mode decides (DT1, DT4), then its
// AuthorizationPolicies (DT5). undecided is set when the outcome depends on
// something meshreach does not model (see Result.Undecided).
func (e *engine) serverSide(w *mesh.Workload, port uint32, t Transport, client *mesh.Workload, p Probe) (ok bool, undecided string, _ []Step) {
	inj, steps := e.injection(w)
	for i := range steps {
		steps[i].Side = Server
	}
	bare := func(why, unenforced string) (bool, string, []Step) {
		ok := t != MTLS
		detail := "the app receives the bytes as sent: " + t.String() + " is accepted"
		if !ok {
			detail = "Istio mTLS reaches an app that does not terminate it: the handshake fails"
		}
		steps = append(steps, Step{Stage: StageServer, Side: Server, Subject: w.ID,
			Default: why, Detail: detail})
		if ok {
			steps = append(steps, e.unenforced(w, unenforced)...)
		}
		return ok, "", steps
	}
	if !inj {
		return bare("server without a sidecar (mtls-authn-authz.md §2.2, DT4)", "the pod has no sidecar")
	}
	captured, cSteps := e.inboundCaptured(w, port)
	steps = append(steps, cSteps...)
	if !captured {
		return bare("inbound port not captured by iptables (sidecar-injection-egress.md §6, T5)",
			fmt.Sprintf("its sidecar does not capture port %d", port))
	}
	ok, aSteps := e.serverAccept(w, port, t)
	steps = append(steps, aSteps...)
	if !ok {
		return false, "", steps
	}
	ok, undecided, zSteps := e.authorize(w, port, t, client, p)
	return ok, undecided, append(steps, zSteps...)
}

// serverGate is serverSide before AuthorizationPolicies, for plaintext and
// mTLS: bare when the bytes reach the app without a sidecar or through a
// port it does not capture (the app accepts plaintext, cannot terminate
// mTLS, and no AuthorizationPolicy is enforced), else whether the sidecar's
// PeerAuthentication accepts each (serverAccept: STRICT refuses plaintext,
// DISABLE refuses mTLS); what it accepts then meets authorize.
func (e *engine) serverGate(w *mesh.Workload, port uint32) (bare, plain, mtls bool) {
	if !e.injected(w) {
		return true, true, false
	}
	if captured, _ := e.inboundCaptured(w, port); !captured {
		return true, true, false
	}
	mode, _ := e.peerMode(w, port)
	return false, mode != mesh.ModeStrict, mode != mesh.ModeDisable
}

// aggregate folds per-endpoint results: allowed only when every endpoint
// is; denied when some endpoint surely is, else undecided when some
// endpoint is. The trace is the first denied endpoint's, else the first
// undecided one's, else the first endpoint's.
func aggregate(eps []Endpoint, get func(Endpoint) Result) Result {
	if len(eps) == 0 {
		return Result{}
	}
	pick := get(eps[0])
	var denied, undecided *Result
	for _, ep := range eps {
		r := get(ep)
		switch {
		case r.Allowed:
		case r.Undecided != "":
			if undecided == nil {
				undecided = &r
			}
		case denied == nil:
			denied = &r
		}
	}
	switch {
	case denied != nil:
		pick = *denied
	case undecided != nil:
		pick = *undecided
	}
	return Result{Allowed: pick.Allowed, Transport: pick.Transport, Steps: slices.Clone(pick.Steps), Undecided: pick.Undecided}
}

func concat(parts ...[]Step) []Step {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]Step, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
