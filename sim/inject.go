package sim

// Sidecar injection (T1): which MutatingWebhookConfiguration entry, if any,
// sends the pod to istiod, then istiod's own policy check. See
// ../shared/semantics/sidecar-injection-egress.md §1 and table T1.

import (
	"fmt"
	"slices"

	"github.com/meshreach/meshreach/mesh"
)

// Label and annotation keys the injector reads.
const (
	labelInjection   = "istio-injection"         // namespace label of the default revision
	labelRev         = "istio.io/rev"            // namespace or pod label naming a revision or tag
	keySidecarInject = "sidecar.istio.io/inject" // pod label (current API) or annotation (deprecated)
	defaultRevision  = "default"
)

// ignoredNamespaces are never injected, whatever their labels
// (pkg/kube/inject/initializer.go IgnoredNamespaces, checked by
// pkg/kube/inject/inject.go injectRequired). The webhook's auto. entry
// excludes the same names (istio-discovery templates/mutatingwebhook.yaml).
var ignoredNamespaces = []string{"kube-system", "kube-public", "kube-node-lease", "local-path-storage"}

const webhookTemplate = "istio-discovery templates/mutatingwebhook.yaml"

// webhookMatch is the outcome of the API server's webhook selection.
type webhookMatch struct {
	ok     bool
	by     mesh.Ref
	pos    mesh.Pos
	def    string // set when no object decided
	detail string
}

// injection decides whether w runs a sidecar (T1; an Observed value from a
// live dump wins). Steps have Stage StageInjection, Side Client and Subject
// w.ID; callers re-tag Side for servers.
func (e *engine) injection(w *mesh.Workload) (bool, []Step) {
	step := func(by mesh.Ref, pos mesh.Pos, def, detail string) Step {
		s := Step{Stage: StageInjection, Side: Client, Subject: w.ID, Detail: detail}
		if by.IsZero() {
			s.Default = def
		} else {
			s.By, s.Pos = by, pos
		}
		return s
	}
	// A running pod already shows whether it has a sidecar; injection
	// happened (or not) at its creation and is never redone (the webhook
	// only hooks CREATE of pods, mutatingwebhook.yaml rules), so what was
	// observed wins over what the rules would decide today.
	if w.Observed != nil {
		verb := "has no sidecar"
		if *w.Observed {
			verb = "has a sidecar"
		}
		return *w.Observed, []Step{step(w.Ref(), w.Pos, "",
			"the live pod "+verb+" (istio-proxy container or sidecar.istio.io/status): observed state wins over the injection rules")}
	}

	wh := e.webhook(w)
	if !wh.ok {
		return false, []Step{step(wh.by, wh.pos, wh.def, wh.detail)}
	}
	first := step(wh.by, wh.pos, wh.def, wh.detail)
	ok, by, pos, def, detail := e.injectRequired(w)
	return ok, []Step{first, step(by, pos, def, detail)}
}

// revisions returns the installed injector revisions and tags; an empty
// list is the documented default, the unrevisioned install.
func (e *engine) revisions() []string {
	if len(e.cfg.Injection.Revisions) == 0 {
		return []string{defaultRevision}
	}
	return e.cfg.Injection.Revisions
}

