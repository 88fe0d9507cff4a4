package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// ExposureReport renders [sim.Matrix.Exposure]: workload ports and whether
// plaintext from a client outside the mesh gets in, and, in a second table
// shown whenever there is one, what the AuthorizationPolicies of those
// ports do to that plaintext ([sim.Exposure.Findings]).
type ExposureReport struct {
	Matrix    *sim.Matrix // for the traces of the HTML drill-down
	Filter    sim.Filter  // the filter the exposures were computed with, for the subtitle and JSON
	Exposures []sim.Exposure
}

// Kind returns "Exposure".
func (*ExposureReport) Kind() string { return "Exposure" }

type exposureDocJSON struct {
	header
	Filter    filterJSON     `json:"filter"`
	Exposures []exposureJSON `json:"exposures"`
}

type exposureJSON struct {
	Workload  string        `json:"workload"`
	Port      uint32        `json:"port"`
	Accepted  bool          `json:"accepted"`
	Undecided bool          `json:"undecided,omitempty"`
	Services  []refJSON     `json:"services"`
	Probe     probeJSON     `json:"probe"`
	Findings  []findingJSON `json:"findings"`
}

type findingJSON struct {
	Kind   string  `json:"kind"`
	Policy refJSON `json:"policy"`
	Rule   *int    `json:"rule,omitempty"` // absent: the policy as a whole
	Pos    string  `json:"pos,omitempty"`
	Detail string  `json:"detail"`
}

func findingsView(fs []sim.ExposureFinding) []findingJSON {
	out := []findingJSON{}
	for _, f := range fs {
		j := findingJSON{Kind: string(f.Kind), Policy: refJSON{Kind: f.Policy.Kind, Namespace: f.Policy.Namespace, Name: f.Policy.Name},
			Pos: f.Pos.String(), Detail: f.Detail}
		if f.Rule >= 0 {
			j.Rule = &f.Rule
		}
		out = append(out, j)
	}
	return out
}

// ruleText renders a finding's rule index, "-" for the policy as a whole.
func ruleText(f sim.ExposureFinding) string {
	if f.Rule < 0 {
		return "-"
	}
	return strconv.Itoa(f.Rule)
}

// findingNames renders the findings for the CSV column: "kind:ns/name:rule"
// (without ":rule" for the policy as a whole), space-separated.
func findingNames(fs []sim.ExposureFinding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = string(f.Kind) + ":" + f.Policy.Namespace + "/" + f.Policy.Name
		if f.Rule >= 0 {
			parts[i] += ":" + strconv.Itoa(f.Rule)
		}
	}
	return strings.Join(parts, " ")
}

