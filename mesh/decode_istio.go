package mesh

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
)

// Istio specs are checked by walking the YAML alongside the protobuf
// message descriptor, because istio.io/api's generated UnmarshalJSON shims
// accept unknown fields silently (jsonpb AllowUnknownFields), so a typo such
// as `mtsl:` would quietly mean "inherit". The walker reports unknown
// fields, bad enum values and wrong types at their YAML line; the checked
// spec is then decoded with protojson (strict) from its JSON form.

// protoWalk checks YAML against a message descriptor and remembers where
// each field is, by its canonical path (JSON field names), so that later
// semantic checks can point at lines.
type protoWalk struct {
	o     *obj
	nodes map[string]*yaml.Node
	// crd is set for resources the API server validates against Istio's
	// CRD schema (manifests/charts/base/files/crd-all.gen.yaml): enums are
	// strings from the enum's list and 32-bit integers are JSON numbers,
	// where protojson would also take numbers and numeric strings.
	crd bool
}

func (w *protoWalk) record(path string, n *yaml.Node) {
	if w.nodes != nil {
		w.nodes[path] = n
	}
}

var durationRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{1,9})?s$`)

// message checks n against md.
func (w *protoWalk) message(n *yaml.Node, md protoreflect.MessageDescriptor, path string, depth int) {
	o := w.o
	n = deref(n)
	if isNull(n) {
		return
	}
	if depth > maxDepth {
		o.fail(n, path, fmt.Errorf("%w: nested too deeply", ErrInvalidValue))
		return
	}
	switch md.FullName() {
	case "google.protobuf.Duration":
		if n.Kind != yaml.ScalarNode || kindOf(n) != kindString || !durationRE.MatchString(n.Value) {
			o.fail(n, path, wantErr(n, `a duration such as "1.5s"`))
		}
		return
	case "google.protobuf.Timestamp":
		if n.Kind == yaml.ScalarNode && kindOf(n) == kindString {
			if _, err := time.Parse(time.RFC3339Nano, n.Value); err == nil {
				return
			}
		}
		o.fail(n, path, wantErr(n, "an RFC 3339 time"))
		return
	case "google.protobuf.FieldMask":
		if n.Kind != yaml.ScalarNode || kindOf(n) != kindString {
			o.fail(n, path, wantErr(n, "a string"))
		}
		return
	case "google.protobuf.BoolValue", "google.protobuf.Int32Value", "google.protobuf.Int64Value",
		"google.protobuf.UInt32Value", "google.protobuf.UInt64Value", "google.protobuf.FloatValue",
		"google.protobuf.DoubleValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		w.singular(n, md.Fields().ByName("value"), path, depth)
		return
	case "google.protobuf.Value":
		w.anyValue(n, path, depth)
		return
	case "google.protobuf.Struct", "google.protobuf.Any":
		if n.Kind != yaml.MappingNode {
			o.fail(n, path, wantErr(n, "a mapping"))
			return
		}
		w.anyValue(n, path, depth)
		return
	case "google.protobuf.ListValue":
		if n.Kind != yaml.SequenceNode {
			o.fail(n, path, wantErr(n, "a list"))
			return
		}
		w.anyValue(n, path, depth)
		return
	}
	if n.Kind != yaml.MappingNode {
		o.fail(n, path, wantErr(n, "a mapping"))
		return
	}
	fields := md.Fields()
	seen := map[protoreflect.FieldNumber]string{}
	oneofs := map[protoreflect.FullName]string{}
	for _, p := range o.mappingDepth(n, path, 0) {
		// protojson accepts the JSON (lowerCamelCase) name and the proto
		// (snake_case) name of a field.
		fd := fields.ByJSONName(p.key)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(p.key))
		}
		if fd == nil {
			o.unknown(p, path)
			continue
		}
		fp := join(path, fd.JSONName())
		if prev, ok := seen[fd.Number()]; ok {
			o.fail(p.k, fp, fmt.Errorf("%w: field given twice, as %q and %q", ErrSyntax, prev, p.key))
			continue
		}
		seen[fd.Number()] = p.key
		w.record(fp, p.k)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() && !isNull(deref(p.v)) {
			if prev, ok := oneofs[od.FullName()]; ok {
				o.fail(p.k, fp, fmt.Errorf("%w: %q and %q cannot both be set", ErrInvalidValue, prev, p.key))
				continue
			}
			oneofs[od.FullName()] = p.key
		}
		w.field(p.v, fd, fp, depth+1)
	}
}

// field checks the value of one field (list, map or singular).
func (w *protoWalk) field(n *yaml.Node, fd protoreflect.FieldDescriptor, path string, depth int) {
	o := w.o
	n = deref(n)
	if isNull(n) {
		return // protojson: null leaves the field unset
	}
	switch {
	case fd.IsMap():
		kd, vd := fd.MapKey(), fd.MapValue()
		for _, p := range o.mappingDepth(n, path, 0) {
			fp := path + "[" + p.key + "]"
			w.record(fp, p.k)
			if err := checkMapKey(kd, p.key); err != nil {
				o.fail(p.k, fp, err)
				continue
			}
			if isNull(deref(p.v)) && !isValue(vd) {
				o.fail(orNode(p.v, p.k), fp, wantErr(deref(p.v), singularWant(vd)))
				continue
			}
			w.singular(p.v, vd, fp, depth+1)
		}
	case fd.IsList():
		for i, it := range o.list(n, path) {
			ip := index(path, i)
			w.record(ip, it)
			if isNull(deref(it)) && !isValue(fd) {
				o.fail(it, ip, wantErr(deref(it), singularWant(fd)))
				continue
			}
			w.singular(it, fd, ip, depth+1)
		}
	default:
		w.singular(n, fd, path, depth)
	}
}

func isValue(fd protoreflect.FieldDescriptor) bool {
	return fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Value"
}

func checkMapKey(kd protoreflect.FieldDescriptor, key string) error {
	var err error
	switch kd.Kind() {
	case protoreflect.StringKind:
		return nil
	case protoreflect.BoolKind:
		if key != "true" && key != "false" {
			return fmt.Errorf("%w %q (want true or false as key)", ErrInvalidValue, key)
		}
		return nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		_, err = strconv.ParseInt(key, 10, 32)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		_, err = strconv.ParseUint(key, 10, 32)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		_, err = strconv.ParseInt(key, 10, 64)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		_, err = strconv.ParseUint(key, 10, 64)
	}
	if err != nil {
		return fmt.Errorf("%w %q (want %s as key)", ErrInvalidValue, key, singularWant(kd))
	}
	return nil
}

// singularWant describes what a singular field takes.
func singularWant(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.StringKind, protoreflect.BytesKind:
		return "a string"
	case protoreflect.EnumKind:
		return enumWant(fd.Enum())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Duration":
			return `a duration such as "1.5s"`
		case "google.protobuf.Value":
			return "a value"
		}
		return "a mapping"
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return "an integer 0..4294967295"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return "a 32-bit integer"
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return "an unsigned integer"
	}
	return "an integer"
}

// enumWant lists an enum's values when there are at most six.
func enumWant(ed protoreflect.EnumDescriptor) string {
	vals := ed.Values()
	if vals.Len() > 6 {
		return "a value of " + string(ed.FullName())
	}
	names := make([]string, vals.Len())
	for i := range names {
		names[i] = string(vals.Get(i).Name())
	}
	return orList(names)
}

// singular checks one value of fd's kind.
func (w *protoWalk) singular(n *yaml.Node, fd protoreflect.FieldDescriptor, path string, depth int) {
	o := w.o
	n = deref(n)
	if isNull(n) {
		return
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		w.message(n, fd.Message(), path, depth)
		return
	}
	if n.Kind != yaml.ScalarNode {
		o.fail(n, path, wantErr(n, singularWant(fd)))
		return
	}
	k := kindOf(n)
	ok := false
	switch fd.Kind() {
	case protoreflect.BoolKind:
		ok = k == kindBool
	case protoreflect.StringKind, protoreflect.BytesKind:
		ok = k == kindString
	case protoreflect.EnumKind:
		ed := fd.Enum()
		switch k {
		case kindString:
			ok = ed.Values().ByName(protoreflect.Name(n.Value)) != nil
		case kindInt:
			v, err := strconv.ParseInt(n.Value, 0, 32)
			ok = !w.crd && err == nil && ed.Values().ByNumber(protoreflect.EnumNumber(v)) != nil
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		switch k {
		case kindInt, kindFloat:
			_, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			ok = err == nil || k == kindInt
		case kindString:
			_, err := strconv.ParseFloat(n.Value, 64)
			ok = err == nil || n.Value == "NaN" || n.Value == "Infinity" || n.Value == "-Infinity"
		}
	default: // integers: a number, or a string holding one (protojson accepts both)
		is64 := fd.Kind() != protoreflect.Int32Kind && fd.Kind() != protoreflect.Sint32Kind &&
			fd.Kind() != protoreflect.Sfixed32Kind && fd.Kind() != protoreflect.Uint32Kind && fd.Kind() != protoreflect.Fixed32Kind
		if k == kindInt || k == kindFloat || (k == kindString && (!w.crd || is64)) {
			ok = intInRange(n.Value, k, fd.Kind())
		}
	}
	if !ok {
		o.fail(n, path, wantErr(n, singularWant(fd)))
	}
}

func intInRange(s string, k valueKind, kind protoreflect.Kind) bool {
	base := 10
	if k == kindInt {
		base = 0
	}
	if k == kindFloat {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != float64(int64(f)) {
			return false
		}
		s, base = strconv.FormatInt(int64(f), 10), 10
	}
	var err error
	switch kind {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		_, err = strconv.ParseInt(s, base, 32)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		_, err = strconv.ParseUint(s, base, 32)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		_, err = strconv.ParseUint(s, base, 64)
	default:
		_, err = strconv.ParseInt(s, base, 64)
	}
	return err == nil
}

// anyValue checks free-form JSON (google.protobuf.Value, Struct): only
// that it converts to JSON.
func (w *protoWalk) anyValue(n *yaml.Node, path string, depth int) {
	o := w.o
	n = deref(n)
	if n == nil {
		return
	}
	if depth > maxDepth {
		o.fail(n, path, fmt.Errorf("%w: nested too deeply", ErrInvalidValue))
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for _, p := range o.mappingDepth(n, path, 0) {
			w.anyValue(p.v, join(path, p.key), depth+1)
		}
	case yaml.SequenceNode:
		for i, it := range o.list(n, path) {
			w.anyValue(it, index(path, i), depth+1)
		}
	default:
		if kindOf(n) == kindFloat {
			if _, err := o.appendJSON(nil, n, 0); err != nil {
				o.fail(n, path, wantErr(n, "a finite number"))
			}
		}
	}
}

// decodeProto decodes a checked node into msg: straight from the nodes
// when setMessage can (decode_proto.go), else through its JSON form with
// protojson.
func (o *obj) decodeProto(n *yaml.Node, path string, msg proto.Message) {
	// The walk already charged these nodes to the document's budget.
	visits, nerrs, budget := *o.doc.visits, len(o.errs), o.budget
	ok := o.setMessage(n, msg.ProtoReflect(), 0)
	*o.doc.visits = visits
	if ok && len(o.errs) == nerrs {
		return
	}
	o.errs, o.budget = o.errs[:nerrs], budget
	proto.Reset(msg)
	o.decodeProtoJSON(n, path, msg)
}

// decodeProtoJSON decodes a checked node into msg through its JSON form.
func (o *obj) decodeProtoJSON(n *yaml.Node, path string, msg proto.Message) {
	visits := *o.doc.visits
	js, err := o.appendJSON(nil, n, 0)
	*o.doc.visits = visits
	if err == nil {
		err = protojson.Unmarshal(js, msg)
	}
	if err != nil {
		o.fail(n, path, fmt.Errorf("%w: %v", ErrInvalidValue, err))
	}
}

// locator turns canonical paths into YAML nodes for semantic checks.
type locator struct {
	o     *obj
	nodes map[string]*yaml.Node
	root  *yaml.Node
}

// node returns the node at path, or that of its nearest recorded ancestor.
func (l *locator) node(path string) *yaml.Node {
	for p := path; p != ""; p = parentPath(p) {
		if n := l.nodes[p]; n != nil {
			return n
		}
	}
	return l.root
}

func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func (l *locator) fail(path string, err error) { l.o.fail(l.node(path), path, err) }
func (l *locator) warn(path string, err error) { l.o.warn(l.node(path), path, err) }
func (l *locator) pos(path string) Pos         { return l.o.pos(l.node(path)) }

// istio decodes an Istio resource.
func (d *decoder) istio(o *obj, n *yaml.Node, top []pair, m *meta) {
	o.checkKeys(top, specStatus)
	var msg proto.Message
	switch o.ref.Kind {
	case "Sidecar":
		msg = &networking.Sidecar{}
	case "DestinationRule":
		msg = &networking.DestinationRule{}
	case "ServiceEntry":
		msg = &networking.ServiceEntry{}
	case "PeerAuthentication":
		msg = &security.PeerAuthentication{}
	case "AuthorizationPolicy":
		msg = &security.AuthorizationPolicy{}
	}
	w := &protoWalk{o: o, nodes: map[string]*yaml.Node{}, crd: true}
	spec, hasSpec := find(top, "spec")
	if hasSpec {
		w.record("spec", spec.k)
		w.message(spec.v, msg.ProtoReflect().Descriptor(), "spec", 0)
		if !o.failed() {
			o.decodeProto(spec.v, "spec", msg)
		}
	}
	if o.failed() {
		return
	}
	at := &locator{o: o, nodes: w.nodes, root: n}
	switch spec := msg.(type) {
	case *networking.Sidecar:
		validateSidecar(at, o.ref.Namespace, spec)
		if !o.failed() {
			d.b.AddSidecar(convertSidecar(at, spec, m))
		}
	case *networking.DestinationRule:
		validateDestinationRule(at, o.ref.Namespace, spec)
		if !o.failed() {
			d.b.AddDestinationRule(convertDestinationRule(spec, m))
		}
	case *networking.ServiceEntry:
		validateServiceEntry(at, o.ref.Namespace, spec)
		if !o.failed() {
			d.b.AddServiceEntry(convertServiceEntry(spec, m))
		}
	case *security.PeerAuthentication:
		validatePeerAuthentication(at, spec)
		if !o.failed() {
			d.b.AddPeerAuthentication(convertPeerAuthentication(spec, m))
		}
	case *security.AuthorizationPolicy:
		validateAuthorizationPolicy(at, m, spec)
		if !o.failed() {
			d.b.AddAuthorizationPolicy(convertAuthorizationPolicy(at, spec, m))
		}
	}
}

// selector copies a selector's labels: nil when the selector is absent, a
// non-nil (possibly empty) map when it is present.
func selector(present bool, labels map[string]string) map[string]string {
	if !present {
		return nil
	}
	if labels == nil {
		return map[string]string{}
	}
	return maps.Clone(labels)
}

func convertSidecar(at *locator, s *networking.Sidecar, m *meta) Sidecar {
	out := Sidecar{
		Ref:      at.o.ref,
		Selector: selector(s.GetWorkloadSelector() != nil, s.GetWorkloadSelector().GetLabels()),
		Created:  m.created,
		Pos:      m.pos,
	}
	for i, e := range s.GetEgress() {
		l := EgressListener{
			Bind:        e.GetBind(),
			CaptureMode: e.GetCaptureMode().String(),
			Hosts:       slices.Clone(e.GetHosts()),
			Pos:         at.pos(index("spec.egress", i)),
		}
		if p := e.GetPort(); p != nil {
			l.Port = &SidecarPort{Number: p.GetNumber(), Protocol: p.GetProtocol(), Name: p.GetName()}
		}
		out.Egress = append(out.Egress, l)
	}
	for i, in := range s.GetIngress() {
		p := in.GetPort()
		out.Ingress = append(out.Ingress, IngressListener{
			Port:            SidecarPort{Number: p.GetNumber(), Protocol: p.GetProtocol(), Name: p.GetName()},
			Bind:            in.GetBind(),
			CaptureMode:     in.GetCaptureMode().String(),
			DefaultEndpoint: in.GetDefaultEndpoint(),
			Pos:             at.pos(index("spec.ingress", i)),
		})
	}
	// Present, even as {}, means its mode: the proto's zero value is
	// REGISTRY_ONLY (networking/v1alpha3/sidecar.proto
	// OutboundTrafficPolicy.Mode; sidecar-injection-egress.md §4 "Enum
	// trap"). Absent means the mesh's.
	if tp := s.GetOutboundTrafficPolicy(); tp != nil {
		switch tp.GetMode() {
		case networking.OutboundTrafficPolicy_ALLOW_ANY:
			out.Outbound = OutboundAllowAny
		default:
			out.Outbound = OutboundRegistryOnly
		}
	}
	return out
}

func convertPeerAuthentication(p *security.PeerAuthentication, m *meta) PeerAuthentication {
	out := PeerAuthentication{
		Ref:      Ref{Kind: "PeerAuthentication", Namespace: m.namespace, Name: m.name},
		Selector: selector(p.GetSelector() != nil, p.GetSelector().GetMatchLabels()),
		// mtls absent, mtls: {} and mode: UNSET are all UNSET
		// (authentication.go isMtlsModeUnset; mtls-authn-authz.md §1.2).
		Mode:    paMode(p.GetMtls().GetMode()),
		Created: m.created,
		Pos:     m.pos,
	}
	if len(p.GetPortLevelMtls()) > 0 {
		out.PortModes = make(map[uint32]Mode, len(p.GetPortLevelMtls()))
		for port, mt := range p.GetPortLevelMtls() {
			out.PortModes[port] = paMode(mt.GetMode())
		}
	}
	return out
}

func paMode(m security.PeerAuthentication_MutualTLS_Mode) Mode {
	switch m {
	case security.PeerAuthentication_MutualTLS_DISABLE:
		return ModeDisable
	case security.PeerAuthentication_MutualTLS_PERMISSIVE:
		return ModePermissive
	case security.PeerAuthentication_MutualTLS_STRICT:
		return ModeStrict
	}
	return ModeUnset
}

func convertDestinationRule(d *networking.DestinationRule, m *meta) DestinationRule {
	out := DestinationRule{
		Ref:           Ref{Kind: "DestinationRule", Namespace: m.namespace, Name: m.name},
		Host:          d.GetHost(),
		ExportTo:      slices.Clone(d.GetExportTo()),
		Selector:      selector(d.GetWorkloadSelector() != nil, d.GetWorkloadSelector().GetMatchLabels()),
		TrafficPolicy: convertTrafficPolicy(d.GetTrafficPolicy()),
		Created:       m.created,
		Pos:           m.pos,
	}
	for _, s := range d.GetSubsets() {
		out.Subsets = append(out.Subsets, Subset{
			Name:          s.GetName(),
			Labels:        maps.Clone(s.GetLabels()),
			TrafficPolicy: convertTrafficPolicy(s.GetTrafficPolicy()),
		})
	}
	return out
}

func convertTrafficPolicy(tp *networking.TrafficPolicy) *TrafficPolicy {
	if tp == nil {
		return nil
	}
	out := &TrafficPolicy{
		TLS:           tlsMode(tp.GetTls()),
		LBPassthrough: tp.GetLoadBalancer().GetSimple() == networking.LoadBalancerSettings_PASSTHROUGH,
	}
	for _, pl := range tp.GetPortLevelSettings() {
		out.PortLevel = append(out.PortLevel, PortTrafficPolicy{Port: pl.GetPort().GetNumber(), TLS: tlsMode(pl.GetTls())})
	}
	return out
}

// tlsMode maps a tls block to a TLSMode. A present block without mode is
// DISABLE, the proto's zero value (destination_rule.proto
// ClientTLSSettings.TLSmode).
func tlsMode(t *networking.ClientTLSSettings) TLSMode {
	if t == nil {
		return TLSUnset
	}
	switch t.GetMode() {
	case networking.ClientTLSSettings_SIMPLE:
		return TLSSimple
	case networking.ClientTLSSettings_MUTUAL:
		return TLSMutual
	case networking.ClientTLSSettings_ISTIO_MUTUAL:
		return TLSIstioMutual
	}
	return TLSDisable
}

func convertServiceEntry(s *networking.ServiceEntry, m *meta) ServiceEntry {
	out := ServiceEntry{
		Ref:              Ref{Kind: "ServiceEntry", Namespace: m.namespace, Name: m.name},
		Hosts:            slices.Clone(s.GetHosts()),
		Addresses:        slices.Clone(s.GetAddresses()),
		MeshInternal:     s.GetLocation() == networking.ServiceEntry_MESH_INTERNAL,
		Resolution:       s.GetResolution().String(),
		ExportTo:         slices.Clone(s.GetExportTo()),
		WorkloadSelector: selector(s.GetWorkloadSelector() != nil, s.GetWorkloadSelector().GetLabels()),
		Created:          m.created,
		Pos:              m.pos,
	}
	for _, p := range s.GetPorts() {
		out.Ports = append(out.Ports, ServiceEntryPort{Number: p.GetNumber(), Protocol: p.GetProtocol(), Name: p.GetName(), TargetPort: p.GetTargetPort()})
	}
	return out
}
