package sim

// Egress host parsing and matching, exportTo visibility, and the outbound
// listeners a Sidecar scope produces for one port (T3). See
// ../shared/semantics/sidecar-injection-egress.md §3.1-3.4 and table T3.
//
// VirtualServices are not modelled: Istio also imports the destinations of
// VirtualServices whose hosts an egress listener selects
// (pilot/pkg/model/sidecar.go collectImportedServices), but those get
// clusters only, reachable through the VirtualService's route, never
// listeners of their own; a direct connection to them is unknown traffic,
// which is what this file reports.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meshreach/meshreach/mesh"
)

const (
	wildcardNamespace = "*"
	currentNamespace  = "."
	excludePrefix     = "~"
	wildcardAddress   = "0.0.0.0"
)

// hostClass is the egress hosts of one listener for one namespace
// (pilot/pkg/model/sidecar.go hostClassification).
type hostClass struct {
	exact    []string // non-wildcard dnsNames
	all      []string // every non-excluded dnsName
	excluded []string // dnsNames of "~"-prefixed entries
	raw      map[string]string
}

// excludedBy returns the exclusion entry h falls under
// (hostClassification.Excluded: h.SubsetOf(excluded)).
func (hc *hostClass) excludedBy(h string) (string, bool) {
	for _, x := range hc.excluded {
		if hostSubsetOf(h, x) {
			return x, true
		}
	}
	return "", false
}

// matches returns the entry that imports h (hostClassification.Matches):
// an exact entry equal to h, else any entry where one side is a wildcard
// and h.SubsetOf(entry). Two exact names only match by equality.
func (hc *hostClass) matches(h string) (string, bool) {
	if slices.Contains(hc.exact, h) {
		return h, true
	}
	hWild := isWildcardHost(h)
	for _, p := range hc.all {
		if !hWild && !isWildcardHost(p) {
			continue
		}
		if hostSubsetOf(h, p) {
			return p, true
		}
	}
	return "", false
}

func isWildcardHost(h string) bool { return len(h) > 0 && h[0] == '*' }

// hostSubsetOf reports whether every name matched by n is matched by o
// (pkg/config/host/name.go Name.SubsetOf): "*" covers everything, "*.x.y"
// covers any name ending in ".x.y" (so not "x.y" itself), and two exact
// names must be equal.
func hostSubsetOf(n, o string) bool {
	nw, ow := isWildcardHost(n), isWildcardHost(o)
	switch {
	case nw && ow:
		return len(n) >= len(o) && strings.HasSuffix(n[1:], o[1:])
	case nw:
		return false
	case ow:
		return strings.HasSuffix(n, o[1:])
	}
	return n == o
}

// egressListener is one Sidecar egress listener, parsed.
type egressListener struct {
	index int // position in spec.egress; -1 for the implicit */* listener
	l     mesh.EgressListener
	// port is the listener port when it only imports services with that
	// port (sidecar.go needsPortMatch: number ≠ 0 and protocol ≠
	// HTTP_PROXY); 0 for a catch-all listener.
	port uint32
	// protocol is the listener port's protocol, for port listeners.
	protocol string
	// inert is why the listener cannot see iptables-redirected traffic
	// ("" when it can): captureMode NONE and unix-socket binds make Envoy
	// bind a real socket the app must dial (listener.go
	// buildSidecarOutboundListeners, bindToPort); an HTTP_PROXY listener
	// is an explicit proxy the app must be configured to use.
	inert  string
	byNS   map[string]*hostClass
	hosts  []string
	errors []string // entries skipped as illegal
}

func (l *egressListener) name() string {
	if l.index < 0 {
		return "the default egress listener"
	}
	if l.port != 0 {
		return fmt.Sprintf("egress[%d] (port %d)", l.index, l.port)
	}
	return fmt.Sprintf("egress[%d]", l.index)
}

// pos is where the listener is declared, falling back to the Sidecar.
func (l *egressListener) pos(sc *sidecarScope) mesh.Pos {
	if l.l.Pos.IsValid() {
		return l.l.Pos
	}
	_, p := sc.by()
	return p
}

