package report

import (
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// The JSON documents. Field names are lower camel case, enums are spelled
// as their String methods spell them, nodes as Node.String spells them, and
// lists are never null. The package documentation describes every field.

type header struct {
	SchemaVersion int    `json:"schemaVersion"`
	Kind          string `json:"kind"`
}

func newHeader(r Report) header { return header{SchemaVersion: SchemaVersion, Kind: r.Kind()} }

type refJSON struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func refView(r mesh.Ref) *refJSON {
	if r.IsZero() {
		return nil
	}
	return &refJSON{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

func refsView(rs []mesh.Ref) []refJSON {
	out := []refJSON{}
	for _, r := range rs {
		out = append(out, refJSON{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name})
	}
	return out
}

type outcomeJSON struct {
	Allowed   bool   `json:"allowed"`
	Transport string `json:"transport"`
	Undecided bool   `json:"undecided,omitempty"`
}

func outcomeView(o sim.Outcome) outcomeJSON {
	return outcomeJSON{Allowed: o.Allowed, Transport: o.Transport.String(), Undecided: o.Undecided}
}

// transportsView spells a set as a list in Transport order.
func transportsView(s sim.TransportSet) []string {
	out := []string{}
	for _, t := range s.Transports() {
		out = append(out, t.String())
	}
	return out
}

type probeJSON struct {
	From       string `json:"from"`
	To         string `json:"to,omitempty"`
	ToWorkload string `json:"toWorkload,omitempty"`
	Port       uint32 `json:"port"`
	Protocol   string `json:"protocol"`
}

func probeView(p sim.Probe) probeJSON {
	out := probeJSON{From: p.From.String(), To: p.To, Port: p.Port, Protocol: p.Protocol.String()}
	if p.To == "" {
		out.ToWorkload = p.ToWorkload.String()
	}
	return out
}

type filterJSON struct {
	FromNamespace string `json:"fromNamespace,omitempty"`
	ToNamespace   string `json:"toNamespace,omitempty"`
	From          string `json:"from,omitempty"`
	To            string `json:"to,omitempty"`
	Port          uint32 `json:"port,omitempty"`
	Transport     string `json:"transport,omitempty"`
	Status        string `json:"status,omitempty"` // allowed, denied or undecided
}

func filterView(f sim.Filter) filterJSON {
	out := filterJSON{FromNamespace: f.FromNamespace, ToNamespace: f.ToNamespace, Port: f.Port}
	if f.From.IsValid() {
		out.From = f.From.String()
	}
	if f.To != (sim.Node{}) {
		out.To = f.To.String()
	}
	if f.Transport != sim.NoTransport {
		out.Transport = f.Transport.String()
	}
	switch f.Status {
	case sim.StatusAllowed:
		out.Status = "allowed"
	case sim.StatusDenied:
		out.Status = "denied"
	case sim.StatusUndecided:
		out.Status = "undecided"
	}
	return out
}

type portEdgeJSON struct {
	Port       uint32      `json:"port"`
	Transports []string    `json:"transports"`
	Default    outcomeJSON `json:"default"`
	Probe      probeJSON   `json:"probe"`
}

type edgeJSON struct {
	From  string         `json:"from"`
	To    string         `json:"to"`
	Ports []portEdgeJSON `json:"ports"`
}

func edgeView(e sim.Edge) edgeJSON {
	out := edgeJSON{From: e.From.String(), To: e.To.String(), Ports: []portEdgeJSON{}}
	for _, p := range e.Ports {
		out.Ports = append(out.Ports, portEdgeJSON{Port: p.Port, Transports: transportsView(p.Transports),
			Default: outcomeView(p.Default), Probe: probeView(p.Probe)})
	}
	return out
}
