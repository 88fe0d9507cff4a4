package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/sim"
)

// MatrixReport renders the reachability matrix: every cell Filter selects,
// with its default outcome and what could flow, and the count per
// namespace pair ([sim.Matrix.Summary]).
type MatrixReport struct {
	Matrix *sim.Matrix
	Filter sim.Filter
}

// Kind returns "Matrix".
func (*MatrixReport) Kind() string { return "Matrix" }

type matrixJSON struct {
	header
	Filter  filterJSON    `json:"filter"`
	Stats   statsJSON     `json:"stats"`
	Cells   []cellJSON    `json:"cells"`
	Summary []summaryJSON `json:"summary"`
	Errors  []string      `json:"errors"`
}

type statsJSON struct {
	Workloads    int `json:"workloads"`
	Classes      int `json:"classes"`
	Destinations int `json:"destinations"`
	Evaluations  int `json:"evaluations"`
	Cells        int `json:"cells"`
}

type cellJSON struct {
	From       string      `json:"from"`
	To         string      `json:"to"`
	Port       uint32      `json:"port"`
	Via        *refJSON    `json:"via,omitempty"`
	Host       string      `json:"host"`
	ViaPort    uint32      `json:"viaPort"`
	Protocol   string      `json:"protocol"`
	Default    outcomeJSON `json:"default"`
	Transports []string    `json:"transports"`
}

type summaryJSON struct {
	From             string `json:"from"`
	To               string `json:"to"`
	AllowedMTLS      int    `json:"allowedMtls"`
	AllowedPlaintext int    `json:"allowedPlaintext"`
	AllowedTLS       int    `json:"allowedTls"`
	Denied           int    `json:"denied"`
	Undecided        int    `json:"undecided"`
}

// externalColumn is the heat-map column of external hosts; "~" keeps it
// apart from namespace names.
const externalColumn = "~external"

func (r *MatrixReport) render(rd *renderer) error {
	m := r.Matrix
	if m == nil {
		return fmt.Errorf("report: MatrixReport without a Matrix")
	}
	var cells []sim.Cell
	for c := range m.Cells(r.Filter) {
		cells = append(cells, c)
	}
	summary := m.Summary(r.Filter)
	suffix := ".svc." + m.Simulator().Mesh().Config().DomainSuffix
	via := func(c sim.Cell) string {
		return fmt.Sprintf("%s:%d/%s", strings.TrimSuffix(c.Host, suffix), c.ViaPort, c.Proto)
	}

	rd.defTitle = "meshreach matrix"
	rd.subtitle = count(len(cells), "connection") + " (client workload × destination workload × port)" + filterText(r.Filter)

	sumTable := summaryTable(summary)
	// A matrix can be large: build only the view the format reads.
	switch rd.opt.Format {
	case Text, Markdown:
		cellTable := table{Title: "matrix", Cols: []string{"FROM", "TO", "PORT", "VIA", "DEFAULT", "CAN FLOW"}, Right: []bool{false, false, true}}
		for _, c := range cells {
			cellTable.add(c.From.String(), c.To.String(), strconv.Itoa(int(c.Port)), via(c), c.Default.String(), c.Transports.String())
		}
		rd.tables = []table{cellTable, sumTable}
		for _, err := range m.Errors() {
			rd.footer = append(rd.footer, "error: "+err.Error())
		}
	case CSV:
		rd.csv = table{Cols: []string{"from", "to", "port", "via_kind", "via_namespace", "via_name", "host", "via_port", "protocol",
			"allowed", "undecided", "transport", "can_flow"}}
		for _, c := range cells {
			rd.csv.add(c.From.String(), c.To.String(), strconv.Itoa(int(c.Port)), c.Via.Kind, c.Via.Namespace, c.Via.Name,
				c.Host, strconv.Itoa(int(c.ViaPort)), c.Proto.String(), strconv.FormatBool(c.Default.Allowed),
				strconv.FormatBool(c.Default.Undecided), c.Default.Transport.String(), c.Transports.String())
		}
	case JSON:
		rd.json = matrixDoc(r, cells, summary)
	case HTML:
		rd.page = matrixPage(rd, m, cells, sumTable, via)
	}

	rd.dot = func() ([]byte, error) {
		var d dotGraph
		g := m.Graph(r.Filter)
		for _, n := range g.Nodes() {
			d.node(n)
		}
		for _, n := range g.Nodes() {
			for _, s := range g.Successors(n) {
				e, _ := g.Edge(n, s)
				d.edge(e, sim.NoTransport)
			}
		}
		if rd.opt.Denied {
			for _, c := range cells {
				if c.Transports == 0 {
					d.deny(sim.WorkloadNode(c.From), c.To)
				}
			}
		}
		return d.render("matrix", rd.opt.Denied)
	}
	return nil
}

// matrixDoc is the JSON document of a matrix report.
func matrixDoc(r *MatrixReport, cells []sim.Cell, summary []sim.Summary) matrixJSON {
	st := r.Matrix.Stats()
	doc := matrixJSON{header: newHeader(r), Filter: filterView(r.Filter),
		Stats: statsJSON{Workloads: st.Workloads, Classes: st.Classes, Destinations: st.Destinations, Evaluations: st.Evaluations, Cells: st.Cells},
		Cells: []cellJSON{}, Summary: []summaryJSON{}, Errors: []string{}}
	for _, c := range cells {
		doc.Cells = append(doc.Cells, cellJSON{From: c.From.String(), To: c.To.String(), Port: c.Port, Via: refView(c.Via),
			Host: c.Host, ViaPort: c.ViaPort, Protocol: c.Proto.String(), Default: outcomeView(c.Default), Transports: transportsView(c.Transports)})
	}
	for _, s := range summary {
		doc.Summary = append(doc.Summary, summaryJSON{From: s.From, To: s.To, AllowedMTLS: s.AllowedMTLS,
			AllowedPlaintext: s.AllowedPlaintext, AllowedTLS: s.AllowedTLS, Denied: s.Denied, Undecided: s.Undecided})
	}
	for _, err := range r.Matrix.Errors() {
		doc.Errors = append(doc.Errors, err.Error())
	}
	return doc
}