// parseEgressListener parses a listener's hosts for a proxy whose config
// namespace is configNS (sidecar.go convertIstioListenerToWrapper).
func parseEgressListener(index int, l mesh.EgressListener, configNS string) egressListener {
	out := egressListener{index: index, l: l, byNS: map[string]*hostClass{}, hosts: l.Hosts}
	if l.Port != nil && l.Port.Number != 0 {
		out.protocol = parseIstioProtocol(l.Port.Protocol)
		if out.protocol != protoHTTPProxy {
			out.port = l.Port.Number
		}
	}
	switch {
	case strings.EqualFold(l.CaptureMode, "NONE"):
		out.inert = "captureMode NONE: Envoy binds a real socket (default 127.0.0.1) that only an app dialling it explicitly reaches"
	case strings.HasPrefix(l.Bind, "unix://"):
		out.inert = "it binds the unix socket " + l.Bind + ", which only an app dialling it reaches"
	case l.Port != nil && parseIstioProtocol(l.Port.Protocol) == protoHTTPProxy:
		out.inert = "protocol HTTP_PROXY: an explicit HTTP proxy the app must be configured to use"
	}
	for _, h := range l.Hosts {
		// "Illegal host in sidecar resource: %s, host must be of form
		// namespace/dnsName": logged and skipped.
		if strings.Count(h, "/") != 1 {
			out.errors = append(out.errors, h)
			continue
		}
		ns, name, _ := strings.Cut(h, "/")
		// ≥1.31 (istio/istio 4c3c712, PR #60581): a "~" prefix marks an
		// exclusion, bare "~" meaning every namespace. Up to 1.30, "~" was
		// an ordinary namespace name that never exists, so "~/*" imported
		// nothing but did not cancel other entries (["~/*", "./*"] imported
		// ./*), and "~ns/…" failed validation. This follows the current line.
		excluded := strings.HasPrefix(ns, excludePrefix)
		if excluded {
			ns = strings.TrimPrefix(ns, excludePrefix)
			if ns == "" {
				ns = wildcardNamespace
			}
		}
		// "." is the config namespace: the pod's, even in a root Sidecar.
		if ns == currentNamespace {
			ns = configNS
		}
		hc := out.byNS[ns]
		if hc == nil {
			hc = &hostClass{raw: map[string]string{}}
			out.byNS[ns] = hc
		}
		hc.raw[name] = h
		if excluded {
			hc.excluded = append(hc.excluded, name)
			continue
		}
		if !isWildcardHost(name) {
			hc.exact = append(hc.exact, name)
		}
		hc.all = append(hc.all, name)
	}
	return out
}

// registryService is one service of Istio's registry as a Sidecar scope
// sees it: a Kubernetes Service, or one host of a ServiceEntry (each host
// is its own service, in the ServiceEntry's namespace:
// pilot/pkg/serviceregistry/serviceentry/conversion.go convertServices).
type registryService struct {
	host    string
	ns      string
	svc     *service
	se      *mesh.ServiceEntry
	created time.Time
}

// serviceRegistry is Kubernetes Service s as a registry service (its
// host is its FQDN).
func serviceRegistry(s *service) registryService {
	return registryService{host: s.host, ns: s.svc.Ref.Namespace, svc: s}
}

// entryRegistry is host h of ServiceEntry se as a registry service.
func entryRegistry(se *mesh.ServiceEntry, h string) registryService {
	return registryService{host: h, ns: se.Ref.Namespace, se: se, created: se.Created}
}

func (r *registryService) ref() mesh.Ref {
	if r.svc != nil {
		return r.svc.svc.Ref
	}
	return r.se.Ref
}

func (r *registryService) pos() mesh.Pos {
	if r.svc != nil {
		return r.svc.svc.Pos
	}
	return r.se.Pos
}

func (r *registryService) kind() string {
	if r.svc != nil {
		return "Service"
	}
	return "ServiceEntry"
}

func (r *registryService) String() string {
	return fmt.Sprintf("%s %s/%s (host %s)", r.kind(), r.ns, r.ref().Name, r.host)
}

