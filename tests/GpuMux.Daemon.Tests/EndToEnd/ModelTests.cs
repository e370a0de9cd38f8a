using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Models through the daemon: registered from a file the client opened, swapped in by the steps that use them.</summary>
public sealed class ModelTests : IAsyncLifetime
{
    private const int Rows = 256;
    private const int Cols = 4096;
    private const ulong LayerBytes = Rows * Cols * sizeof(float);
    private const ulong DevicePoolBytes = 3 * LayerBytes;

    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("gmx-models-");
    private TestDaemon _daemon = null!;
    private GpuMuxClient _client = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(
            $"--Memory:DevicePoolBytes={DevicePoolBytes.ToString(CultureInfo.InvariantCulture)}",
            "--Memory:PinnedPoolBytes=67108864");
        _client = await _daemon.ConnectAsync("models");
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _daemon.DisposeAsync();
        _files.Delete(recursive: true);
    }

    [Fact]
    public async Task Models_larger_together_than_the_pool_each_give_correct_results_in_turn()
    {
        var weights = Enumerable.Range(0, 4).Select(seed => Workloads.RandomFloats(new Random(seed), Rows * Cols)).ToArray();
        var models = new List<ClientModel>();
        var progressReports = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            var progress = new SynchronousProgress(() => progressReports++);
            models.Add(await _client.RegisterModelAsync(WriteModel($"m{i}", ("w", weights[i])), $"m{i}", progress: progress, cancellationToken: Cancellation));
        }

        await using var region = await _client.CreateRegionAsync((Cols + Rows) * sizeof(float), Cancellation);
        await using var x = await _client.AllocateBufferAsync(Cols * sizeof(float), Cancellation);
        await using var y = await _client.AllocateBufferAsync(Rows * sizeof(float), Cancellation);
        var gemv = await _client.GetBuiltinAsync("gemv_f32", Cancellation);
        var random = new Random(5);
        var step = new StepBuilder();
        foreach (var turn in new[] { 0, 1, 2, 3, 0, 2, 1, 3, 3, 0 })
        {
            var model = models[turn];
            var w = await _client.GetTensorAsync(model, "w", Cancellation);
            var xs = Workloads.RandomFloats(random, Cols);
            xs.CopyTo(region.AsSpan<float>(0, Cols));
            var expected = new float[Rows];
            KernelReference.GemvF32(weights[turn], xs, expected, Rows, Cols);

            step.Clear()
                .UseModel(model)
                .CopyIn(region, 0, x, 0, Cols * sizeof(float))
                .Launch(gemv, Rows * 32 / 256, 256).Tensor(w).Buffer(x).Buffer(y).UInt32(Rows).UInt32(Cols)
                .CopyOut(y, 0, region, Cols * sizeof(float), Rows * sizeof(float));
            await _client.SubmitAsync(step, Cancellation);

            Assert.Equal(expected, region.AsSpan<float>(Cols * sizeof(float), Rows).ToArray());
        }

        var list = await _client.ListModelsAsync(Cancellation);
        Assert.NotNull(list.Usage);
        var usage = list.Usage;
        var stepsByName = list.Models.Select((entry, i) => KeyValuePair.Create(entry.Name, usage[i].Steps)).ToDictionary();
        Assert.Equal(new Dictionary<string, ulong> { ["m0"] = 3, ["m1"] = 2, ["m2"] = 2, ["m3"] = 3 }, stepsByName);
        Assert.All(usage, used => Assert.True(used.GpuSeconds > 0 && double.IsFinite(used.QueueDelayP99Ms)));
        Assert.Equal(list.Models.Select(entry => entry.SwapCount), usage.Select(used => used.Swaps));
        Assert.Equal(4u, list.ModelsTotal);
        Assert.Equal(DevicePoolBytes, list.DevicePoolBytes);
        Assert.All(list.Models, entry => Assert.Equal(ModelTier.Pinned, entry.Tier));
        Assert.True(list.Models.Sum(entry => (long)entry.SwapCount) > 4, "models larger together than the pool swap in more than once each");
        Assert.True(list.Models.Count(entry => entry.Resident) < 4);
        Assert.True(progressReports > 0);
        foreach (var model in models)
        {
            await model.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_1_2_session_gets_the_model_list_without_usage()
    {
        await using var model = await _client.RegisterModelAsync(WriteModel("m", ("w", new float[Rows * Cols])), "m", cancellationToken: Cancellation);
        await using var connection = await _daemon.ConnectRawAsync();

        Assert.Equal(2, await RawFrames.HelloAsync(connection, minor: 2));
        var list = await RawFrames.AskAsync<ModelList>(connection, MessageType.ListModels, 2);

        Assert.Equal("m", Assert.Single(list.Models).Name);
        Assert.Null(list.Usage);
    }

    [Fact]
    public async Task A_model_larger_than_the_whole_device_pool_is_refused()
    {
        var path = WriteModel("huge", ("w", new float[(DevicePoolBytes / sizeof(float)) + 1024]));

        var error = await Assert.ThrowsAsync<ModelTooLargeException>(() => _client.RegisterModelAsync(path, "huge", cancellationToken: Cancellation));
        Assert.Contains("pool", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_file_that_is_not_safetensors_is_an_invalid_model_and_names_the_problem()
    {
        var path = Path.Combine(_files.FullName, "bad.safetensors");
        var header = Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}");
        var file = new byte[8 + header.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        await File.WriteAllBytesAsync(path, file, Cancellation);

        var error = await Assert.ThrowsAsync<InvalidModelException>(() => _client.RegisterModelAsync(path, "bad", cancellationToken: Cancellation));
        Assert.Contains("Q4", error.Message);
        await Workloads.AxpyAsync(_client, seed: 1, steps: 1);
    }

    [Fact]
    public async Task A_tensor_name_not_in_the_model_is_unknown()
    {
        await using var model = await _client.RegisterModelAsync(WriteModel("small", ("w", new float[1024])), "small", cancellationToken: Cancellation);

        await Assert.ThrowsAsync<UnknownTensorException>(() => _client.GetTensorAsync(model, "lm_head", Cancellation));
    }

    private string WriteModel(string name, params (string Name, float[] Values)[] tensors) =>
        SafetensorsFile.Write(_files.FullName, name, tensors);

    private sealed class SynchronousProgress(Action onReport) : IProgress<ModelProgress>
    {
        public void Report(ModelProgress value) => onReport();
    }
}