// summaryTable is the per-namespace-pair count table.
func summaryTable(summary []sim.Summary) table {
	t := table{Title: "summary by namespace pair", Cols: []string{"FROM", "TO", "MTLS", "TLS", "PLAINTEXT", "DENIED", "UNDECIDED", "TOTAL"},
		Right: []bool{false, false, true, true, true, true, true, true}}
	for _, s := range summary {
		t.add(s.From, s.To, strconv.Itoa(s.AllowedMTLS), strconv.Itoa(s.AllowedTLS), strconv.Itoa(s.AllowedPlaintext),
			strconv.Itoa(s.Denied), strconv.Itoa(s.Undecided), strconv.Itoa(s.AllowedMTLS+s.AllowedTLS+s.AllowedPlaintext+s.Denied+s.Undecided))
	}
	return t
}

// matrixPage builds the heat map of namespace pairs and, per pair, the
// drill-down of every cell with its trace.
func matrixPage(rd *renderer, m *sim.Matrix, cells []sim.Cell, sum table, via func(sim.Cell) string) page {
	column := func(c sim.Cell) string {
		if ns := c.To.Namespace(); ns != "" {
			return ns
		}
		return externalColumn
	}
	type pair struct{ from, to string }
	byPair := map[pair][]sim.Cell{}
	nsSet := map[string]bool{}
	external := false
	for _, c := range cells {
		p := pair{c.From.Namespace, column(c)}
		byPair[p] = append(byPair[p], c)
		nsSet[c.From.Namespace] = true
		if p.to == externalColumn {
			external = true
		} else {
			nsSet[p.to] = true
		}
	}
	var nss []string
	for ns := range nsSet {
		nss = append(nss, ns)
	}
	slices.Sort(nss)
	cols := slices.Clone(nss)
	if external {
		cols = append(cols, externalColumn)
	}
	colName := func(c string) string {
		if c == externalColumn {
			return "external hosts"
		}
		return c
	}

	p := page{Legend: true, Heat: &heatMap{}, Tables: []table{sum}}
	for _, c := range cols {
		p.Heat.Namespaces = append(p.Heat.Namespaces, colName(c))
	}
	for _, from := range nss {
		row := heatRow{Namespace: from}
		for _, to := range cols {
			pc := byPair[pair{from, to}]
			hc := heatCell{Total: len(pc)}
			for _, c := range pc {
				switch {
				case c.Default.Undecided:
					hc.Undecided++
				case !c.Default.Allowed:
					hc.Denied++
				case c.Default.Transport == sim.MTLS:
					hc.MTLS++
				case c.Default.Transport == sim.TLS:
					hc.TLS++
				default:
					hc.Plain++
				}
			}
			hc.Style = heatStyle(hc)
			hc.Title = fmt.Sprintf("%s → %s: %d connections", from, colName(to), hc.Total)
			if len(pc) > 0 {
				hc.ID = "pair-" + from + "--" + to
				s := section{ID: hc.ID, Title: fmt.Sprintf("%s → %s", from, colName(to)),
					Note: count(hc.Total, "connection") + " as configured: " + hc.Counts() + ". Open one for the trace that decided it."}
				for _, c := range pc {
					s.Items = append(s.Items, item{
						Summary: fmt.Sprintf("%s → %s:%d via %s: %s (can flow: %s)", c.From, c.To, c.Port, via(c), c.Default, c.Transports),
						Class:   outcomeClass(c.Default),
						Detail:  rd.explain(m, c.Probe(), c.To, c.Port),
					})
				}
				p.Sections = append(p.Sections, s)
			}
			row.Cells = append(row.Cells, hc)
		}
		p.Heat.Rows = append(p.Heat.Rows, row)
	}
	return p
}

// outcomeClass is the CSS class of an outcome's colour.
func outcomeClass(o sim.Outcome) string {
	switch {
	case o.Undecided:
		return "undecided"
	case !o.Allowed:
		return "deny"
	}
	return transportClass(o.Transport)
}

func transportClass(t sim.Transport) string {
	switch t {
	case sim.MTLS:
		return "mtls"
	case sim.TLS:
		return "tls"
	case sim.Plaintext:
		return "plaintext"
	case sim.NoTransport:
		return "deny"
	}
	return "other"
}

// filterText describes a filter for subtitles: "" for the zero filter.
func filterText(f sim.Filter) string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+" "+v) }
	if f.FromNamespace != "" {
		add("from namespace", f.FromNamespace)
	}
	if f.From.IsValid() {
		add("from", f.From.String())
	}
	if f.ToNamespace != "" {
		add("to namespace", f.ToNamespace)
	}
	if f.To != (sim.Node{}) {
		add("to", f.To.String())
	}
	if f.Port != 0 {
		add("port", strconv.Itoa(int(f.Port)))
	}
	if f.Transport != sim.NoTransport {
		add("transport", f.Transport.String())
	}
	switch f.Status {
	case sim.StatusAllowed:
		parts = append(parts, "allowed only")
	case sim.StatusDenied:
		parts = append(parts, "denied only")
	case sim.StatusUndecided:
		parts = append(parts, "undecided only")
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}
