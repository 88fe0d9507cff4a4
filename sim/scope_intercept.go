package sim

// iptables interception on an injected pod (§6, T5): which outbound
// connections the sidecar sees and which inbound ports it captures. The
// arguments come from pod annotations rendered into istio-iptables flags by
// manifests/charts/istio-control/istio-discovery/files/injection-template.yaml
// (values.yaml global.proxy defaults); the rules are those of
// tools/istio-iptables/pkg/capture/run.go.

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// Interception annotations (pod annotations, istio.io/api annotation/annotations.yaml).
const (
	annExcludeOutboundPorts    = "traffic.sidecar.istio.io/excludeOutboundPorts"
	annExcludeOutboundIPRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
	annIncludeOutboundPorts    = "traffic.sidecar.istio.io/includeOutboundPorts"
	annIncludeOutboundIPRanges = "traffic.sidecar.istio.io/includeOutboundIPRanges"
	annIncludeInboundPorts     = "traffic.sidecar.istio.io/includeInboundPorts"
	annExcludeInboundPorts     = "traffic.sidecar.istio.io/excludeInboundPorts"
	annStatusPort              = "status.sidecar.istio.io/port"
)

// The injection template's `annotation` helper returns the annotation when
// the key is present, even empty, else the values.yaml default
// (global.proxy.includeIPRanges "*", includeInboundPorts "*", the others "").
func annotationOr(w *mesh.Workload, key, def string) (string, bool) {
	if v, ok := w.Annotations[key]; ok {
		return v, true
	}
	return def, false
}

// splitList splits a comma-separated flag value like config.Split does,
// trimming spaces and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// portIn reports whether port is in a comma-separated port list, and the
// items that are not ports (ignored).
func portIn(list string, port uint32) (bool, []string) {
	var bad []string
	found := false
	for _, p := range splitList(list) {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			bad = append(bad, p)
			continue
		}
		if uint32(n) == port {
			found = true
		}
	}
	return found, bad
}

// ipIn reports whether ip is in a comma-separated CIDR list (a bare
// address counts as a /32 or /128), the matching entry, and the items that
// do not parse (ignored).
func ipIn(list string, ip netip.Addr) (string, bool, []string) {
	var bad []string
	for _, c := range splitList(list) {
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				bad = append(bad, c)
				continue
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if ip.IsValid() && pfx.Contains(ip.Unmap()) {
			return c, true, bad
		}
	}
	return "", false, bad
}

// destIP is the address the client's connection goes to, when the model
// knows it: a Service's clusterIP, a pod's IP, a ServiceEntry's first
// address that is a plain IP (entries in namespace and name order). what
// says which, for traces.
func (e *engine) destIP(d *dest) (ip netip.Addr, what string) {
	ip = e.destAddr(d)
	switch d.kind {
	case destService:
		if d.svc.svc.Headless {
			return ip, "the pod IPs of headless Service " + d.svc.svc.Ref.Name
		}
		if ip.IsValid() {
			return ip, "clusterIP " + ip.String()
		}
		return ip, "the clusterIP of Service " + d.svc.svc.Ref.Name
	case destPod:
		if ip.IsValid() {
			return ip, "pod IP " + ip.String()
		}
		return ip, "the pod IP of " + d.pod.ID.String()
	case destServiceEntry:
		for _, m := range d.entries {
			se := m.se
			for _, s := range se.Addresses {
				if a, err := netip.ParseAddr(s); err == nil {
					return a, "address " + a.String() + " of ServiceEntry " + se.Ref.Name
				}
			}
		}
	}
	return ip, "the resolved address of " + d.host
}

// destAddr is the address destIP describes, without the description.
func (e *engine) destAddr(d *dest) netip.Addr {
	switch d.kind {
	case destService:
		if !d.svc.svc.Headless {
			if a, err := netip.ParseAddr(d.svc.svc.ClusterIP); err == nil {
				return a
			}
		}
	case destPod:
		if a, err := netip.ParseAddr(d.pod.IP); err == nil {
			return a
		}
	case destServiceEntry:
		for _, m := range d.entries {
			for _, s := range m.se.Addresses {
				if a, err := netip.ParseAddr(s); err == nil {
					return a
				}
			}
		}
	}
	return netip.Addr{}
}

