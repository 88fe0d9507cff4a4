// Package report renders the answers of whole-mesh queries ([sim.Matrix]
// and its queries) as aligned text, JSON, Graphviz DOT, Markdown, CSV or a
// self-contained HTML page. Rendering is a function over query results:
// build a [Report] from what a query returned and pass it to [Write].
//
//	m := sim.New(msh).Matrix()
//	err := report.Write(os.Stdout, &report.MatrixReport{Matrix: m}, report.Options{Format: report.HTML})
//
// # Formats
//
//   - Text: one or more aligned tables, each under a "== title" line,
//     columns separated by two spaces, no trailing blanks.
//   - JSON: one document of the schema below.
//   - DOT: a Graphviz digraph whose nodes are named as [sim.Node.String]
//     spells them. Edges carry their ports as a label ("8080 mtls",
//     "8080 mtls [plaintext+mtls]" when more could flow than flows as
//     configured) and are styled by transport: mTLS solid green, TLS solid
//     blue, plaintext dashed orange. An edge is drawn as the weakest
//     transport that flows as configured on any of its ports (plaintext,
//     then TLS, then mTLS); paths and groups computed over one transport are
//     drawn as that transport. Pairs between which nothing can flow are left
//     out unless [Options.Denied] is set; then they are dotted grey edges
//     labelled "denied".
//   - Markdown: a "# title" heading and the text format's tables as
//     GitHub-flavoured tables under "## title" headings.
//   - CSV: one RFC 4180 table with a lower-case header line; the columns are
//     listed per kind below.
//   - HTML: one page with inline CSS and JavaScript and no external
//     resource, readable offline. The matrix page has a heat map of
//     namespace pairs (rows: client namespaces, columns: destination
//     namespaces and external hosts; the hue goes from green, everything
//     allowed is encrypted, to orange, everything allowed is plaintext, and
//     fades to grey as more is denied). Following a cell opens the list of
//     its connections, each of which unfolds into the trace that decided it
//     ([sim.Verdict.Explain] of the cell's probe, narrowed to the cell's
//     endpoint). The other kinds show their table and the same drill-down
//     per entry.
//
// Every format is deterministic: the same report gives the same bytes, on
// every run.
//
// # JSON schema, version 1
//
// Every document is an object with "schemaVersion": 1 and a "kind". Field
// names are lower camel case; lists are never null. A version changes only
// when a field is removed or changes meaning; fields may be added within a
// version. Shared shapes:
//
//   - node: a string; "namespace/name" for a workload, "external:HOST" for
//     an external host (a ServiceEntry host without workload endpoints),
//     "outside" for a client outside the mesh (no sidecar, plaintext, no
//     mesh identity).
//   - transport: "none", "plaintext", "mtls" or "tls" (TLS that is not Istio
//     mTLS). transports: a list of them in that order, the set of what the
//     client can make flow ([sim.Cell.Transports]).
//   - outcome: {"allowed": bool, "transport": transport, "undecided": true
//     (present only when set)}: what happens when the client's application
//     connects as configured; when not allowed, transport is what the client
//     sent; undecided means the outcome depends on what meshreach does not
//     model (ext_authz, JWT, …) and allowed is then false.
//   - ref: {"kind", "namespace" (absent for cluster-scoped objects), "name"}.
//   - probe: {"from": workload, "to": the name dialled, or "toWorkload":
//     workload for a direct pod-IP call, "port", "protocol": "tcp", "http",
//     "http2", "grpc" or "https"}: the input of "meshreach probe" that
//     reproduces the answer with its full trace.
//   - filter: the selection applied, each field present only when set:
//     "fromNamespace", "toNamespace", "from" (workload), "to" (node),
//     "port", "transport", "status" ("allowed", "denied" or "undecided").
//   - edge: {"from": node, "to": node, "ports": [{"port", "transports",
//     "default": outcome, "probe"}]}: what can flow from one node to
//     another, per destination port.
//
// Kinds:
//
//   - "Matrix": {"filter", "stats": {"workloads", "classes",
//     "destinations", "evaluations", "cells"}, "cells": [{"from": workload,
//     "to": node, "port": the container port on "to" (the dialled port for
//     external hosts), "via": ref of the Service or ServiceEntry dialled,
//     "host": the name dialled, "viaPort", "protocol", "default": outcome,
//     "transports"}], "summary": [{"from": namespace, "to": namespace,
//     "allowedMtls", "allowedPlaintext", "allowedTls", "denied",
//     "undecided"}],
//     "errors": [string]}. Cells are ordered by client, destination, port,
//     via; summary rows by client then destination namespace and count only
//     workload-to-workload cells. CSV columns: from, to, port, via_kind,
//     via_namespace, via_name, host, via_port, protocol, allowed, undecided,
//     transport, can_flow.
//   - "WhoCanReach": {"destination": node, "port" (absent: any port),
//     "groups": [{"transport", "nodes": [node]}]}; a client is listed in
//     every group whose transport can reach the destination.
//     "ReachableFrom": {"source": node, "groups"} likewise. CSV columns:
//     transport, node.
//   - "Paths": {"from": node, "to": node, "transport": "any" or the
//     transport every hop can carry, "maxHops" (0: no bound), "paths":
//     [{"nodes": [node], "hops": [edge]}]}, fewest hops first. CSV columns:
//     path, hop, from, to, port, allowed, transport, can_flow.
//   - "Exposure": {"filter", "exposures": [{"workload", "port" (container
//     port), "accepted": bool (plaintext from outside the mesh gets in),
//     "undecided": true (present only when the answer depends on what
//     meshreach does not model), "services": [ref] (the Services targeting
//     the port), "probe", "findings": [finding]}]}, ordered by workload and
//     port. A finding ([sim.ExposureFinding]) is what an
//     AuthorizationPolicy means for that plaintext: {"kind":
//     "identity-allow-denies-plaintext" (an ALLOW rule that needs a peer
//     identity and so never admits plaintext; "accepted" says whether
//     another rule does), "deny-bypassed-by-plaintext" (a DENY rule that
//     needs one, which plaintext bypasses: ISTIO-SECURITY-2021-003) or
//     "policy-not-enforced" (no sidecar, or a port it does not capture),
//     "policy": ref, "rule": the index in spec.rules (absent when the
//     finding is about the policy as a whole), "pos": "file:line" (absent
//     when unknown), "detail": one or two sentences}, ordered by policy
//     namespace, name, rule and kind. Text, Markdown and HTML show the
//     findings in a second table "AuthorizationPolicies and that
//     plaintext" (WORKLOAD, PORT, FINDING, POLICY, RULE ("-" for the
//     policy as a whole), DETAIL), present whenever a listed port has one;
//     the HTML drill-down of a port opens with its findings. CSV columns:
//     workload, port, accepted, undecided, services (space-separated
//     namespace/name), findings (space-separated kind:namespace/name:rule,
//     without ":rule" for the policy as a whole).
//   - "Groups": {"transport": "any" or a transport, "groups": [{"members":
//     [workload]}]}: strongly connected groups of two workloads or more.
//     CSV columns: group, workload.
package report
