package pop_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/btcstake/btcstake/pop"
)

// popProto is proto/babylon/btcstaking/v1/pop.proto (babylon v4.3.1) as a
// descriptor, written out from the .proto text.
func popProto(t *testing.T) (pop, sig protoreflect.MessageDescriptor) {
	t.Helper()
	s := proto.String
	label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	fd := &descriptorpb.FileDescriptorProto{
		Name:    s("babylon/btcstaking/v1/pop.proto"),
		Package: s("babylon.btcstaking.v1"),
		Syntax:  s("proto3"),
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: s("BTCSigType"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: s("BIP340"), Number: proto.Int32(0)},
				{Name: s("BIP322"), Number: proto.Int32(1)},
				{Name: s("ECDSA"), Number: proto.Int32(2)},
			},
		}},
		MessageType: []*descriptorpb.DescriptorProto{
			{
				Name: s("ProofOfPossessionBTC"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: s("btc_sig_type"), Number: proto.Int32(1), Label: label, Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: s(".babylon.btcstaking.v1.BTCSigType"), JsonName: s("btcSigType")},
					{Name: s("btc_sig"), Number: proto.Int32(2), Label: label, Type: descriptorpb.FieldDescriptorProto_TYPE_BYTES.Enum(), JsonName: s("btcSig")},
				},
			},
			{
				Name: s("BIP322Sig"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: s("address"), Number: proto.Int32(1), Label: label, Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), JsonName: s("address")},
					{Name: s("sig"), Number: proto.Int32(2), Label: label, Type: descriptorpb.FieldDescriptorProto_TYPE_BYTES.Enum(), JsonName: s("sig")},
				},
			},
		},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.Messages().ByName("ProofOfPossessionBTC"), f.Messages().ByName("BIP322Sig")
}

// TestProtobufRuntime decodes our bytes with the protobuf runtime (a
// dynamic message from pop.proto) and checks the runtime's own encoding of
// the same fields is byte-for-byte ours.
func TestProtobufRuntime(t *testing.T) {
	popDesc, sigDesc := popProto(t)
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	for _, c := range []struct {
		kind pop.Kind
		opts []pop.Option
	}{
		{pop.BIP340, nil}, {pop.ECDSA, nil},
		{pop.BIP322, []pop.Option{pop.WithBIP322(mainnet, pop.P2TR)}},
		{pop.BIP322, []pop.Option{pop.WithBIP322(mainnet, pop.P2WPKH)}},
	} {
		p, err := pop.Create(c.kind, sk, addr, c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		m := dynamicpb.NewMessage(popDesc)
		if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(p.Marshal(), m); err != nil {
			t.Fatalf("%v: runtime cannot decode ours: %v", c.kind, err)
		}
		if len(m.GetUnknown()) != 0 {
			t.Fatalf("%v: unknown fields %x", c.kind, m.GetUnknown())
		}
		typ := m.Get(popDesc.Fields().ByName("btc_sig_type")).Enum()
		if int32(typ) != int32(c.kind) {
			t.Errorf("%v: runtime reads type %d", c.kind, typ)
		}
		btcSig := m.Get(popDesc.Fields().ByName("btc_sig")).Bytes()
		if !bytes.Equal(btcSig, p.BTCSig()) {
			t.Errorf("%v: runtime reads another btc_sig", c.kind)
		}
		again, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, p.Marshal()) {
			t.Errorf("%v: runtime encodes\n%x\nwe encode\n%x", c.kind, again, p.Marshal())
		}
		if c.kind != pop.BIP322 {
			continue
		}
		s := dynamicpb.NewMessage(sigDesc)
		if err := proto.Unmarshal(btcSig, s); err != nil || len(s.GetUnknown()) != 0 {
			t.Fatalf("BIP322Sig: %v", err)
		}
		if got := s.Get(sigDesc.Fields().ByName("address")).String(); got != p.BIP322Address() {
			t.Errorf("BIP322Sig.address %q, want %q", got, p.BIP322Address())
		}
		if got := s.Get(sigDesc.Fields().ByName("sig")).Bytes(); !bytes.Equal(got, serializeWitness(p.BIP322Witness())) {
			t.Errorf("BIP322Sig.sig %x", got)
		}
		// And the runtime's encoding of a proof parses with Parse.
		if q, err := pop.Parse(again); err != nil || q.Kind() != pop.BIP322 {
			t.Errorf("Parse of the runtime's bytes: %v", err)
		}
	}
}
