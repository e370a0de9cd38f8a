using System.Text;
using GpuMux.Client;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>A tenant the configuration does not trust loads no module of its own, through the real client.</summary>
public sealed class KernelPolicyTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_module_from_a_tenant_not_trusted_is_PermissionDenied_logged_once_and_the_session_carries_on()
    {
        await using var daemon = await TestDaemon.StartAsync("--Logging:LogLevel:GpuMux.Engine.EngineSession=Warning");
        using var log = new LogRecorder();
        daemon.AddLogger(log);
        await using var client = await daemon.ConnectAsync();
        var source = Encoding.UTF8.GetBytes(Gpu.Kernels.BuiltinKernels.Source.Code);

        var refusals = new List<PermissionDeniedException>();
        foreach (var format in new[] { ModuleFormat.CudaC, ModuleFormat.Ptx, ModuleFormat.CudaC })
        {
            refusals.Add(await Assert.ThrowsAsync<PermissionDeniedException>(() => client.LoadModuleAsync(format, "mine.cu", source, Cancellation)));
        }
        var spin = await client.GetBuiltinAsync("spin", Cancellation);
        await client.SubmitAsync(new StepBuilder().Launch(spin, 1, 32).UInt64(1), Cancellation);

        Assert.All(refusals, refused => Assert.Equal((ErrorCode.PermissionDenied, false), (refused.Code, refused.IsRetryable)));
        Assert.Equal(27, (int)ErrorCode.PermissionDenied);
        Assert.Contains("loading a module needs the tenant's Kernels to be trusted", refusals[0].Message);
        Assert.Equal(1, log.CountSoFar<Engine.EngineSession>(207));
    }

    [Fact]
    public async Task A_tenant_not_trusted_is_refused_a_module_before_its_file_is_read()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var (sent, _) = ClientFileKinds.Create(NotAFile.Eventfd);
        using (sent)
        {
            await using var connection = await daemon.ConnectRawAsync();
            await RawFrames.HelloAsync(connection);

            // Were the file read first, the eventfd would be refused as no file (BadDescriptor).
            var request = RawFrames.Encode(MessageType.LoadModule, 7, new LoadModule(ModuleFormat.CudaC, 64 << 20, "big.cu"), descriptorCount: 1);
            await connection.SendAsync(request, [sent], Cancellation);

            var error = await RawFrames.ReadErrorAsync(connection);
            Assert.Equal((ErrorCode.PermissionDenied, 7u), (error.Code, error.RequestId));
        }
    }
}