// redirected is intercepted without its step.
func (e *engine) redirected(client *mesh.Workload, d *dest) bool {
	for _, k := range outboundAnnotations {
		if _, ok := client.Annotations[k]; ok {
			ok, _ := e.intercepted(client, d)
			return ok
		}
	}
	// Without the annotations only rule 2 (loopback) and the default
	// includeOutboundIPRanges "*" apply.
	ip := e.destAddr(d)
	return !ip.IsValid() || !ip.IsLoopback()
}

// intercepted decides whether the client's iptables redirect a connection
// to d:port to its sidecar, in ISTIO_OUTPUT rule order (§6; run.go Run,
// handleOutboundPortsInclude, handleOutboundIncludeRules):
//  1. excludeOutboundPorts → RETURN, before anything else;
//  2. loopback destinations → RETURN;
//  3. excludeOutboundIPRanges → RETURN;
//  4. includeOutboundPorts → REDIRECT whatever the address;
//  5. includeOutboundIPRanges: "*" redirects the rest, a CIDR list only
//     those, "" nothing.
//
// When the destination address is unknown and an address rule would
// matter, the step says so and the address is assumed outside the range.
func (e *engine) intercepted(client *mesh.Workload, d *dest) (bool, Step) {
	port := d.port
	step := Step{Stage: StageInterception, Side: Client, Subject: client.ID}
	byPod := func(s Step) Step { s.By, s.Pos = client.Ref(), client.Pos; return s }
	var notes []string
	note := func(key string, bad []string) {
		if len(bad) > 0 {
			notes = append(notes, fmt.Sprintf("ignored invalid %s entries %q", key, bad))
		}
	}
	finish := func(s Step) Step {
		if len(notes) > 0 {
			s.Detail += " (" + strings.Join(notes, "; ") + ")"
		}
		return s
	}

	if v, ok := client.Annotations[annExcludeOutboundPorts]; ok {
		in, bad := portIn(v, port)
		note(annExcludeOutboundPorts, bad)
		if in {
			step.Detail = fmt.Sprintf("port %d is in %s=%q: iptables returns it before any other rule, so the sidecar never sees it (no mTLS, no Sidecar scope, no outbound policy)", port, annExcludeOutboundPorts, v)
			return false, finish(byPod(step))
		}
	}
	ip, what := e.destIP(d)
	if ip.IsValid() && ip.IsLoopback() {
		step.Default = "ISTIO_OUTPUT returns loopback destinations (tools/istio-iptables/pkg/capture/run.go Run)"
		step.Detail = fmt.Sprintf("the destination %s is loopback: not redirected", what)
		return false, finish(step)
	}
	unknownIP := func(rule string) {
		notes = append(notes, fmt.Sprintf("%s is not known to the model, so it is assumed outside %s", what, rule))
	}
	if v, ok := client.Annotations[annExcludeOutboundIPRanges]; ok && len(splitList(v)) > 0 {
		cidr, in, bad := ipIn(v, ip)
		note(annExcludeOutboundIPRanges, bad)
		if !ip.IsValid() {
			unknownIP(annExcludeOutboundIPRanges)
		} else if in {
			step.Detail = fmt.Sprintf("%s is in %s entry %s: iptables returns it (address exclusions come before port inclusions), so the sidecar never sees it", what, annExcludeOutboundIPRanges, cidr)
			return false, finish(byPod(step))
		}
	}
	if v, ok := client.Annotations[annIncludeOutboundPorts]; ok {
		in, bad := portIn(v, port)
		note(annIncludeOutboundPorts, bad)
		if in {
			step.Detail = fmt.Sprintf("port %d is in %s=%q: redirected to the sidecar whatever the address", port, annIncludeOutboundPorts, v)
			return true, finish(byPod(step))
		}
	}
	v, set := annotationOr(client, annIncludeOutboundIPRanges, "*")
	switch {
	case strings.TrimSpace(v) == "*":
		if set {
			step = byPod(step)
			step.Detail = fmt.Sprintf("%s=\"*\": outbound traffic to port %d is redirected to the sidecar", annIncludeOutboundIPRanges, port)
		} else {
			step.Default = "includeOutboundIPRanges \"*\" (istio-discovery values.yaml global.proxy.includeIPRanges)"
			step.Detail = fmt.Sprintf("outbound traffic to port %d is redirected to the sidecar", port)
		}
		return true, finish(step)
	case len(splitList(v)) == 0:
		step.Detail = fmt.Sprintf("%s is empty: only listed ports are redirected, and %d is not one of them", annIncludeOutboundIPRanges, port)
		return false, finish(byPod(step))
	}
	cidr, in, bad := ipIn(v, ip)
	note(annIncludeOutboundIPRanges, bad)
	switch {
	case !ip.IsValid():
		unknownIP(annIncludeOutboundIPRanges)
		step.Detail = fmt.Sprintf("%s=%q only redirects those ranges: not redirected", annIncludeOutboundIPRanges, v)
		return false, finish(byPod(step))
	case in:
		step.Detail = fmt.Sprintf("%s is in %s entry %s: redirected to the sidecar", what, annIncludeOutboundIPRanges, cidr)
		return true, finish(byPod(step))
	}
	step.Detail = fmt.Sprintf("%s is outside %s=%q: not redirected, so the sidecar never sees it", what, annIncludeOutboundIPRanges, v)
	return false, finish(byPod(step))
}

