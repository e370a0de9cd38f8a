using System.Buffers.Binary;
using System.Text;
using GpuMux.Client;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// The answers docs/protocol.md gives for requests at the edges of what is valid, each through the
/// real client: what a third-party client cannot guess, so each is pinned here.
/// </summary>
public sealed class EdgeCaseErrorTests : IAsyncLifetime
{
    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("gmx-edges-");
    private TestDaemon _daemon = null!;
    private GpuMuxClient _client = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync();
        _client = await _daemon.ConnectAsync("edges");
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _daemon.DisposeAsync();
        _files.Delete(recursive: true);
    }

    [Fact]
    public async Task A_second_model_of_the_same_name_in_a_session_is_an_invalid_argument()
    {
        var path = SafetensorsFile.Write(_files.FullName, "twice", ("w", new float[64]));
        await using var first = await _client.RegisterModelAsync(path, "twice", cancellationToken: Cancellation);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => _client.RegisterModelAsync(path, "twice", cancellationToken: Cancellation));
        Assert.Contains("twice", error.Message);
    }

    [Fact]
    public async Task Bytes_after_the_last_tensor_make_an_invalid_model()
    {
        var path = SafetensorsFile.Write(_files.FullName, "trailing", ("w", new float[64]));
        await File.AppendAllTextAsync(path, "tail", Cancellation);

        var error = await Assert.ThrowsAsync<InvalidModelException>(() => _client.RegisterModelAsync(path, "trailing", cancellationToken: Cancellation));
        Assert.Contains("belong to no tensor", error.Message);
    }

    [Fact]
    public async Task A_model_with_no_tensors_is_registered_and_a_step_bound_to_it_runs()
    {
        var path = Path.Combine(_files.FullName, "empty.safetensors");
        var header = Encoding.UTF8.GetBytes("{}");
        var file = new byte[8 + header.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        await File.WriteAllBytesAsync(path, file, Cancellation);

        await using var model = await _client.RegisterModelAsync(path, "empty", cancellationToken: Cancellation);
        await _client.SubmitAsync(new StepBuilder().UseModel(model), Cancellation);

        Assert.Equal((0u, 0UL, 0u), (model.TensorCount, model.Bytes, model.Groups));
    }

    [Fact]
    public async Task A_zero_byte_copy_runs_where_its_offsets_are_at_most_the_lengths_and_is_refused_past_them()
    {
        await using var region = await _client.CreateRegionAsync(4096, Cancellation);
        await using var buffer = await _client.AllocateBufferAsync(256, Cancellation);

        await _client.SubmitAsync(new StepBuilder().CopyIn(region, 4096, buffer, 256, 0).CopyOut(buffer, 256, region, 4096, 0), Cancellation);
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(
            () => _client.SubmitAsync(new StepBuilder().CopyIn(region, 0, buffer, 257, 0), Cancellation).AsTask());

        Assert.Contains("offset 257", error.Message);
    }

    [Fact]
    public async Task A_launch_with_a_zero_grid_dimension_is_an_invalid_argument_after_the_ops_before_it_have_run()
    {
        await using var region = await _client.CreateRegionAsync(4096, Cancellation);
        await using var buffer = await _client.AllocateBufferAsync(4096, Cancellation);
        var fill = await _client.GetBuiltinAsync("fill_f32", Cancellation);
        await _client.SubmitAsync(new StepBuilder().Launch(fill, 1, 256).Buffer(buffer).Float32(2.5f).UInt64(16), Cancellation);
        region.AsSpan<float>(0, 16).Clear();

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => _client.SubmitAsync(
            new StepBuilder()
                .CopyOut(buffer, 0, region, 0, 64)
                .Launch(fill, 0, 1, 1, 256, 1, 1).Buffer(buffer).Float32(1f).UInt64(16),
            Cancellation).AsTask());

        Assert.Contains("zero", error.Message);
        Assert.All(region.AsSpan<float>(0, 16).ToArray(), v => Assert.Equal(2.5f, v));
    }

    [Fact]
    public async Task A_buffer_argument_s_offset_must_lie_inside_its_buffer()
    {
        await using var buffer = await _client.AllocateBufferAsync(256, Cancellation);
        var fill = await _client.GetBuiltinAsync("fill_f32", Cancellation);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => _client.SubmitAsync(
            new StepBuilder().Launch(fill, 1, 32).Buffer(buffer, 256).Float32(1f).UInt64(0), Cancellation).AsTask());

        Assert.Contains("offset 256 lies outside buffer", error.Message);
    }
}
