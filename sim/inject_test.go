package sim_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshreach/meshreach/mesh"
	"github.com/meshreach/meshreach/sim"
)

// injectCase is one row of TestInjected: a namespace, a pod in it, and the
// injector configuration.
type injectCase struct {
	name   string
	reason string
	ns     mesh.Namespace
	pod    mesh.Workload
	edit   func(*mesh.Config)
	want   bool
	// wantBy is the object the deciding (last) step names; zero when a
	// built-in default decided, then wantDefault is a substring of Default.
	wantBy      mesh.Ref
	wantDefault string
	// wantDetail is a substring of some step's Detail.
	wantDetail string
}

func nsRef(name string) mesh.Ref { return mesh.Ref{Kind: "Namespace", Name: name} }

func podRef(ns, name string) mesh.Ref { return mesh.Ref{Kind: "Deployment", Namespace: ns, Name: name} }

func pod(ns string, labels, annotations map[string]string) mesh.Workload {
	return mesh.Workload{ID: mesh.WorkloadID{Namespace: ns, Name: "app"}, Kind: "Deployment", Labels: labels, Annotations: annotations,
		Pos: mesh.Pos{File: "app.yaml", Line: 3}}
}

func namespace(name string, labels map[string]string) mesh.Namespace {
	return mesh.Namespace{Name: name, Labels: labels, Pos: mesh.Pos{File: "ns.yaml", Line: 1}}
}

var (
	enabled  = map[string]string{"istio-injection": "enabled"}
	injTrue  = map[string]string{"sidecar.istio.io/inject": "true"}
	injFalse = map[string]string{"sidecar.istio.io/inject": "false"}
)

