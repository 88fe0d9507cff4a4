package mesh

import (
	"fmt"
	"strconv"
	"time"
)

// Pos is where an object is declared. Line and Doc are 1-based; zero means
// unknown. The zero Pos means "not from a manifest" (built in code, or an Istio
// default).
type Pos struct {
	File string // as given to the loader; "" when unknown
	Doc  int    // 1-based index of the YAML document in File; 0 = unknown
	Line int    // 1-based line in File; 0 = unknown
}

// String renders the position as "file:line", "file (doc N)" or "file", and
// "" for the zero Pos.
func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0 && p.Doc == 0:
		return ""
	case p.Line > 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	case p.Doc > 0:
		return fmt.Sprintf("%s (doc %d)", p.File, p.Doc)
	default:
		return p.File
	}
}

// IsValid reports whether p names a file.
func (p Pos) IsValid() bool { return p.File != "" }

// Ref names a manifest object by kind, namespace and name. The zero Ref means
// "no object" (a built-in default).
type Ref struct {
	Kind      string // "PeerAuthentication", "Sidecar", "Deployment", …
	Namespace string // "" for cluster-scoped objects (Namespace)
	Name      string
}

// String renders the reference as "Kind ns/name" (or "Kind name" for
// cluster-scoped objects), the Kind alone when name and namespace are
// unknown, and "" for the zero Ref.
func (r Ref) String() string {
	switch {
	case r == Ref{}:
		return ""
	case r.Name == "" && r.Namespace == "":
		return r.Kind // an object whose name is missing
	case r.Namespace == "":
		return r.Kind + " " + r.Name
	default:
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
}

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == Ref{} }

// WorkloadID identifies a workload: the namespace and the name of its
// top-level controller (a Deployment, StatefulSet, DaemonSet, Job, CronJob,
// or a bare Pod/ReplicaSet). The zero value is not a valid ID.
type WorkloadID struct {
	Namespace string
	Name      string
}

// ParseWorkloadID parses "namespace/name".
func ParseWorkloadID(s string) (WorkloadID, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			id := WorkloadID{Namespace: s[:i], Name: s[i+1:]}
			if !id.IsValid() {
				break
			}
			return id, nil
		}
	}
	return WorkloadID{}, fmt.Errorf("invalid workload %q (want namespace/name)", s)
}

// String renders "namespace/name".
func (id WorkloadID) String() string { return id.Namespace + "/" + id.Name }

// IsValid reports whether both parts are set and neither contains a slash.
func (id WorkloadID) IsValid() bool {
	if id.Namespace == "" || id.Name == "" {
		return false
	}
	for _, s := range []string{id.Namespace, id.Name} {
		for i := 0; i < len(s); i++ {
			if s[i] == '/' {
				return false
			}
		}
	}
	return true
}

// Compare orders IDs by namespace, then name.
func (id WorkloadID) Compare(o WorkloadID) int {
	switch {
	case id.Namespace < o.Namespace:
		return -1
	case id.Namespace > o.Namespace:
		return 1
	case id.Name < o.Name:
		return -1
	case id.Name > o.Name:
		return 1
	}
	return 0
}

// Mode is a PeerAuthentication mutual TLS mode. The zero value, ModeUnset,
// means "inherit from the parent level".
type Mode uint8

// PeerAuthentication modes, in istio.io/api security/v1beta1 order.
const (
	ModeUnset Mode = iota
	ModeDisable
	ModePermissive
	ModeStrict
)

var modeNames = [...]string{"UNSET", "DISABLE", "PERMISSIVE", "STRICT"}

// String returns the manifest spelling: "UNSET", "DISABLE", "PERMISSIVE", "STRICT".
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode parses the manifest spelling of a Mode.
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if n == s {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("invalid mode %q (want UNSET, DISABLE, PERMISSIVE or STRICT)", s)
}

// TLSMode is a DestinationRule client TLS mode. The zero value, TLSUnset,
// means the traffic policy has no tls block.
type TLSMode uint8

// DestinationRule TLS modes. TLSUnset is meshreach's "no tls settings";
// the others are istio.io/api ClientTLSSettings.TLSmode values.
const (
	TLSUnset TLSMode = iota
	TLSDisable
	TLSSimple
	TLSMutual
	TLSIstioMutual
)

var tlsNames = [...]string{"", "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"}