func (r *ExposureReport) render(rd *renderer) error {
	accepted, findings := 0, 0
	for _, e := range r.Exposures {
		if e.Accepted {
			accepted++
		}
		findings += len(e.Findings)
	}
	rd.defTitle = "exposure to plaintext from outside the mesh"
	rd.subtitle = fmt.Sprintf("%d of %s accept plaintext from a client without a sidecar%s", accepted, count(len(r.Exposures), "workload port"), filterText(r.Filter))
	if findings > 0 {
		rd.subtitle += fmt.Sprintf("; %s on what AuthorizationPolicies do to that plaintext", count(findings, "finding"))
	}
	t := table{Title: "workload ports and plaintext from outside the mesh", Cols: []string{"WORKLOAD", "PORT", "PLAINTEXT", "SERVICES"}, Right: []bool{false, true}}
	ft := table{Title: "AuthorizationPolicies and that plaintext", Cols: []string{"WORKLOAD", "PORT", "FINDING", "POLICY", "RULE", "DETAIL"}, Right: []bool{false, true, false, false, true}}
	rd.csv = table{Cols: []string{"workload", "port", "accepted", "undecided", "services", "findings"}}
	doc := exposureDocJSON{header: newHeader(r), Filter: filterView(r.Filter), Exposures: []exposureJSON{}}
	for _, e := range r.Exposures {
		svcs := refNames(e.Services)
		t.add(e.Workload.String(), strconv.Itoa(int(e.Port)), acceptedText(e), strings.Join(svcs, ", "))
		for _, f := range e.Findings {
			ft.add(e.Workload.String(), strconv.Itoa(int(e.Port)), string(f.Kind), f.Policy.Namespace+"/"+f.Policy.Name, ruleText(f), f.Detail)
		}
		rd.csv.add(e.Workload.String(), strconv.Itoa(int(e.Port)), strconv.FormatBool(e.Accepted), strconv.FormatBool(e.Undecided), strings.Join(svcs, " "),
			findingNames(e.Findings))
		doc.Exposures = append(doc.Exposures, exposureJSON{Workload: e.Workload.String(), Port: e.Port, Accepted: e.Accepted, Undecided: e.Undecided,
			Services: refsView(e.Services), Probe: probeView(e.Probe), Findings: findingsView(e.Findings)})
	}
	rd.tables = []table{t}
	if len(ft.Rows) > 0 {
		rd.tables = append(rd.tables, ft)
	}
	if len(r.Exposures) == 0 {
		rd.footer = []string{"none"}
	}
	rd.json = doc

	rd.dot = func() ([]byte, error) {
		var d dotGraph
		out := sim.OutsideNode()
		d.node(out)
		// One edge per workload, with its accepted ports; workloads none
		// of whose ports accepts are denied edges.
		for i := 0; i < len(r.Exposures); {
			w := r.Exposures[i].Workload
			e := sim.Edge{From: out, To: sim.WorkloadNode(w)}
			for ; i < len(r.Exposures) && r.Exposures[i].Workload == w; i++ {
				x := r.Exposures[i]
				if x.Accepted {
					e.Ports = append(e.Ports, sim.PortEdge{Port: x.Port, Transports: sim.TransportSetOf(sim.Plaintext),
						Default: sim.Outcome{Allowed: true, Transport: sim.Plaintext}, Probe: x.Probe})
				}
			}
			if len(e.Ports) > 0 {
				d.edge(e, sim.Plaintext)
			} else {
				d.deny(out, e.To)
			}
		}
		return d.render("exposure", rd.opt.Denied)
	}

	if rd.opt.Format == HTML {
		p := page{Legend: true, Tables: rd.tables}
		s := section{ID: "exposures", Title: "plaintext from outside the mesh, port by port"}
		for _, e := range r.Exposures {
			class := "deny"
			switch {
			case e.Accepted:
				class = "plaintext"
			case e.Undecided:
				class = "undecided"
			}
			summary := fmt.Sprintf("outside → %s:%d: %s", e.Workload, e.Port, acceptedText(e))
			detail := rd.explain(r.Matrix, e.Probe, sim.WorkloadNode(e.Workload), e.Port)
			if len(e.Findings) > 0 {
				summary += " (" + count(len(e.Findings), "finding") + ")"
				var b strings.Builder
				for _, f := range e.Findings {
					fmt.Fprintf(&b, "%s: %s/%s", f.Kind, f.Policy.Namespace, f.Policy.Name)
					if f.Rule >= 0 {
						fmt.Fprintf(&b, " rule %d", f.Rule)
					}
					if p := f.Pos.String(); p != "" {
						b.WriteString(" (" + p + ")")
					}
					b.WriteString("\n  " + f.Detail + "\n")
				}
				detail = b.String() + "\n" + detail
			}
			s.Items = append(s.Items, item{Summary: summary, Class: class, Detail: detail})
		}
		if len(s.Items) > 0 {
			p.Sections = []section{s}
		}
		rd.page = p
	}
	return nil
}

func acceptedText(e sim.Exposure) string {
	switch {
	case e.Accepted:
		return "accepted"
	case e.Undecided:
		return "undecided"
	}
	return "refused"
}

// refNames renders refs as "ns/name" (the kind is the same for all of a
// list: Services).
func refNames(rs []mesh.Ref) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Namespace + "/" + r.Name
	}
	return out
}
