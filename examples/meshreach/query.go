package main

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/report"
)

// The whole-mesh commands: each loads the manifests, computes the
// reachability matrix once, runs one query and renders it with
// sim/report in the format -o names.

// queryFlags describes the flags every query command has, for usage texts.
const queryFlags = `  -f, --filename PATH   a manifest file, a directory (read recursively for
                        *.yaml, *.yml and *.json, leaving out files named
                        expect.yaml) or - for standard input; repeatable
  -o, --output FORMAT   text (default), json, dot, markdown (md), csv or html
      --denied          with -o dot: also draw the pairs between which nothing
                        can flow, as dotted grey edges
  -h, --help            print this help
`

// nodeHelp describes how nodes are written on the command line.
const nodeHelp = `A node is a workload as namespace/name, "outside" for a client outside the
mesh (no sidecar, plaintext, no mesh identity), or external:HOST for a
ServiceEntry host without workload endpoints.
`

const matrixUsage = `Usage: meshreach matrix -f PATH... [filters] [-o FORMAT]

Every client workload's connection to every Service and ServiceEntry port,
one row per destination workload and container port: the outcome as
configured and what the client can make flow (plaintext too when it has no
sidecar and the server accepts it), then the count per namespace pair.

Flags (before or after the arguments):
` + queryFlags + `      --namespace NS    only clients in namespace NS
      --to-namespace NS only destinations in namespace NS
      --workload W      only the client workload W (namespace/name)
      --to NODE         only the destination NODE
      --port N          only destination container port N
      --transport T     only connections that travel as T as configured:
                        plaintext, mtls or tls
      --status S        only allowed, denied or undecided connections
                        (undecided: the outcome depends on what meshreach
                        does not model, such as ext_authz or JWT)

` + nodeHelp + `
-o html writes one self-contained page: a heat map of namespace pairs, each
cell opening onto its connections and the trace that decided each.
Exits 0, or 2 on bad input.
`

const whoUsage = `Usage: meshreach who-can-reach -f PATH... DEST[:PORT] [-o FORMAT]

The clients that can reach DEST (on container port PORT, or any port),
grouped by the transport that can flow: plaintext, mtls, tls. A client is
listed under every transport that gets through. "outside" is listed under
plaintext when DEST accepts plaintext from outside the mesh.

Flags (before or after the arguments):
` + queryFlags + `      --namespace NS    only clients in namespace NS
      --transport T     only the plaintext, mtls or tls group

` + nodeHelp + `Exits 0, or 2 on bad input.
`

const fromUsage = `Usage: meshreach reachable-from -f PATH... SRC [-o FORMAT]

The nodes SRC can reach, grouped by the transport that can flow. SRC is a
workload or "outside".

Flags (before or after the arguments):
` + queryFlags + `      --namespace NS    only destinations in namespace NS
      --transport T     only the plaintext, mtls or tls group

` + nodeHelp + `Exits 0, or 2 on bad input.
`

const pathsUsage = `Usage: meshreach paths -f PATH... SRC DST [--plaintext-only|--mtls-only] [--max-hops N] [-o FORMAT]

How a compromised SRC moves to DST through what each workload on the way can
reach: simple paths, fewest hops first, each hop with its ports.

Flags (before or after the arguments):
` + queryFlags + `      --plaintext-only  only hops over which plaintext can flow
      --mtls-only       only hops over which Istio mTLS can flow
      --max-hops N      at most N hops (default: no bound)
      --limit K         at most K paths (default 1)

` + nodeHelp + `Exits 0 (also when there is no path), or 2 on bad input.
`

const exposureUsage = `Usage: meshreach exposure -f PATH... [filters] [-o FORMAT]

The workload ports that accept plaintext from a client outside the mesh (a
pod without a sidecar, with no mesh identity): what a STRICT rollout closes.
Each port also lists what its AuthorizationPolicies do to that plaintext: an
ALLOW rule that needs a peer identity never admits it, a DENY rule that needs
one never stops it (ISTIO-SECURITY-2021-003), and a policy on a pod or port
without a sidecar is not enforced. Findings on ports that refuse plaintext
show with --all.

Flags (before or after the arguments):
` + queryFlags + `      --namespace NS    only workloads in namespace NS
      --workload W      only workload W (namespace/name)
      --port N          only container port N
      --all             also list the ports that refuse it, or whose answer is
                        undecided

Exits 0, or 2 on bad input.
`