func TestInjected(t *testing.T) {
	t.Parallel()
	canary := func(c *mesh.Config) { c.Injection.Revisions = []string{"default", "canary"} }
	tests := []injectCase{
		{name: "case1/enabled-namespace", reason: "§10 case 1: namespace. entry + policy enabled",
			ns: namespace("shop", enabled), pod: pod("shop", nil, nil), want: true,
			wantDefault: "injectRequired", wantDetail: "namespace label istio-injection=enabled"},
		{name: "case2/label-false", reason: "§10 case 2: objectSelector NotIn [false] stops the webhook call",
			ns: namespace("shop", enabled), pod: pod("shop", injFalse, nil), want: false,
			wantBy: podRef("shop", "app"), wantDetail: "sidecar.istio.io/inject=false"},
		{name: "case3/annotation-false", reason: "§10 case 3: webhook called, injectRequired reads the annotation when no label",
			ns: namespace("shop", enabled), pod: pod("shop", nil, injFalse), want: false,
			wantBy: podRef("shop", "app"), wantDetail: `annotation sidecar.istio.io/inject="false"`},
		{name: "case4/unlabeled-annotation-true", reason: "§10 case 4: annotations never select a webhook entry",
			ns: namespace("shop", nil), pod: pod("shop", nil, injTrue), want: false,
			wantBy: nsRef("shop"), wantDetail: "webhook selectors match labels only"},
		{name: "case4/unlabeled-label-true", reason: "§10 case 4: object. entry selects inject=true pods",
			ns: namespace("shop", nil), pod: pod("shop", injTrue, nil), want: true,
			wantBy: podRef("shop", "app"), wantDetail: "object.sidecar-injector"},
		{name: "case5/disabled-namespace-label-true", reason: "§10 case 5: istio-injection present but not enabled fails every entry",
			ns: namespace("shop", map[string]string{"istio-injection": "disabled"}), pod: pod("shop", injTrue, nil), want: false,
			wantBy: nsRef("shop"), wantDetail: `istio-injection="disabled"`},
		{name: "case6/wrong-value", reason: "§10 case 6: istio-injection=true is not enabled",
			ns: namespace("shop", map[string]string{"istio-injection": "true"}), pod: pod("shop", nil, nil), want: false,
			wantBy: nsRef("shop"), wantDetail: `istio-injection="true"`},
		{name: "case7/legacy-beats-rev", reason: "§10 case 7: istio-injection=enabled beats istio.io/rev; default revision injects",
			ns: namespace("shop", map[string]string{"istio-injection": "enabled", "istio.io/rev": "canary"}), pod: pod("shop", nil, nil),
			edit: canary, want: true, wantDefault: "injectRequired", wantDetail: `revision "default"`},
		{name: "case8/namespace-rev-beats-pod-rev", reason: "§10 case 8: rev.namespace. of canary; rev.object. needs no namespace rev",
			ns: namespace("shop", map[string]string{"istio.io/rev": "canary"}), pod: pod("shop", map[string]string{"istio.io/rev": "stable"}, nil),
			edit: func(c *mesh.Config) { c.Injection.Revisions = []string{"canary", "stable"} }, want: true,
			wantDefault: "injectRequired", wantDetail: `revision "canary"`},
		{name: "case8/rev-needs-no-legacy-label", reason: "§1.2 rev.namespace.: istio-injection must be absent, so disabled + istio.io/rev does not inject",
			ns: namespace("shop", map[string]string{"istio-injection": "disabled", "istio.io/rev": "canary"}), pod: pod("shop", nil, nil),
			edit: canary, want: false, wantBy: nsRef("shop"), wantDetail: `istio-injection="disabled"`},
		{name: "case8/missing-revision", reason: "§1.2: a namespace pointing to a revision with no webhook is not injected",
			ns: namespace("shop", map[string]string{"istio.io/rev": "canary"}), pod: pod("shop", nil, nil), want: false,
			wantBy: nsRef("shop"), wantDetail: "names no installed revision"},
		{name: "case8/pod-rev-unlabeled-namespace", reason: "§1.2 rev.object.: pod istio.io/rev selects its revision",
			ns: namespace("shop", nil), pod: pod("shop", map[string]string{"istio.io/rev": "canary"}, nil), edit: canary, want: true,
			wantDefault: "injectRequired", wantDetail: "rev.object."},
		{name: "case9/kube-system", reason: "§10 case 9: IgnoredNamespaces in injectRequired",
			ns: namespace("kube-system", enabled), pod: pod("kube-system", nil, nil), want: false,
			wantDefault: "IgnoredNamespaces"},
		{name: "case9/host-network", reason: "§10 case 9: hostNetwork pods are never injected",
			ns: namespace("shop", enabled), pod: func() mesh.Workload { w := pod("shop", injTrue, nil); w.HostNetwork = true; return w }(), want: false,
			wantBy: podRef("shop", "app"), wantDetail: "hostNetwork"},
		{name: "case10/policy-disabled", reason: "§10 case 10: policy disabled and no explicit value",
			ns: namespace("shop", enabled), pod: pod("shop", nil, nil), edit: func(c *mesh.Config) { c.Injection.Policy = "disabled" }, want: false,
			wantDefault: "injectRequired", wantDetail: `policy "disabled"`},
		{name: "case10/policy-disabled-label-true", reason: "§10 case 10: an explicit true overrides policy disabled",
			ns: namespace("shop", enabled), pod: pod("shop", injTrue, nil), edit: func(c *mesh.Config) { c.Injection.Policy = "disabled" }, want: true,
			wantBy: podRef("shop", "app")},
		{name: "case11/label-beats-annotation", reason: "§10 case 11: the label is preferred over the annotation",
			ns: namespace("shop", enabled), pod: pod("shop", injTrue, injFalse), want: true,
			wantBy: podRef("shop", "app"), wantDetail: "label wins over the annotation"},
		{name: "case12/never-beats-always", reason: "§10 case 12: neverInjectSelector is checked before alwaysInjectSelector",
			ns: namespace("shop", enabled), pod: pod("shop", map[string]string{"app": "x"}, nil), edit: neverAlways, want: false,
			wantDefault: "injectRequired", wantDetail: "neverInjectSelector[0]"},
		{name: "case12/label-beats-selectors", reason: "§10 case 12: an explicit label skips both selectors",
			ns: namespace("shop", enabled), pod: pod("shop", map[string]string{"app": "x", "sidecar.istio.io/inject": "true"}, nil), edit: neverAlways, want: true,
			wantBy: podRef("shop", "app")},
		{name: "case12/always-with-policy-disabled", reason: "§1.3 step 4: alwaysInjectSelector injects under policy disabled",
			ns: namespace("shop", enabled), pod: pod("shop", map[string]string{"tier": "web"}, nil),
			edit: func(c *mesh.Config) { neverAlways(c); c.Injection.Policy = "disabled" }, want: true,
			wantDefault: "injectRequired", wantDetail: "alwaysInjectSelector[1]"},
		{name: "case12/match-expressions", reason: "§1.3 step 4: matchExpressions NotIn matches pods without the key",
			ns: namespace("shop", enabled), pod: pod("shop", map[string]string{"role": "batch"}, nil),
			edit: func(c *mesh.Config) {
				c.Injection.NeverInjectSelector = []mesh.LabelSelector{{MatchExpressions: []mesh.LabelSelectorRequirement{
					{Key: "role", Operator: "Exists"}, {Key: "tier", Operator: "NotIn", Values: []string{"web"}}}}}
			}, want: false, wantDetail: "neverInjectSelector[0]"},
		{name: "case12/invalid-selector-skipped", reason: "§1.3 step 4: a selector Kubernetes rejects (In without values) is skipped",
			ns: namespace("shop", enabled), pod: pod("shop", map[string]string{"role": "batch"}, nil),
			edit: func(c *mesh.Config) {
				c.Injection.NeverInjectSelector = []mesh.LabelSelector{{MatchExpressions: []mesh.LabelSelectorRequirement{{Key: "role", Operator: "In"}}}}
			}, want: true, wantDetail: `policy "enabled"`},
		{name: "case12/empty-selector-skipped", reason: "§1.3 step 4: only non-empty selectors count",
			ns: namespace("shop", enabled), pod: pod("shop", nil, nil),
			edit: func(c *mesh.Config) { c.Injection.NeverInjectSelector = []mesh.LabelSelector{{}} }, want: true, wantDetail: `policy "enabled"`},
		{name: "case13/invalid-value", reason: "§10 case 13: inject=yes is invalid, the default applies",
			ns: namespace("shop", enabled), pod: pod("shop", map[string]string{"sidecar.istio.io/inject": "yes"}, nil), want: true,
			wantDefault: "injectRequired", wantDetail: `"yes" is neither`},
		{name: "case13/invalid-value-policy-disabled", reason: "§1.3 step 3: an invalid value falls back to policy disabled",
			ns: namespace("shop", enabled), pod: pod("shop", map[string]string{"sidecar.istio.io/inject": "yes"}, nil),
			edit: func(c *mesh.Config) { c.Injection.Policy = "disabled" }, want: false, wantDetail: `"yes" is neither`},
		{name: "illegal-policy-beats-label", reason: "inject.go injectRequired: an illegal autoInject value disables injection even for an explicit true",
			ns: namespace("shop", enabled), pod: pod("shop", injTrue, nil), edit: func(c *mesh.Config) { c.Injection.Policy = "off" }, want: false,
			wantDefault: "injectRequired", wantDetail: `policy "off"`},
		{name: "auto-entry", reason: "§1.2 auto.: enableNamespacesByDefault injects unlabeled namespaces",
			ns: namespace("shop", nil), pod: pod("shop", nil, nil), edit: func(c *mesh.Config) { c.Injection.EnableNamespacesByDefault = true }, want: true,
			wantDetail: "auto."},
		{name: "auto-entry/pod-label-opts-out", reason: "§1.2 auto.: requires the pod inject label to be absent",
			ns: namespace("shop", nil), pod: pod("shop", map[string]string{"sidecar.istio.io/inject": "yes"}, nil),
			edit: func(c *mesh.Config) { c.Injection.EnableNamespacesByDefault = true }, want: false, wantBy: podRef("shop", "app")},
		{name: "no-default-revision", reason: "§1.2: namespace. is installed by the default revision or tag only",
			ns: namespace("shop", enabled), pod: pod("shop", nil, nil), edit: func(c *mesh.Config) { c.Injection.Revisions = []string{"canary"} }, want: false,
			wantBy: nsRef("shop"), wantDetail: "no default revision"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b mesh.Builder
			cfg := mesh.DefaultConfig()
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			b.SetConfig(cfg)
			b.AddNamespace(tc.ns)
			b.AddWorkload(tc.pod)
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			got, steps, err := sim.New(m).Injected(tc.pod.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Injected = %v, want %v (%s)\n%s", got, tc.want, tc.reason, renderSteps(steps))
			}
			checkInjectionSteps(t, tc, steps)
		})
	}
}

