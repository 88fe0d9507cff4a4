package mesh

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder decodes the documents of one file into a Builder.
type decoder struct {
	b       *Builder
	st      *manifestState
	file    string
	errs    ErrorList
	skipped bool // the last object was counted as not modelled
}

// typeMeta is the apiVersion and kind an item of a typed list (PodList…)
// inherits when it does not state its own.
type typeMeta struct{ apiVersion, kind string }

// kindDecoder decodes one modelled kind. top holds the object's top-level
// keys other than apiVersion, kind and metadata.
type kindDecoder func(d *decoder, o *obj, n *yaml.Node, top []pair, m *meta)

type kindInfo struct {
	versions      []string // accepted apiVersions; the first is suggested
	clusterScoped bool
	decode        kindDecoder
}

var istioNetworking = []string{"networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"}

// kinds are the modelled kinds. Everything else is counted and reported by
// one "skipped … (not modelled)" warning per kind.
var kinds = map[string]kindInfo{
	"Namespace":                    {versions: []string{"v1"}, clusterScoped: true, decode: (*decoder).namespace},
	"Pod":                          {versions: []string{"v1"}, decode: (*decoder).workload},
	"Deployment":                   {versions: []string{"apps/v1"}, decode: (*decoder).workload},
	"StatefulSet":                  {versions: []string{"apps/v1"}, decode: (*decoder).workload},
	"DaemonSet":                    {versions: []string{"apps/v1"}, decode: (*decoder).workload},
	"ReplicaSet":                   {versions: []string{"apps/v1"}, decode: (*decoder).workload},
	"Job":                          {versions: []string{"batch/v1"}, decode: (*decoder).workload},
	"CronJob":                      {versions: []string{"batch/v1"}, decode: (*decoder).workload},
	"Service":                      {versions: []string{"v1"}, decode: (*decoder).service},
	"ServiceAccount":               {versions: []string{"v1"}, decode: (*decoder).serviceAccount},
	"ConfigMap":                    {versions: []string{"v1"}, decode: (*decoder).configMap},
	"MutatingWebhookConfiguration": {versions: []string{"admissionregistration.k8s.io/v1"}, clusterScoped: true, decode: (*decoder).webhook},
	"Sidecar":                      {versions: istioNetworking, decode: (*decoder).istio},
	"DestinationRule":              {versions: istioNetworking, decode: (*decoder).istio},
	"ServiceEntry":                 {versions: istioNetworking, decode: (*decoder).istio},
	"PeerAuthentication":           {versions: []string{"security.istio.io/v1", "security.istio.io/v1beta1"}, decode: (*decoder).istio},
	"AuthorizationPolicy":          {versions: []string{"security.istio.io/v1", "security.istio.io/v1beta1"}, decode: (*decoder).istio},
}