// webhook decides gate 1 (§1.1, §1.2): does any entry of any installed
// injector's MutatingWebhookConfiguration select the pod. Selectors see
// labels only, so annotations never matter here.
func (e *engine) webhook(w *mesh.Workload) webhookMatch {
	nsName := w.ID.Namespace
	var nsLabels map[string]string
	nsRef := mesh.Ref{Kind: "Namespace", Name: nsName}
	var nsPos mesh.Pos
	if ns := e.ns[nsName]; ns != nil {
		nsLabels, nsPos = ns.Labels, ns.Pos
	}
	nsInj, hasNSInj := nsLabels[labelInjection]
	nsRev, hasNSRev := nsLabels[labelRev]
	podInj, hasPodInj := w.Labels[keySidecarInject]
	podRev, hasPodRev := w.Labels[labelRev]
	// objectSelector "sidecar.istio.io/inject NotIn [false]": Kubernetes
	// NotIn also matches a pod without the key.
	notDisabled := podInj != "false"
	revs := e.revisions()
	installed := func(r string) bool { return slices.Contains(revs, r) }
	hasDefault := installed(defaultRevision)
	wref, wpos := w.Ref(), w.Pos

	match := func(entry, rev string, by mesh.Ref, pos mesh.Pos, def, why string) webhookMatch {
		return webhookMatch{ok: true, by: by, pos: pos, def: def,
			detail: fmt.Sprintf("webhook entry %ssidecar-injector.istio.io of revision %q selects the pod: %s", entry, rev, why)}
	}
	fail := func(by mesh.Ref, pos mesh.Pos, def, why string) webhookMatch {
		return webhookMatch{by: by, pos: pos, def: def, detail: "no injector webhook entry selects the pod, so istiod never sees it: " + why}
	}

	// The entries below are those of mutatingwebhook.yaml, in the order
	// they are declared. Any match sends the pod to istiod; the API server
	// calls at most one of them for a given pod because their selectors
	// are disjoint.
	switch {
	// namespace. (default revision or "default" tag only): namespace label
	// istio-injection In [enabled], pod inject label NotIn [false]. It is
	// the legacy selector, which the template says takes precedence over
	// istio.io/rev ("if both revision and legacy selector, we give
	// precedence to the legacy one").
	case nsInj == "enabled" && hasDefault && notDisabled:
		why := "namespace label istio-injection=enabled"
		if hasNSRev {
			why += fmt.Sprintf(" (it beats the namespace's istio.io/rev=%s, whose entries require istio-injection to be absent)", nsRev)
		}
		if hasPodRev {
			why += fmt.Sprintf("; the pod's istio.io/rev=%s label is not consulted", podRev)
		}
		return match("namespace.", defaultRevision, nsRef, nsPos, "", why)
	// rev.namespace. (every revision R): namespace istio.io/rev In [R] and
	// istio-injection DoesNotExist; pod inject label NotIn [false].
	case !hasNSInj && hasNSRev && installed(nsRev) && notDisabled:
		why := fmt.Sprintf("namespace label istio.io/rev=%s", nsRev)
		if hasPodRev && podRev != nsRev {
			why += fmt.Sprintf("; the pod's istio.io/rev=%s is ignored (rev.object. requires the namespace to have no istio.io/rev)", podRev)
		}
		return match("rev.namespace.", nsRev, nsRef, nsPos, "", why)
	// rev.object. (every revision R): namespace has neither label; pod
	// istio.io/rev In [R] and inject label NotIn [false].
	case !hasNSInj && !hasNSRev && hasPodRev && installed(podRev) && notDisabled:
		return match("rev.object.", podRev, wref, wpos, "", fmt.Sprintf("pod label istio.io/rev=%s in a namespace without injection labels", podRev))
	// object. (default revision only): namespace has neither label; pod
	// inject label In [true] and no istio.io/rev label.
	case !hasNSInj && !hasNSRev && hasDefault && podInj == "true" && !hasPodRev:
		return match("object.", defaultRevision, wref, wpos, "", "pod label sidecar.istio.io/inject=true in a namespace without injection labels")
	// auto. (default revision, only with enableNamespacesByDefault):
	// namespace has neither label and is not a system namespace; pod has
	// neither the inject nor the istio.io/rev label.
	case !hasNSInj && !hasNSRev && hasDefault && e.cfg.Injection.EnableNamespacesByDefault &&
		!slices.Contains(ignoredNamespaces, nsName) && !hasPodInj && !hasPodRev:
		return match("auto.", defaultRevision, mesh.Ref{}, mesh.Pos{},
			"sidecarInjectorWebhook.enableNamespacesByDefault=true adds the auto. entry ("+webhookTemplate+")",
			"the namespace has no injection label and enableNamespacesByDefault is on")
	}

	// No entry matched: name the object that stopped it.
	switch {
	case hasNSInj && nsInj != "enabled":
		return fail(nsRef, nsPos, "", fmt.Sprintf("namespace label istio-injection=%q: only \"enabled\" selects the injector, and every other entry requires the label to be absent", nsInj))
	case hasNSInj && !hasDefault:
		return fail(nsRef, nsPos, "", fmt.Sprintf("namespace label istio-injection=enabled, but no default revision or \"default\" tag is installed (installed: %v)", revs))
	case hasNSInj || (hasNSRev && installed(nsRev)):
		return fail(wref, wpos, "", "pod label sidecar.istio.io/inject=false (objectSelector NotIn [false])")
	case hasNSRev:
		return fail(nsRef, nsPos, "", fmt.Sprintf("namespace label istio.io/rev=%s names no installed revision or tag (installed: %v)", nsRev, revs))
	case hasPodRev && !installed(podRev):
		return fail(wref, wpos, "", fmt.Sprintf("pod label istio.io/rev=%s names no installed revision or tag (installed: %v)", podRev, revs))
	case hasPodRev || podInj == "false":
		return fail(wref, wpos, "", "pod label sidecar.istio.io/inject=false (objectSelector NotIn [false])")
	case podInj == "true":
		return fail(nsRef, nsPos, "", "pod label sidecar.istio.io/inject=true, but no default revision or \"default\" tag is installed to serve the object. entry")
	case hasPodInj:
		return fail(wref, wpos, "", fmt.Sprintf("pod label sidecar.istio.io/inject=%q: only \"true\" selects the object. entry in a namespace without injection labels", podInj))
	}
	why := "the namespace has neither istio-injection=enabled nor istio.io/rev, and the pod has no sidecar.istio.io/inject=true or istio.io/rev label"
	if a, ok := w.Annotations[keySidecarInject]; ok {
		why += fmt.Sprintf("; the pod annotation sidecar.istio.io/inject=%q cannot help, webhook selectors match labels only", a)
	}
	if e.cfg.Injection.EnableNamespacesByDefault && slices.Contains(ignoredNamespaces, nsName) {
		why += "; enableNamespacesByDefault excludes system namespaces"
	}
	return fail(nsRef, nsPos, "", why)
}

