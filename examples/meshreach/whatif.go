package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

const diffUsage = `Usage: meshreach diff -f BEFORE... --after AFTER... [-o text|json|markdown]

Compares the reachability of two sets of manifests: every client workload to
every Service and ServiceEntry port, cell by cell. Lists each (client,
destination, port) whose default outcome, wire transport, or plaintext/mTLS
answers changed, classified (most severe first):

  broken      was allowed, now denied (or undecided)
  downgraded  allowed, on a weaker transport (mtls -> tls -> plaintext)
  opened      was denied, now allowed
  loosened    plaintext now reaches the endpoint from this client
  upgraded    allowed, on a stronger transport
  tightened   plaintext from this client no longer reaches it
  changed     something else: undecided <-> deny, or only the mTLS answer
  removed     the client, endpoint or port exists only before
  added       ... only after

A change counts once, under its most severe kind. Each comes with the trace
that explains it before and after.

Flags (before or after the arguments):
  -f, --filename PATH   the manifests before: a file, a directory or -; repeatable
  --after PATH          the manifests after; repeatable
  -o, --output FORMAT   text (default), json or markdown
  -h, --help            print this help

Exits 0 when nothing changed, 1 when something did, 2 on bad input.
`

const whatifUsage = `Usage: meshreach whatif -f BASE... PATCH.yaml [-o text|json|markdown]

Applies PATCH.yaml to the manifests and lists what changes, as meshreach diff
does, evaluating only what the patch can affect. PATCH.yaml is never read as
a manifest, even inside a directory given with -f.

A patch is multi-document YAML. Ordinary objects are added, replacing the
object with the same kind, namespace and name (a mesh ConfigMap replaces the
mesh configuration). A document of kind Delete removes objects:

  apiVersion: meshreach.io/v1
  kind: Delete
  objects:
  - kind: PeerAuthentication   # any modelled kind; Workload = any workload kind
    namespace: app
    name: default
  - kind: Namespace
    name: legacy

Flags (before or after the argument):
  -f, --filename PATH   the base manifests: a file, a directory or -; repeatable
  -o, --output FORMAT   text (default), json or markdown
  -h, --help            print this help

Exits 0 when nothing changed, 1 when something did, 2 on bad input.
`

// deltaFormat is -o for diff and whatif.
type deltaFormat string

func (f *deltaFormat) String() string { return string(*f) }

func (f *deltaFormat) Set(s string) error {
	switch s {
	case "text", "json", "markdown":
		*f = deltaFormat(s)
		return nil
	}
	return fmt.Errorf("invalid output format %q (want text, json or markdown)", s)
}

func newDeltaCommand(name, usage string) (*command, *deltaFormat) {
	c := newBareCommand(name, usage)
	f := deltaFormat("text")
	c.fs.Var(&f, "o", "")
	c.fs.Var(&f, "output", "")
	return c, &f
}

func runDiff(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, format := newDeltaCommand("diff", diffUsage)
	var after listFlag
	c.fs.Var(&after, "after", "")
	pos, code, done := c.parse(args, 0, "no arguments", stdout, stderr)
	if done {
		return code
	}
	if len(after) == 0 {
		return c.fail(stderr, "no manifests after: give --after PATH")
	}
	mb, errB := loadMesh(c.files, "", stdin, stderr)
	ma, errA := loadMesh(after, "", stdin, stderr)
	_ = pos
	if errB != nil || errA != nil {
		for _, err := range []error{errB, errA} {
			if err != nil {
				printErrors(stderr, err)
			}
		}
		return exitBadInput
	}
	d := sim.Diff(sim.New(mb).Matrix(), sim.New(ma).Matrix())
	return writeDelta(stdout, stderr, d, *format)
}

