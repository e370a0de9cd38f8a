using System.Text;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests.Models;

public sealed class ModelRegistrationTests
{
    [Fact]
    public async Task Models_of_f32_and_f16_weights_register_and_steps_bound_to_them_compute_what_the_reference_does()
    {
        await using var engine = await ModelEngine.StartAsync();
        await using var tenant = await ModelTenant.OpenAsync(engine);
        var progress = new ProgressLog();
        var f32 = TestModel.Create("f32", 1, WeightType.F32, rows: 100, cols: 200);
        var f16 = TestModel.Create("f16", 2, WeightType.F16, rows: 64, cols: 128, padTensors: 3, padBytes: 4096);

        var first = await tenant.RegisterAsync(f32, progress: progress);
        var second = await tenant.RegisterAsync(f16);

        Assert.Equal(new ModelRegistration(first.Model, 2, f32.DataBytes, ModelTier.Pinned, 1), first);
        Assert.Equal(new ModelRegistration(second.Model, 5, f16.DataBytes, ModelTier.Pinned, 2), second);
        Assert.NotEqual(first.Model, second.Model);
        Assert.Equal(f32.DataBytes, progress.Last.StagedBytes);
        Assert.Equal(f32.DataBytes, progress.Last.TotalBytes);
        var w = await tenant.Session.GetTensorAsync(second.Model, "w", Ct);
        var tail = await tenant.Session.GetTensorAsync(second.Model, "tail", Ct);
        Assert.Equal(((ulong)(64 * 128 * 2), 0), (w.Bytes, w.Group));
        Assert.Equal((4096UL, 1), (tail.Bytes, tail.Group));
        Assert.Equal(EngineError.UnknownTensor, (await Assert.ThrowsAsync<EngineException>(() => tenant.Session.GetTensorAsync(second.Model, "nope", Ct))).Error);
        Assert.All(await engine.GetModelsAsync(Ct), m => Assert.False(m.Resident));

        await tenant.RunAndCheckAsync("f32");
        await tenant.RunAndCheckAsync("f16");
        await tenant.RunAndCheckAsync("f32");

        var models = await engine.GetModelsAsync(Ct);
        var status = ModelEngine.StatusOf(models, "f32");
        Assert.Equal((tenant.Session.Id, first.Model, TestEngine.Identity.Uid, f32.DataBytes, 2, 1, ModelTier.Pinned, true, 1L),
            (status.SessionId, status.Model, status.OwnerUid, status.Bytes, status.TensorCount, status.Groups, status.Tier, status.Resident, status.SwapCount));
        Assert.NotNull(status.LastUsed);
        Assert.True(status.MedianSwapInBytesPerSecond > 0);
        var engineStatus = await engine.GetStatusAsync(Ct);
        Assert.Equal(ModelEngine.Pool, engineStatus.DevicePoolBytes);
        Assert.Equal(128UL << 20, engineStatus.PinnedPoolBytes);
        Assert.True(engineStatus.PinnedPoolFreeBytes <= engineStatus.PinnedPoolBytes - f32.DataBytes - f16.DataBytes);
    }

    [Fact]
    public async Task Layer_groups_are_the_tensors_in_file_order_in_the_counts_given()
    {
        await using var engine = await ModelEngine.StartAsync();
        await using var tenant = await ModelTenant.OpenAsync(engine);
        var model = TestModel.Create("grouped", 3, padTensors: 4, padBytes: 1024);

        var registration = await tenant.RegisterAsync(model, groups: [1, 4, 1]);

        Assert.Equal(3, registration.Groups);
        Assert.Equal(0, (await tenant.Session.GetTensorAsync(registration.Model, "w", Ct)).Group);
        Assert.Equal(1, (await tenant.Session.GetTensorAsync(registration.Model, "pad.3", Ct)).Group);
        Assert.Equal(2, (await tenant.Session.GetTensorAsync(registration.Model, "tail", Ct)).Group);
        await tenant.RunAndCheckAsync("grouped");
    }

    [Fact]
    public async Task Bad_names_and_groupings_are_invalid_arguments_and_the_descriptor_is_always_closed()
    {
        await using var engine = await ModelEngine.StartAsync();
        await using var tenant = await ModelTenant.OpenAsync(engine);
        using var model = TestModel.Create("m", 4, padTensors: 2, padBytes: 1024);
        var session = tenant.Session;
        await session.RegisterModelAsync(model.OpenDescriptor(), "m", null, null, Ct);

        foreach (var (name, groups) in new (string, int[]?)[] { ("", null), ("m", null), ("n", [1, 1]), ("n", [4, 0]), ("n", [5, -1]) })
        {
            var descriptor = model.OpenDescriptor();
            var error = await Assert.ThrowsAsync<EngineException>(() => session.RegisterModelAsync(descriptor, name, groups, null, Ct));
            Assert.Equal(EngineError.InvalidArgument, error.Error);
            Assert.True(descriptor.IsClosed);
        }
        Assert.Single(await engine.GetModelsAsync(Ct));
    }

