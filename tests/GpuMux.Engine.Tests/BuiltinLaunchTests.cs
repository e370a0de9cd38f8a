using GpuMux.Engine.Tests.Models;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests;

/// <summary>
/// Every session may run the built-in kernels, and all sessions share one context: a built-in is
/// given its pointers as buffers and tensors of the step, never as raw integers, and may reach
/// no further than they do, so it cannot read or write another session's memory.
/// </summary>
public sealed class BuiltinLaunchTests
{
    private const ulong Bytes = 4096;

    [Fact]
    public async Task A_raw_integer_for_a_built_in_kernel_s_pointer_is_refused()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);

        var completion = await session.RunAsync(completions, step =>
        {
            step.AddLaunch(fill, 1, 32, 0);
            step.AddScalarArgument(0x7f00_0000_0000UL);
            step.AddScalarArgument(1f);
            step.AddScalarArgument(16UL);
        });

        Assert.Equal(EngineError.InvalidArgument, completion.Status);
        Assert.Contains("argument 0 of fill_f32 is a pointer: give a buffer or a tensor, not a UInt64 value", completion.Message);
        Assert.Equal((0L, 0L), (completion.StartedAtNs, completion.EndedAtNs));
    }

    [Fact]
    public async Task A_built_in_kernel_reaching_past_its_buffer_is_refused_and_the_next_session_s_buffer_is_untouched()
    {
        await using var engine = await TestEngine.StartAsync();
        var (attacker, attackerCompletions) = engine.Open();
        var (victim, victimCompletions) = engine.Open();
        var own = await attacker.AllocateBufferAsync(Bytes, Ct);
        var victimBuffer = await victim.AllocateBufferAsync(Bytes, Ct);
        using var shared = new SharedMemoryFile(Bytes);
        var region = await victim.RegisterRegionAsync(shared.OpenDescriptor(), Bytes, Ct);
        var fill = await attacker.GetFunctionAsync(0, KernelNames.FillF32, Ct);

        // Four pages of the pool from the attacker's buffer: the victim's buffer, allocated next, lies in them.
        var overrun = await attacker.RunAsync(attackerCompletions, step =>
        {
            step.AddLaunch(fill, 64, 256, 0);
            step.AddBufferArgument(own, 0);
            step.AddScalarArgument(7f);
            step.AddScalarArgument((8UL << 20) / sizeof(float));
        });
        var read = await victim.RunAsync(victimCompletions, step => step.AddCopyOut(victimBuffer, 0, region, 0, Bytes));

        Assert.Equal(EngineError.InvalidArgument, overrun.Status);
        Assert.Contains("argument 0 of fill_f32 reaches 8388608 bytes from offset 0, past the end of buffer", overrun.Message);
        Assert.Equal(EngineError.None, read.Status);
        Assert.Equal(new float[Bytes / sizeof(float)], shared.Read<float>(0, (int)(Bytes / sizeof(float))));
    }

    // Each case launches its kernel with buffers a and b of 4096 bytes each.
    private static readonly Dictionary<string, (string Kernel, Action<Step, uint, uint, uint> Launch)> Cases = new()
    {
        ["axpy's x from offset 4"] = (KernelNames.AxpyF32, (step, f, a, b) => Launch(step, f, Buffer(a, 0), Buffer(b, 4), 1f, Bytes / sizeof(float))),
        ["gemv_f32's weights of 32 x 64"] = (KernelNames.GemvF32, (step, f, a, b) => Launch(step, f, Buffer(a, 0), Buffer(b, 0), Buffer(b, 0), 32u, 64u)),
        ["gemv_bf16's x of 2048"] = (KernelNames.GemvBf16, (step, f, a, b) => Launch(step, f, Buffer(a, 0), Buffer(b, 0), Buffer(b, 0), 1u, 2048u)),
        ["checksum's out at the last 4 bytes"] = (KernelNames.Checksum, (step, f, a, b) => Launch(step, f, Buffer(a, 0), Bytes, Buffer(b, Bytes - 4))),
        ["checksum's out at offset 4"] = (KernelNames.Checksum, (step, f, a, b) => Launch(step, f, Buffer(a, 0), Bytes, Buffer(b, 4))),
        ["fill at offset 2"] = (KernelNames.FillF32, (step, f, a, b) => Launch(step, f, Buffer(a, 2), 1f, 4UL)),
        ["fill's count a buffer"] = (KernelNames.FillF32, (step, f, a, b) => Launch(step, f, Buffer(a, 0), 1f, Buffer(b, 0))),
        ["fill's count a u32"] = (KernelNames.FillF32, (step, f, a, b) => Launch(step, f, Buffer(a, 0), 1f, 4u)),
        ["spin without its duration"] = (KernelNames.Spin, (step, f, a, b) => Launch(step, f)),
        ["matmul_f16's y of 16 tokens x 32 rows from offset 2052"] = (KernelNames.MatmulF16, (step, f, a, b) => Launch(step, f, Buffer(a, 0), Buffer(b, 0), Buffer(b, 2052), 32u, 64u, 16u)),
        ["attention's K cache of 3 pages x 4 slots x 2 heads x 64"] = (KernelNames.AttentionPagedF32, (step, f, a, b) =>
            Launch(step, f, Buffer(a, 0), Buffer(b, 0), Buffer(b, 0), Buffer(a, 0), Buffer(a, 0), 1u, 2u, 2u, 64u, 4u, 3u, 1u, 0u, 0.125f)),
        ["kv_append's K cache of 3 pages x 4 slots x 2 heads x 64"] = (KernelNames.KvAppendF32, (step, f, a, b) =>
            Launch(step, f, Buffer(a, 0), Buffer(a, 0), Buffer(b, 0), Buffer(b, 0), Buffer(a, 0), 1u, 2u, 64u, 4u, 3u, 1u, 0u)),
    };

    [Theory]
    [InlineData("axpy's x from offset 4", "argument 1 of axpy_f32 reaches 4096 bytes from offset 4, past the end of buffer")]
    [InlineData("gemv_f32's weights of 32 x 64", "argument 0 of gemv_f32 reaches 8192 bytes")]
    [InlineData("gemv_bf16's x of 2048", "argument 1 of gemv_bf16 reaches 8192 bytes")]
    [InlineData("checksum's out at the last 4 bytes", "argument 2 of checksum reaches 8 bytes from offset 4092")]
    [InlineData("checksum's out at offset 4", "argument 2 of checksum must be 8-byte aligned; offset 4 into buffer")]
    [InlineData("fill at offset 2", "argument 0 of fill_f32 must be 4-byte aligned")]
    [InlineData("fill's count a buffer", "argument 2 of fill_f32 is a UInt64, not a buffer or tensor")]
    [InlineData("fill's count a u32", "argument 2 of fill_f32 is a UInt64, not a UInt32")]
    [InlineData("spin without its duration", "spin takes 1 argument, not 0")]
    [InlineData("matmul_f16's y of 16 tokens x 32 rows from offset 2052", "argument 2 of matmul_f16 reaches 2048 bytes from offset 2052")]
    [InlineData("attention's K cache of 3 pages x 4 slots x 2 heads x 64", "argument 1 of attention_paged_f32 reaches 6144 bytes from offset 0, past the end of buffer")]
    [InlineData("kv_append's K cache of 3 pages x 4 slots x 2 heads x 64", "argument 2 of kv_append_f32 reaches 6144 bytes from offset 0, past the end of buffer")]
    public async Task A_built_in_launch_outside_its_buffers_or_unlike_its_signature_is_refused_naming_the_argument(string name, string expected)
    {
        var (kernel, launch) = Cases[name];
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var a = await session.AllocateBufferAsync(Bytes, Ct);
        var b = await session.AllocateBufferAsync(Bytes, Ct);
        var function = await session.GetFunctionAsync(0, kernel, Ct);

        var completion = await session.RunAsync(completions, step => launch(step, function, a, b));

        Assert.Equal(EngineError.InvalidArgument, completion.Status);
        Assert.Contains(expected, completion.Message);
    }

    [Fact]
    public async Task Built_in_launches_that_fit_their_buffers_exactly_run()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var a = await session.AllocateBufferAsync(Bytes, Ct);
        var b = await session.AllocateBufferAsync(Bytes, Ct);
        var fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);
        var gemv = await session.GetFunctionAsync(0, KernelNames.GemvF16, Ct);
        var checksum = await session.GetFunctionAsync(0, KernelNames.Checksum, Ct);

        var completion = await session.RunAsync(completions, step =>
        {
            Launch(step, fill, Buffer(a, 4), 1f, (ulong)(Bytes / sizeof(float)) - 1);
            Launch(step, gemv, Buffer(a, 0), Buffer(b, 0), Buffer(b, 2048), 32u, 64u);
            Launch(step, checksum, Buffer(a, 4), Bytes - 5, Buffer(b, Bytes - 8));
        });

        Assert.Equal(EngineError.None, completion.Status);
    }

    [Fact]
    public async Task A_built_in_kernel_reaching_past_its_tensor_is_refused()
    {
        await using var setup = await TensorSetup.OpenAsync();
        var (tenant, model, w, y) = (setup.Tenant, setup.Model, setup.Tensor, setup.Buffer);
        var gemv = await tenant.Session.GetFunctionAsync(0, KernelNames.GemvF32, Ct);

        var completion = await tenant.Session.RunAsync(tenant.Completions, step =>
        {
            step.UseModel(model);
            step.AddLaunch(gemv, 8, 256, 0);
            step.AddTensorArgument(w, 0);
            step.AddBufferArgument(y, 0);
            step.AddBufferArgument(y, 0);
            step.AddScalarArgument(65u);
            step.AddScalarArgument(96u);
        });

        Assert.Equal(EngineError.InvalidArgument, completion.Status);
        Assert.Contains($"argument 0 of gemv_f32 reaches 24960 bytes from offset 0, past the end of tensor {w} of 24576 bytes", completion.Message);
    }

    [Theory]
    [InlineData(KernelNames.FillF32)]
    [InlineData(KernelNames.AxpyF32)]
    public async Task A_built_in_kernel_writing_into_a_model_s_tensor_is_refused_and_the_weights_are_unchanged(string kernel)
    {
        await using var setup = await TensorSetup.OpenAsync();
        var (tenant, model, w, x) = (setup.Tenant, setup.Model, setup.Tensor, setup.Buffer);
        var function = await tenant.Session.GetFunctionAsync(0, kernel, Ct);

        var completion = await tenant.Session.RunAsync(tenant.Completions, step =>
        {
            step.UseModel(model);
            step.AddLaunch(function, 1, 256, 0);
            step.AddTensorArgument(w, 0);
            if (kernel == KernelNames.AxpyF32)
            {
                step.AddBufferArgument(x, 0);
            }
            step.AddScalarArgument(7f);
            step.AddScalarArgument(16ul);
        });

        Assert.Equal(EngineError.InvalidArgument, completion.Status);
        Assert.Contains($"argument 0 of {kernel} is written, and tensor {w} is a model's weights", completion.Message);
        await tenant.RunAndCheckAsync("m");
    }

    [Theory]
    [InlineData(KernelNames.RmsNormF16, 1, 2)]
    [InlineData(KernelNames.BiasAddBf16, 1, 0)]
    public async Task A_built_in_may_read_its_weights_from_a_model_s_tensor_but_not_write_its_output_there(string kernel, int weightsAt, int outputAt)
    {
        await using var setup = await TensorSetup.OpenAsync();
        var (tenant, model, w, x) = (setup.Tenant, setup.Model, setup.Tensor, setup.Buffer);
        var function = await tenant.Session.GetFunctionAsync(0, kernel, Ct);

        var readsTensor = await Run(tensorAt: weightsAt);
        var writesTensor = await Run(tensorAt: outputAt);

        Assert.Equal(EngineError.None, readsTensor.Status);
        Assert.Equal(EngineError.InvalidArgument, writesTensor.Status);
        Assert.Contains($"argument {outputAt} of {kernel} is written, and tensor {w} is a model's weights", writesTensor.Message);
        await tenant.RunAndCheckAsync("m");

        // The model's tensor at one pointer and the buffer at the others; both kernels take rows
        // and cols (4 rows of 256 floats, 256 halves of weights), rmsnorm its epsilon after them.
        Task<StepCompletion> Run(int tensorAt) => tenant.Session.RunAsync(tenant.Completions, step =>
        {
            step.UseModel(model);
            step.AddLaunch(function, 1, 256, 0);
            var counts = new Queue<uint>([4u, 256u]);
            var signature = BuiltinSignatures.ByName[kernel];
            for (var argument = 0; argument < signature.Length; argument++)
            {
                switch (signature[argument])
                {
                    case KernelArgumentKind.Pointer when argument == tensorAt:
                        step.AddTensorArgument(w, 0);
                        break;
                    case KernelArgumentKind.Pointer:
                        step.AddBufferArgument(x, 0);
                        break;
                    case KernelArgumentKind.UInt32:
                        step.AddScalarArgument(counts.Dequeue());
                        break;
                    default:
                        step.AddScalarArgument(1e-5f);
                        break;
                }
            }
        });
    }

    private static (uint Handle, ulong Offset) Buffer(uint handle, ulong offset) => (handle, offset);

    /// <summary>A tenant of an engine of its own with model "m" registered, its tensor "w" and a buffer of <see cref="Bytes"/>.</summary>
    private sealed class TensorSetup(GpuEngine engine, ModelTenant tenant, uint model, uint tensor, uint buffer) : IAsyncDisposable
    {
        public ModelTenant Tenant => tenant;

        public uint Model => model;

        public uint Tensor => tensor;

        public uint Buffer => buffer;

        public static async Task<TensorSetup> OpenAsync()
        {
            var engine = await ModelEngine.StartAsync();
            var tenant = await ModelTenant.OpenAsync(engine);
            var registration = await tenant.RegisterAsync(TestModel.Create("m", 1, rows: 64, cols: 96));
            var w = await tenant.Session.GetTensorAsync(registration.Model, "w", Ct);
            var buffer = await tenant.Session.AllocateBufferAsync(Bytes, Ct);
            return new TensorSetup(engine, tenant, registration.Model, w.Tensor, buffer);
        }

        public async ValueTask DisposeAsync()
        {
            await tenant.DisposeAsync();
            await engine.DisposeAsync();
        }
    }

    private static void Launch(Step step, uint function, params object[] arguments)
    {
        step.AddLaunch(function, 1, 256, 0);
        foreach (var argument in arguments)
        {
            switch (argument)
            {
                case (uint handle, ulong offset):
                    step.AddBufferArgument(handle, offset);
                    break;
                case float value:
                    step.AddScalarArgument(value);
                    break;
                case uint value:
                    step.AddScalarArgument(value);
                    break;
                case ulong value:
                    step.AddScalarArgument(value);
                    break;
                default:
                    throw new ArgumentException($"no kernel argument of type {argument.GetType()}", nameof(arguments));
            }
        }
    }
}