func runWhatIf(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, format := newDeltaCommand("whatif", whatifUsage)
	pos, code, done := c.parse(args, 1, "one PATCH.yaml", stdout, stderr)
	if done {
		return code
	}
	base, err := loadMesh(c.files, pos[0], stdin, stderr)
	if err != nil {
		printErrors(stderr, err)
		return exitBadInput
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		printErrors(stderr, mesh.ErrorList{{Pos: mesh.Pos{File: pos[0]}, Err: pathless(err)}})
		return exitBadInput
	}
	b := base.Edit()
	if err := b.ApplyPatch(pos[0], src); err != nil {
		printErrors(stderr, err)
		return exitBadInput
	}
	after, err := b.Build()
	if err != nil {
		printErrors(stderr, err)
		return exitBadInput
	}
	d := sim.WhatIf(sim.New(base).Matrix(), after)
	return writeDelta(stdout, stderr, d, *format)
}

// writeDelta prints d and returns 0 when it is empty, 1 otherwise (2 when
// writing fails).
func writeDelta(stdout, stderr io.Writer, d *sim.Delta, format deltaFormat) int {
	var err error
	switch format {
	case "json":
		var b []byte
		if b, err = json.MarshalIndent(deltaView(d), "", "  "); err == nil {
			_, err = stdout.Write(append(b, '\n'))
		}
	case "markdown":
		err = writeDeltaMarkdown(stdout, d)
	default:
		err = writeDeltaText(stdout, d)
	}
	if err != nil {
		fmt.Fprintf(stderr, "meshreach: %v\n", err)
		return exitBadInput
	}
	if d.Len() == 0 {
		return exitOK
	}
	return exitMismatch
}

// summaryLine renders "3 changes: 1 broken, 2 downgraded" or "no changes".
func summaryLine(d *sim.Delta) string {
	if d.Len() == 0 {
		return "no changes"
	}
	var parts []string
	for _, k := range sim.ChangeKinds {
		if n := d.Count(k); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	noun := "changes"
	if d.Len() == 1 {
		noun = "change"
	}
	return fmt.Sprintf("%d %s: %s", d.Len(), noun, strings.Join(parts, ", "))
}

// explain returns both sides' traces of c, or an error text in their
// place.
func explain(d *sim.Delta, c sim.Change) (before, after sim.Result, errText string) {
	before, after, err := d.Explain(c)
	if err != nil {
		return before, after, err.Error()
	}
	return before, after, ""
}

// writeDeltaText prints the summary, then each change with the steps of
// its before and after traces that the other trace lacks: where the two
// verdicts part.
func writeDeltaText(w io.Writer, d *sim.Delta) error {
	ew := &errWriter{w: w}
	fmt.Fprintln(ew, summaryLine(d))
	for c := range d.Changes() {
		fmt.Fprintf(ew, "\n%s %s -> %s:%d/%s (%s:%d): %s -> %s\n", strings.ToUpper(c.Kind.String()), c.From, c.Host, c.ViaPort, c.Proto,
			c.To, c.Port, sideText(c.Before), sideText(c.After))
		before, after, errText := explain(d, c)
		if errText != "" {
			fmt.Fprintf(ew, "  (no explanation: %s)\n", errText)
			continue
		}
		bs, as := stepLines(before), stepLines(after)
		for _, s := range []struct {
			title        string
			cell         sim.Cell
			steps, other []string
		}{{"before", c.Before, bs, as}, {"after", c.After, as, bs}} {
			if !s.cell.From.IsValid() {
				fmt.Fprintf(ew, "  %s: absent\n", s.title)
				continue
			}
			fmt.Fprintf(ew, "  %s: %s\n", s.title, sideText(s.cell))
			for _, l := range s.steps {
				if !slices.Contains(s.other, l) {
					fmt.Fprintf(ew, "    - %s\n", l)
				}
			}
		}
	}
	return ew.err
}

// stepLines renders a trace one step a line, as Verdict.Explain does.
func stepLines(r sim.Result) []string {
	out := make([]string, len(r.Steps))
	for i, st := range r.Steps {
		out[i] = stepWho(st) + ": " + st.String()
	}
	return out
}

// sideText renders one side of a change: the default outcome and what the
// endpoint accepts, or "absent".
func sideText(c sim.Cell) string {
	if !c.From.IsValid() {
		return "absent"
	}
	return fmt.Sprintf("%s (accepts %s)", c.Default, c.Accepts)
}

func stepWho(s sim.Step) string {
	who := s.Side.String()
	if s.Subject.IsValid() {
		who += " " + s.Subject.String()
	}
	return who
}

func writeDeltaMarkdown(w io.Writer, d *sim.Delta) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# What changes\n\n%s.\n", summaryLine(d))
	if d.Len() == 0 {
		return ew.err
	}
	fmt.Fprintln(ew, "\n| kind | client | destination | endpoint | before | after |\n| --- | --- | --- | --- | --- | --- |")
	for c := range d.Changes() {
		fmt.Fprintf(ew, "| %s | %s | %s:%d/%s | %s:%d | %s | %s |\n", c.Kind, mdCell(c.From.String()), mdCell(c.Host), c.ViaPort, c.Proto,
			mdCell(c.To.String()), c.Port, mdCell(sideText(c.Before)), mdCell(sideText(c.After)))
	}
	fmt.Fprintln(ew, "\n## Why")
	for c := range d.Changes() {
		fmt.Fprintf(ew, "\n### %s: %s → %s:%d (%s:%d)\n", c.Kind, mdCell(c.From.String()), mdCell(c.Host), c.ViaPort, mdCell(c.To.String()), c.Port)
		before, after, errText := explain(d, c)
		if errText != "" {
			fmt.Fprintf(ew, "\nNo explanation: %s\n", mdCell(errText))
			continue
		}
		for _, s := range []struct {
			title string
			cell  sim.Cell
			r     sim.Result
		}{{"Before", c.Before, before}, {"After", c.After, after}} {
			fmt.Fprintf(ew, "\n%s: **%s**\n\n", s.title, mdCell(sideText(s.cell)))
			for _, st := range s.r.Steps {
				fmt.Fprintf(ew, "1. %s: %s\n", stepWho(st), mdCell(st.String()))
			}
		}
	}
	return ew.err
}

