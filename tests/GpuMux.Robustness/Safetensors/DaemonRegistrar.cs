using System.Runtime.InteropServices;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;
using GpuMux.Robustness.Linux;

namespace GpuMux.Robustness.Safetensors;

/// <summary>
/// Registers files through the daemon with the .NET client, and for each accepted valid file reads
/// its tensors back on the device: a checksum kernel over each tensor (those at 8-byte offsets)
/// against the checksum of the file's own bytes.
/// </summary>
internal sealed class DaemonRegistrar(GpuMuxClient client, SharedRegion region, DeviceBuffer sum, KernelFunction fill, KernelFunction checksum) : IAsyncDisposable
{
    private readonly StepBuilder _step = new();
    private int _registered;

    public long TensorsChecked { get; private set; }

    public static async Task<DaemonRegistrar> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var client = await GpuMuxClient.ConnectAsync(new() { Host = socketPath, ClientName = "safetensors" }, cancellationToken);
        var region = await client.CreateRegionAsync(4096, cancellationToken);
        var sum = await client.AllocateBufferAsync(sizeof(ulong), cancellationToken);
        return new DaemonRegistrar(client, region, sum,
            await client.GetBuiltinAsync("fill_f32", cancellationToken), await client.GetBuiltinAsync("checksum", cancellationToken));
    }

    /// <summary>The outcome, and for an accepted valid file the tensors whose bytes on the device differ from the file's.</summary>
    public async Task<(RegistrationOutcome Outcome, IReadOnlyList<string> WrongTensors)> RegisterAsync(SafetensorsCase file, CancellationToken cancellationToken)
    {
        using var memfd = OddDescriptor.Create(DescriptorKind.SealableMemfd, file.File);
        ClientModel model;
        try
        {
            model = await client.RegisterModelAsync(memfd.Handle, $"m{++_registered}", cancellationToken: cancellationToken);
        }
        catch (GpuMuxException e)
        {
            return (new RegistrationOutcome(null, 0, new Dictionary<string, ulong>(), $"{e.Code}: {e.Message}", e.Code == Protocol.ErrorCode.InvalidModel), []);
        }

        await using (model)
        {
            var sizes = new Dictionary<string, ulong>();
            var wrong = new List<string>();
            foreach (var expected in file.Tensors)
            {
                var tensor = await client.GetTensorAsync(model, expected.Name, cancellationToken);
                sizes[expected.Name] = tensor.Bytes;
                if (expected.Bytes > 0 && expected.Begin % 8 == 0 && !await HoldsAsync(model, tensor, file.File.AsMemory(file.DataOffset + (int)expected.Begin, (int)expected.Bytes), cancellationToken))
                {
                    wrong.Add(expected.Name);
                }
            }

            return (new RegistrationOutcome((int)model.TensorCount, model.Bytes, sizes, null, false), wrong);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await sum.DisposeAsync();
        await region.DisposeAsync();
        await client.DisposeAsync();
    }

    private async Task<bool> HoldsAsync(ClientModel model, ModelTensor tensor, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _step.Clear()
            .UseModel(model)
            .Launch(fill, 1, 32).Buffer(sum).Float32(0f).UInt64(2)
            .Launch(checksum, 1, 256).Tensor(tensor).UInt64((ulong)bytes.Length).Buffer(sum)
            .CopyOut(sum, 0, region, 0, sizeof(ulong));
        await client.SubmitAsync(_step, cancellationToken);
        TensorsChecked++;
        return MemoryMarshal.Read<ulong>(region.AsSpan(0, sizeof(ulong))) == KernelReference.Checksum(bytes.Span);
    }
}