    [Fact]
    public async Task Malformed_files_are_invalid_models_with_the_parser_s_reason()
    {
        await using var engine = await ModelEngine.StartAsync();
        var (session, _) = engine.Open();
        var tensor = new TestTensor("w", "F32", [4], new byte[16]);
        var cases = new (byte[] Image, string Reason)[]
        {
            (TestModel.Image(Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"F32\"  "), new byte[16]), "JSON"),
            (TestModel.Image(Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"F99\",\"shape\":[4],\"data_offsets\":[0,16]}}"), new byte[16]), "F99"),
            (TestModel.Image([tensor with { Shape = [5] }]), "shape"),
            (TestModel.Image([tensor])[..20], "header"),
        };

        foreach (var (image, reason) in cases)
        {
            var descriptor = TestModel.Descriptor(image, out var file);
            using (file)
            {
                var error = await Assert.ThrowsAsync<EngineException>(() => session.RegisterModelAsync(descriptor, "bad", null, null, Ct));
                Assert.Equal(EngineError.InvalidModel, error.Error);
                Assert.Contains(reason, error.Message);
                Assert.True(descriptor.IsClosed);
            }
        }
        Assert.Empty(await engine.GetModelsAsync(Ct));
    }

    [Fact]
    public async Task A_model_larger_than_the_whole_device_pool_is_too_large_and_the_message_gives_both_sizes()
    {
        await using var engine = await ModelEngine.StartAsync();
        var (session, _) = engine.Open();
        var bytes = ModelEngine.Pool + 1;
        var header = Encoding.UTF8.GetBytes($"{{\"big\":{{\"dtype\":\"U8\",\"shape\":[{bytes}],\"data_offsets\":[0,{bytes}]}}}}");
        using var file = new SharedMemoryFile(8 + (ulong)header.Length + bytes);
        file.Write<byte>(0, TestModel.Image(header, []));

        var error = await Assert.ThrowsAsync<EngineException>(() => session.RegisterModelAsync(file.OpenDescriptor(), "big", null, null, Ct));

        Assert.Equal(EngineError.ModelTooLarge, error.Error);
        Assert.Contains($"{ModelEngine.Pool + ModelEngine.Page} bytes", error.Message);
        Assert.Contains($"{ModelEngine.Pool} bytes", error.Message);
        Assert.Equal(128UL << 20, (await engine.GetStatusAsync(Ct)).PinnedPoolFreeBytes);
    }

    [Fact]
    public async Task Unregistering_a_model_and_closing_its_session_give_its_pinned_and_device_memory_back()
    {
        await using var engine = await ModelEngine.StartAsync();
        var baseline = await engine.GetStatusAsync(Ct);
        var tenant = await ModelTenant.OpenAsync(engine);
        var kept = await tenant.RegisterAsync(ModelEngine.Sized("kept", 5));
        var dropped = await tenant.RegisterAsync(ModelEngine.Sized("dropped", 6));
        await tenant.RunAndCheckAsync("kept");

        // A step of the model in flight when it is unregistered still runs with it.
        var slot = await tenant.SubmitAsync("dropped", spinMicroseconds: 20_000);
        await tenant.Session.UnregisterModelAsync(dropped.Model, Ct);
        Assert.Equal(EngineError.UnknownHandle, (await Assert.ThrowsAsync<EngineException>(() => tenant.Session.UnregisterModelAsync(dropped.Model, Ct))).Error);
        Assert.Equal(EngineError.UnknownHandle, (await Assert.ThrowsAsync<EngineException>(() => tenant.Session.GetTensorAsync(dropped.Model, "w", Ct))).Error);
        Assert.Equal(EngineError.None, (await tenant.Completions.NextAsync()).Status);
        tenant.AssertResults("dropped", slot);
        Assert.Equal("kept", Assert.Single(await engine.GetModelsAsync(Ct)).Name);

        // The name is free again.
        using var again = ModelEngine.Sized("dropped", 7);
        await tenant.Session.RegisterModelAsync(again.OpenDescriptor(), "dropped", null, null, Ct);
        await tenant.DisposeAsync();

        var after = await engine.GetStatusAsync(Ct);
        Assert.Empty(await engine.GetModelsAsync(Ct));
        Assert.Equal(baseline.PinnedPoolFreeBytes, after.PinnedPoolFreeBytes);
        Assert.Equal(baseline.DevicePoolFreeBytes, after.DevicePoolFreeBytes);
        Assert.NotEqual(0u, kept.Model);
    }

    [Fact]
    public async Task A_registration_cancelled_while_staging_gives_its_pinned_memory_and_its_name_back()
    {
        await using var engine = await ModelEngine.StartAsync();
        var (session, _) = engine.Open();
        using var model = ModelEngine.Sized("m", 1);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var descriptor = model.OpenDescriptor();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            session.RegisterModelAsync(descriptor, "m", null, new CancelOnReport(cancellation), cancellation.Token));

        Assert.True(descriptor.IsClosed);
        Assert.Equal(128UL << 20, (await engine.GetStatusAsync(Ct)).PinnedPoolFreeBytes);
        Assert.Empty(await engine.GetModelsAsync(Ct));
        Assert.Equal(ModelTier.Pinned, (await session.RegisterModelAsync(model.OpenDescriptor(), "m", null, null, Ct)).Tier);
    }

    [Fact]
    public async Task A_model_without_tensors_registers_as_empty_and_a_step_bound_to_it_runs()
    {
        await using var engine = await ModelEngine.StartAsync();
        var (session, completions) = engine.Open();
        var descriptor = TestModel.Descriptor(TestModel.Image([], metadata: "nothing"), out var file);
        using (file)
        {
            var registration = await session.RegisterModelAsync(descriptor, "empty", null, null, Ct);

            Assert.Equal((0, 0UL, ModelTier.Pinned, 0), (registration.TensorCount, registration.Bytes, registration.Tier, registration.Groups));
            Assert.Equal(EngineError.None, (await session.RunAsync(completions, step => step.UseModel(registration.Model))).Status);
            Assert.True(Assert.Single(await engine.GetModelsAsync(Ct)).Resident);
        }
    }

    private sealed class CancelOnReport(CancellationTokenSource cancellation) : IProgress<ModelStagingProgress>
    {
        public void Report(ModelStagingProgress value) => cancellation.Cancel();
    }

    private sealed class ProgressLog : IProgress<ModelStagingProgress>
    {
        public ModelStagingProgress Last { get; private set; }

        public void Report(ModelStagingProgress value) => Last = value;
    }
}