func group(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// collect hands an object's findings to the decoder and the Builder.
func (d *decoder) collect(o *obj) {
	errs, warns := o.finish()
	d.errs = append(d.errs, errs...)
	for _, w := range warns {
		d.b.AddWarning(w)
	}
}

// object decodes one Kubernetes object (or List) node.
func (d *decoder) object(dc *doc, n *yaml.Node, def typeMeta, depth int) {
	o := &obj{doc: dc}
	defer d.collect(o)
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		o.fail(n, "", wantErr(n, "a Kubernetes object (a mapping)"))
		return
	}
	var top []pair
	var metaNode, metaKey *yaml.Node
	apiVersion, kind := def.apiVersion, def.kind
	for _, p := range o.mapping(n, "") {
		switch p.key {
		case "apiVersion":
			apiVersion, _ = o.str(p.v, p.key)
		case "kind":
			kind, _ = o.str(p.v, p.key)
		case "metadata":
			metaNode, metaKey = p.v, p.k
		default:
			top = append(top, p)
		}
	}
	if kind == "" {
		o.fail(n, "kind", ErrMissingField)
	}
	if apiVersion == "" {
		o.fail(n, "apiVersion", ErrMissingField)
	}
	if o.failed() {
		return
	}
	if kind == "List" || strings.HasSuffix(kind, "List") && hasKey(top, "items") {
		d.list(dc, o, apiVersion, kind, top, depth)
		return
	}
	info, ok := kinds[kind]
	if ok && !slices.Contains(info.versions, apiVersion) {
		if slices.ContainsFunc(info.versions, func(v string) bool { return group(v) == group(apiVersion) }) {
			o.ref = quietRef(kind, metaNode, info.clusterScoped)
			o.fail(lookup(n, "apiVersion"), "apiVersion", fmt.Errorf("%w %q for %s (want %s)", ErrInvalidValue, apiVersion, kind, orList(info.versions)))
			return
		}
		// The same kind name in another API group (a Knative Service…).
		d.skip(kind+"."+group(apiVersion), o.pos(n))
		return
	}
	if !ok {
		d.skip(kind, o.pos(n))
		return
	}
	m := o.meta(metaNode, "metadata")
	switch {
	case m.name == "":
		o.ref = Ref{Kind: kind}
		if !o.failed() {
			o.fail(orNode(metaKey, n), "metadata.name", ErrMissingField)
		}
		return
	case kind == "Namespace" && !isDNS1123Label(m.name):
		o.fail(lookup(metaNode, "name"), "metadata.name", fmt.Errorf("%w %q (want a lower-case RFC 1123 label)", ErrInvalidValue, m.name))
	case !isDNS1123Subdomain(m.name):
		o.fail(lookup(metaNode, "name"), "metadata.name", fmt.Errorf("%w %q (want a lower-case RFC 1123 subdomain)", ErrInvalidValue, m.name))
	}
	o.ref = Ref{Kind: kind, Name: m.name}
	defaulted := false
	switch {
	case info.clusterScoped:
		m.namespace = ""
	case m.namespace == "":
		m.namespace, defaulted = "default", true
	}
	o.ref.Namespace = m.namespace
	m.pos = o.pos(n)
	d.st.dirty = true
	d.skipped = false
	info.decode(d, o, n, top, &m)
	if defaulted && !d.skipped {
		d.st.noNS.add(m.pos)
	}
}

// list decodes the items of a List (kind: List from kubectl, or a typed
// PodList, ServiceList… whose items may leave out apiVersion and kind).
func (d *decoder) list(dc *doc, o *obj, apiVersion, kind string, top []pair, depth int) {
	var def typeMeta
	if kind != "List" {
		def = typeMeta{apiVersion: apiVersion, kind: strings.TrimSuffix(kind, "List")}
	}
	for _, p := range top {
		if p.key != "items" {
			continue // ListMeta and anything else a list carries is not modelled
		}
		if depth > 16 {
			o.fail(p.k, "items", fmt.Errorf("%w: lists nested too deeply", ErrInvalidValue))
			return
		}
		for _, it := range o.list(p.v, "items") {
			d.object(dc, it, def, depth+1)
		}
	}
}

func (d *decoder) skip(kind string, p Pos) {
	if d.st.skipped == nil {
		d.st.skipped = map[string]*tally{}
	}
	t := d.st.skipped[kind]
	if t == nil {
		t = &tally{}
		d.st.skipped[kind] = t
	}
	t.add(p)
	d.st.dirty = true
	d.skipped = true
}

// quietRef names an object from its metadata without checking it.
func quietRef(kind string, metaNode *yaml.Node, clusterScoped bool) Ref {
	r := Ref{Kind: kind}
	if n := deref(lookup(metaNode, "name")); n != nil && n.Kind == yaml.ScalarNode {
		r.Name = strings.Clone(n.Value)
	}
	if n := deref(lookup(metaNode, "namespace")); n != nil && n.Kind == yaml.ScalarNode && !clusterScoped {
		r.Namespace = strings.Clone(n.Value)
	}
	if r.Namespace == "" && !clusterScoped {
		r.Namespace = "default"
	}
	return r
}

func hasKey(ps []pair, key string) bool {
	return slices.ContainsFunc(ps, func(p pair) bool { return p.key == key })
}

