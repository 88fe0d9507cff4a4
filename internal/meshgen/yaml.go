package meshgen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// YAML renders the objects as Kubernetes and Istio manifests, one
// document each, in the order of the Objects lists. The mesh config is
// Istio's default, so no ConfigMap is written.
func (o *Objects) YAML() []byte {
	var w yamlWriter
	for _, x := range o.Namespaces {
		w.doc("v1", "Namespace", mesh.Ref{Name: x.Name})
		w.labels(1, "labels", x.Labels)
	}
	for _, x := range o.Workloads {
		w.workload(x)
	}
	for _, x := range o.Services {
		w.service(x)
	}
	for _, x := range o.ServiceEntries {
		w.serviceEntry(x)
	}
	for _, x := range o.Sidecars {
		w.sidecar(x)
	}
	for _, x := range o.PeerAuthentications {
		w.peerAuth(x)
	}
	for _, x := range o.DestinationRules {
		w.destRule(x)
	}
	for _, x := range o.AuthorizationPolicies {
		w.authz(x)
	}
	return []byte(w.b.String())
}

type yamlWriter struct {
	b     strings.Builder
	first bool
}

func (w *yamlWriter) line(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// doc starts a document with its metadata name and namespace.
func (w *yamlWriter) doc(apiVersion, kind string, r mesh.Ref) {
	if w.b.Len() > 0 {
		w.b.WriteString("---\n")
	}
	w.line(0, "apiVersion: %s", apiVersion)
	w.line(0, "kind: %s", kind)
	w.line(0, "metadata:")
	w.line(1, "name: %s", r.Name)
	if r.Namespace != "" {
		w.line(1, "namespace: %s", r.Namespace)
	}
}

// labels writes a string map under key, sorted; nothing when m is nil.
func (w *yamlWriter) labels(indent int, key string, m map[string]string) {
	if m == nil {
		return
	}
	if len(m) == 0 {
		w.line(indent, "%s: {}", key)
		return
	}
	w.line(indent, "%s:", key)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.line(indent+1, "%s: %q", k, m[k])
	}
}

func (w *yamlWriter) list(indent int, key string, items []string) {
	w.line(indent, "%s:", key)
	for _, s := range items {
		w.line(indent, "- %q", s)
	}
}

func (w *yamlWriter) workload(x mesh.Workload) {
	w.doc("apps/v1", "Deployment", mesh.Ref{Namespace: x.ID.Namespace, Name: x.ID.Name})
	w.line(0, "spec:")
	w.line(1, "selector:")
	w.labels(2, "matchLabels", map[string]string{"app": x.Labels["app"]})
	w.line(1, "template:")
	w.line(2, "metadata:")
	w.labels(3, "labels", x.Labels)
	w.labels(3, "annotations", x.Annotations) // meshreach.io/app-mtls among them for AppMTLS
	w.line(2, "spec:")
	if x.ServiceAccount != "" {
		w.line(3, "serviceAccountName: %s", x.ServiceAccount)
	}
	if x.HostNetwork {
		w.line(3, "hostNetwork: true")
	}
	w.line(3, "containers:")
	w.line(3, "- name: app")
	w.line(3, "  image: registry.example.com/%s:1.0", x.ID.Name)
	if len(x.Ports) > 0 {
		w.line(3, "  ports:")
		for _, p := range x.Ports {
			w.line(3, "  - containerPort: %d", p.Number)
			if p.Name != "" {
				w.line(3, "    name: %s", p.Name)
			}
			if p.Protocol != "" {
				w.line(3, "    protocol: %s", p.Protocol)
			}
		}
	}
}

func (w *yamlWriter) service(x mesh.Service) {
	w.doc("v1", "Service", x.Ref)
	w.labels(1, "annotations", x.Annotations) // networking.istio.io/exportTo among them for ExportTo
	w.labels(1, "labels", x.Labels)
	w.line(0, "spec:")
	w.labels(1, "selector", x.Selector)
	switch {
	case x.Headless:
		w.line(1, "clusterIP: None")
	case x.ClusterIP != "":
		w.line(1, "clusterIP: %s", x.ClusterIP)
	}
	w.line(1, "ports:")
	for _, p := range x.Ports {
		w.line(1, "- port: %d", p.Port)
		if p.Name != "" {
			w.line(1, "  name: %s", p.Name)
		}
		switch {
		case p.TargetName != "":
			w.line(1, "  targetPort: %s", p.TargetName)
		case p.TargetPort != 0:
			w.line(1, "  targetPort: %d", p.TargetPort)
		}
		if p.Protocol != "" {
			w.line(1, "  protocol: %s", p.Protocol)
		}
		if p.AppProtocol != "" {
			w.line(1, "  appProtocol: %s", p.AppProtocol)
		}
	}
}

