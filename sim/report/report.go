package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// SchemaVersion is the version of the JSON documents [Write] produces. It
// changes only when a field is removed or changes meaning; new fields may
// appear within a version.
const SchemaVersion = 1

// Report is the result of one whole-mesh query, ready to render: a
// [*MatrixReport], [*WhoCanReachReport], [*ReachableFromReport],
// [*PathsReport], [*ExposureReport] or [*GroupsReport]. The interface is
// sealed.
type Report interface {
	// Kind is the "kind" of the JSON document: "Matrix", "WhoCanReach",
	// "ReachableFrom", "Paths", "Exposure" or "Groups".
	Kind() string
	render(*renderer) error
}

// Options tunes [Write]. The zero value writes aligned text.
type Options struct {
	Format Format
	// Denied draws, in DOT, the client and destination pairs between which
	// nothing can flow, as grey dotted edges; without it they are left out.
	// It changes no other format.
	Denied bool
	// Title replaces the default title of Markdown and HTML output.
	Title string
}

// Write renders r in opt.Format to w. The output depends only on r and opt:
// the same report written twice gives the same bytes. An error is a write
// error or a report that cannot be rendered in that format.
func Write(w io.Writer, r Report, opt Options) error {
	if r == nil {
		return fmt.Errorf("report: nil report")
	}
	rd := &renderer{opt: opt, verdicts: map[string]verdictOrErr{}}
	if err := r.render(rd); err != nil {
		return err
	}
	ew := &errWriter{w: w}
	switch opt.Format {
	case Text:
		for i, t := range rd.tables {
			if i > 0 {
				ew.printf("\n")
			}
			t.writeText(ew)
		}
		for _, l := range rd.footer {
			ew.printf("%s\n", l)
		}
	case Markdown:
		ew.printf("# %s\n\n", rd.title())
		if rd.subtitle != "" {
			ew.printf("%s\n\n", mdEscape(rd.subtitle))
		}
		for i, t := range rd.tables {
			if i > 0 {
				ew.printf("\n")
			}
			t.writeMarkdown(ew)
		}
		for _, l := range rd.footer {
			ew.printf("\n%s\n", mdEscape(l))
		}
	case CSV:
		if ew.err == nil {
			ew.err = rd.csv.writeCSV(w)
		}
	case JSON:
		b, err := marshalJSON(rd.json)
		if err != nil {
			return err
		}
		ew.write(b)
	case DOT:
		if rd.dot == nil {
			return fmt.Errorf("report: %s has no DOT rendering", r.Kind())
		}
		b, err := rd.dot()
		if err != nil {
			return err
		}
		ew.write(b)
	case HTML:
		p := rd.page
		p.Title, p.Subtitle = rd.title(), rd.subtitle
		if ew.err == nil {
			ew.err = writeHTML(w, p)
		}
	default:
		return fmt.Errorf("report: unknown format %v", opt.Format)
	}
	return ew.err
}

// renderer collects what a report renders to; each format reads its part.
type renderer struct {
	opt      Options
	defTitle string
	subtitle string
	tables   []table  // text and Markdown
	footer   []string // text and Markdown: lines after the tables
	csv      table
	json     any
	dot      func() ([]byte, error)
	page     page // HTML, without its title

	verdicts map[string]verdictOrErr // by Probe.String, which renders every field
}

type verdictOrErr struct {
	v   sim.Verdict
	err error
}

func (r *renderer) title() string {
	if r.opt.Title != "" {
		return r.opt.Title
	}
	return r.defTitle
}

// probe runs p through m once per Write and remembers the answer.
func (r *renderer) probe(m *sim.Matrix, p sim.Probe) (sim.Verdict, error) {
	key := p.String()
	if ve, ok := r.verdicts[key]; ok {
		return ve.v, ve.err
	}
	v, err := m.Probe(p)
	r.verdicts[key] = verdictOrErr{v, err}
	return v, err
}

// explain returns the trace of probe p as it lands on node to at container
// port port: the matching endpoint's three results when the verdict has
// one, else the verdict's own.
func (r *renderer) explain(m *sim.Matrix, p sim.Probe, to sim.Node, port uint32) string {
	if m == nil {
		return "no trace: the report has no matrix"
	}
	v, err := r.probe(m, p)
	if err != nil {
		return "no trace: " + err.Error()
	}
	if to.Kind == sim.NodeWorkload && len(v.Endpoints) > 0 {
		for _, ep := range v.Endpoints {
			if ep.Workload == to.Workload && (port == 0 || ep.TargetPort == port) {
				one := sim.Verdict{Probe: v.Probe, Service: v.Service, Default: ep.Default, Plaintext: ep.Plaintext, MTLS: ep.MTLS}
				head := fmt.Sprintf("endpoint %s, container port %d", ep.Workload, ep.TargetPort)
				if !v.Service.IsZero() {
					head = fmt.Sprintf("through %s, %s", v.Service, head)
				}
				return head + "\n" + one.Explain()
			}
		}
	}
	return v.Explain()
}

// marshalJSON is indented JSON with a final newline, HTML characters left
// as they are (the output is not embedded in HTML).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ids renders workload IDs as strings.
func ids(ws []mesh.WorkloadID) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}

// nodeNames renders nodes as strings (Node.String).
func nodeNames(ns []sim.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.String()
	}
	return out
}

// count renders "1 path", "2 paths", "3 entries".
func count(n int, noun string) string {
	switch {
	case n == 1:
	case strings.HasSuffix(noun, "y"):
		noun = strings.TrimSuffix(noun, "y") + "ies"
	default:
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}
