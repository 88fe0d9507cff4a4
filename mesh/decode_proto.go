package mesh

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A checked Istio spec is set into its message straight from the YAML
// nodes, as protojson would set it from the spec's JSON form (messages,
// lists, maps, strings, booleans, enums and integers; a field that is
// null is left unset, a message field that is {} is set). Where protojson
// has more to do, or would fail (floats, bytes, the google.protobuf
// types, duplicate map keys after parsing, integer forms JSON does not
// have), the direct setter gives up and decodeProto takes the JSON road,
// so the result and any error are protojson's.

// setMessage sets the fields of the mapping n into m. It reports false
// when it gives up; m is then partly set.
func (o *obj) setMessage(n *yaml.Node, m protoreflect.Message, depth int) bool {
	n = deref(n)
	md := m.Descriptor()
	if n == nil || n.Kind != yaml.MappingNode || depth > maxDepth || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return false
	}
	fields := md.Fields()
	for _, p := range o.mappingDepth(n, "", 0) {
		fd := fields.ByJSONName(p.key)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(p.key))
		}
		if fd == nil {
			return false
		}
		v := deref(p.v)
		if isNull(v) {
			continue // protojson leaves a null field unset
		}
		switch {
		case fd.IsMap():
			if !o.setMap(v, m.Mutable(fd).Map(), fd, depth) {
				return false
			}
		case fd.IsList():
			if v.Kind != yaml.SequenceNode {
				return false
			}
			list := m.Mutable(fd).List()
			for _, it := range o.list(v, "") {
				e, ok := o.protoValue(it, fd, list.NewElement, depth)
				if !ok {
					return false
				}
				list.Append(e)
			}
		default:
			e, ok := o.protoValue(v, fd, func() protoreflect.Value { return m.NewField(fd) }, depth)
			if !ok {
				return false
			}
			m.Set(fd, e)
		}
	}
	return true
}

// setMap sets the entries of the mapping n into mp.
func (o *obj) setMap(n *yaml.Node, mp protoreflect.Map, fd protoreflect.FieldDescriptor, depth int) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	kd, vd := fd.MapKey(), fd.MapValue()
	for _, p := range o.mappingDepth(n, "", 0) {
		key, ok := o.protoMapKey(kd, p.key)
		if !ok || mp.Has(key) {
			return false // protojson reports "08080" after "8080"
		}
		v, ok := o.protoValue(p.v, vd, mp.NewValue, depth)
		if !ok {
			return false
		}
		mp.Set(key, v)
	}
	return true
}

// protoMapKey parses a map key as protojson does (unmarshalMapKey).
func (o *obj) protoMapKey(kd protoreflect.FieldDescriptor, s string) (protoreflect.MapKey, bool) {
	var v protoreflect.Value
	switch kd.Kind() {
	case protoreflect.StringKind:
		if !utf8.ValidString(s) {
			return protoreflect.MapKey{}, false
		}
		v = protoreflect.ValueOfString(o.keep(s))
	case protoreflect.BoolKind:
		if s != "true" && s != "false" {
			return protoreflect.MapKey{}, false
		}
		v = protoreflect.ValueOfBool(s == "true")
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.MapKey{}, false
		}
		v = protoreflect.ValueOfInt32(int32(n))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return protoreflect.MapKey{}, false
		}
		v = protoreflect.ValueOfInt64(n)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return protoreflect.MapKey{}, false
		}
		v = protoreflect.ValueOfUint32(uint32(n))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return protoreflect.MapKey{}, false
		}
		v = protoreflect.ValueOfUint64(n)
	default:
		return protoreflect.MapKey{}, false
	}
	return v.MapKey(), true
}

// protoValue converts one value of fd's kind (a message, made by
// newMessage, or a scalar); a null is refused.
func (o *obj) protoValue(n *yaml.Node, fd protoreflect.FieldDescriptor, newMessage func() protoreflect.Value, depth int) (protoreflect.Value, bool) {
	n = deref(n)
	if isNull(n) {
		return protoreflect.Value{}, false
	}
	if k := fd.Kind(); k == protoreflect.MessageKind || k == protoreflect.GroupKind {
		v := newMessage()
		return v, o.setMessage(n, v.Message(), depth+1)
	}
	if n.Kind != yaml.ScalarNode {
		return protoreflect.Value{}, false
	}
	k := kindOf(n)
	// Integers reach protojson as the decimal appendJSON writes for a YAML
	// integer (strconv.ParseInt with base 0), or as a string that must be
	// a JSON number.
	integer := func(bits int, signed bool) (int64, uint64, bool) {
		switch {
		case k == kindInt && signed:
			v, err := strconv.ParseInt(n.Value, 0, bits)
			return v, 0, err == nil
		case k == kindInt:
			v, err := strconv.ParseUint(n.Value, 0, bits)
			return 0, v, err == nil
		case k == kindString && signed:
			v, err := strconv.ParseInt(n.Value, 10, bits)
			return v, 0, err == nil && strconv.FormatInt(v, 10) == n.Value
		case k == kindString:
			v, err := strconv.ParseUint(n.Value, 10, bits)
			return 0, v, err == nil && strconv.FormatUint(v, 10) == n.Value
		}
		return 0, 0, false
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(parseBool(n.Value)), k == kindBool
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(o.keep(n.Value)), k == kindString && utf8.ValidString(n.Value)
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.FullName() == "google.protobuf.NullValue" {
			return protoreflect.Value{}, false
		}
		switch k {
		case kindString:
			if ev := ed.Values().ByName(protoreflect.Name(n.Value)); ev != nil {
				return protoreflect.ValueOfEnum(ev.Number()), true
			}
		case kindInt:
			if v, err := strconv.ParseInt(n.Value, 0, 32); err == nil {
				return protoreflect.ValueOfEnum(protoreflect.EnumNumber(v)), true
			}
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		v, _, ok := integer(32, true)
		return protoreflect.ValueOfInt32(int32(v)), ok
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		v, _, ok := integer(64, true)
		return protoreflect.ValueOfInt64(v), ok
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		_, v, ok := integer(32, false)
		return protoreflect.ValueOfUint32(uint32(v)), ok
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		_, v, ok := integer(64, false)
		return protoreflect.ValueOfUint64(v), ok
	}
	return protoreflect.Value{}, false // floats and bytes: left to protojson
}
