package mesh_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/meshreach/meshreach/mesh"
)

// mustParse parses src (as "t.yaml") and fails the test on error.
func mustParse(t *testing.T, src string) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Parse("t.yaml", []byte(src))
	if err != nil {
		var l mesh.ErrorList
		errors.As(err, &l)
		t.Fatalf("Parse failed:\n%s", l.Full())
	}
	return m
}

// errorTexts returns every entry of an ErrorList as text (nil for nil).
func errorTexts(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var l mesh.ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("error %v (%T) is not an ErrorList", err, err)
	}
	var out []string
	for _, e := range l {
		out = append(out, e.Error())
	}
	return out
}

func warningTexts(m *mesh.Mesh) []string {
	var out []string
	for _, w := range m.Warnings() {
		out = append(out, w.Error())
	}
	return out
}

const sidecarHead = "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s, namespace: ns}\n"

// TestEnumTraps pins the cases where an Istio proto's zero value, or a
// present-but-empty message, means something else than "unset".
func TestEnumTraps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason, src string
		get               func(*mesh.Mesh) any
		want              any
	}{{
		name:   "sidecar outboundTrafficPolicy {}",
		reason: "present without mode is REGISTRY_ONLY, the proto's zero value (sidecar-injection-egress.md §4, test case 20)",
		src:    sidecarHead + "spec: {outboundTrafficPolicy: {}}",
		get:    func(m *mesh.Mesh) any { return m.Sidecars()[0].Outbound },
		want:   mesh.OutboundRegistryOnly,
	}, {
		name:   "sidecar outboundTrafficPolicy absent",
		reason: "absent means the mesh's policy (initSidecarScopeInternalIndexes)",
		src:    sidecarHead + "spec: {egress: [{hosts: ['./*']}]}",
		get:    func(m *mesh.Mesh) any { return m.Sidecars()[0].Outbound },
		want:   mesh.OutboundUnset,
	}, {
		name:   "sidecar outboundTrafficPolicy null",
		reason: "protojson leaves a null message field unset",
		src:    sidecarHead + "spec: {egress: [{hosts: ['./*']}], outboundTrafficPolicy: null}",
		get:    func(m *mesh.Mesh) any { return m.Sidecars()[0].Outbound },
		want:   mesh.OutboundUnset,
	}, {
		name:   "sidecar ALLOW_ANY",
		reason: "an explicit mode is kept",
		src:    sidecarHead + "spec: {outboundTrafficPolicy: {mode: ALLOW_ANY}}",
		get:    func(m *mesh.Mesh) any { return m.Sidecars()[0].Outbound },
		want:   mesh.OutboundAllowAny,
	}, {
		name:   "mesh outboundTrafficPolicy {}",
		reason: "jsonpb replaces the default message, whose zero mode is REGISTRY_ONLY (ApplyMeshConfig; test case 20)",
		src:    meshConfigMap("outboundTrafficPolicy: {}"),
		get:    func(m *mesh.Mesh) any { return m.Config().Outbound },
		want:   mesh.OutboundRegistryOnly,
	}, {
		name:   "mesh outboundTrafficPolicy absent",
		reason: "DefaultMeshConfig is ALLOW_ANY",
		src:    meshConfigMap("trustDomain: cluster.local"),
		get:    func(m *mesh.Mesh) any { return m.Config().Outbound },
		want:   mesh.OutboundAllowAny,
	}, {
		name:   "mesh outboundTrafficPolicy null",
		reason: "jsonpb skips null fields, so the default ALLOW_ANY stays",
		src:    meshConfigMap("outboundTrafficPolicy: null"),
		get:    func(m *mesh.Mesh) any { return m.Config().Outbound },
		want:   mesh.OutboundAllowAny,
	}, {
		name:   "mesh ALLOW_ANY_DYNAMIC_DNS",
		reason: "the mesh-only mode is kept",
		src:    meshConfigMap("outboundTrafficPolicy: {mode: ALLOW_ANY_DYNAMIC_DNS}"),
		get:    func(m *mesh.Mesh) any { return m.Config().Outbound },
		want:   mesh.OutboundAllowAnyDynamicDNS,
	}, {
		name:   "enableAutoMtls absent",
		reason: "a BoolValue defaulting to true (DefaultMeshConfig)",
		src:    meshConfigMap("rootNamespace: istio-system"),
		get:    func(m *mesh.Mesh) any { return m.Config().EnableAutoMTLS },
		want:   true,
	}, {
		name:   "enableAutoMtls false",
		reason: "an explicit false turns auto mTLS off",
		src:    meshConfigMap("enable_auto_mtls: false"),
		get:    func(m *mesh.Mesh) any { return m.Config().EnableAutoMTLS },
		want:   false,
	}, {
		name:   "peer authentication mtls {}",
		reason: "mtls absent, {} and UNSET are equivalent (isMtlsModeUnset; mtls-authn-authz.md §1.2)",
		src:    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: ns}\nspec: {mtls: {}}",
		get:    func(m *mesh.Mesh) any { return m.PeerAuthentications()[0].Mode },
		want:   mesh.ModeUnset,
	}, {
		name:   "peer authentication without spec",
		reason: "an empty PeerAuthentication is valid and inherits",
		src:    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: ns}",
		get:    func(m *mesh.Mesh) any { return m.PeerAuthentications()[0].Mode },
		want:   mesh.ModeUnset,
	}, {
		name:   "destination rule tls {}",
		reason: "a present tls block without mode is DISABLE, the TLSmode zero value",
		src:    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: ns}\nspec: {host: a.example.com, trafficPolicy: {tls: {}}}",
		get:    func(m *mesh.Mesh) any { return m.DestinationRules()[0].TrafficPolicy.TLS },
		want:   mesh.TLSDisable,
	}, {
		name:   "destination rule without tls",
		reason: "no tls block leaves client TLS to auto mTLS",
		src:    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: ns}\nspec: {host: a.example.com, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}",
		get: func(m *mesh.Mesh) any {
			tp := m.DestinationRules()[0].TrafficPolicy
			return [2]any{tp.TLS, tp.LBPassthrough}
		},
		want: [2]any{mesh.TLSUnset, true},
	}, {
		name:   "sidecar workloadSelector without labels",
		reason: "a present selector with no labels selects every pod, unlike no selector (sidecar-injection-egress.md §2 step 3)",
		src:    sidecarHead + "spec: {workloadSelector: {}, egress: [{hosts: ['./*']}]}",
		get:    func(m *mesh.Mesh) any { return m.Sidecars()[0].Selector },
		want:   map[string]string{},
	}, {
		name:   "sidecar without workloadSelector",
		reason: "no selector is nil",
		src:    sidecarHead + "spec: {egress: [{hosts: ['./*']}]}",
		get:    func(m *mesh.Mesh) any { return m.Sidecars()[0].Selector == nil },
		want:   true,
	}, {
		name:   "creationTimestamp",
		reason: "the oldest Sidecar or PeerAuthentication wins, so the time is kept",
		src:    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: ns, creationTimestamp: '2026-01-02T03:04:05Z'}",
		get:    func(m *mesh.Mesh) any { return m.PeerAuthentications()[0].Created },
		want:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}, {
		name:   "service empty selector",
		reason: "an empty Service selector is no selector: endpoints are managed externally (core/v1 ServiceSpec)",
		src:    "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\nspec: {selector: {}, ports: [{port: 80}]}",
		get:    func(m *mesh.Mesh) any { return m.Services()[0].Selector == nil },
		want:   true,
	}, {
		name:   "service exportTo annotation",
		reason: "split on commas and trimmed (ConvertService)",
		src:    "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns, annotations: {networking.istio.io/exportTo: ' ns1 ,., ns1'}}\nspec: {ports: [{port: 80}]}",
		get:    func(m *mesh.Mesh) any { return m.Services()[0].ExportTo },
		want:   []string{"ns1", "."},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.get(mustParse(t, tt.src))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, d)
			}
		})
	}
}