// portProtocol returns the Istio protocol of the service's TCP port port,
// and whether it has one. Kubernetes UDP/SCTP ports get no outbound
// listener.
func (r *registryService) portProtocol(port uint32) (string, bool) {
	if r.svc != nil {
		for _, sp := range r.svc.svc.Ports {
			if sp.Port == port && (sp.Protocol == "" || strings.EqualFold(sp.Protocol, "TCP")) {
				return kubePortProtocol(sp), true
			}
		}
		return "", false
	}
	for _, sp := range r.se.Ports {
		if sp.Number == port {
			p := parseIstioProtocol(sp.Protocol)
			if p == protoUDP {
				return "", false
			}
			return p, true
		}
	}
	return "", false
}

// listenerKey is the address of the outbound listener this service gets on
// a port when the listener's protocol is proto (listener.go
// buildSidecarOutboundListener): HTTP services share 0.0.0.0:port; TCP and
// auto-detected ones listen on the service VIP, or 0.0.0.0 when it has
// none. A Service's VIP is its clusterIP (a stand-in unique to it when the
// manifest leaves it to Kubernetes); headless Services get per-pod
// listeners; a ServiceEntry's is its first address (a CIDR listens on
// 0.0.0.0 with a filter-chain match). Address auto-allocation for
// ServiceEntries without addresses is not modelled.
func (r *registryService) listenerKey(proto string) string {
	if listenerProtocol(proto) == 'h' {
		return wildcardAddress
	}
	if r.svc != nil {
		switch {
		case r.svc.svc.Headless:
			return "pods of " + r.host
		case r.svc.svc.ClusterIP != "":
			return r.svc.svc.ClusterIP
		}
		return "clusterIP of " + r.host
	}
	if len(r.se.Addresses) > 0 && !strings.Contains(r.se.Addresses[0], "/") {
		return r.se.Addresses[0]
	}
	return wildcardAddress
}

// exportTo returns the service's exportTo and whether it is the mesh
// default (push_context.go serviceExportTo).
func (e *engine) exportTo(r *registryService) ([]string, bool) {
	var set []string
	if r.svc != nil {
		set = r.svc.svc.ExportTo
	} else {
		set = r.se.ExportTo
	}
	if len(set) > 0 {
		return set, false
	}
	if len(e.cfg.DefaultServiceExportTo) > 0 {
		return e.cfg.DefaultServiceExportTo, true
	}
	return []string{"*"}, true
}

// visible reports whether r is exported to namespace ns (T3 step 1;
// push_context.go IsServiceVisible and initServiceRegistry): "*" makes it
// public whatever else is listed; "~" hides it from everyone; "." is its own
// namespace; other entries are namespace names. "~" mixed with names is
// invalid input: for Kubernetes Services Istio is inconsistent (the index
// behind wildcard imports hides the service, the exact-host lookup shows
// it); this follows the index, which every "ns/*" or "*/…" import uses.
func (e *engine) visible(r *registryService, ns string) bool {
	set, _ := e.exportTo(r)
	switch {
	case slices.Contains(set, "*"):
		return true
	case slices.Contains(set, "~"):
		return false
	}
	return (slices.Contains(set, ".") && r.ns == ns) || slices.Contains(set, ns)
}

// hiddenWhy renders why r is not visible to namespace ns.
func (e *engine) hiddenWhy(r *registryService, ns string) string {
	set, def := e.exportTo(r)
	src := "exportTo"
	if def {
		src = "the mesh defaultServiceExportTo"
	}
	if slices.Contains(set, "~") {
		return fmt.Sprintf("%s is exported to no namespace (%s %v)", r, src, set)
	}
	return fmt.Sprintf("%s is not exported to namespace %s (%s %v)", r, ns, src, set)
}

// importResult is whether a listener imports a service, and why not.
// The reason is rendered lazily: scans over the registry discard most.
type importResult struct {
	ok       bool
	entry    string // the egress host entry that imported it, as written
	excluded string // the exclusion entry that dropped it
	noPort   bool   // a port listener and a service without that port
}

