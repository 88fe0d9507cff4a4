package mesh

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	meshconfig "istio.io/api/mesh/v1alpha1"
)

// The mesh configuration comes from the ConfigMap istio (or
// istio-<revision>), key "mesh"; the injector's from
// istio-sidecar-injector[-<revision>], keys "config" and "values". Both are
// YAML (or JSON) texts inside a string value, decoded here with positions
// mapped back into the file.

// meshConfigMap is a decoded mesh ConfigMap.
type meshConfigMap struct {
	ref      Ref
	pos      Pos
	revision string // "" for the ConfigMap named istio
	cfg      meshSettings
}

// meshSettings are the MeshConfig fields meshreach models, with Istio's
// defaults applied.
type meshSettings struct {
	rootNamespace   string
	outbound        OutboundMode
	autoMTLS        bool
	serviceExportTo []string
	drExportTo      []string
	trustDomain     string
	aliases         []string
}

// injectorSource is a sidecar injector ConfigMap, or a webhook naming an
// installed revision or tag.
type injectorSource struct {
	revision  string
	ref       Ref
	pos       Pos
	webhook   bool // only names a revision
	hasConfig bool // the ConfigMap had a "config" key
	policy    string
	hasPolicy bool
	never     []LabelSelector
	always    []LabelSelector
	nsDefault bool
}

var configMapKeys = keySet("data", "binaryData", "immutable")

// configMap decodes a ConfigMap: the mesh or injector configuration, or a
// ConfigMap that is not modelled.
func (d *decoder) configMap(o *obj, n *yaml.Node, top []pair, m *meta) {
	o.checkKeys(top, configMapKeys)
	var data []pair
	for _, p := range top {
		switch p.key {
		case "data":
			data = o.mapping(p.v, "data")
			for _, q := range data {
				o.str(q.v, "data["+q.key+"]")
			}
		case "binaryData":
			for _, q := range o.mapping(p.v, p.key) {
				o.str(q.v, "binaryData["+q.key+"]")
			}
		case "immutable":
			o.boolean(p.v, p.key)
		}
	}
	name := m.name
	switch {
	case name == "istio-sidecar-injector" || strings.HasPrefix(name, "istio-sidecar-injector-"):
		rev := strings.TrimPrefix(strings.TrimPrefix(name, "istio-sidecar-injector"), "-")
		if rev == "" {
			rev = "default"
		}
		d.injector(o, m, rev, data)
	case (name == "istio" || strings.HasPrefix(name, "istio-")) && hasKey(data, "mesh"):
		d.meshConfig(o, m, strings.TrimPrefix(strings.TrimPrefix(name, "istio"), "-"), data)
	default:
		d.skip("ConfigMap", m.pos)
	}
}

// embeddedDoc parses the YAML text in string node v and returns an obj
// whose positions point into the file. Its findings are moved to o by
// merge.
func (o *obj) embeddedDoc(v *yaml.Node, path string) (*obj, *yaml.Node) {
	v = deref(v)
	eo := &obj{doc: o.doc.embedded(v)}
	if v == nil || v.Kind != yaml.ScalarNode || kindOf(v) != kindString {
		return eo, nil
	}
	var root yaml.Node
	if err := parseYAML([]byte(v.Value), &root); err != nil {
		line, msg := syntaxError(err)
		eo.fail(&yaml.Node{Line: max(line, 1)}, path, fmt.Errorf("%w: %s", ErrSyntax, msg))
		return eo, nil
	}
	if len(root.Content) == 0 {
		return eo, nil
	}
	return eo, root.Content[0]
}

func (o *obj) merge(eo *obj) {
	o.errs = append(o.errs, eo.errs...)
	o.warns = append(o.warns, eo.warns...)
}

// meshConfig decodes the "mesh" key strictly through MeshConfig, so that a
// misspelt field is an error. istiod itself falls back to ignoring unknown
// fields (pkg/util/protomarshal ApplyJSON retries with AllowUnknownFields),
// which would leave a typo's intent silently unapplied.
func (d *decoder) meshConfig(o *obj, m *meta, revision string, data []pair) {
	p, _ := find(data, "mesh")
	eo, root := o.embeddedDoc(p.v, "data.mesh")
	defer o.merge(eo)
	if eo.failed() {
		return
	}
	w := &protoWalk{o: eo, nodes: map[string]*yaml.Node{}}
	var mc meshconfig.MeshConfig
	if root != nil {
		w.message(root, mc.ProtoReflect().Descriptor(), "data.mesh", 0)
		if !eo.failed() {
			eo.decodeProto(root, "data.mesh", &mc)
		}
	}
	if eo.failed() || o.failed() {
		return
	}
	d.st.meshCMs = append(d.st.meshCMs, &meshConfigMap{ref: o.ref, pos: m.pos, revision: revision, cfg: meshSettingsOf(&mc)})
}