// injectRequired is istiod's policy check once the webhook called it
// (pkg/kube/inject/inject.go injectRequired; §1.3).
func (e *engine) injectRequired(w *mesh.Workload) (ok bool, by mesh.Ref, pos mesh.Pos, def, detail string) {
	const src = "pkg/kube/inject/inject.go injectRequired"
	wref, wpos := w.Ref(), w.Pos
	// 1. hostNetwork pods are never injected: iptables would change the
	// node's routing.
	if w.HostNetwork {
		return false, wref, wpos, "", "hostNetwork: true: the injector never injects host-network pods"
	}
	// 2. System namespaces are skipped whatever their labels.
	if slices.Contains(ignoredNamespaces, w.ID.Namespace) {
		return false, mesh.Ref{}, mesh.Pos{}, "system namespaces are never injected (pkg/kube/inject/initializer.go IgnoredNamespaces, " + src + ")",
			fmt.Sprintf("namespace %s is a Kubernetes system namespace", w.ID.Namespace)
	}
	// 3. The pod label sidecar.istio.io/inject, if the key is present,
	// else the (deprecated) annotation of the same name: "The label is the
	// new API; if both are present we prefer the label". Only "true" and
	// "false" are accepted; anything else falls back to the default.
	value, where := w.Annotations[keySidecarInject], "annotation"
	if v, present := w.Labels[keySidecarInject]; present {
		value, where = v, "label"
	}
	useDefault, inject := false, false
	var note string
	switch value {
	case "true":
		inject = true
	case "false":
	case "":
		useDefault = true
	default:
		useDefault = true
		note = fmt.Sprintf("pod %s sidecar.istio.io/inject=%q is neither \"true\" nor \"false\", so the default applies; ", where, value)
	}
	var why string
	if !useDefault {
		why = fmt.Sprintf("pod %s sidecar.istio.io/inject=%q", where, value)
		if where == "label" {
			if a, ok := w.Annotations[keySidecarInject]; ok && a != value {
				why += fmt.Sprintf(" (the label wins over the annotation %q)", a)
			}
		}
	}
	// 4. Only when the default applies: the first non-empty
	// neverInjectSelector matching the pod's labels disables injection,
	// else the first non-empty alwaysInjectSelector enables it.
	bySelector := false
	for _, list := range []struct {
		name   string
		sels   []mesh.LabelSelector
		inject bool
	}{{"neverInjectSelector", e.cfg.Injection.NeverInjectSelector, false}, {"alwaysInjectSelector", e.cfg.Injection.AlwaysInjectSelector, true}} {
		if !useDefault {
			break
		}
		for i, sel := range list.sels {
			if m, valid := selectorMatches(sel, w.Labels); valid && m {
				useDefault, inject, bySelector = false, list.inject, true
				why = fmt.Sprintf("%sthe pod's labels match %s[%d] of the injector configuration", note, list.name, i)
				break
			}
		}
	}
	// 5. The policy (values.global.proxy.autoInject). An illegal value
	// disables injection outright, even for an explicit "true" ("Illegal
	// value for autoInject … Auto injection disabled!").
	policy := e.cfg.Injection.Policy
	if policy == "" {
		policy = "enabled" // mesh.Injection documents "enabled" as the default
	}
	injDef := "injector configuration (" + src + ")"
	switch {
	case policy != "enabled" && policy != "disabled":
		return false, mesh.Ref{}, mesh.Pos{}, injDef,
			fmt.Sprintf("injection policy %q is neither \"enabled\" nor \"disabled\": istiod disables injection for every pod", policy)
	case useDefault:
		return policy == "enabled", mesh.Ref{}, mesh.Pos{}, injDef,
			fmt.Sprintf("%sinjection policy %q decides", note, policy)
	}
	if inject {
		why += ": inject"
	} else {
		why += ": do not inject"
	}
	if bySelector {
		return inject, mesh.Ref{}, mesh.Pos{}, injDef, why
	}
	return inject, wref, wpos, "", why
}