func meshConfigMap(mesh string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    " +
		strings.ReplaceAll(mesh, "\n", "\n    ") + "\n"
}

// TestEgressCases are the test cases of sidecar-injection-egress.md §10
// that the loader decides (validation), with Istio's messages.
func TestEgressCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reason string
		egress       string // spec.egress, flow style
		want         []string
	}{{
		name:   "case 21: short name",
		reason: "ns1/reviews is rejected: short names (non FQDN) are not allowed (validateSidecarOrGatewayHostnamePart)",
		egress: `[{hosts: ["ns1/reviews"]}]`,
		want:   []string{`t.yaml:4: Sidecar ns/s: spec.egress[0].hosts[0]: invalid value "ns1/reviews": short names (non FQDN) are not allowed`},
	}, {
		name:   "case 21: FQDN",
		reason: "ns1/reviews.ns1.svc.cluster.local is the accepted spelling",
		egress: `[{hosts: ["ns1/reviews.ns1.svc.cluster.local"]}]`,
	}, {
		name:   "case 26: duplicate port",
		reason: "two listeners on port 9080 are rejected: ports on IP bound listeners must be unique",
		egress: `[{port: {number: 9080}, hosts: ["ns1/*"]}, {port: {number: 9080}, hosts: ["ns2/*"]}]`,
		want:   []string{`t.yaml:4: Sidecar ns/s: spec.egress[1].port.number: sidecar: ports on IP bound listeners must be unique`},
	}, {
		name:   "case 26: two catch-alls",
		reason: "two listeners without port are rejected (the first is a catch-all that is not last)",
		egress: `[{hosts: ["ns1/*"]}, {hosts: ["ns2/*"]}]`,
		want:   []string{`t.yaml:4: Sidecar ns/s: spec.egress[0]: sidecar: the egress listener with empty port should be the last listener in the list`},
	}, {
		name:   "case 26: catch-all not last",
		reason: "the catch-all listener must be the last one",
		egress: `[{hosts: ["ns1/*"]}, {port: {number: 80}, hosts: ["ns2/*"]}]`,
		want:   []string{`t.yaml:4: Sidecar ns/s: spec.egress[0]: sidecar: the egress listener with empty port should be the last listener in the list`},
	}, {
		// Istio ≤1.30 rejected this with `invalid namespace value
		// "~kube-system" in sidecar`; 1.31 (commit 4c3c712, PR #60581)
		// reads "~ns/…" as an exclusion. meshreach follows 1.31.
		name:   "case 27: exclusion",
		reason: `["*/*", "~kube-system/*"] is accepted since Istio 1.31`,
		egress: `[{hosts: ["*/*", "~kube-system/*"]}]`,
	}, {
		name:   "case 27: exclude everything",
		reason: `["~/*", "./*"] is accepted (it imports nothing since 1.31)`,
		egress: `[{hosts: ["~/*", "./*"]}]`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := mesh.Parse("t.yaml", []byte(sidecarHead+"spec: {egress: "+tt.egress+"}"))
			if d := cmp.Diff(tt.want, errorTexts(t, err)); d != "" {
				t.Fatalf("%s: errors (-want +got):\n%s", tt.reason, d)
			}
			if err == nil && len(m.Sidecars()) != 1 {
				t.Errorf("%s: %d sidecars, want 1", tt.reason, len(m.Sidecars()))
			}
			if err != nil && !errors.Is(err, mesh.ErrInvalidValue) {
				t.Errorf("errors.Is(err, ErrInvalidValue) = false")
			}
		})
	}
}