// meshSettingsOf applies Istio's defaults (pkg/config/mesh/mesh.go
// DefaultMeshConfig, ApplyMeshConfig) to the modelled fields.
func meshSettingsOf(mc *meshconfig.MeshConfig) meshSettings {
	def := DefaultConfig()
	s := meshSettings{
		rootNamespace:   cmp.Or(mc.GetRootNamespace(), def.RootNamespace),
		trustDomain:     cmp.Or(mc.GetTrustDomain(), def.TrustDomain),
		serviceExportTo: def.DefaultServiceExportTo,
		drExportTo:      def.DefaultDestinationRuleExportTo,
		// enableAutoMtls is a BoolValue defaulting to true.
		autoMTLS: mc.GetEnableAutoMtls() == nil || mc.GetEnableAutoMtls().GetValue(),
		outbound: OutboundAllowAny,
	}
	// An empty list means public, as unset (push_context.go
	// initDefaultExportMaps).
	if l := mc.GetDefaultServiceExportTo(); len(l) > 0 {
		s.serviceExportTo = slices.Clone(l)
	}
	if l := mc.GetDefaultDestinationRuleExportTo(); len(l) > 0 {
		s.drExportTo = slices.Clone(l)
	}
	// Absent: the default ALLOW_ANY. Present, even as {}, replaces the
	// default message, and its zero mode is REGISTRY_ONLY
	// (mesh/v1alpha1/config.proto; sidecar-injection-egress.md §4 "Enum trap").
	if tp := mc.GetOutboundTrafficPolicy(); tp != nil {
		switch tp.GetMode() {
		case meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY:
			s.outbound = OutboundAllowAny
		case meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY_DYNAMIC_DNS:
			s.outbound = OutboundAllowAnyDynamicDNS
		default:
			s.outbound = OutboundRegistryOnly
		}
	}
	// ApplyMeshConfig keeps the aliases as a sorted set.
	if l := mc.GetTrustDomainAliases(); len(l) > 0 {
		s.aliases = slices.Compact(slices.Sorted(slices.Values(l)))
	}
	return s
}

var injectorConfigKeys = keySet("defaultTemplates", "templates", "template", "aliases", "injectedAnnotations")

// injector decodes istio-sidecar-injector[-<rev>]: "config" is the
// injector's Config (pkg/kube/inject/inject.go Config: policy,
// neverInjectSelector, alwaysInjectSelector…), "values" the Helm values as
// JSON, of which global.proxy.autoInject and
// sidecarInjectorWebhook.enableNamespacesByDefault are read.
func (d *decoder) injector(o *obj, m *meta, revision string, data []pair) {
	src := &injectorSource{revision: revision, ref: o.ref, pos: m.pos}
	if p, ok := find(data, "config"); ok {
		src.hasConfig = true
		eo, root := o.embeddedDoc(p.v, "data.config")
		for _, q := range eo.mapping(root, "data.config") {
			qp := join("data.config", q.key)
			switch q.key {
			case "policy":
				src.policy, src.hasPolicy = eo.str(q.v, qp)
			case "neverInjectSelector":
				src.never = eo.labelSelectors(q.v, qp)
			case "alwaysInjectSelector":
				src.always = eo.labelSelectors(q.v, qp)
			default:
				if !injectorConfigKeys[q.key] {
					eo.unknown(q, "data.config")
				}
			}
		}
		// injectRequired disables injection for every pod when the policy
		// is neither enabled nor disabled (pkg/kube/inject/inject.go).
		if !eo.failed() && src.policy != "enabled" && src.policy != "disabled" {
			eo.warn(orNode(lookup(root, "policy"), root), "data.config.policy",
				fmt.Errorf("injector policy %q is neither enabled nor disabled: Istio injects no pod", src.policy))
		}
		o.merge(eo)
	}
	if p, ok := find(data, "values"); ok {
		eo, root := o.embeddedDoc(p.v, "data.values")
		if proxy := lookup(lookup(root, "global"), "proxy"); proxy != nil && !src.hasConfig {
			if v := lookup(proxy, "autoInject"); v != nil {
				src.policy, src.hasPolicy = eo.str(v, "data.values.global.proxy.autoInject")
			}
		}
		if v := lookup(lookup(root, "sidecarInjectorWebhook"), "enableNamespacesByDefault"); v != nil {
			src.nsDefault, _ = eo.boolean(v, "data.values.sidecarInjectorWebhook.enableNamespacesByDefault")
		}
		o.merge(eo)
	}
	if o.failed() {
		return
	}
	d.st.injectors = append(d.st.injectors, src)
}