// String returns the manifest spelling, or "" for TLSUnset.
func (m TLSMode) String() string {
	if int(m) < len(tlsNames) {
		return tlsNames[m]
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// OutboundMode is an outboundTrafficPolicy mode. The zero value means "not
// set" (inherit from the mesh); beware that in Istio's protos the zero enum
// value is REGISTRY_ONLY, which the loader maps explicitly.
type OutboundMode uint8

// Outbound traffic policy modes.
const (
	OutboundUnset OutboundMode = iota
	OutboundRegistryOnly
	OutboundAllowAny
	OutboundAllowAnyDynamicDNS
)

var outboundNames = [...]string{"", "REGISTRY_ONLY", "ALLOW_ANY", "ALLOW_ANY_DYNAMIC_DNS"}

// String returns the manifest spelling, or "" for OutboundUnset.
func (m OutboundMode) String() string {
	if int(m) < len(outboundNames) {
		return outboundNames[m]
	}
	return "OutboundMode(" + strconv.Itoa(int(m)) + ")"
}

// Namespace is a Kubernetes Namespace.
type Namespace struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	Pos         Pos
}

// ContainerPort is a port a workload's containers declare.
type ContainerPort struct {
	Name     string
	Number   uint32
	Protocol string // "TCP" (default), "UDP", "SCTP"
}

// Workload is a set of identical pods: a Deployment, StatefulSet, DaemonSet,
// Job, CronJob, or a Pod or ReplicaSet without a modelled owner. Labels and
// Annotations are the pod template's. Whether it runs a sidecar is decided by
// the simulator (injection depends on the namespace and the mesh), unless
// Observed records it from a live dump.
type Workload struct {
	ID             WorkloadID
	Kind           string // Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, Pod
	Labels         map[string]string
	Annotations    map[string]string
	ServiceAccount string // "" means "default"
	HostNetwork    bool
	Ports          []ContainerPort
	// Observed is set when the manifest is a running pod that already shows
	// whether it was injected (an istio-proxy container or the
	// sidecar.istio.io/status annotation). Nil means "decide by the
	// injection rules".
	Observed *bool
	// AppMTLS declares that the application itself speaks mTLS with mesh
	// certificates (the "advanced configuration" of a client without a
	// sidecar). Set in manifests with the pod annotation
	// meshreach.io/app-mtls: "true".
	AppMTLS bool
	// IP is the pod IP, when known (live dumps); "" otherwise.
	IP  string
	Pos Pos
}

// Ref returns the workload's object reference.
func (w Workload) Ref() Ref { return Ref{Kind: w.Kind, Namespace: w.ID.Namespace, Name: w.ID.Name} }

// ServicePort is one port of a Kubernetes Service.
type ServicePort struct {
	Name        string
	Port        uint32
	TargetPort  uint32 // 0 when TargetName is set, or when unset (then = Port)
	TargetName  string // named targetPort, resolved against container ports
	Protocol    string // "TCP" (default), "UDP", "SCTP"
	AppProtocol string
}

// Service is a Kubernetes Service.
type Service struct {
	Ref         Ref
	Selector    map[string]string // nil: no selector (no endpoints from pods)
	Ports       []ServicePort
	Headless    bool     // clusterIP: None
	ClusterIP   string   // spec.clusterIP when set and not "None"
	ExportTo    []string // networking.istio.io/exportTo; nil = unset (mesh default)
	Annotations map[string]string
	Labels      map[string]string
	Pos         Pos
}

// ServiceEntryPort is a port of a ServiceEntry.
type ServiceEntryPort struct {
	Number     uint32
	Protocol   string // Istio protocol: HTTP, HTTPS, TCP, TLS, GRPC, HTTP2, MONGO…
	Name       string
	TargetPort uint32
}

// ServiceEntry is an Istio ServiceEntry.
type ServiceEntry struct {
	Ref              Ref
	Hosts            []string
	Addresses        []string
	Ports            []ServiceEntryPort
	MeshInternal     bool   // location MESH_INTERNAL (default is MESH_EXTERNAL)
	Resolution       string // NONE, STATIC, DNS, DNS_ROUND_ROBIN
	ExportTo         []string
	WorkloadSelector map[string]string
	Created          time.Time
	Pos              Pos
}

// SidecarPort is the port of a Sidecar listener.
type SidecarPort struct {
	Number   uint32
	Protocol string
	Name     string
}

// EgressListener is one entry of Sidecar.spec.egress.
type EgressListener struct {
	Port        *SidecarPort // nil: catch-all listener
	Bind        string
	CaptureMode string // DEFAULT, IPTABLES, NONE
	Hosts       []string
	Pos         Pos
}

// IngressListener is one entry of Sidecar.spec.ingress.
type IngressListener struct {
	Port            SidecarPort
	Bind            string
	CaptureMode     string
	DefaultEndpoint string
	Pos             Pos
}

// Sidecar is an Istio Sidecar resource.
type Sidecar struct {
	Ref Ref
	// Selector is spec.workloadSelector.labels. Nil means no
	// workloadSelector; a non-nil empty map is a selector that matches every
	// pod of the namespace.
	Selector map[string]string
	Egress   []EgressListener
	Ingress  []IngressListener
	// Outbound is spec.outboundTrafficPolicy.mode; OutboundUnset when the
	// field is absent. Present but empty ({}) is OutboundRegistryOnly, as in
	// Istio.
	Outbound OutboundMode
	Created  time.Time
	Pos      Pos
}

// PeerAuthentication is an Istio PeerAuthentication.
type PeerAuthentication struct {
	Ref Ref
	// Selector is spec.selector.matchLabels; nil or empty means no selector
	// (namespace-wide, or mesh-wide in the root namespace).
	Selector  map[string]string
	Mode      Mode
	PortModes map[uint32]Mode // portLevelMtls, keyed by container port
	Created   time.Time
	Pos       Pos
}

// PortTrafficPolicy is one entry of trafficPolicy.portLevelSettings.
type PortTrafficPolicy struct {
	Port uint32 // service port
	TLS  TLSMode
}

// TrafficPolicy is the part of a DestinationRule traffic policy that
// decides transport.
type TrafficPolicy struct {
	TLS           TLSMode
	LBPassthrough bool // loadBalancer.simple: PASSTHROUGH
	PortLevel     []PortTrafficPolicy
}

// Subset is a DestinationRule subset.
type Subset struct {
	Name          string
	Labels        map[string]string
	TrafficPolicy *TrafficPolicy
}

// DestinationRule is an Istio DestinationRule.
type DestinationRule struct {
	Ref           Ref
	Host          string // as written; short names resolve against Ref.Namespace
	ExportTo      []string
	Selector      map[string]string // workloadSelector.matchLabels; nil = none
	TrafficPolicy *TrafficPolicy
	Subsets       []Subset
	Created       time.Time
	Pos           Pos
}

// LabelSelector is a Kubernetes label selector (matchLabels and
// matchExpressions), as used by the injector's never/alwaysInjectSelector.
type LabelSelector struct {
	MatchLabels      map[string]string
	MatchExpressions []LabelSelectorRequirement
}

// LabelSelectorRequirement is one matchExpressions entry.
type LabelSelectorRequirement struct {
	Key      string
	Operator string // In, NotIn, Exists, DoesNotExist
	Values   []string
}

// Injection is the sidecar injector configuration.
type Injection struct {
	// Policy is values.global.proxy.autoInject: "enabled" (default) or
	// "disabled".
	Policy               string
	NeverInjectSelector  []LabelSelector
	AlwaysInjectSelector []LabelSelector
	// Revisions lists the installed injector revisions and tags; "default"
	// is the unrevisioned install. Default: ["default"].
	Revisions []string
	// EnableNamespacesByDefault is
	// sidecarInjectorWebhook.enableNamespacesByDefault (default false).
	EnableNamespacesByDefault bool
	Pos                       Pos
}

// Config is the mesh configuration (the istio ConfigMap, key "mesh") plus
// the few install-time settings meshreach needs. The zero value is not
// usable: start from DefaultConfig.
type Config struct {
	RootNamespace                  string
	Outbound                       OutboundMode
	EnableAutoMTLS                 bool
	DefaultServiceExportTo         []string
	DefaultDestinationRuleExportTo []string
	TrustDomain                    string
	TrustDomainAliases             []string
	DomainSuffix                   string // cluster domain, "cluster.local"
	Injection                      Injection
	Pos                            Pos // where the mesh ConfigMap is; zero when defaulted
}

// DefaultConfig returns Istio's defaults (pkg/config/mesh/mesh.go
// DefaultMeshConfig): root namespace istio-system, ALLOW_ANY, auto mTLS on,
// exportTo "*", trust domain cluster.local, injection policy enabled.
func DefaultConfig() Config {
	return Config{
		RootNamespace:                  "istio-system",
		Outbound:                       OutboundAllowAny,
		EnableAutoMTLS:                 true,
		DefaultServiceExportTo:         []string{"*"},
		DefaultDestinationRuleExportTo: []string{"*"},
		TrustDomain:                    "cluster.local",
		DomainSuffix:                   "cluster.local",
		Injection:                      Injection{Policy: "enabled", Revisions: []string{"default"}},
	}
}
