package meshgen_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meshreach/meshreach/internal/meshgen"
	"github.com/meshreach/meshreach/mesh"
)

// TestYAMLMatchesBuilder checks that the YAML the generator writes loads
// into the mesh its Builder objects build.
func TestYAMLMatchesBuilder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		reason string
		opts   meshgen.Options
	}{
		{name: "small", reason: "one namespace, every object kind the seed draws", opts: meshgen.Options{Workloads: 20, Seed: 1}},
		{name: "medium", reason: "several namespaces, cross-namespace egress hosts", opts: meshgen.Options{Workloads: 300, Seed: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := meshgen.Generate(tc.opts)
			want, err := objs.Mesh()
			if err != nil {
				t.Fatalf("%s: Build: %v", tc.reason, err)
			}
			got, err := mesh.Parse("gen.yaml", objs.YAML())
			if err != nil {
				t.Fatalf("%s: Parse: %v", tc.reason, err)
			}
			if ws := got.Warnings(); len(ws) > 0 {
				t.Errorf("%s: warnings: %v", tc.reason, ws)
			}
			opts := cmp.Options{cmpopts.IgnoreTypes(mesh.Pos{}), cmpopts.EquateEmpty()}
			for _, c := range []struct {
				what      string
				want, got any
			}{
				{"namespaces", want.Namespaces(), got.Namespaces()},
				{"workloads", want.Workloads(), got.Workloads()},
				{"services", want.Services(), got.Services()},
				{"service entries", want.ServiceEntries(), got.ServiceEntries()},
				{"sidecars", want.Sidecars(), got.Sidecars()},
				{"peer authentications", want.PeerAuthentications(), got.PeerAuthentications()},
				{"destination rules", want.DestinationRules(), got.DestinationRules()},
				{"authorization policies", want.AuthorizationPolicies(), got.AuthorizationPolicies()},
			} {
				if d := cmp.Diff(c.want, c.got, opts); d != "" {
					t.Errorf("%s: %s differ (-builder +yaml):\n%s", tc.reason, c.what, d)
				}
			}
		})
	}
}

// TestDeterministic checks that a seed gives the same mesh every time and
// that different seeds give different meshes.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := meshgen.Generate(meshgen.Options{Workloads: 200, Seed: 3}).YAML()
	b := meshgen.Generate(meshgen.Options{Workloads: 200, Seed: 3}).YAML()
	c := meshgen.Generate(meshgen.Options{Workloads: 200, Seed: 4}).YAML()
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different YAML")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same YAML")
	}
}

// TestFeatures checks that a mesh of 200 workloads has every feature the
// package documents at least once, whatever the seed: the tests that run
// on generated meshes rely on it.
func TestFeatures(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		o := meshgen.Generate(meshgen.Options{Workloads: 200, Seed: seed})
		has := map[string]bool{}
		for _, ns := range o.Namespaces {
			if ns.Name != o.Config.RootNamespace && ns.Labels["istio-injection"] == "" {
				has["namespace without injection"] = true
			}
		}
		for _, w := range o.Workloads {
			has["inject=false label"] = has["inject=false label"] || w.Labels["sidecar.istio.io/inject"] == "false"
			has["excludeOutboundPorts"] = has["excludeOutboundPorts"] || w.Annotations["traffic.sidecar.istio.io/excludeOutboundPorts"] != ""
			has["excludeInboundPorts"] = has["excludeInboundPorts"] || w.Annotations["traffic.sidecar.istio.io/excludeInboundPorts"] != ""
			has["app mTLS"] = has["app mTLS"] || w.AppMTLS
		}
		for _, s := range o.Services {
			has["exportTo ."] = has["exportTo ."] || len(s.ExportTo) > 0
			has["headless"] = has["headless"] || s.Headless
		}
		for _, sc := range o.Sidecars {
			has["REGISTRY_ONLY"] = has["REGISTRY_ONLY"] || sc.Outbound == mesh.OutboundRegistryOnly
			has["Sidecar selector"] = has["Sidecar selector"] || sc.Selector != nil
			has["port listener"] = has["port listener"] || sc.Egress[0].Port != nil
			has["cross-namespace egress"] = has["cross-namespace egress"] || len(sc.Egress[len(sc.Egress)-1].Hosts) > 2
		}
		for _, pa := range o.PeerAuthentications {
			has["namespace PeerAuthentication"] = has["namespace PeerAuthentication"] || (pa.Selector == nil && pa.Ref.Namespace != o.Config.RootNamespace)
			has["workload PeerAuthentication"] = has["workload PeerAuthentication"] || pa.Selector != nil
			has["portLevelMtls"] = has["portLevelMtls"] || len(pa.PortModes) > 0
		}
		for _, dr := range o.DestinationRules {
			has["DestinationRule selector"] = has["DestinationRule selector"] || dr.Selector != nil
			has["DestinationRule port level"] = has["DestinationRule port level"] || (dr.TrafficPolicy != nil && len(dr.TrafficPolicy.PortLevel) > 0)
		}
		for _, se := range o.ServiceEntries {
			has["external ServiceEntry"] = has["external ServiceEntry"] || !se.MeshInternal
			has["ServiceEntry with endpoints"] = has["ServiceEntry with endpoints"] || se.WorkloadSelector != nil
		}
		for _, ap := range o.AuthorizationPolicies {
			has["AuthorizationPolicy "+ap.Action.String()] = true
		}
		var missing []string
		for _, f := range []string{"namespace without injection", "inject=false label", "excludeOutboundPorts", "excludeInboundPorts",
			"app mTLS", "exportTo .", "headless", "REGISTRY_ONLY", "Sidecar selector", "port listener", "cross-namespace egress",
			"namespace PeerAuthentication", "workload PeerAuthentication", "portLevelMtls", "DestinationRule selector",
			"DestinationRule port level", "external ServiceEntry", "ServiceEntry with endpoints", "AuthorizationPolicy ALLOW",
			"AuthorizationPolicy DENY"} {
			if !has[f] {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			t.Errorf("seed %d: missing %v", seed, missing)
		}
	}
}