// TestWarnings pins each legal-but-suspicious finding, with its position.
func TestWarnings(t *testing.T) {
	t.Parallel()
	ns := func(name string) string {
		return "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + "}\n---\n"
	}
	tests := []struct {
		name, reason, src string
		want              []string
	}{{
		name:   "two selector-less sidecars",
		reason: "Istio uses the oldest selector-less Sidecar of a namespace (initSidecarScopes)",
		src: ns("a") + `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: newer, namespace: a, creationTimestamp: "2026-02-01T00:00:00Z"}
spec: {egress: [{hosts: ["./*"]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: older, namespace: a, creationTimestamp: "2026-01-01T00:00:00Z"}
spec: {egress: [{hosts: ["*/*"]}]}
`,
		want: []string{"t.yaml:5: Sidecar a/newer: another Sidecar without workloadSelector in namespace a, older (t.yaml:10), is older: Istio uses only that one"},
	}, {
		name:   "sidecar selector without labels",
		reason: "Istio's own validation warning (ValidateAlphaWorkloadSelector)",
		src: ns("a") + `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: a}
spec:
  workloadSelector: {}
  egress: [{hosts: ["./*"]}]
`,
		want: []string{"t.yaml:9: Sidecar a/s: spec.workloadSelector: sidecar: workload selector specified without labels, will be applied to all services in namespace"},
	}, {
		name:   "duplicated egress host and */* with others",
		reason: "Istio's validation warnings (ValidateSidecar)",
		src: ns("a") + `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: a}
spec:
  egress:
  - hosts:
    - "a/*"
    - "./x.a.svc.cluster.local"
    - "*/*"
`,
		want: []string{
			"t.yaml:10: Sidecar a/s: spec.egress[0].hosts: `*/*` host select all resources, no other hosts can be added",
			"t.yaml:12: Sidecar a/s: spec.egress[0].hosts[1]: duplicated egress host: ./x.a.svc.cluster.local",
		},
	}, {
		name:   "selector peer authentication in the root namespace",
		reason: "ignored by ComposePeerAuthentication (mtls-authn-authz.md §1.1); the root namespace comes from the mesh config",
		src: meshConfigMap("rootNamespace: mesh-root") + "---\n" + ns("mesh-root") + `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: p, namespace: mesh-root}
spec: {selector: {matchLabels: {app: a}}, mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: p, namespace: istio-system}
spec: {selector: {matchLabels: {app: a}}, mtls: {mode: STRICT}}
`,
		want: []string{"t.yaml:12: PeerAuthentication mesh-root/p: spec.selector: a PeerAuthentication with a selector in the root namespace mesh-root is ignored by Istio"},
	}, {
		name:   "two namespace-level and two mesh-level peer authentications",
		reason: "only the oldest counts, ties broken by name (addPeerAuthentication; mtls-authn-authz.md §1.3, T22)",
		src: ns("b") + `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: z-pa, namespace: b}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: a-pa, namespace: b}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: second, namespace: istio-system, creationTimestamp: "2026-01-02T00:00:00Z"}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: first, namespace: istio-system, creationTimestamp: "2026-01-01T00:00:00Z"}
spec: {selector: {}}
`,
		want: []string{
			"t.yaml:5: PeerAuthentication b/z-pa: another namespace-level PeerAuthentication, a-pa (t.yaml:10), is older: Istio ignores this one",
			"t.yaml:15: PeerAuthentication istio-system/second: another mesh-level PeerAuthentication, first (t.yaml:19), is older: Istio ignores this one",
			"t.yaml:22: PeerAuthentication istio-system/first: spec.selector: workload selector specified without labels",
		},
	}, {
		name:   "destination rule selector without labels",
		reason: "Istio's validation warning (validateWorkloadSelector)",
		src: ns("a") + `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: d, namespace: a}
spec:
  host: x.a.svc.cluster.local
  workloadSelector: {matchLabels: {}}
  exportTo: ["."]
`,
		want: []string{"t.yaml:10: DestinationRule a/d: spec.workloadSelector: workload selector specified without labels"},
	}, {
		name:   "namespace injection label",
		reason: "only istio-injection=enabled matches the webhook; another value disables injection (sidecar-injection-egress.md §1.2)",
		src:    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    istio-injection: \"true\"\n",
		want:   []string{`t.yaml:6: Namespace a: metadata.labels[istio-injection]: label istio-injection="true" is neither enabled nor disabled: no pod of the namespace is injected`},
	}, {
		name:   "pod inject label and annotation",
		reason: "injectRequired accepts true and false only, and applies the default otherwise (§1.3 step 3)",
		src: ns("a") + `apiVersion: apps/v1
kind: Deployment
metadata: {name: w, namespace: a}
spec:
  template:
    metadata:
      labels: {sidecar.istio.io/inject: "enabled"}
      annotations: {sidecar.istio.io/inject: "maybe"}
    spec: {containers: [{name: w, image: w}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: w-5c
  namespace: a
  labels: {sidecar.istio.io/inject: "enabled"}
  ownerReferences: [{kind: Deployment, name: w, controller: true}]
spec:
  template:
    metadata:
      labels: {sidecar.istio.io/inject: "enabled"}
    spec: {containers: [{name: w, image: w}]}
`,
		want: []string{
			`t.yaml:11: Deployment a/w: spec.template.metadata.labels[sidecar.istio.io/inject]: sidecar.istio.io/inject "enabled" is neither true nor false: Istio ignores it and applies the default policy`,
			`t.yaml:12: Deployment a/w: spec.template.metadata.annotations[sidecar.istio.io/inject]: sidecar.istio.io/inject "maybe" is neither true nor false: Istio ignores it and applies the default policy`,
		},
	}, {
		name:   "kinds not modelled and objects without namespace",
		reason: "nothing is skipped silently; a missing namespace is kubectl's default",
		src: ns("default") + `apiVersion: v1
kind: ConfigMap
metadata: {name: c1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c2, namespace: default}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: default}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s}
spec: {egress: [{hosts: ["./*"]}]}
`,
		want: []string{
			"t.yaml:5: skipped 2 ConfigMap objects (not modelled)",
			"t.yaml:9: skipped 1 VirtualService object (not modelled)",
			"t.yaml:17: skipped 1 Secret object (not modelled)",
			`t.yaml:21: 1 object without metadata.namespace put in namespace "default", as kubectl does`,
		},
	}, {
		name:   "service entry partial wildcard and service exportTo *",
		reason: "Istio warns about partial wildcards in ServiceEntry hosts; * in exportTo makes the other entries moot",
		src: ns("a") + `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se, namespace: a}
spec:
  hosts: ["*api.example.org"]
  addresses: [10.1.2.4]
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: a
  annotations: {networking.istio.io/exportTo: "*,b"}
spec: {ports: [{port: 80}]}
`,
		want: []string{
			`t.yaml:9: ServiceEntry a/se: spec.hosts[0]: partial wildcard "*api.example.org" not allowed`,
			`t.yaml:18: Service a/s: metadata.annotations[networking.istio.io/exportTo]: exportTo "*,b": * exports to every namespace, the other entries have no effect`,
		},
	}, {
		name:   "injector policy and selector",
		reason: "a policy other than enabled/disabled injects nothing; a selector metav1 rejects is skipped (injectRequired)",
		src: `apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  config: |
    policy: auto
    neverInjectSelector:
    - matchExpressions: [{key: app, operator: Equals, values: [x]}]
    - matchLabels: {app: batch}
`,
		want: []string{
			`t.yaml:6: ConfigMap istio-system/istio-sidecar-injector: data.config.policy: injector policy "auto" is neither enabled nor disabled: Istio injects no pod`,
			`t.yaml:8: ConfigMap istio-system/istio-sidecar-injector: data.config.neverInjectSelector[0].matchExpressions[0]: operator "Equals" is not In, NotIn, Exists or DoesNotExist: the injector ignores this selector`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mustParse(t, tt.src)
			if d := cmp.Diff(tt.want, warningTexts(m)); d != "" {
				t.Errorf("%s: warnings (-want +got):\n%s", tt.reason, d)
			}
		})
	}
}