// labelSelectors decodes a list of metav1.LabelSelector. A selector that
// metav1.LabelSelectorAsSelector rejects is skipped by the injector with a
// log line (injectRequired), so it is a warning here and left out.
func (o *obj) labelSelectors(n *yaml.Node, path string) []LabelSelector {
	var out []LabelSelector
	for i, it := range o.list(n, path) {
		ip := index(path, i)
		var sel LabelSelector
		valid := true
		for _, p := range o.mapping(it, ip) {
			fp := join(ip, p.key)
			switch p.key {
			case "matchLabels":
				sel.MatchLabels = o.strMap(p.v, fp)
			case "matchExpressions":
				for j, e := range o.list(p.v, fp) {
					ep := index(fp, j)
					var r LabelSelectorRequirement
					for _, q := range o.mapping(e, ep) {
						qp := join(ep, q.key)
						switch q.key {
						case "key":
							r.Key, _ = o.str(q.v, qp)
						case "operator":
							r.Operator, _ = o.str(q.v, qp)
						case "values":
							r.Values = o.strList(q.v, qp)
						default:
							o.unknown(q, ep)
						}
					}
					if msg := requirementProblem(r); msg != "" {
						o.warn(deref(e), ep, fmt.Errorf("%s: the injector ignores this selector", msg))
						valid = false
					}
					sel.MatchExpressions = append(sel.MatchExpressions, r)
				}
			default:
				o.unknown(p, ip)
			}
		}
		if valid {
			out = append(out, sel)
		}
	}
	return out
}

// requirementProblem mirrors labels.NewRequirement's operator checks.
func requirementProblem(r LabelSelectorRequirement) string {
	switch r.Operator {
	case "In", "NotIn":
		if len(r.Values) == 0 {
			return fmt.Sprintf("operator %s needs values", r.Operator)
		}
	case "Exists", "DoesNotExist":
		if len(r.Values) != 0 {
			return fmt.Sprintf("operator %s takes no values", r.Operator)
		}
	default:
		return fmt.Sprintf("operator %q is not In, NotIn, Exists or DoesNotExist", r.Operator)
	}
	if r.Key == "" {
		return "empty key"
	}
	return ""
}

// applyConfig sets b's Config from the mesh and injector sources decoded
// since the last flush.
func (b *Builder) applyConfig(st *manifestState) {
	if len(st.meshCMs) == 0 && len(st.injectors) == 0 {
		return
	}
	cfg := b.Config()
	if len(st.meshCMs) > 0 {
		// The unrevisioned istio ConfigMap first, then istio-system's,
		// then by namespace and name.
		cms := slices.Clone(st.meshCMs)
		slices.SortStableFunc(cms, func(a, b *meshConfigMap) int {
			if c := cmpBool(a.revision == "", b.revision == ""); c != 0 {
				return c
			}
			if c := cmpBool(a.ref.Namespace == "istio-system", b.ref.Namespace == "istio-system"); c != 0 {
				return c
			}
			return cmp.Or(strings.Compare(a.ref.Namespace, b.ref.Namespace), strings.Compare(a.ref.Name, b.ref.Name))
		})
		c := cms[0]
		cfg.RootNamespace = c.cfg.rootNamespace
		cfg.Outbound = c.cfg.outbound
		cfg.EnableAutoMTLS = c.cfg.autoMTLS
		cfg.DefaultServiceExportTo = c.cfg.serviceExportTo
		cfg.DefaultDestinationRuleExportTo = c.cfg.drExportTo
		cfg.TrustDomain = c.cfg.trustDomain
		cfg.TrustDomainAliases = c.cfg.aliases
		cfg.Pos = c.pos
		for _, o := range cms[1:] {
			b.AddWarning(&Error{Pos: o.pos, Ref: o.ref, Err: fmt.Errorf("another mesh configuration is used: ConfigMap %s/%s (%s)", c.ref.Namespace, c.ref.Name, orUnknown(c.pos))})
		}
		st.meshCMs = nil
	}
	if len(st.injectors) > 0 {
		var revs, tags []string
		var cms []*injectorSource
		for _, s := range st.injectors {
			switch {
			case s.webhook && strings.HasPrefix(s.ref.Name, "istio-revision-tag-"):
				tags = append(tags, s.revision)
			default:
				revs = append(revs, s.revision)
				if !s.webhook {
					cms = append(cms, s)
				}
			}
		}
		if len(revs) == 0 {
			revs = cfg.Injection.Revisions
		}
		cfg.Injection.Revisions = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(revs), tags...))))
		if len(cms) > 0 {
			// The default revision's injector first, then by name.
			slices.SortStableFunc(cms, func(a, b *injectorSource) int {
				if c := cmpBool(a.revision == "default", b.revision == "default"); c != 0 {
					return c
				}
				return cmp.Or(strings.Compare(a.ref.Namespace, b.ref.Namespace), strings.Compare(a.ref.Name, b.ref.Name))
			})
			c := cms[0]
			// With a "config" key its policy is what istiod reads, even
			// when missing (""); the Helm value only feeds that template.
			if c.hasConfig || c.hasPolicy {
				cfg.Injection.Policy = c.policy
			}
			cfg.Injection.NeverInjectSelector = c.never
			cfg.Injection.AlwaysInjectSelector = c.always
			cfg.Injection.EnableNamespacesByDefault = c.nsDefault
			cfg.Injection.Pos = c.pos
		}
		st.injectors = nil
	}
	b.SetConfig(cfg)
}

// cmpBool orders true before false.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}