// why renders the reason a service was not imported.
func (res importResult) why(l *egressListener, r *registryService) string {
	switch {
	case res.excluded != "":
		return fmt.Sprintf("%s excludes %s with host %q", l.name(), r, res.excluded)
	case res.noPort:
		return fmt.Sprintf("%s only imports services with port %d, and %s has none", l.name(), l.port, r)
	}
	return fmt.Sprintf("no host of %s %q matches %s", l.name(), l.hosts, r)
}

// imports decides T3 steps 2-4 for one listener and a visible service
// (sidecar.go selectServices, matchingService, serviceMatchingListenerPort):
// an exclusion in the service's namespace or "*" drops it; else an entry in
// its namespace, or else one in "*", must match its host; a port listener
// also needs the service to have that port.
func (l *egressListener) imports(r *registryService) importResult {
	nsHosts, wildHosts := l.byNS[r.ns], l.byNS[wildcardNamespace]
	for _, hc := range [2]*hostClass{nsHosts, wildHosts} {
		if hc == nil {
			continue
		}
		if x, ok := hc.excludedBy(r.host); ok {
			return importResult{excluded: hc.raw[x]}
		}
	}
	for _, hc := range [2]*hostClass{nsHosts, wildHosts} {
		if hc == nil {
			continue
		}
		if m, ok := hc.matches(r.host); ok {
			if l.port != 0 {
				if _, has := r.portProtocol(l.port); !has {
					return importResult{noPort: true}
				}
			}
			return importResult{ok: true, entry: hc.raw[m]}
		}
	}
	return importResult{}
}

// registryOrder sorts services as servicesExportedToNamespace lists them
// for namespace ns: those exported to it by name or "." first, then public
// ones, each by creation time, ties by hostname then namespace
// (push_context.go SortServicesByCreationTime). Kubernetes Services carry
// no creation time in the model and sort first.
func (e *engine) registryOrder(list []*registryService) {
	slices.SortStableFunc(list, func(a, b *registryService) int {
		pa, _ := e.exportTo(a)
		pb, _ := e.exportTo(b)
		if c := cmp.Compare(boolRank(slices.Contains(pa, "*")), boolRank(slices.Contains(pb, "*"))); c != 0 {
			return c
		}
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		if c := cmp.Compare(a.host, b.host); c != 0 {
			return c
		}
		return cmp.Compare(a.ns, b.ns)
	})
}

// pickOne resolves a hostname imported from several namespaces (T3 step 5;
// sidecar.go selectServices, UnifiedSidecarScoping branch): the copy in the
// proxy's namespace, else a Kubernetes Service over a ServiceEntry (unless
// the kept one is in the proxy's namespace), else the first seen. imported
// is in registry order. Several ServiceEntries of one namespace declaring
// the host all stay in Istio (their ports are merged); the first one is
// returned.
func pickOne(imported []*registryService, configNS string) *registryService {
	var kept *registryService
	for _, r := range imported {
		switch {
		case kept == nil:
			kept = r
		case r.ns == configNS && kept.ns != configNS:
			kept = r
		case kept.svc == nil && r.svc != nil && (r.ns == configNS || kept.ns != configNS):
			kept = r
		}
	}
	return kept
}