const groupsUsage = `Usage: meshreach groups -f PATH... [--transport T] [-o FORMAT]

Strongly connected groups: sets of two workloads or more that can all reach
each other, directly or through other members.

Flags (before or after the arguments):
` + queryFlags + `      --transport T     only edges over which T can flow: plaintext, mtls or tls
      --namespace NS    only groups with a member in namespace NS

Exits 0, or 2 on bad input.
`

// queryCommand is a command rendering a whole-mesh query.
type queryCommand struct {
	*command
	format formatFlag
	denied bool
}

func newQueryCommand(name, usage string) *queryCommand {
	c := &queryCommand{command: newBareCommand(name, usage)}
	c.fs.Var(&c.format, "o", "")
	c.fs.Var(&c.format, "output", "")
	c.fs.BoolVar(&c.denied, "denied", false, "")
	return c
}

// start parses the arguments (n positional, named by names), loads the
// mesh and computes its matrix. done=true means stop with code.
func (c *queryCommand) start(args []string, n int, names string, stdin io.Reader, stdout, stderr io.Writer) (pos []string, m *sim.Matrix, code int, done bool) {
	pos, code, done = c.parse(args, n, names, stdout, stderr)
	if done {
		return nil, nil, code, true
	}
	msh, err := loadMesh(c.files, "", stdin, stderr)
	if err != nil {
		printErrors(stderr, err)
		return nil, nil, exitBadInput, true
	}
	m = sim.New(msh).Matrix()
	for _, err := range m.Errors() {
		fmt.Fprintf(stderr, "meshreach %s: %v\n", c.name, err)
	}
	return pos, m, 0, false
}

// write renders r to stdout.
func (c *queryCommand) write(stdout, stderr io.Writer, r report.Report) int {
	if err := report.Write(stdout, r, report.Options{Format: report.Format(c.format), Denied: c.denied}); err != nil {
		fmt.Fprintf(stderr, "meshreach %s: %v\n", c.name, err)
		return exitBadInput
	}
	return exitOK
}

// formatFlag is -o of the query commands: any report format.
type formatFlag report.Format

func (f *formatFlag) String() string { return report.Format(*f).String() }

func (f *formatFlag) Set(s string) error {
	v, err := report.ParseFormat(s)
	if err != nil {
		return err
	}
	*f = formatFlag(v)
	return nil
}

// filterFlags are the selection flags; each command defines the ones that
// apply to it.
type filterFlags struct {
	namespace, toNamespace, workload, to, transport, status string
	port                                                    uint
}

func (c *queryCommand) filterFlags(names ...string) *filterFlags {
	f := &filterFlags{}
	for _, n := range names {
		switch n {
		case "namespace":
			c.fs.StringVar(&f.namespace, n, "", "")
		case "to-namespace":
			c.fs.StringVar(&f.toNamespace, n, "", "")
		case "workload":
			c.fs.StringVar(&f.workload, n, "", "")
		case "to":
			c.fs.StringVar(&f.to, n, "", "")
		case "port":
			c.fs.UintVar(&f.port, n, 0, "")
		case "transport":
			c.fs.StringVar(&f.transport, n, "", "")
		case "status":
			c.fs.StringVar(&f.status, n, "", "")
		}
	}
	return f
}

// filter checks the flags against the mesh and builds the sim.Filter they
// describe: namespace and workload select the client, to-namespace and to
// the destination.
func (f *filterFlags) filter(msh *mesh.Mesh) (sim.Filter, error) {
	var out sim.Filter
	var err error
	if out.FromNamespace, err = checkNamespace(msh, "--namespace", f.namespace); err != nil {
		return out, err
	}
	if out.ToNamespace, err = checkNamespace(msh, "--to-namespace", f.toNamespace); err != nil {
		return out, err
	}
	if f.workload != "" {
		if out.From, err = parseWorkload(msh, f.workload); err != nil {
			return out, fmt.Errorf("--workload: %v", err)
		}
	}
	if f.to != "" {
		if out.To, err = parseNode(msh, f.to); err != nil {
			return out, fmt.Errorf("--to: %v", err)
		}
	}
	if f.port > 65535 {
		return out, fmt.Errorf("--port: invalid port %d (want a number from 1 to 65535)", f.port)
	}
	out.Port = uint32(f.port)
	if out.Transport, err = parseTransport(f.transport); err != nil {
		return out, err
	}
	switch f.status {
	case "":
	case "allowed":
		out.Status = sim.StatusAllowed
	case "denied":
		out.Status = sim.StatusDenied
	case "undecided":
		out.Status = sim.StatusUndecided
	default:
		return out, fmt.Errorf("--status: invalid status %q (want allowed, denied or undecided)", f.status)
	}
	return out, nil
}

