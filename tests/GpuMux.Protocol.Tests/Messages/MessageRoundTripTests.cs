using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Protocol.Tests.Messages;

public sealed class MessageRoundTripTests
{
    private static readonly DeviceDescription Device = new(0, "NVIDIA H100 80GB HBM3", 80UL << 30, 9, 0, 132, "0000:41:00.0");

    [Fact]
    public void Hello_round_trips() => AssertRoundTrip(MessageType.Hello, Hello.ForThisVersion("trainer-7"));

    [Fact]
    public void Welcome_round_trips_with_its_devices()
    {
        var welcome = new Welcome(1, 0, 0, 65536, 42, BackendKind.Sim, "Sim backend", [Device, Device with { Ordinal = 1 }]);

        var decoded = RoundTrip(MessageType.Welcome, welcome);

        Assert.Equal(welcome with { Devices = [] }, decoded with { Devices = [] });
        Assert.Equal(welcome.Devices, decoded.Devices);
    }

    [Fact]
    public void Welcome_with_a_foreign_magic_is_malformed()
    {
        var buffer = new byte[256];
        var length = Message.Encode(buffer, MessageType.Welcome, 1, new Hello(ProtocolVersion.Magic + 1, 1, 0, 0, "x"));

        Assert.Throws<MalformedPayloadException>(() => Message.Decode<Welcome>(buffer.AsSpan(FrameHeader.Size, length - FrameHeader.Size)));
    }

    [Fact]
    public void Small_messages_round_trip()
    {
        AssertRoundTrip(MessageType.FreeBuffer, new HandleMessage(7));
        AssertRoundTrip(MessageType.AllocateBuffer, new SizeMessage(1UL << 40));
        AssertRoundTrip(MessageType.LoadModule, new LoadModule(ModuleFormat.Ptx, 12345, "attention"));
        AssertRoundTrip(MessageType.ModuleLoaded, new ModuleLoaded(3, true, "warning: unused variable"));
        AssertRoundTrip(MessageType.GetFunction, new GetFunction(GetFunction.BuiltinModule, "axpy_f32"));
        AssertRoundTrip(MessageType.Error, new ErrorMessage(ErrorCode.UnknownHandle, "buffer 9 is not yours"));
        AssertRoundTrip(MessageType.StepCompleted, new StepCompleted(ErrorCode.None, 10, 20, 30, ""));
        AssertRoundTrip(MessageType.Ok, new EmptyMessage());
    }

    [Fact]
    public void Model_messages_round_trip()
    {
        var register = new RegisterModel("llama-7b", [4, 4, 2]);
        var decoded = RoundTrip(MessageType.RegisterModel, register);
        Assert.Equal(register.Name, decoded.Name);
        Assert.Equal(register.GroupTensorCounts, decoded.GroupTensorCounts);

        AssertRoundTrip(MessageType.ModelRegistered, new ModelRegistered(3, 291, 13UL << 30, ModelTier.Pinned, 33));
        AssertRoundTrip(MessageType.ModelProgress, new ModelProgress(1 << 20, 1 << 30));
        AssertRoundTrip(MessageType.GetTensor, new GetTensor(3, "model.layers.0.mlp.up_proj.weight"));
        AssertRoundTrip(MessageType.TensorFound, new TensorFound(17, 1 << 24, 2));

        var entry = new ModelEntry(4, 3, "llama-7b", 1000, 13UL << 30, 291, 33, ModelTier.File, true, 1_700_000_000_000, 12, 24.5e9);
        var list = new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 2, [entry, entry with { Model = 4, Resident = false }]);
        var listed = RoundTrip(MessageType.ModelList, list);
        Assert.Equal(list with { Models = [] }, listed with { Models = [] });
        Assert.Equal(list.Models, listed.Models);
    }

    [Fact]
    public void A_group_count_larger_than_the_payload_is_malformed_before_anything_is_allocated()
    {
        byte[] payload = [1, 0, (byte)'m', 0xFF, 0xFF, 0xFF, 0x7F];

        Assert.Throws<MalformedPayloadException>(() => Message.Decode<RegisterModel>(payload));
    }

    [Fact]
    public void Status_report_round_trips_with_its_sessions()
    {
        var session = new SessionEntry(5, 1000, 1000, 4242, "notebook", 1_700_000_000_000, 2, 4096, 1, 8192, 1, 3, 1, 99, 2);
        var report = new StatusReport(BackendKind.Cuda, "CUDA 12.6", Device, 1 << 30, 80UL << 30, 4096, 1234, 2, [session, session with { SessionId = 6 }]);

        var decoded = RoundTrip(MessageType.StatusReport, report);

        Assert.Equal(report with { Sessions = [] }, decoded with { Sessions = [] });
        Assert.Equal(report.Sessions, decoded.Sessions);
    }

    [Fact]
    public void A_session_entry_with_the_longest_name_fits_its_stated_bound()
    {
        var entry = new SessionEntry(ulong.MaxValue, 1, 1, 1, new string('n', 500), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        var buffer = new byte[1024];

        var length = Message.Encode(buffer, MessageType.StatusReport, 0, entry);

        Assert.Equal(SessionEntry.MaxEncodedBytes, length - FrameHeader.Size);
    }

    [Fact]
    public void The_header_states_the_type_request_id_and_payload_length()
    {
        var buffer = new byte[64];

        var length = Message.Encode(buffer, MessageType.RegisterRegion, 0xDEADBEEF, new SizeMessage(4096), descriptorCount: 1);

        Assert.True(FrameHeader.TryRead(buffer, out var header));
        Assert.Equal(new FrameHeader(8, (ushort)MessageType.RegisterRegion, 1, 0, 0xDEADBEEF), header);
        Assert.Equal(FrameHeader.Size + 8, length);
    }

    private static void AssertRoundTrip<T>(MessageType type, T message) where T : struct, IMessage<T> =>
        Assert.Equal(message, RoundTrip(type, message));

    private static T RoundTrip<T>(MessageType type, T message) where T : struct, IMessage<T>
    {
        var buffer = new byte[4096];
        var length = Message.Encode(buffer, type, 77, message);
        Assert.True(FrameHeader.TryRead(buffer, out var header));
        Assert.Equal((ushort)type, header.Type);
        Assert.Equal(77u, header.RequestId);
        Assert.Equal((uint)(length - FrameHeader.Size), header.PayloadLength);
        return Message.Decode<T>(buffer.AsSpan(FrameHeader.Size, length - FrameHeader.Size));
    }
}
