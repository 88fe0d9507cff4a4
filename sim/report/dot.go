package report

import (
	"fmt"
	"strings"

	"github.com/meshreach/meshreach/graph"
	"github.com/meshreach/meshreach/sim"
)

// dotLabel is an edge of a DOT drawing: the ports of a [sim.Edge], or a
// pair between which nothing can flow.
type dotLabel struct {
	ports  []sim.PortEdge
	denied bool
	// only, when set, is the transport the drawing is about (paths over
	// plaintext or mTLS only): it decides the edge's style.
	only sim.Transport
}

// dotGraph collects the nodes and edges of a DOT drawing in the order they
// are added.
type dotGraph struct {
	g graph.Graph[sim.Node, dotLabel]
}

func (d *dotGraph) node(n sim.Node) { d.g.AddNode(n) }

func (d *dotGraph) edge(e sim.Edge, only sim.Transport) {
	d.g.SetEdge(e.From, e.To, dotLabel{ports: e.Ports, only: only})
}

// deny adds a denied edge unless an edge from → to exists.
func (d *dotGraph) deny(from, to sim.Node) {
	if _, ok := d.g.Edge(from, to); !ok {
		d.g.SetEdge(from, to, dotLabel{denied: true})
	}
}

// render writes the drawing as a Graphviz digraph named name. Node IDs are
// Node.String. Edges are styled by transport: mTLS solid green, TLS solid
// blue, plaintext dashed orange, denied dotted grey (drawn only when
// showDenied).
func (d *dotGraph) render(name string, showDenied bool) ([]byte, error) {
	return d.g.DOT(name, func(n sim.Node) string { return n.String() }, func(l dotLabel) ([]graph.Attr, bool) {
		if l.denied {
			if !showDenied {
				return nil, true
			}
			return []graph.Attr{{Key: "color", Value: colour[sim.NoTransport]}, {Key: "fontcolor", Value: colour[sim.NoTransport]},
				{Key: "style", Value: "dotted"}, {Key: "label", Value: "denied"}}, false
		}
		t := edgeTransport(l.ports, l.only)
		style := "solid"
		if t == sim.Plaintext {
			style = "dashed"
		}
		return []graph.Attr{{Key: "color", Value: colour[t]}, {Key: "fontcolor", Value: colour[t]},
			{Key: "style", Value: style}, {Key: "label", Value: portsLabel(l.ports)}}, false
	})
}

// colour is the colour of each transport in DOT and HTML; NoTransport is
// the colour of denied connections.
var colour = map[sim.Transport]string{
	sim.NoTransport: "#9e9e9e",
	sim.Plaintext:   "#e65100",
	sim.MTLS:        "#2e7d32",
	sim.TLS:         "#1565c0",
}

// weakness orders transports from the least protected: plaintext, then
// TLS that is not Istio mTLS (no mesh identity), then mTLS.
var weakness = []sim.Transport{sim.Plaintext, sim.TLS, sim.MTLS}

// edgeTransport is the transport an edge is drawn as: only when set;
// else the weakest transport that flows as configured on any port; else,
// when nothing flows as configured, the weakest that could flow.
func edgeTransport(ports []sim.PortEdge, only sim.Transport) sim.Transport {
	if only != sim.NoTransport {
		return only
	}
	var def, can sim.TransportSet
	for _, p := range ports {
		if p.Default.Allowed {
			def |= sim.TransportSetOf(p.Default.Transport)
		}
		can |= p.Transports
	}
	for _, set := range []sim.TransportSet{def, can} {
		for _, t := range weakness {
			if set.Has(t) {
				return t
			}
		}
	}
	return sim.NoTransport
}

// portsLabel renders "8080 mtls, 9090 plaintext": each port with what
// flows as configured, and in brackets what else could flow.
func portsLabel(ports []sim.PortEdge) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = portText(p)
	}
	return strings.Join(parts, ", ")
}

// portText renders one port: "8080 mtls", "8080 mtls [plaintext+mtls]"
// when more could flow than flows as configured, "8080 denied [mtls]" or
// "8080 undecided [mtls]" when nothing flows as configured.
func portText(p sim.PortEdge) string {
	s := fmt.Sprintf("%d denied", p.Port)
	if p.Default.Undecided {
		s = fmt.Sprintf("%d undecided", p.Port)
	}
	var def sim.TransportSet
	if p.Default.Allowed {
		s = fmt.Sprintf("%d %s", p.Port, p.Default.Transport)
		def = sim.TransportSetOf(p.Default.Transport)
	}
	if p.Transports != def {
		s += " [" + p.Transports.String() + "]"
	}
	return s
}