func checkNamespace(msh *mesh.Mesh, flag, ns string) (string, error) {
	if ns == "" {
		return "", nil
	}
	if _, ok := msh.Namespace(ns); !ok {
		return "", fmt.Errorf("%s: unknown namespace %q", flag, ns)
	}
	return ns, nil
}

func parseTransport(s string) (sim.Transport, error) {
	if s == "" {
		return sim.NoTransport, nil
	}
	t, err := sim.ParseTransport(s)
	if err != nil || t == sim.NoTransport {
		return 0, fmt.Errorf("--transport: invalid transport %q (want plaintext, mtls or tls)", s)
	}
	return t, nil
}

// parseWorkload parses namespace/name and checks that the mesh has it.
func parseWorkload(msh *mesh.Mesh, s string) (mesh.WorkloadID, error) {
	id, err := mesh.ParseWorkloadID(s)
	if err != nil {
		return id, err
	}
	if _, ok := msh.Workload(id); !ok {
		return id, fmt.Errorf("unknown workload %s", id)
	}
	return id, nil
}

// parseNode parses a node: namespace/name (a workload of the mesh),
// "outside" or external:HOST.
func parseNode(msh *mesh.Mesh, s string) (sim.Node, error) {
	switch {
	case s == "outside":
		return sim.OutsideNode(), nil
	case strings.HasPrefix(s, "external:"):
		host := strings.TrimPrefix(s, "external:")
		if host == "" || strings.ContainsAny(host, "/: ") {
			return sim.Node{}, fmt.Errorf("invalid external host %q", host)
		}
		return sim.ExternalNode(strings.ToLower(host)), nil
	}
	id, err := parseWorkload(msh, s)
	if err != nil {
		return sim.Node{}, fmt.Errorf("%v (want namespace/name, outside or external:HOST)", err)
	}
	return sim.WorkloadNode(id), nil
}

var portSuffix = regexp.MustCompile(`:([0-9]+)$`)

// parseNodePort parses NODE[:PORT].
func parseNodePort(msh *mesh.Mesh, s string) (sim.Node, uint32, error) {
	var port uint32
	if m := portSuffix.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseUint(m[1], 10, 32)
		if err != nil || n == 0 || n > 65535 {
			return sim.Node{}, 0, fmt.Errorf("invalid port %q (want a number from 1 to 65535)", m[1])
		}
		port = uint32(n)
		s = strings.TrimSuffix(s, m[0])
	}
	n, err := parseNode(msh, s)
	return n, port, err
}

func runMatrix(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newQueryCommand("matrix", matrixUsage)
	ff := c.filterFlags("namespace", "to-namespace", "workload", "to", "port", "transport", "status")
	_, m, code, done := c.start(args, 0, "no arguments", stdin, stdout, stderr)
	if done {
		return code
	}
	f, err := ff.filter(m.Simulator().Mesh())
	if err != nil {
		return c.fail(stderr, err.Error())
	}
	return c.write(stdout, stderr, &report.MatrixReport{Matrix: m, Filter: f})
}

func runWhoCanReach(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newQueryCommand("who-can-reach", whoUsage)
	ff := c.filterFlags("namespace", "transport")
	pos, m, code, done := c.start(args, 1, "DEST[:PORT]", stdin, stdout, stderr)
	if done {
		return code
	}
	msh := m.Simulator().Mesh()
	dest, port, err := parseNodePort(msh, pos[0])
	if err != nil {
		return c.fail(stderr, "DEST: "+err.Error())
	}
	f, err := ff.filter(msh)
	if err != nil {
		return c.fail(stderr, err.Error())
	}
	groups := keepGroups(m.WhoCanReach(dest, port), f.FromNamespace, f.Transport)
	return c.write(stdout, stderr, &report.WhoCanReachReport{Matrix: m, Dest: dest, Port: port, Groups: groups})
}

func runReachableFrom(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newQueryCommand("reachable-from", fromUsage)
	ff := c.filterFlags("namespace", "transport")
	pos, m, code, done := c.start(args, 1, "SRC", stdin, stdout, stderr)
	if done {
		return code
	}
	msh := m.Simulator().Mesh()
	src, err := parseNode(msh, pos[0])
	if err == nil && src.Kind == sim.NodeExternal {
		err = fmt.Errorf("an external host is never a client")
	}
	if err != nil {
		return c.fail(stderr, "SRC: "+err.Error())
	}
	f, err := ff.filter(msh)
	if err != nil {
		return c.fail(stderr, err.Error())
	}
	groups := keepGroups(m.ReachableFrom(src), f.FromNamespace, f.Transport)
	return c.write(stdout, stderr, &report.ReachableFromReport{Matrix: m, Source: src, Groups: groups})
}