// inboundCaptured reports whether iptables redirects inbound traffic on
// container port port of the injected workload w to its sidecar (§6, T5).
// Steps have Stage StageInterception, Side Server.
//
// run.go handleInboundPortsInclude: includeInboundPorts "*" (the default)
// redirects every TCP port except excludeInboundPorts, to which the
// injection template always adds 15090, 15021 and the status port (15020,
// or status.sidecar.istio.io/port); a port list redirects only those ports
// (exclusions then play no part); "" redirects nothing. Sidecar ingress
// listeners do not change which ports are captured (§5).
func (e *engine) inboundCaptured(w *mesh.Workload, port uint32) (bool, []Step) {
	step := Step{Stage: StageInterception, Side: Server, Subject: w.ID}
	byPod := func() { step.By, step.Pos = w.Ref(), w.Pos }
	include, includeSet := annotationOr(w, annIncludeInboundPorts, "*")
	if strings.TrimSpace(include) != "*" {
		byPod()
		if len(splitList(include)) == 0 {
			step.Detail = fmt.Sprintf("%s is empty: iptables captures no inbound port, so port %d reaches the app directly (no mTLS termination, no policy)", annIncludeInboundPorts, port)
			return false, []Step{step}
		}
		in, _ := portIn(include, port)
		if in {
			step.Detail = fmt.Sprintf("port %d is in %s=%q: captured by the sidecar", port, annIncludeInboundPorts, include)
			return true, []Step{step}
		}
		step.Detail = fmt.Sprintf("port %d is not in %s=%q: it reaches the app directly (no mTLS termination, no policy)", port, annIncludeInboundPorts, include)
		return false, []Step{step}
	}
	status, _ := annotationOr(w, annStatusPort, "15020")
	if slices.Contains([]uint32{15090, 15021}, port) || strconv.FormatUint(uint64(port), 10) == strings.TrimSpace(status) {
		step.Default = "the injection template always excludes 15090, 15021 and the status port (istio-discovery files/injection-template.yaml)"
		step.Detail = fmt.Sprintf("port %d is an Istio agent port excluded from inbound capture", port)
		return false, []Step{step}
	}
	if v, ok := w.Annotations[annExcludeInboundPorts]; ok {
		if in, _ := portIn(v, port); in {
			byPod()
			step.Detail = fmt.Sprintf("port %d is in %s=%q: it reaches the app directly, bypassing the sidecar (no mTLS termination, no PeerAuthentication)", port, annExcludeInboundPorts, v)
			return false, []Step{step}
		}
	}
	if includeSet {
		byPod()
		step.Detail = fmt.Sprintf("%s=\"*\": port %d is captured by the sidecar", annIncludeInboundPorts, port)
	} else {
		step.Default = "includeInboundPorts \"*\" (istio-discovery values.yaml global.proxy.includeInboundPorts)"
		step.Detail = fmt.Sprintf("port %d is captured by the sidecar", port)
	}
	return true, []Step{step}
}
