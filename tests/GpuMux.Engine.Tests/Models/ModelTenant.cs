using GpuMux.Gpu.Kernels;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine.Tests.Models;

/// <summary>
/// A session that runs steps bound to its models: x is copied in, "w" of the model multiplies
/// it (gemv), the checksum kernel sums "tail", and both results are copied out to a slot of the
/// session's region of its own, so that several steps can be in flight at once.
/// </summary>
internal sealed class ModelTenant : IAsyncDisposable
{
    public const int MaxCols = 256;
    public const int MaxRows = 256;

    private const ulong XOffset = 0;
    private const ulong ZeroOffset = MaxCols * sizeof(float);
    private const ulong SlotsOffset = 4096;
    private const ulong SlotBytes = (MaxRows * sizeof(float)) + 64;
    private const int Slots = 64;

    private readonly Dictionary<string, (uint Handle, TestModel Model)> _models = [];
    private uint _region;
    private uint _x;
    private uint _y;
    private uint _sum;
    private uint _gemvF32;
    private uint _gemvF16;
    private uint _checksum;
    private uint _spin;
    private int _nextSlot;

    private ModelTenant(EngineSession session, CompletionRecorder completions)
    {
        Session = session;
        Completions = completions;
    }

    public EngineSession Session { get; }

    public CompletionRecorder Completions { get; }

    public SharedMemoryFile Shared { get; } = new(SlotsOffset + (Slots * SlotBytes));

    public float[] X { get; } = TestData.Floats(99, MaxCols);

    public static async Task<ModelTenant> OpenAsync(GpuEngine engine, SessionIdentity? identity = null)
    {
        var completions = new CompletionRecorder();
        var tenant = new ModelTenant(engine.OpenSession(identity ?? TestEngine.Identity, completions), completions);
        var session = tenant.Session;
        tenant.Shared.Write<float>(XOffset, tenant.X);
        tenant._region = await session.RegisterRegionAsync(tenant.Shared.OpenDescriptor(), tenant.Shared.Length, Ct);
        tenant._x = await session.AllocateBufferAsync(MaxCols * sizeof(float), Ct);
        tenant._y = await session.AllocateBufferAsync(MaxRows * sizeof(float), Ct);
        tenant._sum = await session.AllocateBufferAsync(sizeof(ulong), Ct);
        tenant._gemvF32 = await session.GetFunctionAsync(0, KernelNames.GemvF32, Ct);
        tenant._gemvF16 = await session.GetFunctionAsync(0, KernelNames.GemvF16, Ct);
        tenant._checksum = await session.GetFunctionAsync(0, KernelNames.Checksum, Ct);
        tenant._spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);
        return tenant;
    }

    /// <summary>Registers <paramref name="model"/> under its name.</summary>
    public async Task<ModelRegistration> RegisterAsync(TestModel model, IReadOnlyList<int>? groups = null, IProgress<ModelStagingProgress>? progress = null)
    {
        var registration = await Session.RegisterModelAsync(model.OpenDescriptor(), model.Name, groups, progress, Ct);
        _models[model.Name] = (registration.Model, model);
        return registration;
    }

    /// <summary>Registers <paramref name="model"/> from <paramref name="descriptor"/>, a file of the test's choosing.</summary>
    public async Task<ModelRegistration> RegisterAsync(TestModel model, SafeFileHandle descriptor)
    {
        var registration = await Session.RegisterModelAsync(descriptor, model.Name, null, null, Ct);
        _models[model.Name] = (registration.Model, model);
        return registration;
    }

    public uint HandleOf(string name) => _models[name].Handle;

    /// <summary>
    /// Submits a step bound to the model: gemv over "w", checksum over "tail", after a spin of
    /// <paramref name="spinMicroseconds"/> if not 0, with what <paramref name="schedule"/> sets
    /// (a deadline, the end of a request). Returns the output slot.
    /// </summary>
    public async Task<int> SubmitAsync(string name, ulong spinMicroseconds = 0, uint requestId = 0, Action<Step>? schedule = null)
    {
        var (handle, model) = _models[name];
        var w = (await Session.GetTensorAsync(handle, "w", Ct)).Tensor;
        var tail = await Session.GetTensorAsync(handle, "tail", Ct);
        var slot = _nextSlot++ % Slots;
        var output = SlotsOffset + ((ulong)slot * SlotBytes);
        var step = Session.RentStep();
        step.RequestId = requestId;
        step.UseModel(handle);
        schedule?.Invoke(step);
        if (spinMicroseconds != 0)
        {
            step.AddLaunch(_spin, 1, 32, 0);
            step.AddScalarArgument(spinMicroseconds);
        }
        step.AddCopyIn(_region, XOffset, _x, 0, (ulong)model.Cols * sizeof(float));
        step.AddCopyIn(_region, ZeroOffset, _sum, 0, sizeof(ulong));
        step.AddLaunch(model.Type == WeightType.F32 ? _gemvF32 : _gemvF16, (uint)((model.Rows + 7) / 8), BuiltinKernels.BlockSize, 0);
        step.AddTensorArgument(w, 0);
        step.AddBufferArgument(_x, 0);
        step.AddBufferArgument(_y, 0);
        step.AddScalarArgument((uint)model.Rows);
        step.AddScalarArgument((uint)model.Cols);
        step.AddLaunch(_checksum, 4, BuiltinKernels.BlockSize, 0);
        step.AddTensorArgument(tail.Tensor, 0);
        step.AddScalarArgument(tail.Bytes);
        step.AddBufferArgument(_sum, 0);
        step.AddCopyOut(_y, 0, _region, output, (ulong)model.Rows * sizeof(float));
        step.AddCopyOut(_sum, 0, _region, output + (MaxRows * sizeof(float)), sizeof(ulong));
        Session.Submit(step);
        return slot;
    }

    /// <summary>Checks the results in <paramref name="slot"/> against the reference for the model's weights and tail.</summary>
    public void AssertResults(string name, int slot)
    {
        var model = _models[name].Model;
        var output = SlotsOffset + ((ulong)slot * SlotBytes);
        Assert.Equal(model.ExpectedY(X[..model.Cols]), Shared.Read<float>(output, model.Rows));
        Assert.Equal(model.ExpectedTailChecksum(), Shared.Read<ulong>(output + (MaxRows * sizeof(float)), 1)[0]);
    }

    /// <summary>Runs one step of the model and checks it completed with the reference's results.</summary>
    public async Task RunAndCheckAsync(string name)
    {
        var slot = await SubmitAsync(name);
        var completion = await Completions.NextAsync();
        Assert.True(completion.Status == EngineError.None, $"{name}: {completion.Status} {completion.Message}");
        AssertResults(name, slot);
    }

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        Shared.Dispose();
        foreach (var (_, model) in _models.Values)
        {
            model.Dispose();
        }
    }
}
