using System.Diagnostics;
using GpuMux.Protocol;

namespace GpuMux.Robustness.Fuzzing;

/// <summary>Valid requests of every type, naming the session's own handles: what mutations start from.</summary>
internal static class FuzzTemplates
{
    private const byte CopyIn = 1, Launch = 2, CopyOut = 3, UseModel = 4, Schedule = 5;
    private const byte BufferArgument = 1, U64Argument = 5, F32Argument = 6, TensorArgument = 8;

    private static readonly MessageType[] EmptyRequests =
        [MessageType.GetStatus, MessageType.ListModels, MessageType.GetLease, MessageType.GetTenants, MessageType.ReleaseLease];

    /// <summary>A random valid request.</summary>
    public static FrameTemplate Any(FuzzState state, Random random) => random.Next(22) switch
    {
        0 => AllocateBuffer((ulong)random.Next(1, 1 << 20)),
        1 => FreeBuffer(state.Buffer(random)),
        2 => RegisterRegion(FuzzState.RegionBytes),
        3 => ReleaseRegion(state.Region),
        4 => LoadModule(),
        5 => UnloadModule((uint)random.Next(1, 4)),
        6 => GetFunction("axpy_f32"),
        7 or 8 or 9 => FillStep(state, random),
        10 => SpinStep(state, (ulong)random.Next(1, 200)),
        11 => ChecksumStep(state, random),
        12 => ScheduledStep(state, random),
        13 => ModelStep(state, random),
        14 => new PayloadWriter().U16(0, FieldRole.Reserved).U16(0, FieldRole.Count).Build(MessageType.SubmitStep),
        15 => AcquireLease(random),
        16 => RegisterModel(),
        17 => GetTensor(state.Model, "w"),
        18 => UnregisterModel(state.Model),
        19 => Hello("again"),
        _ => Empty(EmptyRequests[random.Next(EmptyRequests.Length)]),
    };

    /// <summary>A random valid request that carries a descriptor.</summary>
    public static FrameTemplate WithDescriptor(Random random) => random.Next(3) switch
    {
        0 => RegisterRegion(FuzzState.RegionBytes),
        1 => LoadModule(),
        _ => RegisterModel(),
    };

    public static FrameTemplate Hello(string name) =>
        new PayloadWriter().U32(ProtocolVersion.Magic).U16(ProtocolVersion.Major).U16(ProtocolVersion.Minor).U64(0, FieldRole.Reserved).String(name).Build(MessageType.Hello);

    public static FrameTemplate Empty(MessageType type) => new PayloadWriter().Build(type);

    public static FrameTemplate AllocateBuffer(ulong bytes) => new PayloadWriter().U64(bytes).Build(MessageType.AllocateBuffer);

    public static FrameTemplate FreeBuffer(uint buffer) => new PayloadWriter().U32(buffer, FieldRole.Handle).Build(MessageType.FreeBuffer);

    public static FrameTemplate ReleaseRegion(uint region) => new PayloadWriter().U32(region, FieldRole.Handle).Build(MessageType.ReleaseRegion);

    public static FrameTemplate RegisterRegion(ulong bytes) => new PayloadWriter().U64(bytes).Build(MessageType.RegisterRegion, Attachment.RegionFile);

    public static FrameTemplate LoadModule() =>
        new PayloadWriter().U8(1, FieldRole.Kind).U64((ulong)FuzzAttachments.ModuleSource.Length).String("fuzz").Build(MessageType.LoadModule, Attachment.ModuleSource);

    public static FrameTemplate UnloadModule(uint module) => new PayloadWriter().U32(module, FieldRole.Handle).Build(MessageType.UnloadModule);

    /// <summary>The one-tensor model of <see cref="FuzzAttachments.ModelFile"/>, in one layer group.</summary>
    public static FrameTemplate RegisterModel() =>
        new PayloadWriter().String("fuzz-model").U32(1, FieldRole.Count).U32(1).Build(MessageType.RegisterModel, Attachment.ModelFile);

    /// <summary>A model of the caller's file, in the daemon's default layer groups (the count 0).</summary>
    public static FrameTemplate RegisterModel(string name) =>
        new PayloadWriter().String(name).U32(0, FieldRole.Count).Build(MessageType.RegisterModel, Attachment.ModelFile);

    public static FrameTemplate UnregisterModel(uint model) => new PayloadWriter().U32(model, FieldRole.Handle).Build(MessageType.UnregisterModel);

    public static FrameTemplate GetFunction(string name) => new PayloadWriter().U32(0, FieldRole.Handle).String(name).Build(MessageType.GetFunction);

    public static FrameTemplate GetTensor(uint model, string name) => new PayloadWriter().U32(model, FieldRole.Handle).String(name).Build(MessageType.GetTensor);

