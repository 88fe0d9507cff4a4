package sim

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/meshreach/meshreach/mesh"
)

// Protocol is what the client application speaks on the connection.
type Protocol uint8

// Protocols a probe can use. The zero value is TCP.
const (
	TCP   Protocol = iota // opaque TCP, plaintext
	HTTP                  // HTTP/1.1, plaintext
	HTTP2                 // HTTP/2 cleartext (h2c)
	GRPC                  // gRPC over h2c
	HTTPS                 // the application's own TLS
)

var protocolNames = [...]string{"tcp", "http", "http2", "grpc", "https"}

// String returns "tcp", "http", "http2", "grpc" or "https".
func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// ParseProtocol parses the lower-case spelling of a Protocol; "" is TCP.
func ParseProtocol(s string) (Protocol, error) {
	if s == "" {
		return TCP, nil
	}
	for i, n := range protocolNames {
		if strings.EqualFold(n, s) {
			return Protocol(i), nil
		}
	}
	return 0, fmt.Errorf("invalid protocol %q (want tcp, http, http2, grpc or https)", s)
}

// IsHTTP reports whether the protocol is HTTP of any version in cleartext.
func (p Protocol) IsHTTP() bool { return p == HTTP || p == HTTP2 || p == GRPC }

// Transport is what travels on the wire between the two pods.
type Transport uint8

// Transports. The zero value, NoTransport, means nothing reached the
// destination.
const (
	NoTransport Transport = iota
	Plaintext             // no TLS on the wire
	MTLS                  // Istio mutual TLS with mesh identities
	TLS                   // TLS that is not Istio mTLS: the app's own, or DestinationRule SIMPLE/MUTUAL
)

var transportNames = [...]string{"none", "plaintext", "mtls", "tls"}

// String returns "none", "plaintext", "mtls" or "tls".
func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return "Transport(" + strconv.Itoa(int(t)) + ")"
}

// ParseTransport parses the spelling String returns.
func ParseTransport(s string) (Transport, error) {
	for i, n := range transportNames {
		if n == s {
			return Transport(i), nil
		}
	}
	return 0, fmt.Errorf("invalid transport %q (want plaintext, mtls or tls)", s)
}

// Probe is one connection attempt: a client workload opens a connection to
// a destination, as the client's application dials it.
type Probe struct {
	From mesh.WorkloadID
	// To is the destination as the client dials it: a Service as "name"
	// (in the client's namespace), "name.ns", "name.ns.svc" or its FQDN; a
	// ServiceEntry host; or any external host name. Empty when ToWorkload is
	// set.
	To string
	// ToWorkload is set for a direct call to a pod IP of that workload.
	ToWorkload mesh.WorkloadID
	Port       uint32
	Protocol   Protocol
	// Method, Path and Headers describe the request of an HTTP probe
	// (Protocol HTTP, HTTP2 or GRPC); other protocols must leave them
	// empty. They matter only to AuthorizationPolicy rules on HTTP filter
	// chains. Method "" means GET (POST for GRPC), Path "" means "/" (a
	// query string is ignored, as Envoy's path matcher ignores it).
	// Headers are keyed by name, matched case-insensitively; the "host"
	// header defaults to the dialled name, with ":port" unless the port is
	// 80.
	Method  string
	Path    string
	Headers map[string]string
}

// String renders "from -> to:port/protocol", followed by the method, path
// and headers (sorted, "name=value") when any is set.
func (p Probe) String() string {
	to := p.To
	if to == "" {
		to = "pod " + p.ToWorkload.String()
	}
	s := fmt.Sprintf("%s -> %s:%d/%s", p.From, to, p.Port, p.Protocol)
	if p.Method == "" && p.Path == "" && len(p.Headers) == 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s)
	if p.Method != "" {
		b.WriteString(" " + p.Method)
	}
	if p.Path != "" {
		b.WriteString(" " + p.Path)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Headers)) {
		b.WriteString(" " + k + "=" + p.Headers[k])
	}
	return b.String()
}

// Stage is the part of the data path a Step belongs to.
type Stage uint8

// Stages, in data-path order.
const (
	StageInjection          Stage = iota // does a pod run a sidecar (T1)
	StageDestination                     // what the dialled name resolves to
	StageInterception                    // iptables capture and exclusions (§6, T5)
	StageSidecarScope                    // which Sidecar applies and what it imports (T2, T3)
	StageOutbound                        // in-scope route, passthrough or blackhole (T4)
	StageDestinationRule                 // which DestinationRule applies (3.3)
	StageClientTLS                       // what the client sidecar sends (DT2, DT3)
	StagePeerAuthentication              // the server's effective mode (DT1)
	StageServer                          // does the server accept what arrives (DT4)
	// StageAuthorization: do the server's AuthorizationPolicies let the
	// accepted connection or request through (DT5). Present only when
	// some AuthorizationPolicy is in the root namespace or the server's
	// namespace.
	StageAuthorization
)

