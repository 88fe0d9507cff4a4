package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// GroupsReport renders [sim.Matrix.Components]: the groups of workloads
// that can all reach each other.
type GroupsReport struct {
	Matrix    *sim.Matrix   // for the edges of DOT and the HTML drill-down
	Transport sim.Transport // the transport the groups were computed over; NoTransport: any
	Groups    [][]mesh.WorkloadID
}

// Kind returns "Groups".
func (*GroupsReport) Kind() string { return "Groups" }

type groupsJSON struct {
	header
	Transport string      `json:"transport"` // "any" or the transport every edge can carry
	Groups    []groupJSON `json:"groups"`
}

type groupJSON struct {
	Members []string `json:"members"`
}

func (r *GroupsReport) render(rd *renderer) error {
	over := "any transport"
	transport := "any"
	if r.Transport != sim.NoTransport {
		over = r.Transport.String() + " only"
		transport = r.Transport.String()
	}
	rd.defTitle = "strongly connected groups"
	rd.subtitle = count(len(r.Groups), "group") + " of workloads that can all reach each other over " + over
	t := table{Title: "groups that can all reach each other over " + over, Cols: []string{"GROUP", "SIZE", "WORKLOAD"}, Right: []bool{true, true}}
	rd.csv = table{Cols: []string{"group", "workload"}}
	doc := groupsJSON{header: newHeader(r), Transport: transport, Groups: []groupJSON{}}
	for i, g := range r.Groups {
		for _, w := range g {
			t.add(strconv.Itoa(i+1), strconv.Itoa(len(g)), w.String())
			rd.csv.add(strconv.Itoa(i+1), w.String())
		}
		doc.Groups = append(doc.Groups, groupJSON{Members: ids(g)})
	}
	rd.tables = []table{t}
	if len(r.Groups) == 0 {
		rd.footer = []string{"none"}
	}
	rd.json = doc

	// edges returns the edges between members of group g that the
	// groups' transport can flow over.
	edges := func(g []mesh.WorkloadID) []sim.Edge {
		if r.Matrix == nil {
			return nil
		}
		in := map[mesh.WorkloadID]bool{}
		for _, w := range g {
			in[w] = true
		}
		var out []sim.Edge
		for _, w := range g {
			from := sim.WorkloadNode(w)
			gr := r.Matrix.Graph(sim.Filter{From: w})
			for _, to := range gr.Successors(from) {
				if to.Kind != sim.NodeWorkload || !in[to.Workload] {
					continue
				}
				e, _ := gr.Edge(from, to)
				if r.Transport == sim.NoTransport || e.Transports().Has(r.Transport) {
					out = append(out, e)
				}
			}
		}
		return out
	}

	rd.dot = func() ([]byte, error) {
		var d dotGraph
		for _, g := range r.Groups {
			for _, w := range g {
				d.node(sim.WorkloadNode(w))
			}
			for _, e := range edges(g) {
				d.edge(e, r.Transport)
			}
		}
		return d.render("groups", rd.opt.Denied)
	}

	if rd.opt.Format == HTML {
		p := page{Legend: true, Tables: []table{t}}
		for i, g := range r.Groups {
			s := section{ID: fmt.Sprintf("group-%d", i+1), Title: fmt.Sprintf("group %d: %s", i+1, strings.Join(ids(g), ", ")),
				Note: "The connections inside the group, port by port."}
			for _, e := range edges(g) {
				for _, pe := range e.Ports {
					s.Items = append(s.Items, item{Summary: fmt.Sprintf("%s → %s: %s", e.From, e.To, portText(pe)),
						Class: outcomeClass(pe.Default), Detail: rd.explain(r.Matrix, pe.Probe, e.To, pe.Port)})
				}
			}
			p.Sections = append(p.Sections, s)
		}
		rd.page = p
	}
	return nil
}
