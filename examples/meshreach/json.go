package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

// The JSON output is a stable view of the library's values: lower-camel
// field names, enums spelled as strings, positions as {file, line}.

type verdictJSON struct {
	Probe     probeJSON      `json:"probe"`
	Service   *refJSON       `json:"service,omitempty"`
	External  bool           `json:"external"`
	Default   resultJSON     `json:"default"`
	Plaintext resultJSON     `json:"plaintext"`
	MTLS      resultJSON     `json:"mtls"`
	Endpoints []endpointJSON `json:"endpoints"`
}

type probeJSON struct {
	From       string `json:"from"`
	To         string `json:"to,omitempty"`
	ToWorkload string `json:"toWorkload,omitempty"`
	Port       uint32 `json:"port"`
	Protocol   string `json:"protocol"`
	// The request of an HTTP probe, when given.
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

type resultJSON struct {
	Allowed   bool       `json:"allowed"`
	Transport string     `json:"transport"`           // none, plaintext, mtls, tls
	Undecided string     `json:"undecided,omitempty"` // why the outcome depends on something not modelled
	Steps     []stepJSON `json:"steps"`
}

type stepJSON struct {
	Stage   string   `json:"stage"`
	Side    string   `json:"side"`
	Subject string   `json:"subject,omitempty"`
	By      *refJSON `json:"by,omitempty"`
	Pos     *posJSON `json:"pos,omitempty"`
	Default string   `json:"default,omitempty"`
	Detail  string   `json:"detail"`
}

type endpointJSON struct {
	Workload   string     `json:"workload"`
	TargetPort uint32     `json:"targetPort"`
	Default    resultJSON `json:"default"`
	Plaintext  resultJSON `json:"plaintext"`
	MTLS       resultJSON `json:"mtls"`
}

type refJSON struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

type posJSON struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Doc  int    `json:"doc,omitempty"`
}

type reportJSON struct {
	Results []resultEntryJSON `json:"results"`
	Passed  int               `json:"passed"`
	Failed  int               `json:"failed"`
}

type resultEntryJSON struct {
	Expectation expectationJSON `json:"expectation"`
	Pass        bool            `json:"pass"`
	Reason      string          `json:"reason"`
	Error       string          `json:"error,omitempty"`
	Verdict     *verdictJSON    `json:"verdict,omitempty"`
}

type expectationJSON struct {
	Index     int       `json:"index"`
	Pos       *posJSON  `json:"pos,omitempty"`
	Probe     probeJSON `json:"probe"`
	Expect    string    `json:"expect"`              // allow, deny or undecided
	Transport string    `json:"transport,omitempty"` // only when checked
	Note      string    `json:"note,omitempty"`
}

func verdictView(v sim.Verdict) verdictJSON {
	out := verdictJSON{
		Probe:     probeView(v.Probe),
		Service:   refView(v.Service),
		External:  v.External,
		Default:   resultView(v.Default),
		Plaintext: resultView(v.Plaintext),
		MTLS:      resultView(v.MTLS),
		Endpoints: []endpointJSON{},
	}
	for _, ep := range v.Endpoints {
		out.Endpoints = append(out.Endpoints, endpointJSON{
			Workload:   ep.Workload.String(),
			TargetPort: ep.TargetPort,
			Default:    resultView(ep.Default),
			Plaintext:  resultView(ep.Plaintext),
			MTLS:       resultView(ep.MTLS),
		})
	}
	return out
}

func probeView(p sim.Probe) probeJSON {
	out := probeJSON{From: p.From.String(), To: p.To, Port: p.Port, Protocol: p.Protocol.String(),
		Method: p.Method, Path: p.Path, Headers: p.Headers}
	if p.To == "" {
		out.ToWorkload = p.ToWorkload.String()
	}
	return out
}

func resultView(r sim.Result) resultJSON {
	out := resultJSON{Allowed: r.Allowed, Transport: r.Transport.String(), Undecided: r.Undecided, Steps: []stepJSON{}}
	for _, s := range r.Steps {
		st := stepJSON{Stage: s.Stage.String(), Side: s.Side.String(), By: refView(s.By), Pos: posView(s.Pos),
			Default: s.Default, Detail: s.Detail}
		if s.Subject.IsValid() {
			st.Subject = s.Subject.String()
		}
		out.Steps = append(out.Steps, st)
	}
	return out
}

func refView(r mesh.Ref) *refJSON {
	if r.IsZero() {
		return nil
	}
	return &refJSON{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

func posView(p mesh.Pos) *posJSON {
	if !p.IsValid() {
		return nil
	}
	return &posJSON{File: p.File, Line: p.Line, Doc: p.Doc}
}

func reportView(r expect.Report) reportJSON {
	out := reportJSON{Results: []resultEntryJSON{}, Passed: r.Passed, Failed: r.Failed}
	for _, res := range r.Results {
		x := res.Expectation
		e := resultEntryJSON{
			Expectation: expectationJSON{Index: x.Index, Pos: posView(x.Pos), Probe: probeView(x.Probe),
				Expect: x.Want(), Note: x.Note},
			Pass:   res.Pass,
			Reason: res.Reason,
		}
		if x.Allow {
			e.Expectation.Expect = "allow"
		}
		if x.Transport != sim.NoTransport {
			e.Expectation.Transport = x.Transport.String()
		}
		if res.Err != nil {
			e.Error = res.Err.Error()
		} else {
			v := verdictView(res.Verdict)
			e.Verdict = &v
		}
		out.Results = append(out.Results, e)
	}
	return out
}

// writeJSON writes v as indented JSON.
func writeJSON(stdout, stderr io.Writer, v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "meshreach: %v\n", err)
		return exitBadInput
	}
	b = append(b, '\n')
	if _, err := stdout.Write(b); err != nil {
		fmt.Fprintf(stderr, "meshreach: %v\n", err)
		return exitBadInput
	}
	return exitOK
}