var stageNames = [...]string{"injection", "destination", "interception", "sidecar-scope", "outbound", "destination-rule", "client-tls", "peer-authentication", "server", "authorization"}

// String returns the stage's lower-case name.
func (s Stage) String() string {
	if int(s) < len(stageNames) {
		return stageNames[s]
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// Side tells which end of the connection a Step is about.
type Side uint8

// Sides.
const (
	Client Side = iota
	Server
)

// String returns "client" or "server".
func (s Side) String() string {
	if s == Server {
		return "server"
	}
	return "client"
}

// Step is one decision in a verdict's trace.
type Step struct {
	Stage Stage
	Side  Side
	// Subject is the workload the step is about (client or server pod).
	Subject mesh.WorkloadID
	// By is the object that decided; zero when Istio's built-in default
	// decided (then Default names it).
	By  mesh.Ref
	Pos mesh.Pos // where By is declared
	// Default names the built-in behaviour applied when By is zero, with
	// the Istio source it comes from.
	Default string
	Detail  string // one sentence on what was decided
}

// String renders the step on one line.
func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", s.Stage, s.Detail)
	switch {
	case !s.By.IsZero():
		b.WriteString(" (")
		b.WriteString(s.By.String())
		if p := s.Pos.String(); p != "" {
			b.WriteString(", ")
			b.WriteString(p)
		}
		b.WriteString(")")
	case s.Default != "":
		b.WriteString(" (default: ")
		b.WriteString(s.Default)
		b.WriteString(")")
	}
	return b.String()
}

// Result answers one question about a probe.
type Result struct {
	Allowed   bool
	Transport Transport // on the wire; NoTransport when nothing was sent
	Steps     []Step    // the trace that decided, in data-path order
	// Undecided is set when the outcome depends on something meshreach
	// does not model: the decision of a CUSTOM (ext_authz) provider, JWT
	// claims (requestPrincipals, request.auth.*), an IP address that is
	// unknown, Envoy metadata. It says what, in one sentence; Allowed is
	// then false. Empty when the outcome is decided.
	Undecided string
}

// Outcome renders the result as "allow <transport>", "deny" or
// "undecided".
func (r Result) Outcome() string {
	switch {
	case r.Allowed:
		return "allow " + r.Transport.String()
	case r.Undecided != "":
		return "undecided"
	}
	return "deny"
}

// Endpoint is the outcome for one destination workload of a probe.
type Endpoint struct {
	Workload   mesh.WorkloadID
	TargetPort uint32 // the container port the connection lands on
	Default    Result // the client's app connecting as configured
	Plaintext  Result // plaintext from this client
	MTLS       Result // Istio mTLS from this client
}

// Verdict answers a Probe. It is a plain value; compare verdicts with
// go-cmp.
type Verdict struct {
	Probe Probe
	// Service is the Service or ServiceEntry the dialled name resolved to;
	// zero for direct pod calls and unregistered external hosts.
	Service mesh.Ref
	// External is true when the destination is outside the mesh registry's
	// pods (an external host, or a ServiceEntry without workload endpoints).
	External bool
	// Default: what happens when the client's app connects as configured.
	// Allowed only when every endpoint is reached.
	Default Result
	// Plaintext: could plaintext from this client reach the destination.
	Plaintext Result
	// MTLS: could Istio mTLS from this client reach the destination (the
	// client needs a mesh identity: a sidecar, or an app doing mTLS).
	MTLS Result
	// Endpoints holds the per-destination-workload outcomes, sorted by
	// workload. Empty for external destinations.
	Endpoints []Endpoint
}

// String renders "from -> to:port/proto: allow mtls", "…: deny" or
// "…: undecided".
func (v Verdict) String() string { return v.Probe.String() + ": " + v.Default.Outcome() }

// Explain renders the verdict and its three traces for people. The layout is
// not stable; use the fields for programs.
func (v Verdict) Explain() string {
	var b strings.Builder
	b.WriteString(v.String())
	b.WriteByte('\n')
	write := func(title string, r Result) {
		outcome := r.Outcome()
		if r.Undecided != "" {
			outcome += ": " + r.Undecided
		}
		fmt.Fprintf(&b, "  %s: %s\n", title, outcome)
		for _, s := range r.Steps {
			who := s.Side.String()
			if s.Subject.IsValid() {
				who += " " + s.Subject.String()
			}
			fmt.Fprintf(&b, "    - %s: %s\n", who, s.String())
		}
	}
	write("as configured", v.Default)
	write("plaintext", v.Plaintext)
	write("mtls", v.MTLS)
	return b.String()
}