func (w *yamlWriter) serviceEntry(x mesh.ServiceEntry) {
	w.doc("networking.istio.io/v1", "ServiceEntry", x.Ref)
	w.line(0, "spec:")
	w.list(1, "hosts", x.Hosts)
	if len(x.Addresses) > 0 {
		w.list(1, "addresses", x.Addresses)
	}
	w.line(1, "ports:")
	for _, p := range x.Ports {
		w.line(1, "- number: %d", p.Number)
		w.line(1, "  protocol: %s", p.Protocol)
		w.line(1, "  name: %s", p.Name)
		if p.TargetPort != 0 {
			w.line(1, "  targetPort: %d", p.TargetPort)
		}
	}
	if x.MeshInternal {
		w.line(1, "location: MESH_INTERNAL")
	} else {
		w.line(1, "location: MESH_EXTERNAL")
	}
	if x.Resolution != "" {
		w.line(1, "resolution: %s", x.Resolution)
	}
	if len(x.ExportTo) > 0 {
		w.list(1, "exportTo", x.ExportTo)
	}
	if x.WorkloadSelector != nil {
		w.line(1, "workloadSelector:")
		w.labels(2, "labels", x.WorkloadSelector)
	}
}

func (w *yamlWriter) sidecar(x mesh.Sidecar) {
	w.doc("networking.istio.io/v1", "Sidecar", x.Ref)
	w.line(0, "spec:")
	if x.Selector != nil {
		w.line(1, "workloadSelector:")
		w.labels(2, "labels", x.Selector)
	}
	if len(x.Egress) > 0 {
		w.line(1, "egress:")
		for _, l := range x.Egress {
			w.line(1, "- hosts:")
			for _, h := range l.Hosts {
				w.line(2, "- %q", h)
			}
			if l.Port != nil {
				w.line(2, "port:")
				w.line(3, "number: %d", l.Port.Number)
				w.line(3, "protocol: %s", l.Port.Protocol)
				w.line(3, "name: %s", l.Port.Name)
			}
		}
	}
	if x.Outbound != mesh.OutboundUnset {
		w.line(1, "outboundTrafficPolicy:")
		w.line(2, "mode: %s", x.Outbound)
	}
}

func (w *yamlWriter) peerAuth(x mesh.PeerAuthentication) {
	w.doc("security.istio.io/v1", "PeerAuthentication", x.Ref)
	w.line(0, "spec:")
	if len(x.Selector) > 0 {
		w.line(1, "selector:")
		w.labels(2, "matchLabels", x.Selector)
	}
	if x.Mode != mesh.ModeUnset {
		w.line(1, "mtls:")
		w.line(2, "mode: %s", x.Mode)
	}
	if len(x.PortModes) > 0 {
		w.line(1, "portLevelMtls:")
		ports := make([]uint32, 0, len(x.PortModes))
		for p := range x.PortModes {
			ports = append(ports, p)
		}
		slices.Sort(ports)
		for _, p := range ports {
			w.line(2, "%d:", p)
			w.line(3, "mode: %s", x.PortModes[p])
		}
	}
}

func (w *yamlWriter) destRule(x mesh.DestinationRule) {
	w.doc("networking.istio.io/v1", "DestinationRule", x.Ref)
	w.line(0, "spec:")
	w.line(1, "host: %q", x.Host)
	if len(x.ExportTo) > 0 {
		w.list(1, "exportTo", x.ExportTo)
	}
	if x.Selector != nil {
		w.line(1, "workloadSelector:")
		w.labels(2, "matchLabels", x.Selector)
	}
	if tp := x.TrafficPolicy; tp != nil {
		w.line(1, "trafficPolicy:")
		if tp.TLS == mesh.TLSUnset && !tp.LBPassthrough && len(tp.PortLevel) == 0 {
			w.line(2, "connectionPool: {}")
		}
		if tp.TLS != mesh.TLSUnset {
			w.line(2, "tls:")
			w.line(3, "mode: %s", tp.TLS)
		}
		if tp.LBPassthrough {
			w.line(2, "loadBalancer:")
			w.line(3, "simple: PASSTHROUGH")
		}
		if len(tp.PortLevel) > 0 {
			w.line(2, "portLevelSettings:")
			for _, p := range tp.PortLevel {
				w.line(2, "- port:")
				w.line(3, "  number: %d", p.Port)
				if p.TLS != mesh.TLSUnset {
					w.line(3, "tls:")
					w.line(4, "mode: %s", p.TLS)
				}
			}
		}
	}
}

func (w *yamlWriter) authz(x mesh.AuthorizationPolicy) {
	w.doc("security.istio.io/v1", "AuthorizationPolicy", x.Ref)
	w.line(0, "spec:")
	if x.Selector != nil {
		w.line(1, "selector:")
		w.labels(2, "matchLabels", x.Selector)
	}
	w.line(1, "action: %s", x.Action)
	if len(x.Rules) == 0 {
		return
	}
	w.line(1, "rules:")
	for _, r := range x.Rules {
		first := true
		key := func(k string) {
			if first {
				w.line(1, "- %s:", k)
				first = false
				return
			}
			w.line(2, "%s:", k)
		}
		if len(r.From) > 0 {
			key("from")
			for _, f := range r.From {
				w.line(2, "- source:")
				for _, kv := range []struct {
					key  string
					vals []string
				}{{"principals", f.Principals}, {"namespaces", f.Namespaces}, {"ipBlocks", f.IPBlocks}} {
					if len(kv.vals) > 0 {
						w.list(4, kv.key, kv.vals)
					}
				}
			}
		}
		if len(r.To) > 0 {
			key("to")
			for _, t := range r.To {
				w.line(2, "- operation:")
				if len(t.Ports) > 0 {
					w.list(4, "ports", t.Ports)
				}
			}
		}
		if first {
			w.line(1, "- {}")
		}
	}
}
