// Package expect reads expectations files and checks them against a
// [sim.Simulator].
//
// # Format
//
// An expectations file is one YAML document holding a list of probes, each
// with the outcome it must have:
//
//	# expect.yaml
//	- from: payments/checkout     # namespace/workload of the client
//	  to: ledger                  # as the client dials it
//	  port: 8080
//	  protocol: http              # tcp (default), http, http2, grpc, https
//	  method: POST                # optional, HTTP probes only (default GET)
//	  path: /api/v1/pay           # optional, HTTP probes only (default /)
//	  headers:                    # optional, HTTP probes only: name: "value"
//	    x-user: alice
//	  expect: allow               # allow, deny or undecided
//	  transport: mtls             # optional: mtls, plaintext or tls
//	  note: in scope of ./*       # optional, free text
//
// The to field takes every form a client can dial: a Service as "name" (in
// the client's namespace), "name.ns", "name.ns.svc" or its FQDN; a
// ServiceEntry host; any external host. "namespace/workload" means a direct
// call to a pod IP of that workload. transport is checked only when given,
// and only with expect: allow. method, path and headers describe the request
// AuthorizationPolicy rules on HTTP filter chains look at; header values are
// strings (quote numbers). expect: undecided holds when the outcome depends
// on something meshreach does not model, such as the answer of a CUSTOM
// (ext_authz) provider or JWT claims (see sim.Result.Undecided).
//
// # Errors
//
// [Parse] and [Load] report every problem of the file at once as a
// [mesh.ErrorList]. Each entry is a [*mesh.Error] whose Ref is
// {Kind: "expectation", Name: "<1-based index>"} and whose Path is the field,
// so it reads
//
//	expect.yaml:12: expectation 3: transport: invalid value "mtsl" (want mtls, plaintext or tls)
//
// and wraps [mesh.ErrUnknownField], [mesh.ErrInvalidValue],
// [mesh.ErrMissingField] or [mesh.ErrSyntax] for [errors.Is].
//
// # Determinism
//
// [Check] evaluates the expectations in file order and its [Report] lists
// them in that order; the same mesh and file always give the same report.
package expect