// selectorMatches evaluates a Kubernetes label selector the way
// metav1.LabelSelectorAsSelector + Matches do, as injectRequired uses them
// for never/alwaysInjectSelector. An empty selector matches nothing here
// (injectRequired skips selector.Empty()). valid is false for a selector
// Kubernetes refuses to convert (unknown operator, In/NotIn without values,
// Exists/DoesNotExist with values); injectRequired logs and skips those.
func selectorMatches(sel mesh.LabelSelector, labels map[string]string) (match, valid bool) {
	if len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		return false, true
	}
	for _, r := range sel.MatchExpressions {
		switch r.Operator {
		case "In", "NotIn":
			if len(r.Values) == 0 {
				return false, false
			}
		case "Exists", "DoesNotExist":
			if len(r.Values) > 0 {
				return false, false
			}
		default:
			return false, false
		}
	}
	if !subsetOf(sel.MatchLabels, labels) {
		return false, true
	}
	for _, r := range sel.MatchExpressions {
		v, has := labels[r.Key]
		var ok bool
		switch r.Operator {
		case "In":
			ok = has && slices.Contains(r.Values, v)
		case "NotIn":
			ok = !has || !slices.Contains(r.Values, v)
		case "Exists":
			ok = has
		case "DoesNotExist":
			ok = !has
		}
		if !ok {
			return false, true
		}
	}
	return true, true
}