// lookup returns the value of key in mapping n (nil when absent), without
// reporting anything.
func lookup(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k != nil && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func orNode(a, b *yaml.Node) *yaml.Node {
	if a = deref(a); a != nil {
		return a
	}
	return b
}

// meta is the modelled part of an ObjectMeta.
type meta struct {
	path                 string // "metadata", or a pod template's "spec.template.metadata"
	name, namespace, uid string
	labels, annotations  map[string]string
	created              time.Time
	owner                *ownerRef // the controller owner reference
	node                 *yaml.Node
	pos                  Pos
}

// ownerRef is a controller owner reference.
type ownerRef struct {
	kind, name, uid string
}

// objectMetaKeys are the ObjectMeta fields that are accepted and not
// modelled (k8s.io/apimachinery meta/v1 ObjectMeta).
var objectMetaKeys = keySet("generateName", "selfLink", "resourceVersion", "generation", "deletionTimestamp",
	"deletionGracePeriodSeconds", "finalizers", "managedFields")

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// meta decodes an ObjectMeta strictly: a misspelt key (`lables:`) is an
// error, because a label silently dropped changes which Sidecar or
// PeerAuthentication selects a pod.
func (o *obj) meta(n *yaml.Node, path string) meta {
	m := meta{node: deref(n), path: path}
	for _, p := range o.mapping(n, path) {
		fp := at{base: path, name: p.key}
		switch p.key {
		case "name":
			m.name, _ = o.strAt(p.v, fp)
		case "namespace":
			if s, ok := o.strAt(p.v, fp); ok {
				m.namespace = s
				if s != "" && !isDNS1123Label(s) {
					o.fail(p.v, fp.String(), fmt.Errorf("%w %q (want a lower-case RFC 1123 label)", ErrInvalidValue, s))
				}
			}
		case "uid":
			m.uid, _ = o.strAt(p.v, fp)
		case "labels":
			m.labels = o.strMap(p.v, fp.String())
		case "annotations":
			m.annotations = o.strMap(p.v, fp.String())
		case "creationTimestamp":
			m.created = o.timestamp(p.v, fp.String())
		case "ownerReferences":
			m.owner = o.owners(p.v, fp.String())
		default:
			if !objectMetaKeys[p.key] {
				o.unknown(p, path)
			}
		}
	}
	return m
}

// owners returns the controller among owner references (the one with
// controller: true, as metav1.GetControllerOf).
func (o *obj) owners(n *yaml.Node, path string) *ownerRef {
	var ctrl *ownerRef
	for i, it := range o.list(n, path) {
		ip := index(path, i)
		var r ownerRef
		isCtrl := false
		for _, p := range o.mapping(it, ip) {
			fp := at{base: ip, name: p.key}
			switch p.key {
			case "kind":
				r.kind, _ = o.strAt(p.v, fp)
			case "name":
				r.name, _ = o.strAt(p.v, fp)
			case "uid":
				r.uid, _ = o.strAt(p.v, fp)
			case "controller":
				isCtrl, _ = o.booleanAt(p.v, fp)
			case "apiVersion", "blockOwnerDeletion":
			default:
				o.unknown(p, ip)
			}
		}
		if isCtrl && ctrl == nil && r.kind != "" && r.name != "" {
			ctrl = &r
		}
	}
	return ctrl
}

// checkKeys reports top-level keys the kind does not have.
func (o *obj) checkKeys(top []pair, allowed map[string]bool) {
	for _, p := range top {
		if !allowed[p.key] {
			o.unknown(p, "")
		}
	}
}

func find(ps []pair, key string) (pair, bool) {
	for _, p := range ps {
		if p.key == key {
			return p, true
		}
	}
	return pair{}, false
}

var (
	specStatus  = keySet("spec", "status")
	saKeys      = keySet("secrets", "imagePullSecrets", "automountServiceAccountToken")
	webhookKeys = keySet("webhooks")
)

// namespace decodes a Namespace.
func (d *decoder) namespace(o *obj, n *yaml.Node, top []pair, m *meta) {
	o.checkKeys(top, specStatus)
	if p, ok := find(top, "spec"); ok {
		for _, q := range o.mapping(p.v, "spec") {
			if q.key != "finalizers" {
				o.unknown(q, "spec")
			}
		}
	}
	// The webhook's namespaceSelector matches istio-injection=enabled
	// only, and every other value present makes all entries fail
	// (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml;
	// sidecar-injection-egress.md §1.2): legal, but likely a mistake.
	if v, ok := m.labels[labelInjection]; ok && v != "enabled" && v != "disabled" {
		o.warn(labelNode(m.node, "labels", labelInjection), "metadata.labels["+labelInjection+"]",
			fmt.Errorf("label %s=%q is neither enabled nor disabled: no pod of the namespace is injected", labelInjection, v))
	}
	if o.failed() {
		return
	}
	d.b.AddNamespace(Namespace{Name: m.name, Labels: m.labels, Annotations: m.annotations, Pos: m.pos})
}

// labelNode finds the value node of a label or annotation for positions.
func labelNode(metaNode *yaml.Node, field, key string) *yaml.Node {
	if v := lookup(lookup(metaNode, field), key); v != nil {
		return v
	}
	return orNode(lookup(metaNode, field), metaNode)
}

func (d *decoder) serviceAccount(o *obj, n *yaml.Node, top []pair, m *meta) {
	o.checkKeys(top, saKeys) // accepted: nothing in it is modelled yet
}

// Well-known names.
const (
	labelInjection       = "istio-injection"
	labelSidecarInject   = "sidecar.istio.io/inject"
	annotSidecarStatus   = "sidecar.istio.io/status"
	annotAppMTLS         = "meshreach.io/app-mtls"
	annotExportTo        = "networking.istio.io/exportTo"
	labelPodTemplateHash = "pod-template-hash"
	proxyContainer       = "istio-proxy"
)

// serviceSpecKeys are the ServiceSpec fields that are accepted and not
// modelled (k8s.io/api core/v1 ServiceSpec).
var serviceSpecKeys = keySet("externalIPs", "sessionAffinity", "loadBalancerIP", "loadBalancerSourceRanges",
	"externalName", "externalTrafficPolicy", "healthCheckNodePort", "publishNotReadyAddresses",
	"sessionAffinityConfig", "ipFamilies", "ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass",
	"internalTrafficPolicy", "trafficDistribution", "type", "clusterIPs")

// service decodes a Service.
func (d *decoder) service(o *obj, n *yaml.Node, top []pair, m *meta) {
	o.checkKeys(top, specStatus)
	s := Service{Ref: o.ref, Annotations: m.annotations, Labels: m.labels, Pos: m.pos}
	if p, ok := find(top, "spec"); ok {
		for _, q := range o.mapping(p.v, "spec") {
			fp := at{base: "spec", name: q.key}
			switch q.key {
			case "selector":
				// An empty selector is no selector: "If empty or not
				// present, the service is assumed to have an external
				// process managing its endpoints" (core/v1 ServiceSpec).
				if sel := o.strMap(q.v, fp.String()); len(sel) > 0 {
					s.Selector = sel
				}
			case "clusterIP":
				ip, _ := o.strAt(q.v, fp)
				if ip == "None" {
					s.Headless = true
				} else {
					s.ClusterIP = ip
				}
			case "ports":
				s.Ports = o.servicePorts(q.v, fp.String())
			default:
				if !serviceSpecKeys[q.key] {
					o.unknown(q, "spec")
				}
			}
		}
	}
	if v, ok := m.annotations[annotExportTo]; ok && v != "" {
		s.ExportTo = o.serviceExportTo(v, labelNode(m.node, "annotations", annotExportTo))
	}
	if o.failed() {
		return
	}
	d.b.AddService(s)
}

// serviceExportTo splits the exportTo annotation as Istio does: on commas,
// each entry trimmed, duplicates collapsed
// (pilot/pkg/serviceregistry/kube/conversion.go ConvertService). Istio does
// not validate the annotation; `~` mixed with namespaces is inconsistent
// there (sidecar-injection-egress.md §3.3), so it is an error here, and `*`
// with other entries is public with the others ignored, so a warning.
func (o *obj) serviceExportTo(v string, node *yaml.Node) []string {
	path := "metadata.annotations[" + annotExportTo + "]"
	var out []string
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) > 1 && slices.Contains(out, "~") {
		o.fail(node, path, fmt.Errorf("%w %q: ~ (exported to no one) cannot be combined with other entries", ErrInvalidValue, v))
	}
	if len(out) > 1 && slices.Contains(out, "*") {
		o.warn(node, path, fmt.Errorf("exportTo %q: * exports to every namespace, the other entries have no effect", v))
	}
	return out
}

