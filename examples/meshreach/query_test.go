package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshreach/meshreach/internal/golden"
)

// seedDir is the seed scenario the query commands are run on: mTLS,
// plaintext, TLS to an external host, and resets by a STRICT namespace.
const seedDir = "../seed/payments-sidecar"

// TestQueries runs the whole-mesh commands in-process and compares stdout
// and stderr with golden files under testdata/golden (rewritten with
// -update).
func TestQueries(t *testing.T) {
	if !golden.Updating() {
		t.Parallel()
	}
	tests := []struct {
		name   string
		reason string
		args   []string
		code   int
		golden string // testdata/golden/<golden>.stdout and .stderr; defaults to name
	}{{
		name:   "matrix",
		reason: "every client to every Service port, then the count per namespace pair",
		args:   []string{"matrix", "-f", seedDir},
	}, {
		name:   "matrix-filtered",
		reason: "filters combine: one client, plaintext as configured, allowed only",
		args:   []string{"matrix", "-f", seedDir, "--workload", "payments/checkout", "--transport", "plaintext", "--status", "allowed"},
	}, {
		name:   "matrix-json",
		reason: "the versioned JSON document, filtered by client namespace and destination",
		args:   []string{"matrix", "--namespace", "payments", "--to-namespace", "shop", "-o", "json", "-f", seedDir},
	}, {
		name:   "matrix-csv",
		reason: "CSV, one header line; flags after -f",
		args:   []string{"matrix", "-f", seedDir, "-o", "csv", "--to", "external:api.stripe.com"},
	}, {
		name:   "matrix-markdown",
		reason: "-o md is Markdown",
		args:   []string{"matrix", "-f", seedDir, "-o", "md", "--port", "15014"},
	}, {
		name:   "matrix-dot-denied",
		reason: "DOT with the denied pairs drawn dotted",
		args:   []string{"matrix", "-f", seedDir, "-o", "dot", "--denied", "--namespace", "payments"},
	}, {
		name:   "matrix-html",
		reason: "one self-contained page with the heat map and the traces",
		args:   []string{"matrix", "-f", seedDir, "-o", "html", "--namespace", "payments", "--to-namespace", "shop"},
	}, {
		name:   "who-can-reach",
		reason: "clients of a workload port, by transport, the outside client included",
		args:   []string{"who-can-reach", "-f", seedDir, "payments/ledger:8080"},
	}, {
		name:   "who-can-reach-flags-last",
		reason: "flags after the positional argument, and a transport filter",
		args:   []string{"who-can-reach", "payments/ledger:8080", "--transport", "mtls", "-f", seedDir},
	}, {
		name:   "who-can-reach-json",
		reason: "JSON, any port, clients of one namespace",
		args:   []string{"who-can-reach", "-f", seedDir, "shop/cart", "-o", "json", "--namespace", "payments"},
	}, {
		name:   "reachable-from",
		reason: "what a workload reaches, external hosts included",
		args:   []string{"reachable-from", "-f", seedDir, "payments/checkout"},
	}, {
		name:   "reachable-from-outside",
		reason: "the client outside the mesh as the source",
		args:   []string{"reachable-from", "-f", seedDir, "outside", "-o", "csv"},
	}, {
		name:   "paths",
		reason: "lateral movement from outside the mesh to a STRICT workload, several paths",
		args:   []string{"paths", "-f", seedDir, "outside", "shop/cart", "--limit", "3"},
	}, {
		name:   "paths-plaintext",
		reason: "--plaintext-only and --max-hops bound the search",
		args:   []string{"paths", "-f", seedDir, "payments/checkout", "payments/ledger", "--plaintext-only", "--max-hops", "2", "--limit", "5"},
	}, {
		name:   "paths-none",
		reason: "no path is an answer, not an error",
		args:   []string{"paths", "-f", seedDir, "istio-system/istiod", "shop/cart", "--plaintext-only"},
	}, {
		name:   "paths-dot",
		reason: "DOT of the paths, drawn as the transport asked for",
		args:   []string{"paths", "-f", seedDir, "outside", "payments/ledger", "--mtls-only", "--limit", "2", "-o", "dot"},
	}, {
		name:   "exposure",
		reason: "the ports that accept plaintext from outside the mesh",
		args:   []string{"exposure", "-f", seedDir},
	}, {
		name:   "exposure-all",
		reason: "--all lists the refusing ports too; filters by namespace and port",
		args:   []string{"exposure", "-f", seedDir, "--all", "--namespace", "shop", "--port", "8080", "-o", "json"},
	}, {
		name:   "groups",
		reason: "strongly connected groups over any transport",
		args:   []string{"groups", "-f", seedDir},
	}, {
		name:   "groups-mtls-dot",
		reason: "groups over mTLS only, drawn",
		args:   []string{"groups", "-f", seedDir, "--transport", "mtls", "-o", "dot"},
	}, {
		name:   "query-unknown-workload",
		reason: "a node the mesh does not have is bad input",
		args:   []string{"who-can-reach", "-f", seedDir, "payments/ghost"},
		code:   2,
	}, {
		name:   "query-bad-format",
		reason: "-o takes the report formats",
		args:   []string{"matrix", "-f", seedDir, "-o", "yaml"},
		code:   2,
	}, {
		name:   "query-bad-port",
		reason: "DEST:PORT wants a port from 1 to 65535",
		args:   []string{"who-can-reach", "-f", seedDir, "payments/ledger:99999"},
		code:   2,
	}, {
		name:   "paths-both-only",
		reason: "--plaintext-only and --mtls-only exclude each other",
		args:   []string{"paths", "-f", seedDir, "outside", "shop/cart", "--plaintext-only", "--mtls-only"},
		code:   2,
	}, {
		name:   "paths-missing-args",
		reason: "SRC DST are required",
		args:   []string{"paths", "-f", seedDir, "outside"},
		code:   2,
	}, {
		name:   "matrix-bad-transport",
		reason: "--transport takes plaintext, mtls or tls",
		args:   []string{"matrix", "-f", seedDir, "--transport", "none"},
		code:   2,
	}, {
		name:   "matrix-unknown-namespace",
		reason: "a namespace the mesh does not have is a typo, not an empty answer",
		args:   []string{"matrix", "-f", seedDir, "--namespace", "paymnets"},
		code:   2,
	}, {
		name:   "reachable-from-external",
		reason: "an external host is never a client",
		args:   []string{"reachable-from", "-f", seedDir, "external:api.stripe.com"},
		code:   2,
	}}
	for _, cmd := range []string{"matrix", "who-can-reach", "reachable-from", "paths", "exposure", "groups"} {
		tests = append(tests, struct {
			name   string
			reason string
			args   []string
			code   int
			golden string
		}{name: cmd + "-help", reason: "every command has --help", args: []string{cmd, "--help"}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !golden.Updating() {
				t.Parallel()
			}
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (%s)\nstderr:\n%s", code, tc.code, tc.reason, stderr.String())
			}
			name := tc.golden
			if name == "" {
				name = tc.name
			}
			golden.Check(t, filepath.Join("testdata", "golden", name+".stdout"), stdout.Bytes())
			golden.Check(t, filepath.Join("testdata", "golden", name+".stderr"), stderr.Bytes())
		})
	}
}

// TestQueryJSON reads the JSON of each query command back, independently
// of the golden files: the envelope and the kind.
func TestQueryJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason, kind string
		args               []string
	}{
		{"matrix", "the matrix document", "Matrix", []string{"matrix"}},
		{"who-can-reach", "a reach document", "WhoCanReach", []string{"who-can-reach", "shop/cart"}},
		{"reachable-from", "a reach document", "ReachableFrom", []string{"reachable-from", "app/api"}},
		{"paths", "a paths document", "Paths", []string{"paths", "outside", "shop/cart"}},
		{"exposure", "an exposure document", "Exposure", []string{"exposure"}},
		{"groups", "a groups document", "Groups", []string{"groups"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			args := append(tt.args, "-f", seedDir, "-o", "json")
			if code := run(args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit code %d: %s", code, stderr.String())
			}
			var doc struct {
				SchemaVersion int    `json:"schemaVersion"`
				Kind          string `json:"kind"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				t.Fatalf("%s: %v", tt.reason, err)
			}
			if doc.SchemaVersion != 1 || doc.Kind != tt.kind {
				t.Errorf("envelope = %+v, want schemaVersion 1, kind %s (%s)", doc, tt.kind, tt.reason)
			}
		})
	}
}
