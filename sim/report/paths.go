package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/sim"
)

// PathsReport renders [sim.Matrix.Paths]: the ways From reaches To through
// intermediate workloads, hop by hop.
type PathsReport struct {
	Matrix  *sim.Matrix // for the traces of the HTML drill-down
	From    sim.Node
	To      sim.Node
	Options sim.PathOptions
	Paths   []sim.Path
}

// Kind returns "Paths".
func (*PathsReport) Kind() string { return "Paths" }

type pathsJSON struct {
	header
	From      string     `json:"from"`
	To        string     `json:"to"`
	Transport string     `json:"transport"` // "any" or the transport every hop can carry
	MaxHops   int        `json:"maxHops"`   // 0: no bound
	Paths     []pathJSON `json:"paths"`
}

type pathJSON struct {
	Nodes []string   `json:"nodes"`
	Hops  []edgeJSON `json:"hops"`
}

func (r *PathsReport) render(rd *renderer) error {
	over := "any transport"
	transport := "any"
	if t := r.Options.Transport; t != sim.NoTransport {
		over = t.String() + " only"
		transport = t.String()
	}
	bound := ""
	if r.Options.MaxHops > 0 {
		bound = fmt.Sprintf(", at most %d hops", r.Options.MaxHops)
	}
	rd.defTitle = fmt.Sprintf("paths from %s to %s", r.From, r.To)
	rd.subtitle = count(len(r.Paths), "path") + " over " + over + bound + ", fewest hops first"

	t := table{Title: fmt.Sprintf("paths from %s to %s over %s%s", r.From, r.To, over, bound),
		Cols: []string{"PATH", "HOP", "FROM", "TO", "PORT", "AS CONFIGURED", "CAN FLOW"}, Right: []bool{true, true, false, false, true}}
	rd.csv = table{Cols: []string{"path", "hop", "from", "to", "port", "allowed", "transport", "can_flow"}}
	doc := pathsJSON{header: newHeader(r), From: r.From.String(), To: r.To.String(), Transport: transport,
		MaxHops: r.Options.MaxHops, Paths: []pathJSON{}}
	for i, p := range r.Paths {
		pj := pathJSON{Nodes: nodeNames(p.Nodes()), Hops: []edgeJSON{}}
		for j, h := range p.Hops {
			pj.Hops = append(pj.Hops, edgeView(h))
			for _, pe := range h.Ports {
				t.add(strconv.Itoa(i+1), strconv.Itoa(j+1), h.From.String(), h.To.String(), strconv.Itoa(int(pe.Port)),
					pe.Default.String(), pe.Transports.String())
				rd.csv.add(strconv.Itoa(i+1), strconv.Itoa(j+1), h.From.String(), h.To.String(), strconv.Itoa(int(pe.Port)),
					strconv.FormatBool(pe.Default.Allowed), pe.Default.Transport.String(), pe.Transports.String())
			}
		}
		doc.Paths = append(doc.Paths, pj)
	}
	rd.tables = []table{t}
	if len(r.Paths) == 0 {
		rd.footer = []string{"no path"}
	}
	rd.json = doc

	rd.dot = func() ([]byte, error) {
		var d dotGraph
		d.node(r.From)
		for _, p := range r.Paths {
			for _, h := range p.Hops {
				d.edge(h, r.Options.Transport)
			}
		}
		d.node(r.To)
		return d.render("paths", rd.opt.Denied)
	}

	if rd.opt.Format == HTML {
		p := page{Legend: true, Tables: []table{t}}
		for i, path := range r.Paths {
			s := section{ID: fmt.Sprintf("path-%d", i+1), Title: fmt.Sprintf("path %d: %s", i+1, strings.Join(nodeNames(path.Nodes()), " → "))}
			for _, h := range path.Hops {
				for _, pe := range h.Ports {
					s.Items = append(s.Items, item{Summary: fmt.Sprintf("%s → %s: %s", h.From, h.To, portText(pe)),
						Class: outcomeClass(pe.Default), Detail: rd.explain(r.Matrix, pe.Probe, h.To, pe.Port)})
				}
			}
			p.Sections = append(p.Sections, s)
		}
		rd.page = p
	}
	return nil
}