// servicePorts decodes Service.spec.ports with the API server's checks:
// port 1..65535, targetPort a port number or an IANA service name, names
// required and unique when there are several ports
// (k8s.io/kubernetes pkg/apis/core/validation ValidateService).
func (o *obj) servicePorts(n *yaml.Node, path string) []ServicePort {
	items := o.list(n, path)
	out := make([]ServicePort, 0, len(items))
	names := map[string]bool{}
	for i, it := range items {
		ip := index(path, i)
		sp := ServicePort{Protocol: "TCP"}
		hasPort := false
		for _, p := range o.mapping(it, ip) {
			fp := at{base: ip, name: p.key}
			switch p.key {
			case "name":
				sp.Name, _ = o.strAt(p.v, fp)
			case "port":
				v, ok := o.integerAt(p.v, fp, 1, 65535, "a port number 1..65535")
				sp.Port, hasPort = uint32(v), ok
			case "targetPort":
				sp.TargetPort, sp.TargetName = o.intOrNameAt(p.v, fp)
			case "protocol":
				sp.Protocol = o.protocolAt(p.v, fp)
			case "appProtocol":
				sp.AppProtocol, _ = o.strAt(p.v, fp)
			case "nodePort":
				o.integerAt(p.v, fp, 0, 65535, "a port number")
			default:
				o.unknown(p, ip)
			}
		}
		if !hasPort && !isNull(deref(it)) && deref(it).Kind == yaml.MappingNode && lookup(it, "port") == nil {
			o.fail(it, join(ip, "port"), ErrMissingField)
		}
		if len(items) > 1 {
			switch {
			case sp.Name == "":
				o.fail(it, join(ip, "name"), fmt.Errorf("%w (a Service with several ports names each)", ErrMissingField))
			case names[sp.Name]:
				o.fail(lookup(it, "name"), join(ip, "name"), fmt.Errorf("%w %q (port names must be unique)", ErrInvalidValue, sp.Name))
			}
			names[sp.Name] = true
		}
		out = append(out, sp)
	}
	return out
}

