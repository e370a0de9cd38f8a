using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Protocol.Tests.Messages;

public sealed class MessageRoundTripTests
{
    private static readonly DeviceDescription Device = new(0, "NVIDIA H100 80GB HBM3", 80UL << 30, 9, 0, 132, "0000:41:00.0");
    private static readonly LeaseInfo Lease = new(7, "interactive", 1_500_000, 60_000_000_000, 1_700_000_000_000, 1_700_003_600_000, 4UL << 20, 8UL << 30, false);

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
        Assert.Null(listed.Usage);
    }

    [Fact]
    public void A_1_3_model_list_carries_each_model_s_usage_after_the_entries()
    {
        var entry = new ModelEntry(4, 3, "llama-7b", 1000, 13UL << 30, 291, 33, ModelTier.Pinned, true, 1_700_000_000_000, 12, 24.5e9);
        var list = new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 2, [entry, entry with { Model = 4 }], [new UsageEntry(1.5, 300, 12, 1UL << 34, 0.5, 7.25), new UsageEntry(0, 0, 0, 0, double.NaN, double.NaN)]);

        var listed = RoundTrip(MessageType.ModelList, list);

        Assert.Equal(list.Models, listed.Models);
        Assert.Equal(list.Usage, listed.Usage);
        Assert.Throws<InvalidOperationException>(() => Payload(MessageType.ModelList, list with { Usage = [new UsageEntry(1, 1, 1, 1, 1, 1)] }));
    }

    [Fact]
    public void A_1_4_model_list_ends_with_the_other_tenants_models_summed_up()
    {
        var list = new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 3, [], [], new OtherModels(3, 40UL << 30, 2));

        var listed = RoundTrip(MessageType.ModelList, list);

        Assert.Equal(new OtherModels(3, 40UL << 30, 2), listed.Others);
        Assert.Equal(OtherModels.EncodedBytes, Payload(MessageType.ModelList, list).Length - Payload(MessageType.ModelList, list with { Others = null }).Length);
        Assert.Throws<InvalidOperationException>(() => Payload(MessageType.ModelList, list with { Usage = null }));
    }

    [Fact]
    public void A_1_6_model_list_ends_with_the_spill_totals()
    {
        var spills = new SpillSummary(2, 4UL << 20, 9, 18UL << 20, 7, 14UL << 20);
        var list = new ModelList(60UL << 30, 20UL << 30, 64UL << 30, 1UL << 30, 0, [], [], new OtherModels(0, 0, 0), spills);

        var listed = RoundTrip(MessageType.ModelList, list);

        Assert.Equal(spills, listed.Spills);
        Assert.Equal(SpillSummary.EncodedBytes, Payload(MessageType.ModelList, list).Length - Payload(MessageType.ModelList, list with { Spills = null }).Length);
        Assert.Null(RoundTrip(MessageType.ModelList, list with { Spills = null }).Spills);
        Assert.Throws<InvalidOperationException>(() => Payload(MessageType.ModelList, list with { Others = null }));
    }

    [Fact]
    public void AllocateBuffer_without_flags_is_the_1_5_request_and_with_them_carries_a_u32_more()
    {
        Assert.Equal(Payload(MessageType.AllocateBuffer, new SizeMessage(4096)), Payload(MessageType.AllocateBuffer, new AllocateBuffer(4096)));
        Assert.Equal(new AllocateBuffer(4096), Message.Decode<AllocateBuffer>(Payload(MessageType.AllocateBuffer, new SizeMessage(4096))));
        Assert.Equal(12, Payload(MessageType.AllocateBuffer, new AllocateBuffer(4096, BufferFlags.Spillable)).Length);
        AssertRoundTrip(MessageType.AllocateBuffer, new AllocateBuffer(1UL << 40, BufferFlags.Spillable));
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
    public void A_1_2_status_report_carries_the_classes_and_each_session_s_class_and_lease()
    {
        var session = new SessionEntry(5, 1000, 1000, 4242, "notebook", 1_700_000_000_000, 2, 4096, 1, 8192, 1, 3, 1, 99, 2);
        var scheduling = new SchedulingStatus(
            SchedulingPolicy.Request,
            [new PriorityClassEntry("interactive", -5, 2, 1, 0.7, 0), new PriorityClassEntry("batch", 0, 9, 2, 0.3, 0.02)],
            [new SessionClassEntry("interactive", Lease), new SessionClassEntry("standard", null)]);
        var report = new StatusReport(BackendKind.Cuda, "CUDA 12.6", Device, 1 << 30, 80UL << 30, 4096, 1234, 2, [session, session with { SessionId = 6 }], scheduling);

        var decoded = RoundTrip(MessageType.StatusReport, report);

        Assert.Equal(report.Sessions, decoded.Sessions);
        var decodedScheduling = Assert.NotNull(decoded.Scheduling);
        Assert.Equal(SchedulingPolicy.Request, decodedScheduling.Policy);
        Assert.Equal(scheduling.Classes, decodedScheduling.Classes);
        Assert.Equal(scheduling.Sessions, decodedScheduling.Sessions);
    }

    [Fact]
    public void A_status_report_without_the_1_2_part_has_no_scheduling()
    {
        var report = new StatusReport(BackendKind.Sim, "Sim", Device, 1, 2, 0, 5, 0, []);

        Assert.Null(RoundTrip(MessageType.StatusReport, report).Scheduling);
    }

    [Fact]
    public void A_status_report_cut_inside_its_1_2_part_is_malformed()
    {
        var scheduling = new SchedulingStatus(SchedulingPolicy.Step, [new PriorityClassEntry("standard", 0, 0, 0, 0, 0.05)], []);
        var report = new StatusReport(BackendKind.Sim, "Sim", Device, 1, 2, 0, 5, 0, [], scheduling);
        var payload = Payload(MessageType.StatusReport, report);

        Assert.Throws<MalformedPayloadException>(() => Message.Decode<StatusReport>(payload[..^1]));
    }

    [Fact]
    public void A_1_4_status_report_ends_with_the_other_tenants_sessions_summed_up()
    {
        var scheduling = new SchedulingStatus(SchedulingPolicy.Step, [new PriorityClassEntry("standard", 0, 0, 0, 0, 0.05)], []);
        var report = new StatusReport(BackendKind.Sim, "Sim", Device, 1, 2, 0, 5, 6, [], scheduling, new OtherSessions(2, 6, 1UL << 30, 9, 2));

        var decoded = RoundTrip(MessageType.StatusReport, report);

        Assert.Equal(new OtherSessions(2, 6, 1UL << 30, 9, 2), decoded.Others);
        Assert.Null(RoundTrip(MessageType.StatusReport, report with { Others = null }).Others);
        Assert.Throws<MalformedPayloadException>(() => Message.Decode<StatusReport>(Payload(MessageType.StatusReport, report)[..^1]));
        Assert.Throws<InvalidOperationException>(() => Payload(MessageType.StatusReport, report with { Scheduling = null }));
    }

    [Fact]
    public void A_status_report_needs_one_class_entry_per_session_entry()
    {
        var session = new SessionEntry(5, 1000, 1000, 4242, "notebook", 1, 2, 4096, 1, 8192, 1, 3, 1, 99, 2);
        var report = new StatusReport(BackendKind.Sim, "Sim", Device, 1, 2, 0, 5, 1, [session], new SchedulingStatus(SchedulingPolicy.Step, [], []));

        Assert.Throws<InvalidOperationException>(() => Payload(MessageType.StatusReport, report));
    }

    [Fact]
    public void Lease_messages_round_trip()
    {
        AssertRoundTrip(MessageType.AcquireLease, new AcquireLease("interactive", 60_000, 3_600_000, 8UL << 30));
        AssertRoundTrip(MessageType.AcquireLease, new AcquireLease("", 0, 0, 0));
        AssertRoundTrip(MessageType.LeaseGranted, Lease);
        AssertRoundTrip(MessageType.LeaseReport, new LeaseReport(Lease));
        AssertRoundTrip(MessageType.LeaseReport, new LeaseReport(null));
    }

    [Fact]
    public void A_report_of_no_lease_still_carries_the_lease_fields_as_zeros()
    {
        var payload = Payload(MessageType.LeaseReport, new LeaseReport(null));

        Assert.Equal(LeaseReport.MaxEncodedBytes - LeaseInfo.MaxClassNameBytes, payload.Length);
        Assert.All(payload, b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_lease_report_whose_flag_is_not_a_bool_is_malformed()
    {
        var payload = Payload(MessageType.LeaseReport, new LeaseReport(Lease));
        payload[0] = 2;

        Assert.Throws<MalformedPayloadException>(() => Message.Decode<LeaseReport>(payload));
    }

    [Fact]
    public void Tenant_report_round_trips_with_percentiles_that_are_not_there_yet()
    {
        var tenant = new TenantEntry(1000, 2, 3, 4UL << 20, 8UL << 30, 1, 2, 12.5, 3600, 1_700_000_000_000, "standard", new UsageEntry(99.5, 1234, 7, 1UL << 33, 0.25, 4.5));
        var idle = tenant with { Uid = 1001, Usage = new UsageEntry(0, 0, 0, 0, double.NaN, double.NaN), HighestClass = "" };
        var report = new TenantReport(3, [tenant, idle]);

        var decoded = RoundTrip(MessageType.TenantReport, report);

        Assert.Equal(3u, decoded.TenantsTotal);
        Assert.Equal(report.Tenants, decoded.Tenants);
        Assert.True(double.IsNaN(decoded.Tenants[1].Usage.QueueDelayP99Ms));
    }

    [Fact]
    public void A_1_4_tenant_report_ends_with_the_other_tenants_summed_up()
    {
        var report = new TenantReport(4, [], new OtherTenants(3, 5, 6UL << 21, 1, 12.5));

        var decoded = RoundTrip(MessageType.TenantReport, report);

        Assert.Equal(new OtherTenants(3, 5, 6UL << 21, 1, 12.5), decoded.Others);
        Assert.Null(RoundTrip(MessageType.TenantReport, report with { Others = null }).Others);
    }

    [Fact]
    public void A_tenant_count_past_the_payload_is_malformed()
    {
        byte[] payload = [5, 0, 0, 0, 2, 0];

        Assert.Throws<MalformedPayloadException>(() => Message.Decode<TenantReport>(payload));
    }

    [Fact]
    public void Entries_with_the_longest_class_names_fit_their_stated_bounds()
    {
        var longName = new string('c', 500);

        Assert.Equal(LeaseInfo.MaxEncodedBytes, Payload(MessageType.LeaseGranted, Lease with { Class = longName }).Length);
        Assert.Equal(SessionClassEntry.MaxEncodedBytes, Payload(MessageType.StatusReport, new SessionClassEntry(longName, Lease with { Class = longName })).Length);
        Assert.Equal(PriorityClassEntry.MaxEncodedBytes, Payload(MessageType.StatusReport, new PriorityClassEntry(longName, -1, 1, 1, 1, 1)).Length);
        var tenant = new TenantEntry(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, longName, new UsageEntry(1, 1, 1, 1, 1, 1));
        Assert.Equal(TenantEntry.MaxEncodedBytes, Payload(MessageType.TenantReport, tenant).Length);
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

    private static byte[] Payload<T>(MessageType type, T message) where T : struct, IMessage<T>
    {
        var buffer = new byte[4096];
        var length = Message.Encode(buffer, type, 1, message);
        return buffer[FrameHeader.Size..length];
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
