package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/internal/golden"
)

// TestRun runs the command in-process and compares stdout and stderr with
// golden files under testdata/golden (rewritten with -update).
func TestRun(t *testing.T) {
	if !golden.Updating() {
		t.Parallel()
	}
	shop, _ := os.ReadFile("testdata/shop/shop.yaml")
	tests := []struct {
		name   string
		reason string
		args   []string
		stdin  string
		code   int
		golden string // testdata/golden/<golden>.stdout and .stderr; defaults to name
	}{{
		name:   "seed",
		reason: "no arguments runs the embedded seed lesson, and every expectation holds",
		args:   nil,
		code:   0,
	}, {
		name:   "probe-text",
		reason: "a verdict with its explanation",
		args:   []string{"probe", "-f", "testdata/shop", "payments/checkout", "vault.bank", "8080", "--protocol", "http"},
		code:   0,
	}, {
		name:   "probe-flags-last",
		reason: "flags after the positional arguments work as before them (kubectl idiom)",
		args:   []string{"probe", "payments/checkout", "vault.bank", "8080", "--protocol", "http", "-f", "testdata/shop"},
		code:   0,
		golden: "probe-text",
	}, {
		name:   "probe-flags-between",
		reason: "flags may sit between positional arguments, in either spelling",
		args:   []string{"probe", "payments/checkout", "--filename=testdata/shop", "vault.bank", "--protocol=http", "8080"},
		code:   0,
		golden: "probe-text",
	}, {
		name:   "probe-json",
		reason: "the JSON view: lower-camel names, enums as strings",
		args:   []string{"probe", "-f", "testdata/shop", "shop/web", "cart", "8080", "--protocol", "http", "-o", "json"},
		code:   0,
	}, {
		name:   "probe-pod",
		reason: "namespace/workload as TO is a direct pod-IP call",
		args:   []string{"probe", "-f", "testdata/shop", "shop/web", "bank/vault", "8080"},
		code:   0,
	}, {
		name:   "probe-stdin",
		reason: "-f - reads manifests from stdin, and -f repeats",
		args:   []string{"probe", "-f", "testdata/shop/namespaces.yaml", "-f", "-", "shop/web", "cart.shop.svc.cluster.local", "8080"},
		stdin:  string(shop),
		code:   0,
	}, {
		name:   "probe-warning",
		reason: "loader warnings go to stderr as warning: <text>, and the verdict is still printed",
		args:   []string{"probe", "-f", "testdata/undeclared.yaml", "solo/batch", "www.example.com", "443", "--protocol", "https"},
		code:   0,
	}, {
		name:   "probe-request",
		reason: "--method, --path and --header describe the HTTP request AuthorizationPolicy rules read",
		args: []string{"probe", "-f", "../seed/authz", "shop/web", "vault.bank", "8080", "--protocol", "http",
			"--method", "POST", "--path", "/accounts/42", "--header", "x-user=alice", "--header", "X-Trace=1"},
		code: 0,
	}, {
		name:   "probe-request-json",
		reason: "the request and an authorization denial in the JSON view",
		args:   []string{"probe", "-o", "json", "-f", "../seed/authz", "legacy/cron", "vault.bank", "8080", "--protocol", "http", "--method", "GET"},
		code:   0,
	}, {
		name:   "probe-request-needs-http",
		reason: "request flags on a TCP probe are bad input, reported before anything is read",
		args:   []string{"probe", "-f", "testdata/shop", "shop/web", "cart", "8080", "--method", "GET"},
		code:   2,
	}, {
		name:   "probe-bad-header",
		reason: "a header is NAME=VALUE",
		args:   []string{"probe", "-f", "testdata/shop", "shop/web", "cart", "8080", "--protocol", "http", "--header", "x-user"},
		code:   2,
	}, {
		name:   "probe-unknown-workload",
		reason: "a probe naming no workload is bad input",
		args:   []string{"probe", "-f", "testdata/shop", "shop/ghost", "cart", "8080"},
		code:   2,
	}, {
		name:   "probe-bad-port",
		reason: "arguments are validated before anything is read",
		args:   []string{"probe", "-f", "testdata/shop", "shop/web", "cart", "http"},
		code:   2,
	}, {
		name:   "probe-missing-args",
		reason: "FROM TO PORT are required",
		args:   []string{"probe", "-f", "testdata/shop", "shop/web"},
		code:   2,
	}, {
		name:   "check-pass",
		reason: "every expectation holds: the summary only, exit 0; EXPECT.yaml inside the -f directory is not read as a manifest",
		args:   []string{"check", "-f", "testdata/shop", "testdata/shop/expect.yaml"},
		code:   0,
	}, {
		name:   "check-pass-flags-last",
		reason: "flags after the positional argument",
		args:   []string{"check", "testdata/shop/expect.yaml", "-f", "testdata/shop"},
		code:   0,
		golden: "check-pass",
	}, {
		name:   "check-mismatch",
		reason: "a deliberately wrong expectation: printed with its trace, exit 1",
		args:   []string{"check", "-f", "testdata/shop", "testdata/wrong.yaml"},
		code:   1,
	}, {
		name:   "check-json",
		reason: "the report as JSON, with the exit code of the check",
		args:   []string{"check", "-o", "json", "-f", "testdata/shop", "testdata/wrong.yaml"},
		code:   1,
	}, {
		name:   "check-bad-manifest",
		reason: "a typo'd field in a manifest: the file:line message on stderr, exit 2",
		args:   []string{"check", "-f", "testdata/typo", "testdata/shop/expect.yaml"},
		code:   2,
	}, {
		name:   "check-bad-expectations",
		reason: "every problem of the expectations file, one per line, exit 2",
		args:   []string{"check", "-f", "testdata/shop", "testdata/bad-expect.yaml"},
		code:   2,
	}, {
		name:   "check-missing-file",
		reason: "an unreadable path is bad input",
		args:   []string{"check", "-f", "testdata/nowhere", "testdata/shop/expect.yaml"},
		code:   2,
	}, {
		name:   "check-no-manifests",
		reason: "-f is required",
		args:   []string{"check", "testdata/shop/expect.yaml"},
		code:   2,
	}, {
		name:   "help",
		reason: "--help prints the usage to stdout and exits 0",
		args:   []string{"--help"},
		code:   0,
	}, {
		name:   "help-short",
		reason: "-h is --help",
		args:   []string{"-h"},
		code:   0,
		golden: "help",
	}, {
		name:   "probe-help",
		reason: "every subcommand has --help",
		args:   []string{"probe", "--help"},
		code:   0,
	}, {
		name:   "check-help",
		reason: "every subcommand has --help, also after other arguments",
		args:   []string{"check", "-f", "x", "y.yaml", "-h"},
		code:   0,
	}, {
		name:   "unknown-command",
		reason: "an unknown command is bad input",
		args:   []string{"frobnicate"},
		code:   2,
	}, {
		name:   "unknown-flag",
		reason: "an unknown flag is bad input, with a hint",
		args:   []string{"check", "--frob", "x"},
		code:   2,
	}, {
		name:   "bad-output",
		reason: "-o takes text or json",
		args:   []string{"probe", "-o", "yaml"},
		code:   2,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !golden.Updating() {
				t.Parallel()
			}
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
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

// TestJSONIsValid checks that the JSON outputs parse and use the documented
// names and spellings, independently of the golden files.
func TestJSONIsValid(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"probe", "-f", "testdata/shop", "legacy/cron", "vault.bank", "8080", "-o", "json"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr.String())
	}
	var v struct {
		Probe struct {
			From, To, Protocol string
			Port               int
		} `json:"probe"`
		Default struct {
			Allowed   bool   `json:"allowed"`
			Transport string `json:"transport"`
			Steps     []struct {
				Stage, Side, Detail string
			} `json:"steps"`
		} `json:"default"`
	}
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	// legacy/cron has no sidecar; bank is STRICT: plaintext is reset
	// (mtls-authn-authz.md DT4, test T3).
	if v.Probe.From != "legacy/cron" || v.Probe.To != "vault.bank" || v.Probe.Port != 8080 || v.Probe.Protocol != "tcp" {
		t.Errorf("probe = %+v", v.Probe)
	}
	if v.Default.Allowed || len(v.Default.Steps) == 0 {
		t.Errorf("default = %+v, want denied with a trace", v.Default)
	}
	for _, s := range v.Default.Steps {
		if s.Stage == "" || s.Side == "" || s.Detail == "" {
			t.Errorf("step %+v has an empty stage, side or detail", s)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		args   []string
		files  []string
		pos    []string
	}{
		{"flags first", "the usual order", []string{"-f", "a", "x", "y"}, []string{"a"}, []string{"x", "y"}},
		{"flags last", "kubectl idiom", []string{"x", "y", "-f", "a"}, []string{"a"}, []string{"x", "y"}},
		{"mixed", "flags anywhere, repeated", []string{"x", "-f", "a", "y", "--filename=b"}, []string{"a", "b"}, []string{"x", "y"}},
		{"stdin dash", "a lone - is the value of -f, or a positional argument", []string{"-f", "-", "-"}, []string{"-"}, []string{"-"}},
		{"terminator", "after -- everything is positional", []string{"x", "--", "-f", "a"}, nil, []string{"x", "-f", "a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCommand("test", "")
			var stdout, stderr bytes.Buffer
			pos, code, done := c.parseInterleaved(tc.args, &stdout, &stderr)
			if done {
				t.Fatalf("parse stopped with code %d: %s", code, stderr.String())
			}
			if d := cmp.Diff([][]string{tc.files, tc.pos}, [][]string{[]string(c.files), pos}); d != "" {
				t.Errorf("files, positional mismatch (-want +got) (%s):\n%s", tc.reason, d)
			}
		})
	}
}
