package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/graph"
	"github.com/meshreach/meshreach/sim"
)

// WhoCanReachReport renders [sim.Matrix.WhoCanReach]: the nodes that can
// reach Dest (on Port, or any port when 0), grouped by transport.
type WhoCanReachReport struct {
	Matrix *sim.Matrix // for the traces of the HTML drill-down and the DOT edges
	Dest   sim.Node
	Port   uint32
	Groups []sim.ReachGroup
}

// Kind returns "WhoCanReach".
func (*WhoCanReachReport) Kind() string { return "WhoCanReach" }

// ReachableFromReport renders [sim.Matrix.ReachableFrom]: the nodes Source
// can reach, grouped by transport.
type ReachableFromReport struct {
	Matrix *sim.Matrix // for the traces of the HTML drill-down and the DOT edges
	Source sim.Node
	Groups []sim.ReachGroup
}

// Kind returns "ReachableFrom".
func (*ReachableFromReport) Kind() string { return "ReachableFrom" }

type reachJSON struct {
	header
	Destination string           `json:"destination,omitempty"`
	Port        uint32           `json:"port,omitempty"`
	Source      string           `json:"source,omitempty"`
	Groups      []reachGroupJSON `json:"groups"`
}

type reachGroupJSON struct {
	Transport string   `json:"transport"`
	Nodes     []string `json:"nodes"`
}

func (r *WhoCanReachReport) render(rd *renderer) error {
	target := r.Dest.String()
	if r.Port != 0 {
		target += ":" + strconv.Itoa(int(r.Port))
	}
	rd.defTitle = "who can reach " + target
	doc := reachJSON{header: newHeader(r), Destination: r.Dest.String(), Port: r.Port}
	renderReach(rd, r.Matrix, r.Groups, &doc, func(n sim.Node) (from, to sim.Node) { return n, r.Dest }, r.Port,
		sim.Filter{To: r.Dest, Port: r.Port}, "clients of "+target)
	return nil
}

func (r *ReachableFromReport) render(rd *renderer) error {
	rd.defTitle = "reachable from " + r.Source.String()
	doc := reachJSON{header: newHeader(r), Source: r.Source.String()}
	f := sim.Filter{From: r.Source.Workload} // OutsideID for the outside client
	renderReach(rd, r.Matrix, r.Groups, &doc, func(n sim.Node) (from, to sim.Node) { return r.Source, n }, 0,
		f, "destinations of "+r.Source.String())
	return nil
}

// renderReach renders both reach reports; pairOf gives the connection a
// listed node stands for, and edges selects the graph edges DOT draws.
func renderReach(rd *renderer, m *sim.Matrix, groups []sim.ReachGroup, doc *reachJSON, pairOf func(sim.Node) (from, to sim.Node),
	port uint32, edges sim.Filter, what string) {
	n := 0
	t := table{Title: what, Cols: []string{"TRANSPORT", "NODE"}}
	rd.csv = table{Cols: []string{"transport", "node"}}
	doc.Groups = []reachGroupJSON{}
	for _, g := range groups {
		n += len(g.Nodes)
		for _, nd := range g.Nodes {
			t.add(g.Transport.String(), nd.String())
			rd.csv.add(g.Transport.String(), nd.String())
		}
		doc.Groups = append(doc.Groups, reachGroupJSON{Transport: g.Transport.String(), Nodes: nodeNames(g.Nodes)})
	}
	rd.tables = []table{t}
	if n == 0 {
		rd.footer = []string{"none"}
	}
	rd.json = doc
	rd.subtitle = fmt.Sprintf("%s in %s; a node is listed under every transport that can flow", count(n, "entry"), count(len(groups), "transport group"))

	rd.dot = func() ([]byte, error) {
		var d dotGraph
		g := &graph.Graph[sim.Node, sim.Edge]{}
		if m != nil {
			g = m.Graph(edges)
		}
		for _, grp := range groups {
			for _, nd := range grp.Nodes {
				from, to := pairOf(nd)
				if e, ok := g.Edge(from, to); ok {
					d.edge(e, sim.NoTransport)
				} else {
					d.node(from)
					d.node(to)
				}
			}
		}
		return d.render("reach", rd.opt.Denied)
	}

	if rd.opt.Format == HTML {
		p := page{Legend: true, Tables: []table{t}}
		for _, g := range groups {
			s := section{ID: "transport-" + g.Transport.String(), Title: fmt.Sprintf("over %s (%d)", g.Transport, len(g.Nodes))}
			for _, nd := range g.Nodes {
				from, to := pairOf(nd)
				s.Items = append(s.Items, item{Summary: fmt.Sprintf("%s → %s", from, to), Class: transportClass(g.Transport),
					Detail: rd.pairTraces(m, from, to, port, g.Transport)})
			}
			p.Sections = append(p.Sections, s)
		}
		rd.page = p
	}
}

// pairTraces explains every connection from → to (on port, or any port
// when 0) over which t can flow (any transport when t is NoTransport): the
// matrix cells, or for the outside client the exposures.
func (rd *renderer) pairTraces(m *sim.Matrix, from, to sim.Node, port uint32, t sim.Transport) string {
	if m == nil {
		return "no trace: the report has no matrix"
	}
	var parts []string
	if from.Kind == sim.NodeOutside {
		for _, e := range m.Exposure(sim.Filter{To: to, Port: port}) {
			if e.Accepted && (t == sim.NoTransport || t == sim.Plaintext) {
				parts = append(parts, rd.explain(m, e.Probe, to, e.Port))
			}
		}
	} else {
		for c := range m.Cells(sim.Filter{From: from.Workload, To: to, Port: port}) {
			if t == sim.NoTransport || c.Transports.Has(t) {
				parts = append(parts, rd.explain(m, c.Probe(), c.To, c.Port))
			}
		}
	}
	if len(parts) == 0 {
		return "no connection in the matrix"
	}
	return strings.Join(parts, "\n")
}