    public static FrameTemplate AcquireLease(Random random) =>
        new PayloadWriter().String(random.Next(3) switch { 0 => "", 1 => "standard", _ => "batch" })
            .U64((ulong)random.Next(0, 10_000)).U64((ulong)random.Next(0, 60_000)).U64((ulong)random.Next(0, 64) << 20)
            .Build(MessageType.AcquireLease);

    /// <summary>Copies 256 bytes in, fills 64 floats, copies them out: a step that touches a region, a buffer and a kernel.</summary>
    public static FrameTemplate FillStep(FuzzState state, Random random)
    {
        var buffer = state.Buffer(random);
        var writer = new PayloadWriter().U16(0, FieldRole.Reserved).U16(3, FieldRole.Count);
        CopyOp(writer, CopyIn, state.Region, buffer);
        LaunchOp(writer, state.Function("fill_f32"), 1, 64, 3)
            .U8(BufferArgument, FieldRole.Kind).U32(buffer, FieldRole.Handle).U64(0)
            .U8(F32Argument, FieldRole.Kind).F32((float)random.NextDouble())
            .U8(U64Argument, FieldRole.Kind).U64(64);
        CopyOp(writer, CopyOut, state.Region, buffer);
        return writer.Build(MessageType.SubmitStep);
    }

    /// <summary>One spin kernel: its duration is a field like any other.</summary>
    public static FrameTemplate SpinStep(FuzzState state, ulong microseconds)
    {
        var writer = new PayloadWriter().U16(0, FieldRole.Reserved).U16(1, FieldRole.Count);
        LaunchOp(writer, state.Function("spin"), 1, 1, 1).U8(U64Argument, FieldRole.Kind).U64(microseconds);
        return writer.Build(MessageType.SubmitStep);
    }

    private static FrameTemplate ChecksumStep(FuzzState state, Random random)
    {
        var data = state.Buffer(random);
        var sum = state.Buffer(random);
        var writer = new PayloadWriter().U16(0, FieldRole.Reserved).U16(1, FieldRole.Count);
        LaunchOp(writer, state.Function("checksum"), 4, 256, 3)
            .U8(BufferArgument, FieldRole.Kind).U32(data, FieldRole.Handle).U64(0)
            .U8(U64Argument, FieldRole.Kind).U64(4096)
            .U8(BufferArgument, FieldRole.Kind).U32(sum, FieldRole.Handle).U64(8192);
        return writer.Build(MessageType.SubmitStep);
    }

    private static FrameTemplate ScheduledStep(FuzzState state, Random random)
    {
        var buffer = state.Buffer(random);
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * random.Next(0, 5));
        var writer = new PayloadWriter().U16(0, FieldRole.Reserved).U16(2, FieldRole.Count)
            .U8(Schedule, FieldRole.Kind).U64((ulong)deadline).U8((byte)random.Next(4), FieldRole.Reserved);
        LaunchOp(writer, state.Function("fill_f32"), 1, 32, 3)
            .U8(BufferArgument, FieldRole.Kind).U32(buffer, FieldRole.Handle).U64(0)
            .U8(F32Argument, FieldRole.Kind).F32(1)
            .U8(U64Argument, FieldRole.Kind).U64(32);
        return writer.Build(MessageType.SubmitStep);
    }

    private static FrameTemplate ModelStep(FuzzState state, Random random)
    {
        var sum = state.Buffer(random);
        var writer = new PayloadWriter().U16(0, FieldRole.Reserved).U16(2, FieldRole.Count)
            .U8(UseModel, FieldRole.Kind).U32(state.Model, FieldRole.Handle);
        LaunchOp(writer, state.Function("checksum"), 1, 32, 3)
            .U8(TensorArgument, FieldRole.Kind).U32(state.Tensor, FieldRole.Handle).U64(0)
            .U8(U64Argument, FieldRole.Kind).U64(16)
            .U8(BufferArgument, FieldRole.Kind).U32(sum, FieldRole.Handle).U64(0);
        return writer.Build(MessageType.SubmitStep);
    }

    private static void CopyOp(PayloadWriter writer, byte kind, uint region, uint buffer)
    {
        writer.U8(kind, FieldRole.Kind);
        if (kind == CopyIn)
        {
            writer.U32(region, FieldRole.Handle).U64(0).U32(buffer, FieldRole.Handle).U64(0);
        }
        else
        {
            writer.U32(buffer, FieldRole.Handle).U64(0).U32(region, FieldRole.Handle).U64(256);
        }

        writer.U64(256);
    }

    private static PayloadWriter LaunchOp(PayloadWriter writer, uint function, uint grid, uint block, byte arguments) =>
        writer.U8(Launch, FieldRole.Kind).U32(function, FieldRole.Handle)
            .U32(grid).U32(1).U32(1).U32(block).U32(1).U32(1).U32(0)
            .U8(arguments, FieldRole.Count);
}