// intOrName decodes an IntOrString port: a number 1..65535 or an IANA
// service name (validation.IsValidPortName: at most 15 lower-case letters,
// digits and dashes, with a letter, no leading, trailing or double dash).
func (o *obj) intOrName(n *yaml.Node, path string) (uint32, string) {
	n = deref(n)
	if isNull(n) {
		return 0, ""
	}
	if n.Kind == yaml.ScalarNode && kindOf(n) == kindString {
		if !isPortName(n.Value) {
			o.fail(n, path, fmt.Errorf("%w %q (want a port number or an IANA port name)", ErrInvalidValue, n.Value))
		}
		return 0, o.keep(n.Value)
	}
	v, _ := o.integer(n, path, 1, 65535, "a port number 1..65535 or a port name")
	return uint32(v), ""
}

// intOrNameAt is intOrName building the path only for a problem.
func (o *obj) intOrNameAt(n *yaml.Node, a at) (uint32, string) {
	if v := deref(n); isNull(v) {
		return 0, ""
	} else if v.Kind == yaml.ScalarNode {
		switch kindOf(v) {
		case kindString:
			if isPortName(v.Value) {
				return 0, o.keep(v.Value)
			}
		case kindInt:
			if i, err := strconv.ParseInt(v.Value, 0, 64); err == nil && i >= 1 && i <= 65535 {
				return uint32(i), ""
			}
		}
	}
	return o.intOrName(n, a.String())
}

func isPortName(s string) bool {
	if len(s) == 0 || len(s) > 15 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9' || c == '-':
		default:
			return false
		}
	}
	return letter
}

// protocol decodes a Kubernetes port protocol (TCP by default).
func (o *obj) protocol(n *yaml.Node, path string) string {
	s, ok := o.str(n, path)
	if !ok {
		return "TCP"
	}
	switch s {
	case "TCP", "UDP", "SCTP":
		return s
	}
	o.fail(deref(n), path, fmt.Errorf("%w %q (want TCP, UDP or SCTP)", ErrInvalidValue, s))
	return s
}