// candidates returns the registry services a destination may be, grouped
// by hostname, most specific hostname first: the dialled name itself, then
// wildcard ServiceEntry hosts covering it, longest first. Each group is in
// registry order for namespace ns.
//
// The result is read-only: a Service no ServiceEntry shares a host with
// returns the same list every time.
func (e *engine) candidates(d *dest, ns string) [][]*registryService {
	if d.kind == destService && len(e.seByHost[d.host]) == 0 {
		return d.svc.alone
	}
	byHost := map[string][]*registryService{}
	add := func(r *registryService) { byHost[r.host] = append(byHost[r.host], r) }
	switch d.kind {
	case destService:
		r := serviceRegistry(d.svc)
		add(&r)
		for _, se := range e.seByHost[d.host] {
			r := entryRegistry(se, d.host)
			add(&r)
		}
	case destServiceEntry:
		for _, m := range d.entries {
			h := d.host
			if !slices.Contains(m.se.Hosts, h) {
				h = ""
				for _, sh := range m.se.Hosts {
					if isWildcardHost(sh) && hostSubsetOf(d.host, sh) && len(sh) > len(h) {
						h = sh
					}
				}
			}
			if h != "" {
				r := entryRegistry(m.se, h)
				add(&r)
			}
		}
	default:
		return nil
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	slices.SortFunc(hosts, func(a, b string) int {
		if c := cmp.Compare(boolRank(isWildcardHost(a)), boolRank(isWildcardHost(b))); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b), len(a)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	out := make([][]*registryService, 0, len(hosts))
	for _, h := range hosts {
		g := byHost[h]
		e.registryOrder(g)
		out = append(out, g)
	}
	return out
}

// eachService calls f with every registry service, in namespace and name
// order, until f returns false. The value passed is reused between calls.
func (e *engine) eachService(f func(*registryService) bool) {
	var r registryService
	for _, s := range e.services {
		r = serviceRegistry(s)
		if !f(&r) {
			return
		}
	}
	for _, se := range e.entries {
		for _, h := range se.Hosts {
			r = entryRegistry(se, h)
			if !f(&r) {
				return
			}
		}
	}
}

// portListenerKeys returns the listener addresses the port listener l
// creates on its port. Hostname collisions inside l are ignored: they only
// drop copies of a hostname, so at worst this over-counts addresses shared
// by colliding ServiceEntries.
//
// The answer scans the registry, so it is memoised per listener and
// namespace (parsed listeners are shared: scope_sidecar.go egressOf).
func (e *engine) portListenerKeys(l *egressListener, configNS string) map[string]bool {
	k := portKeysKey{l, configNS}
	if v, ok := e.portKeys.Load(k); ok {
		return v.(map[string]bool)
	}
	v, _ := e.portKeys.LoadOrStore(k, e.scanPortListenerKeys(l, configNS))
	return v.(map[string]bool)
}

type portKeysKey struct {
	l  *egressListener
	ns string
}

func (e *engine) scanPortListenerKeys(l *egressListener, configNS string) map[string]bool {
	keys := map[string]bool{}
	add := func(r *registryService) bool {
		if e.visible(r, configNS) && l.imports(r).ok {
			// The listener port's protocol, not the service's, shapes the
			// listener (buildSidecarOutboundListeners: port: listenPort).
			keys[r.listenerKey(l.protocol)] = true
		}
		return true
	}
	if l.byNS[wildcardNamespace] != nil {
		e.eachService(add)
		return keys
	}
	// Without "*/" entries the listener imports only services of the
	// namespaces it names (imports reads byNS[r.ns] and byNS["*"]).
	for ns := range l.byNS {
		for _, s := range e.svcByNS[ns] {
			r := serviceRegistry(s)
			add(&r)
		}
	}
	for _, se := range e.entries {
		if l.byNS[se.Ref.Namespace] == nil {
			continue
		}
		for _, h := range se.Hosts {
			r := entryRegistry(se, h)
			add(&r)
		}
	}
	return keys
}

// httpListenerOn reports whether the scope has an outbound HTTP listener
// on 0.0.0.0:port, which catches HTTP to any address on that port: then
// unknown HTTP gets the catch-all virtual host (allow_any, or block_all's
// 502 under REGISTRY_ONLY: pilot/pkg/networking/core/httproute.go
// buildCatchAllVirtualHost) instead of the TCP catch-all chain. It returns
// the service whose listener it is. The answer scans the registry, so it
// is memoised per scope and port: it depends only on the Sidecar, the
// proxy's namespace and the port.
func (e *engine) httpListenerOn(sc *sidecarScope, port uint32) (string, bool) {
	key := httpListenerKey{sc.sc, sc.configNS, port}
	if v, ok := e.httpListeners.Load(key); ok {
		r := v.(httpListenerResult)
		return r.name, r.ok
	}
	name, ok := e.scanHTTPListener(sc, port)
	e.httpListeners.Store(key, httpListenerResult{name, ok})
	return name, ok
}

// httpListenerKey and httpListenerResult memoise httpListenerOn.
type httpListenerKey struct {
	sc       *mesh.Sidecar
	configNS string
	port     uint32
}

type httpListenerResult struct {
	name string
	ok   bool
}

// scanHTTPListener computes httpListenerOn.
func (e *engine) scanHTTPListener(sc *sidecarScope, port uint32) (string, bool) {
	var found string
	locked := false // a port listener owns 0.0.0.0:port
	for i := range sc.egress {
		l := &sc.egress[i]
		if l.inert != "" || l.port != port {
			continue
		}
		e.eachService(func(r *registryService) bool {
			if r.listenerKey(l.protocol) != wildcardAddress {
				return true
			}
			if !e.visible(r, sc.configNS) || !l.imports(r).ok {
				return true
			}
			locked = true
			if listenerProtocol(l.protocol) != 't' {
				found = r.String()
				return false
			}
			return true
		})
		if found != "" {
			return found, true
		}
	}
	if locked {
		// The catch-all adds nothing to a listener a port listener built
		// (buildSidecarOutboundListeners, "locked").
		return "", false
	}
	for i := range sc.egress {
		l := &sc.egress[i]
		if l.inert != "" || l.port != 0 {
			continue
		}
		e.eachService(func(r *registryService) bool {
			proto, has := r.portProtocol(port)
			if !has || listenerProtocol(proto) == 't' || r.listenerKey(proto) != wildcardAddress {
				return true
			}
			if e.visible(r, sc.configNS) && l.imports(r).ok {
				found = r.String()
				return false
			}
			return true
		})
		if found != "" {
			return found, true
		}
	}
	return "", false
}

// Istio protocol names (pkg/config/protocol/instance.go); "" is
// Unsupported, i.e. auto-detected.
const (
	protoHTTP      = "HTTP"
	protoHTTP2     = "HTTP2"
	protoGRPC      = "GRPC"
	protoGRPCWeb   = "GRPC-Web"
	protoHTTPS     = "HTTPS"
	protoTLS       = "TLS"
	protoTCP       = "TCP"
	protoMongo     = "Mongo"
	protoRedis     = "Redis"
	protoMySQL     = "MySQL"
	protoUDP       = "UDP"
	protoHTTPProxy = "HTTP_PROXY"
)

// parseIstioProtocol is protocol.Parse: case-insensitive; unknown names
// are auto-detected ("").
func parseIstioProtocol(s string) string {
	for _, p := range []string{protoTCP, protoUDP, protoGRPC, protoGRPCWeb, protoHTTP, protoHTTPProxy, protoHTTP2, protoHTTPS, protoTLS, protoMongo, protoRedis, protoMySQL} {
		if strings.EqualFold(s, p) {
			return p
		}
	}
	return ""
}

// kubePortProtocol is the Istio protocol of a Kubernetes Service port
// (pkg/config/kube/conversion.go ConvertProtocol): appProtocol if set,
// else the port name's prefix before "-"; unnamed ports of well-known TCP
// services (25, 53, 3306, 27017) are TCP, other unknown ones auto-detected.
func kubePortProtocol(sp mesh.ServicePort) string {
	if strings.EqualFold(sp.Protocol, "UDP") {
		return protoUDP
	}
	name := sp.Name
	if sp.AppProtocol != "" {
		name = sp.AppProtocol
		switch name {
		case "kubernetes.io/h2c":
			return protoHTTP2
		case "kubernetes.io/ws":
			return protoHTTP
		case "kubernetes.io/wss":
			return protoHTTPS
		}
	}
	if len(name) >= len(protoGRPCWeb) && strings.EqualFold(name[:len(protoGRPCWeb)], protoGRPCWeb) {
		return protoGRPCWeb
	}
	if i := strings.IndexByte(name, '-'); i >= 0 {
		name = name[:i]
	}
	p := parseIstioProtocol(name)
	if p == "" {
		switch sp.Port {
		case 25, 53, 3306, 27017:
			return protoTCP
		}
	}
	return p
}

// listenerProtocol maps an Istio protocol to the listener kind
// (pilot/pkg/networking/util ModelProtocolToListenerProtocol): 'h' HTTP,
// 't' TCP, 'a' auto-detected.
func listenerProtocol(p string) byte {
	switch p {
	case protoHTTP, protoHTTP2, protoGRPC, protoGRPCWeb, protoHTTPProxy:
		return 'h'
	case "":
		return 'a'
	}
	return 't'
}
