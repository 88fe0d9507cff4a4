package expect_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/expect"
)

func wid(ns, name string) mesh.WorkloadID { return mesh.WorkloadID{Namespace: ns, Name: name} }

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		src    string
		want   []expect.Expectation
	}{{
		name:   "empty",
		reason: "an empty file holds no expectations",
		src:    "",
		want:   nil,
	}, {
		name:   "null document",
		reason: "a document with only a comment is empty too",
		src:    "# nothing yet\n",
		want:   nil,
	}, {
		name:   "empty list",
		reason: "[] is a list without expectations",
		src:    "[]\n",
		want:   nil,
	}, {
		name:   "all fields",
		reason: "every field is decoded into the probe and the expected outcome",
		src: `- from: payments/checkout
  to: ledger
  port: 8080
  protocol: http
  expect: allow
  transport: mtls
  note: "in scope: ./*"
`,
		want: []expect.Expectation{{
			Probe:     sim.Probe{From: wid("payments", "checkout"), To: "ledger", Port: 8080, Protocol: sim.HTTP},
			Allow:     true,
			Transport: sim.MTLS,
			Note:      "in scope: ./*",
			Index:     1,
			Pos:       mesh.Pos{File: "expect.yaml", Line: 1},
		}},
	}, {
		name:   "defaults",
		reason: "protocol defaults to tcp and transport to unchecked",
		src:    "- {from: a/b, to: c.d.svc.cluster.local, port: 1, expect: deny}\n",
		want: []expect.Expectation{{
			Probe: sim.Probe{From: wid("a", "b"), To: "c.d.svc.cluster.local", Port: 1, Protocol: sim.TCP},
			Index: 1,
			Pos:   mesh.Pos{File: "expect.yaml", Line: 1},
		}},
	}, {
		name:   "pod destination",
		reason: "namespace/workload as the destination is a direct pod-IP call",
		src: `- from: a/b
  to: app/api
  port: 65535
  expect: allow
  transport: plaintext
`,
		want: []expect.Expectation{{
			Probe:     sim.Probe{From: wid("a", "b"), ToWorkload: wid("app", "api"), Port: 65535},
			Allow:     true,
			Transport: sim.Plaintext,
			Index:     1,
			Pos:       mesh.Pos{File: "expect.yaml", Line: 1},
		}},
	}, {
		name:   "order and positions",
		reason: "expectations keep file order; Index and Pos name each list item",
		src: `# header
- from: a/b
  to: www.example.com
  port: 443
  protocol: https
  expect: allow
  transport: tls

- from: a/b
  to: x
  port: 9080
  protocol: grpc
  expect: allow
`,
		want: []expect.Expectation{{
			Probe:     sim.Probe{From: wid("a", "b"), To: "www.example.com", Port: 443, Protocol: sim.HTTPS},
			Allow:     true,
			Transport: sim.TLS,
			Index:     1,
			Pos:       mesh.Pos{File: "expect.yaml", Line: 2},
		}, {
			Probe: sim.Probe{From: wid("a", "b"), To: "x", Port: 9080, Protocol: sim.GRPC},
			Allow: true,
			Index: 2,
			Pos:   mesh.Pos{File: "expect.yaml", Line: 9},
		}},
	}, {
		name:   "request",
		reason: "an HTTP probe carries a method, a path and headers (AuthorizationPolicy rules read them)",
		src: `- from: a/b
  to: c
  port: 80
  protocol: http
  method: POST
  path: /api/v1/pay?x=1
  headers: {x-user: alice, X-Count: "5"}
  expect: undecided
`,
		want: []expect.Expectation{{
			Probe: sim.Probe{From: wid("a", "b"), To: "c", Port: 80, Protocol: sim.HTTP, Method: "POST", Path: "/api/v1/pay?x=1",
				Headers: map[string]string{"x-user": "alice", "X-Count": "5"}},
			Undecided: true,
			Index:     1,
			Pos:       mesh.Pos{File: "expect.yaml", Line: 1},
		}},
	}, {
		name:   "anchors",
		reason: "YAML anchors and aliases are followed",
		src: `- &web {from: shop/web, to: cart, port: 8080, protocol: http2, expect: allow}
- *web
`,
		want: []expect.Expectation{{
			Probe: sim.Probe{From: wid("shop", "web"), To: "cart", Port: 8080, Protocol: sim.HTTP2},
			Allow: true,
			Index: 1,
			Pos:   mesh.Pos{File: "expect.yaml", Line: 1},
		}, {
			Probe: sim.Probe{From: wid("shop", "web"), To: "cart", Port: 8080, Protocol: sim.HTTP2},
			Allow: true,
			Index: 2,
			Pos:   mesh.Pos{File: "expect.yaml", Line: 1},
		}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := expect.Parse("expect.yaml", []byte(tc.src))
			if err != nil {
				t.Fatalf("Parse: %v (%s)", err, tc.reason)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Parse mismatch (-want +got) (%s):\n%s", tc.reason, d)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reason   string
		src      string
		want     string // ErrorList.Full()
		sentinel error
	}{{
		name:   "typo in transport",
		reason: "the documented example: a bad value names file, line, expectation and field",
		src: `- from: a/b
  to: c
  port: 80
  expect: allow
- from: a/b
  to: c
  port: 80
  expect: allow
- from: a/b
  to: c
  port: 80
  expect: allow
  transport: mtsl
`,
		want:     "expect.yaml:13: expectation 3: transport: invalid value \"mtsl\" (want mtls, plaintext or tls)\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "unknown field",
		reason:   "a misspelt key is an error, not silently ignored",
		src:      "- from: a/b\n  to: c\n  port: 80\n  expect: allow\n  trasport: mtls\n",
		want:     "expect.yaml:5: expectation 1: trasport: unknown field \"trasport\" (want from, to, port, protocol, method, path, headers, expect, transport or note)\n",
		sentinel: mesh.ErrUnknownField,
	}, {
		name:     "missing fields",
		reason:   "from, to, port and expect are required; each missing one is reported at the item",
		src:      "- note: nothing else\n",
		want:     "expect.yaml:1: expectation 1: expect: missing field\nexpect.yaml:1: expectation 1: from: missing field\nexpect.yaml:1: expectation 1: port: missing field\nexpect.yaml:1: expectation 1: to: missing field\n",
		sentinel: mesh.ErrMissingField,
	}, {
		name:     "null value",
		reason:   "a required key without a value counts as missing, at the key's line",
		src:      "- from: a/b\n  to:\n  port: 80\n  expect: deny\n",
		want:     "expect.yaml:2: expectation 1: to: missing field\n",
		sentinel: mesh.ErrMissingField,
	}, {
		name:   "every error at once",
		reason: "all problems of all items are listed, sorted by line",
		src: `- from: nons
  to: c
  port: 0
  expect: maybe
- from: a/b
  to: "bad host!"
  port: http
  protocol: udp
  expect: allow
`,
		want: `expect.yaml:1: expectation 1: from: invalid value "nons" (want namespace/workload)
expect.yaml:3: expectation 1: port: invalid value "0" (want a number from 1 to 65535)
expect.yaml:4: expectation 1: expect: invalid value "maybe" (want allow, deny or undecided)
expect.yaml:6: expectation 2: to: invalid value "bad host!" (want a host name, or namespace/workload for a pod IP)
expect.yaml:7: expectation 2: port: invalid value "http" (want a number from 1 to 65535)
expect.yaml:8: expectation 2: protocol: invalid value "udp" (want tcp, http, http2, grpc or https)
`,
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:   "request fields",
		reason: "method, path and headers need an HTTP protocol and well-formed values; header values are strings",
		src: `- {from: a/b, to: c, port: 80, method: GET, path: /, headers: {x: "1"}, expect: allow}
- from: a/b
  to: c
  port: 80
  protocol: http
  method: "GE T"
  path: relative
  headers:
    x-count: 5
    "bad name": "v"
    X-Count: "6"
  expect: allow
- {from: a/b, to: c, port: 80, protocol: grpc, headers: [x], expect: undecided, transport: mtls}
`,
		want: `expect.yaml:1: expectation 1: headers: invalid value: headers needs protocol http, http2 or grpc
expect.yaml:1: expectation 1: method: invalid value: method needs protocol http, http2 or grpc
expect.yaml:1: expectation 1: path: invalid value: path needs protocol http, http2 or grpc
expect.yaml:6: expectation 2: method: invalid value "GE T" (want an HTTP method such as GET)
expect.yaml:7: expectation 2: path: invalid value "relative" (want an absolute path such as /api/v1?x=1)
expect.yaml:9: expectation 2: headers[x-count]: invalid value: "5" (want a string: quote it)
expect.yaml:10: expectation 2: headers: invalid value: header name "bad name" is not an HTTP token
expect.yaml:13: expectation 3: headers: invalid value: want a mapping of header names to values, got a list
expect.yaml:13: expectation 3: transport: invalid value "mtls": only an allowed connection has its transport checked (leave it out with expect: undecided)
`,
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "port too large",
		reason:   "ports stop at 65535",
		src:      "- {from: a/b, to: c, port: 65536, expect: deny}\n",
		want:     "expect.yaml:1: expectation 1: port: invalid value \"65536\" (want a number from 1 to 65535)\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "quoted port",
		reason:   "a port is a number, not a string",
		src:      "- {from: a/b, to: c, port: \"80\", expect: deny}\n",
		want:     "expect.yaml:1: expectation 1: port: invalid value \"80\" (want a number from 1 to 65535)\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "bad pod destination",
		reason:   "a destination with a slash must be namespace/workload",
		src:      "- {from: a/b, to: a/b/c, port: 80, expect: deny}\n",
		want:     "expect.yaml:1: expectation 1: to: invalid value \"a/b/c\" (want a host name, or namespace/workload for a pod IP)\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "protocol is case-sensitive",
		reason:   "the file format spells protocols in lower case only",
		src:      "- {from: a/b, to: c, port: 80, protocol: HTTP, expect: allow}\n",
		want:     "expect.yaml:1: expectation 1: protocol: invalid value \"HTTP\" (want tcp, http, http2, grpc or https)\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "transport with deny",
		reason:   "a denied connection carries nothing, so a transport contradicts expect: deny",
		src:      "- {from: a/b, to: c, port: 80, expect: deny, transport: mtls}\n",
		want:     "expect.yaml:1: expectation 1: transport: invalid value \"mtls\": a denied connection has no transport (leave it out with expect: deny)\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "none is not a transport",
		reason:   "sim spells a missing transport \"none\", which the file format does not accept",
		src:      "- {from: a/b, to: c, port: 80, expect: allow, transport: none}\n",
		want:     "expect.yaml:1: expectation 1: transport: invalid value \"none\" (want mtls, plaintext or tls)\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "duplicate field",
		reason:   "a key given twice is ambiguous",
		src:      "- from: a/b\n  to: c\n  port: 80\n  expect: allow\n  port: 81\n",
		want:     "expect.yaml:5: expectation 1: port: invalid value: field given twice (first at line 3)\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "list value",
		reason:   "fields hold one value",
		src:      "- {from: a/b, to: [c, d], port: 80, expect: allow}\n",
		want:     "expect.yaml:1: expectation 1: to: invalid value: want a single value, got a list\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "not a list",
		reason:   "the file is a list, not a single mapping",
		src:      "from: a/b\nto: c\n",
		want:     "expect.yaml:1: invalid value: want a list of expectations, got a mapping\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "item not a mapping",
		reason:   "each list item is a mapping",
		src:      "- a/b -> c:80\n",
		want:     "expect.yaml:1: expectation 1: invalid value: want a mapping with fields from, to, port, protocol, method, path, headers, expect, transport or note, got \"a/b -> c:80\"\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "two documents",
		reason:   "a second document (here from its --- line) would be silently ignored otherwise",
		src:      "- {from: a/b, to: c, port: 80, expect: deny}\n---\n- {from: a/b, to: c, port: 81, expect: deny}\n",
		want:     "expect.yaml:2: invalid value: a second YAML document; an expectations file is one list\n",
		sentinel: mesh.ErrInvalidValue,
	}, {
		name:     "syntax error",
		reason:   "YAML syntax errors keep their line",
		src:      "- from: a/b\n  to: c\n port: 80\n",
		want:     "expect.yaml:2: syntax error: did not find expected '-' indicator\n",
		sentinel: mesh.ErrSyntax,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := expect.Parse("expect.yaml", []byte(tc.src))
			if got != nil {
				t.Errorf("Parse returned %d expectations with an error; want none (%s)", len(got), tc.reason)
			}
			var l mesh.ErrorList
			if !errors.As(err, &l) {
				t.Fatalf("Parse error = %v (%T), want a mesh.ErrorList (%s)", err, err, tc.reason)
			}
			if d := cmp.Diff(tc.want, l.Full()); d != "" {
				t.Errorf("errors mismatch (-want +got) (%s):\n%s", tc.reason, d)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(err, %v) = false (%s)", tc.sentinel, tc.reason)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	// Malformed input of every shape gives an error list, never a panic and
	// never a partial result.
	for _, src := range []string{"-", "- -", "[", "- {", "? [a]: b", "- !!binary eA==", "- from: *x", "- &a [*a]", "- {? [a] : b}", "\t- x", "- {from: a/b, to: ., port: 1, expect: deny}", "42"} {
		got, err := expect.Parse("x.yaml", []byte(src))
		var l mesh.ErrorList
		if !errors.As(err, &l) || len(l) == 0 || got != nil {
			t.Errorf("Parse(%q) = %v, %v; want no expectations and a mesh.ErrorList", src, got, err)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "expect.yaml")
	if err := os.WriteFile(path, []byte("- {from: a/b, to: c, port: 80, expect: allow, transport: mtsl}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := expect.Load(path)
	want := path + ":1: expectation 1: transport: invalid value \"mtsl\" (want mtls, plaintext or tls)"
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %s: positions name the path as given", err, want)
	}
	if _, err := expect.Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want an os.ErrNotExist error", err)
	}
}

func TestExpectationString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		x      expect.Expectation
		want   string
	}{{
		name:   "allow with transport",
		reason: "the outcome reads like a verdict",
		x:      expect.Expectation{Probe: sim.Probe{From: wid("a", "b"), To: "c", Port: 80, Protocol: sim.HTTP}, Allow: true, Transport: sim.MTLS},
		want:   "a/b -> c:80/http: allow mtls",
	}, {
		name:   "allow without transport",
		reason: "an unchecked transport is left out",
		x:      expect.Expectation{Probe: sim.Probe{From: wid("a", "b"), To: "c", Port: 80}, Allow: true},
		want:   "a/b -> c:80/tcp: allow",
	}, {
		name:   "deny to a pod",
		reason: "pod destinations render as sim.Probe does",
		x:      expect.Expectation{Probe: sim.Probe{From: wid("a", "b"), ToWorkload: wid("c", "d"), Port: 80}},
		want:   "a/b -> pod c/d:80/tcp: deny",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.x.String(); got != tc.want {
				t.Errorf("String() = %q, want %q (%s)", got, tc.want, tc.reason)
			}
		})
	}
}

func TestParseDestination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		reason  string
		in      string
		to      string
		pod     mesh.WorkloadID
		wantErr string
	}{
		{name: "short name", reason: "a Service in the client's namespace", in: "cart", to: "cart"},
		{name: "fqdn with dot", reason: "a trailing dot is a valid absolute name", in: "cart.shop.svc.cluster.local.", to: "cart.shop.svc.cluster.local."},
		{name: "spaces", reason: "surrounding spaces are trimmed", in: " api.example.com ", to: "api.example.com"},
		{name: "pod", reason: "a slash means namespace/workload", in: "shop/cart", pod: wid("shop", "cart")},
		{name: "empty", reason: "a destination is needed", in: "", wantErr: `invalid value "" (want a host name, or namespace/workload for a pod IP)`},
		{name: "empty label", reason: "a..b is not a DNS name", in: "a..b", wantErr: `invalid value "a..b" (want a host name, or namespace/workload for a pod IP)`},
		{name: "half pod", reason: "both namespace and workload are needed", in: "shop/", wantErr: `invalid value "shop/" (want a host name, or namespace/workload for a pod IP)`},
		{name: "underscore", reason: "underscores are not host characters", in: "my_svc", wantErr: `invalid value "my_svc" (want a host name, or namespace/workload for a pod IP)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			to, pod, err := expect.ParseDestination(tc.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
				if !errors.Is(err, mesh.ErrInvalidValue) {
					t.Errorf("error %v does not wrap mesh.ErrInvalidValue", err)
				}
			}
			if d := cmp.Diff([]any{tc.to, tc.pod, tc.wantErr}, []any{to, pod, gotErr}); d != "" {
				t.Errorf("ParseDestination(%q) mismatch (-want +got) (%s):\n%s", tc.in, tc.reason, d)
			}
		})
	}
}
