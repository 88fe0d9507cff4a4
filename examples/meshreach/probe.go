package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

const probeUsage = `Usage: meshreach probe -f PATH... FROM TO PORT [--protocol P] [--method M]
                       [--path P] [--header NAME=VALUE]... [-o text|json]

Answers one connection attempt and explains it.

  FROM  the client workload, namespace/name
  TO    the destination as the client dials it: a Service as name, name.ns,
        name.ns.svc or its FQDN, a ServiceEntry host, an external host, or
        namespace/name for a direct call to a pod IP of that workload
  PORT  the port dialled

Flags (before or after the arguments):
` + commonFlags + `      --protocol P      what the client speaks: tcp (default), http, http2, grpc
                        or https
      --method M        the HTTP method (default GET, POST for grpc)
      --path P          the HTTP path, with an optional query (default /)
      --header N=V      an HTTP header; repeatable. Method, path and headers need
                        an HTTP protocol; AuthorizationPolicy rules read them

Exits 0 with the verdict (allowed, denied or undecided), 2 on bad input.
`

func runProbe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("probe", probeUsage)
	proto := c.fs.String("protocol", "tcp", "")
	method := c.fs.String("method", "", "")
	path := c.fs.String("path", "", "")
	var headers listFlag
	c.fs.Var(&headers, "header", "")
	pos, code, done := c.parse(args, 3, "FROM TO PORT", stdout, stderr)
	if done {
		return code
	}
	p, err := parseProbe(pos[0], pos[1], pos[2], *proto)
	if err == nil {
		err = parseRequest(&p, *method, *path, headers)
	}
	if err != nil {
		return c.fail(stderr, err.Error())
	}
	m, err := loadMesh(c.files, "", stdin, stderr)
	if err != nil {
		printErrors(stderr, err)
		return exitBadInput
	}
	v, err := sim.New(m).Probe(p)
	if err != nil {
		fmt.Fprintf(stderr, "meshreach probe: %v\n", err)
		return exitBadInput
	}
	if c.out == "json" {
		return writeJSON(stdout, stderr, verdictView(v))
	}
	fmt.Fprint(stdout, v.Explain())
	return exitOK
}

// parseProbe builds a probe from the command-line arguments.
func parseProbe(from, to, port, proto string) (sim.Probe, error) {
	var p sim.Probe
	var err error
	if p.From, err = mesh.ParseWorkloadID(from); err != nil {
		return p, fmt.Errorf("FROM: %v", err)
	}
	if p.To, p.ToWorkload, err = expect.ParseDestination(to); err != nil {
		return p, fmt.Errorf("TO: %v", err)
	}
	n, err := strconv.ParseUint(port, 10, 32)
	if err != nil || n == 0 || n > 65535 {
		return p, fmt.Errorf("PORT: invalid port %q (want a number from 1 to 65535)", port)
	}
	p.Port = uint32(n)
	if p.Protocol, err = sim.ParseProtocol(proto); err != nil {
		return p, fmt.Errorf("--protocol: %v", err)
	}
	return p, nil
}

// parseRequest adds the HTTP request of --method, --path and --header
// (NAME=VALUE, repeatable) to p, and checks the probe as the simulator
// will.
func parseRequest(p *sim.Probe, method, path string, headers []string) error {
	p.Method, p.Path = method, path
	for _, h := range headers {
		name, value, ok := strings.Cut(h, "=")
		if !ok || name == "" {
			return fmt.Errorf("--header: invalid header %q (want NAME=VALUE)", h)
		}
		if _, dup := p.Headers[name]; dup {
			return fmt.Errorf("--header: header %q given twice", name)
		}
		if p.Headers == nil {
			p.Headers = map[string]string{}
		}
		p.Headers[name] = value
	}
	if err := p.Validate(); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "sim: "))
	}
	return nil
}