// mdCell escapes text for a Markdown table cell or line.
func mdCell(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

type deltaJSON struct {
	Summary map[string]int `json:"summary"` // "changes" and one count per kind
	Changes []changeJSON   `json:"changes"`
}

type changeJSON struct {
	Kind     string   `json:"kind"`
	From     string   `json:"from"`
	To       string   `json:"to"` // ns/name, external:host
	Port     uint32   `json:"port"`
	Host     string   `json:"host"`
	ViaPort  uint32   `json:"viaPort"`
	Protocol string   `json:"protocol"`
	Before   sideJSON `json:"before"`
	After    sideJSON `json:"after"`
	// Error is set when the change's verdicts could not be explained.
	Error string `json:"error,omitempty"`
}

type sideJSON struct {
	Present    bool       `json:"present"`
	Outcome    string     `json:"outcome,omitempty"` // allow <transport>, deny, undecided
	Transports []string   `json:"transports,omitempty"`
	Accepts    []string   `json:"accepts,omitempty"`
	Via        *refJSON   `json:"via,omitempty"`
	Steps      []stepJSON `json:"steps,omitempty"`
}

func deltaView(d *sim.Delta) deltaJSON {
	out := deltaJSON{Summary: map[string]int{"changes": d.Len()}, Changes: []changeJSON{}}
	for _, k := range sim.ChangeKinds {
		out.Summary[k.String()] = d.Count(k)
	}
	for c := range d.Changes() {
		cj := changeJSON{Kind: c.Kind.String(), From: c.From.String(), To: c.To.String(), Port: c.Port, Host: c.Host,
			ViaPort: c.ViaPort, Protocol: c.Proto.String()}
		before, after, errText := explain(d, c)
		cj.Error = errText
		cj.Before = sideView(c.Before, before)
		cj.After = sideView(c.After, after)
		out.Changes = append(out.Changes, cj)
	}
	return out
}

func sideView(c sim.Cell, r sim.Result) sideJSON {
	if !c.From.IsValid() {
		return sideJSON{}
	}
	s := sideJSON{Present: true, Outcome: c.Default.String(), Via: refView(c.Via), Steps: resultView(r).Steps}
	for _, t := range c.Transports.Transports() {
		s.Transports = append(s.Transports, t.String())
	}
	for _, t := range c.Accepts.Transports() {
		s.Accepts = append(s.Accepts, t.String())
	}
	return s
}