func neverAlways(c *mesh.Config) {
	c.Injection.NeverInjectSelector = []mesh.LabelSelector{{MatchLabels: map[string]string{"app": "x"}}}
	c.Injection.AlwaysInjectSelector = []mesh.LabelSelector{{MatchLabels: map[string]string{"app": "x"}}, {MatchLabels: map[string]string{"tier": "web"}}}
}

func checkInjectionSteps(t *testing.T, tc injectCase, steps []sim.Step) {
	t.Helper()
	if len(steps) == 0 {
		t.Fatalf("no steps (%s)", tc.reason)
	}
	for _, s := range steps {
		if s.Stage != sim.StageInjection || s.Side != sim.Client || s.Subject != tc.pod.ID {
			t.Errorf("step %+v: want stage injection, side client, subject %s", s, tc.pod.ID)
		}
		if s.By.IsZero() == (s.Default == "") {
			t.Errorf("step %+v: exactly one of By and Default must be set", s)
		}
	}
	last := steps[len(steps)-1]
	if !tc.wantBy.IsZero() {
		if diff := cmp.Diff(tc.wantBy, last.By); diff != "" {
			t.Errorf("deciding step By (-want +got):\n%s\n%s", diff, renderSteps(steps))
		}
	}
	if tc.wantDefault != "" && !strings.Contains(last.Default, tc.wantDefault) {
		t.Errorf("deciding step Default = %q, want it to contain %q", last.Default, tc.wantDefault)
	}
	if tc.wantDetail != "" && !strings.Contains(renderSteps(steps), tc.wantDetail) {
		t.Errorf("steps do not mention %q:\n%s", tc.wantDetail, renderSteps(steps))
	}
}