// protocolAt is protocol building the path only for a problem.
func (o *obj) protocolAt(n *yaml.Node, a at) string {
	if v := deref(n); isNull(v) {
		return "TCP"
	} else if v.Kind == yaml.ScalarNode && kindOf(v) == kindString {
		switch v.Value {
		case "TCP", "UDP", "SCTP":
			return o.keep(v.Value)
		}
	}
	return o.protocol(n, a.String())
}

// podTemplate is the modelled part of a pod template (or of a Pod).
type podTemplate struct {
	labels, annotations map[string]string
	serviceAccount      string
	hostNetwork         bool
	ports               []ContainerPort
	appMTLS             bool
	proxy               bool // an istio-proxy container (or native sidecar)
	containers          int
	warns               []*Error // emitted for the template a workload keeps
}

// Per-kind spec keys that are accepted and not modelled
// (k8s.io/api apps/v1 and batch/v1 …Spec).
var workloadSpecKeys = map[string]map[string]bool{
	"Deployment": keySet("replicas", "selector", "strategy", "minReadySeconds", "revisionHistoryLimit", "paused",
		"progressDeadlineSeconds"),
	"StatefulSet": keySet("replicas", "selector", "volumeClaimTemplates", "serviceName", "podManagementPolicy",
		"updateStrategy", "revisionHistoryLimit", "minReadySeconds", "persistentVolumeClaimRetentionPolicy", "ordinals"),
	"DaemonSet":  keySet("selector", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"),
	"ReplicaSet": keySet("replicas", "minReadySeconds", "selector"),
	"Job": keySet("parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy", "successPolicy",
		"backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes", "selector", "manualSelector",
		"ttlSecondsAfterFinished", "completionMode", "suspend", "podReplacementPolicy", "managedBy", "scheduling"),
	"CronJob": keySet("schedule", "timeZone", "startingDeadlineSeconds", "concurrencyPolicy", "suspend",
		"successfulJobsHistoryLimit", "failedJobsHistoryLimit"),
}

// podSpecKeys are the PodSpec fields accepted and not modelled
// (k8s.io/api core/v1 PodSpec, up to the 1.36 development branch).
var podSpecKeys = keySet("volumes", "initContainers", "ephemeralContainers", "restartPolicy",
	"terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy", "nodeSelector",
	"automountServiceAccountToken", "nodeName", "hostPID", "hostIPC", "shareProcessNamespace", "securityContext",
	"imagePullSecrets", "hostname", "subdomain", "affinity", "schedulerName", "tolerations", "hostAliases",
	"priorityClassName", "priority", "dnsConfig", "readinessGates", "runtimeClassName", "enableServiceLinks",
	"preemptionPolicy", "overhead", "topologySpreadConstraints", "setHostnameAsFQDN", "os", "hostUsers",
	"schedulingGates", "resourceClaims", "resources", "hostnameOverride", "schedulingGroup", "evictionResponders")

// containerKeys are the Container fields accepted and not modelled.
var containerKeys = keySet("image", "command", "args", "workingDir", "envFrom", "env", "resources", "resizePolicy",
	"restartPolicy", "restartPolicyRules", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe",
	"startupProbe", "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
	"securityContext", "stdin", "stdinOnce", "tty")

// workload decodes Pods and the controllers that hold a pod template. The
// result waits in the manifest state until Build folds it into its owner.
func (d *decoder) workload(o *obj, n *yaml.Node, top []pair, m *meta) {
	o.checkKeys(top, specStatus)
	w := &rawWorkload{ref: o.ref, uid: m.uid, owner: m.owner, pos: m.pos, hash: m.labels[labelPodTemplateHash]}
	spec, hasSpec := find(top, "spec")
	if o.ref.Kind == "Pod" {
		w.tmpl = o.podSpec(spec.v, "spec", m)
		if p, ok := find(top, "status"); ok {
			w.running, w.ip = o.podStatus(p.v)
		}
	} else if hasSpec {
		w.tmpl = o.controllerSpec(o.ref.Kind, spec.v, "spec")
	}
	if !hasSpec && o.ref.Kind != "Pod" {
		o.fail(n, "spec.template", ErrMissingField)
	}
	if o.failed() {
		return
	}
	d.st.workloads = append(d.st.workloads, w)
}

// controllerSpec decodes a Deployment/StatefulSet/DaemonSet/ReplicaSet/Job
// spec, or a CronJob's (whose pod template is spec.jobTemplate.spec.template).
func (o *obj) controllerSpec(kind string, n *yaml.Node, path string) podTemplate {
	var t podTemplate
	found := false
	for _, p := range o.mapping(n, path) {
		switch {
		case p.key == "template" && kind != "CronJob":
			t, found = o.templateSpec(p.v, join(path, p.key)), true
		case p.key == "jobTemplate" && kind == "CronJob":
			fp := join(path, p.key)
			for _, q := range o.mapping(p.v, fp) {
				qp := join(fp, q.key)
				switch q.key {
				case "metadata":
					o.meta(q.v, qp)
				case "spec":
					t, found = o.controllerSpec("Job", q.v, qp), true
				default:
					o.unknown(q, fp)
				}
			}
		default:
			if !workloadSpecKeys[kind][p.key] {
				o.unknown(p, path)
			}
		}
	}
	if !found && deref(n) != nil && deref(n).Kind == yaml.MappingNode {
		field := "template"
		if kind == "CronJob" {
			field = "jobTemplate"
		}
		o.fail(n, join(path, field), ErrMissingField)
	}
	return t
}

// templateSpec decodes a PodTemplateSpec.
func (o *obj) templateSpec(n *yaml.Node, path string) podTemplate {
	m := meta{path: join(path, "metadata")}
	var spec *yaml.Node
	for _, p := range o.mapping(n, path) {
		switch p.key {
		case "metadata":
			m = o.meta(p.v, m.path)
		case "spec":
			spec = p.v
		default:
			o.unknown(p, path)
		}
	}
	return o.podSpec(spec, join(path, "spec"), &m)
}

// podSpec decodes a PodSpec; m holds the pod's (or template's) metadata.
func (o *obj) podSpec(n *yaml.Node, path string, m *meta) podTemplate {
	t := podTemplate{labels: m.labels, annotations: m.annotations}
	for _, p := range o.mapping(n, path) {
		fp := at{base: path, name: p.key}
		switch p.key {
		case "serviceAccountName":
			if s, ok := o.strAt(p.v, fp); ok && s != "" {
				t.serviceAccount = s
			}
		case "serviceAccount": // deprecated alias, used when the name is unset
			if s, ok := o.strAt(p.v, fp); ok && t.serviceAccount == "" {
				t.serviceAccount = s
			}
		case "hostNetwork":
			t.hostNetwork, _ = o.booleanAt(p.v, fp)
		case "containers":
			fp := fp.String()
			for i, c := range o.list(p.v, fp) {
				name, ports := o.container(c, index(fp, i))
				t.containers++
				if name == proxyContainer {
					t.proxy = true
					continue // the injected proxy's ports are not the app's
				}
				t.ports = append(t.ports, ports...)
			}
		case "initContainers":
			// Native sidecars (Istio's ENABLE_NATIVE_SIDECARS) run
			// istio-proxy as a restartable init container.
			fp := fp.String()
			for i, c := range o.list(p.v, fp) {
				if name, _ := o.container(c, index(fp, i)); name == proxyContainer {
					t.proxy = true
				}
			}
		default:
			if !podSpecKeys[p.key] {
				o.unknown(p, path)
			}
		}
	}
	o.templateAnnotations(&t, m)
	return t
}

// templateAnnotations reads the pod annotations and labels meshreach
// interprets.
func (o *obj) templateAnnotations(t *podTemplate, m *meta) {
	if v, ok := m.annotations[annotAppMTLS]; ok {
		switch v {
		case "true":
			t.appMTLS = true
		case "false":
		default:
			o.fail(labelNode(m.node, "annotations", annotAppMTLS), m.path+".annotations["+annotAppMTLS+"]",
				fmt.Errorf("%w %q (want true or false)", ErrInvalidValue, v))
		}
	}
	// injectRequired reads "true" and "false" only and falls back to the
	// default policy for anything else, with a warning
	// (pkg/kube/inject/inject.go injectRequired; sidecar-injection-egress.md §1.3).
	for _, f := range []struct {
		field string
		vals  map[string]string
	}{{"labels", m.labels}, {"annotations", m.annotations}} {
		if v, ok := f.vals[labelSidecarInject]; ok && v != "true" && v != "false" {
			t.warns = append(t.warns, &Error{Pos: o.pos(labelNode(m.node, f.field, labelSidecarInject)),
				Path: m.path + "." + f.field + "[" + labelSidecarInject + "]",
				Err:  fmt.Errorf("%s %q is neither true nor false: Istio ignores it and applies the default policy", labelSidecarInject, v)})
		}
	}
}

// container decodes a Container; it returns the name and ports.
func (o *obj) container(n *yaml.Node, path string) (string, []ContainerPort) {
	var name string
	var ports []ContainerPort
	for _, p := range o.mapping(n, path) {
		fp := at{base: path, name: p.key}
		switch p.key {
		case "name":
			name, _ = o.strAt(p.v, fp)
		case "ports":
			fp := fp.String()
			for i, it := range o.list(p.v, fp) {
				ip := index(fp, i)
				cp := ContainerPort{Protocol: "TCP"}
				for _, q := range o.mapping(it, ip) {
					qp := at{base: ip, name: q.key}
					switch q.key {
					case "name":
						cp.Name, _ = o.strAt(q.v, qp)
						if cp.Name != "" && !isPortName(cp.Name) {
							o.fail(deref(q.v), qp.String(), fmt.Errorf("%w %q (want an IANA port name)", ErrInvalidValue, cp.Name))
						}
					case "containerPort":
						v, _ := o.integerAt(q.v, qp, 1, 65535, "a port number 1..65535")
						cp.Number = uint32(v)
					case "protocol":
						cp.Protocol = o.protocolAt(q.v, qp)
					case "hostPort":
						o.integerAt(q.v, qp, 0, 65535, "a port number")
					case "hostIP":
						o.strAt(q.v, qp)
					default:
						o.unknown(q, ip)
					}
				}
				if cp.Number == 0 && lookup(it, "containerPort") == nil && deref(it) != nil && deref(it).Kind == yaml.MappingNode {
					o.fail(it, join(ip, "containerPort"), ErrMissingField)
				}
				ports = append(ports, cp)
			}
		default:
			if !containerKeys[p.key] {
				o.unknown(p, path)
			}
		}
	}
	return name, ports
}

// podStatus reads the phase and IP of a live pod; the rest of the status
// is not checked.
func (o *obj) podStatus(n *yaml.Node) (running bool, ip string) {
	for _, p := range o.mapping(n, "status") {
		switch p.key {
		case "phase":
			s, _ := o.str(p.v, "status.phase")
			running = s == "Running"
		case "podIP":
			ip, _ = o.str(p.v, "status.podIP")
		}
	}
	return running, ip
}

// webhook notes an installed revision tag from a MutatingWebhookConfiguration
// named istio-revision-tag-<tag> (istioctl tag set), or a revision from the
// injector's own webhook istio-sidecar-injector[-<revision>].
func (d *decoder) webhook(o *obj, n *yaml.Node, top []pair, m *meta) {
	o.checkKeys(top, webhookKeys)
	var rev string
	switch {
	case strings.HasPrefix(m.name, "istio-revision-tag-"):
		rev = strings.TrimPrefix(m.name, "istio-revision-tag-")
	case m.name == "istio-sidecar-injector":
		rev = "default"
	case strings.HasPrefix(m.name, "istio-sidecar-injector-"):
		rev = strings.TrimPrefix(m.name, "istio-sidecar-injector-")
	default:
		d.skip("MutatingWebhookConfiguration", m.pos)
		return
	}
	if o.failed() || rev == "" {
		return
	}
	d.st.injectors = append(d.st.injectors, &injectorSource{revision: rev, ref: o.ref, pos: m.pos, webhook: true})
}