// keepGroups keeps the groups of transport t (all when NoTransport) and in
// them the nodes of namespace ns (all when "").
func keepGroups(groups []sim.ReachGroup, ns string, t sim.Transport) []sim.ReachGroup {
	var out []sim.ReachGroup
	for _, g := range groups {
		if t != sim.NoTransport && g.Transport != t {
			continue
		}
		var nodes []sim.Node
		for _, n := range g.Nodes {
			if ns == "" || n.Namespace() == ns {
				nodes = append(nodes, n)
			}
		}
		if len(nodes) > 0 {
			out = append(out, sim.ReachGroup{Transport: g.Transport, Nodes: nodes})
		}
	}
	return out
}

func runPaths(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newQueryCommand("paths", pathsUsage)
	plain := c.fs.Bool("plaintext-only", false, "")
	mtls := c.fs.Bool("mtls-only", false, "")
	maxHops := c.fs.Int("max-hops", 0, "")
	limit := c.fs.Int("limit", 1, "")
	pos, m, code, done := c.start(args, 2, "SRC DST", stdin, stdout, stderr)
	if done {
		return code
	}
	msh := m.Simulator().Mesh()
	src, err := parseNode(msh, pos[0])
	if err == nil && src.Kind == sim.NodeExternal {
		err = fmt.Errorf("an external host is never a client")
	}
	if err != nil {
		return c.fail(stderr, "SRC: "+err.Error())
	}
	dst, err := parseNode(msh, pos[1])
	if err == nil && dst.Kind == sim.NodeOutside {
		err = fmt.Errorf("the outside client is never a destination")
	}
	if err != nil {
		return c.fail(stderr, "DST: "+err.Error())
	}
	opt := sim.PathOptions{MaxHops: *maxHops, Limit: *limit}
	switch {
	case *plain && *mtls:
		return c.fail(stderr, "--plaintext-only and --mtls-only exclude each other")
	case *plain:
		opt.Transport = sim.Plaintext
	case *mtls:
		opt.Transport = sim.MTLS
	}
	if *maxHops < 0 {
		return c.fail(stderr, fmt.Sprintf("--max-hops: invalid value %d (want 0 for no bound, or more)", *maxHops))
	}
	if *limit < 1 {
		return c.fail(stderr, fmt.Sprintf("--limit: invalid value %d (want 1 or more)", *limit))
	}
	paths := m.Paths(src, dst, opt)
	return c.write(stdout, stderr, &report.PathsReport{Matrix: m, From: src, To: dst, Options: opt, Paths: paths})
}

func runExposure(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newQueryCommand("exposure", exposureUsage)
	ff := c.filterFlags("namespace", "workload", "port")
	all := c.fs.Bool("all", false, "")
	_, m, code, done := c.start(args, 0, "no arguments", stdin, stdout, stderr)
	if done {
		return code
	}
	f, err := ff.filter(m.Simulator().Mesh())
	if err != nil {
		return c.fail(stderr, err.Error())
	}
	// The flags name the workload exposed: the destination of the filter.
	sel := sim.Filter{ToNamespace: f.FromNamespace, Port: f.Port}
	if f.From.IsValid() {
		sel.To = sim.WorkloadNode(f.From)
	}
	f = sel
	if !*all {
		f.Status = sim.StatusAllowed
	}
	return c.write(stdout, stderr, &report.ExposureReport{Matrix: m, Filter: f, Exposures: m.Exposure(f)})
}

func runGroups(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newQueryCommand("groups", groupsUsage)
	ff := c.filterFlags("namespace", "transport")
	_, m, code, done := c.start(args, 0, "no arguments", stdin, stdout, stderr)
	if done {
		return code
	}
	f, err := ff.filter(m.Simulator().Mesh())
	if err != nil {
		return c.fail(stderr, err.Error())
	}
	var groups [][]mesh.WorkloadID
	for _, g := range m.Components(f.Transport) {
		for _, w := range g {
			if f.FromNamespace == "" || w.Namespace == f.FromNamespace {
				groups = append(groups, g)
				break
			}
		}
	}
	return c.write(stdout, stderr, &report.GroupsReport{Matrix: m, Transport: f.Transport, Groups: groups})
}