func renderSteps(steps []sim.Step) string {
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestInjectedObservedWins(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	tests := []struct {
		name, reason string
		ns           mesh.Namespace
		observed     *bool
		want         bool
	}{
		{name: "observed-true-unlabeled", reason: "a live pod with istio-proxy has a sidecar whatever the namespace says now",
			ns: namespace("shop", nil), observed: &yes, want: true},
		{name: "observed-false-enabled", reason: "a pod created before the namespace was labeled keeps running without a sidecar",
			ns: namespace("shop", enabled), observed: &no, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b mesh.Builder
			b.AddNamespace(tc.ns)
			w := pod("shop", nil, nil)
			w.Observed = tc.observed
			b.AddWorkload(w)
			m, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			got, steps, err := sim.New(m).Injected(w.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Injected = %v, want %v (%s)", got, tc.want, tc.reason)
			}
			want := []sim.Step{{Stage: sim.StageInjection, Side: sim.Client, Subject: w.ID, By: w.Ref(), Pos: w.Pos}}
			if diff := cmp.Diff(want, steps, cmpIgnoreDetail); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if !strings.Contains(steps[0].Detail, "observed state wins") {
				t.Errorf("step detail %q does not say the observed state wins", steps[0].Detail)
			}
		})
	}
}

var cmpIgnoreDetail = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Detail" }, cmp.Ignore())

func TestInjectedUnknownWorkload(t *testing.T) {
	t.Parallel()
	m, err := new(mesh.Builder).Build()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sim.New(m).Injected(mesh.WorkloadID{Namespace: "a", Name: "b"}); err == nil {
		t.Error("Injected of an unknown workload: want an error")
	}
}
