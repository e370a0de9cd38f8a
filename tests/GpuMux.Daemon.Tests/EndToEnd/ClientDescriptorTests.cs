using GpuMux.Protocol;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// Descriptors that are not what the protocol asks for: files a client could shrink under the
/// daemon's mapping, and descriptors that are no file at all. Each is refused at once with
/// BadDescriptor, saying what it was, and the daemon and its other clients carry on.
/// </summary>
public sealed class ClientDescriptorTests : IAsyncLifetime
{
    private const ulong RegionBytes = 1 << 20;

    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("gmx-files-");
    private TestDaemon _daemon = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    // Trusting modules, so that a LoadModule's descriptor is read at all.
    public async ValueTask InitializeAsync() => _daemon = await TestDaemon.StartAsync(TestDaemon.TrustingModules);

    public async ValueTask DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _files.Delete(recursive: true);
    }

    [Theory]
    [InlineData(ShrinkableFile.MemoryFileWithoutSealing)]
    [InlineData(ShrinkableFile.MemoryFileSealedShut)]
    [InlineData(ShrinkableFile.RegularFile)]
    public async Task A_region_file_its_client_could_shrink_is_refused_and_shrinking_it_harms_nobody(ShrinkableFile kind)
    {
        await using var honest = await _daemon.ConnectAsync("honest");
        using var file = ClientFileKinds.Create(kind, RegionBytes, _files.FullName);
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await RawFrames.HelloAsync(connection);
            await connection.SendAsync(RawFrames.Encode(MessageType.RegisterRegion, 2, new SizeMessage(RegionBytes), descriptorCount: 1), [file], Cancellation);
            var registration = await ReadOutcomeAsync(connection);
            var buffer = await AllocateAsync(connection, 3);

            // What such a client goes on to do: pulls the pages from under the region, then copies from it.
            Assert.Equal(0, ClientFileKinds.Shrink(file));
            await connection.SendAsync(CopyStep(4, region: 1, buffer), Cancellation);
            var completion = Message.Decode<StepCompleted>((await connection.ReadFrameAsync(Cancellation))!.Payload.Span);

            Assert.Equal(ErrorCode.BadDescriptor, registration.Code);
            Assert.Contains("sealed against shrinking", registration.Message, StringComparison.Ordinal);
            Assert.Equal(ErrorCode.UnknownHandle, completion.Status);
        }

        await Workloads.AxpyAsync(honest, seed: 3, steps: 4);
    }

    [Fact]
    public async Task A_region_the_daemon_sealed_can_no_longer_be_shrunk_by_its_client()
    {
        using var file = Linux.MemoryFile.Create("sealable", RegionBytes);
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await RawFrames.HelloAsync(connection);
            await connection.SendAsync(RawFrames.Encode(MessageType.RegisterRegion, 2, new SizeMessage(RegionBytes), descriptorCount: 1), [file], Cancellation);
            Assert.Equal((ushort)MessageType.RegionRegistered, (await connection.ReadFrameAsync(Cancellation))!.Header.Type);

            Assert.Equal(Tmds.Linux.LibC.EPERM, ClientFileKinds.Shrink(file));
        }
    }

    // The timeout bounds a daemon that would wait on the descriptor, so that it fails rather than hangs the run.
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(DescriptorsThatAreNoFile))]
    public async Task A_descriptor_that_is_no_file_is_a_bad_descriptor_at_once_whatever_it_is_sent_with(NotAFile kind, MessageType request)
    {
        var (sent, other) = ClientFileKinds.Create(kind);
        using (sent)
        using (other)
        {
            var connection = await _daemon.ConnectRawAsync();
            await using (connection)
            {
                await RawFrames.HelloAsync(connection);
                await connection.SendAsync(RequestCarrying(request, 7), [sent], TestContext.Current.CancellationToken);

                var error = await RawFrames.ReadErrorAsync(connection);
                Assert.Equal((ErrorCode.BadDescriptor, 7u), (error.Code, error.RequestId));
                Assert.Contains(kind.ToString().ToLowerInvariant(), error.Text, StringComparison.Ordinal);
                Assert.True((await RawFrames.AskAsync<StatusReport>(connection, MessageType.GetStatus, 8)).SessionsTotal >= 1);
            }
        }
    }

    public static TheoryData<NotAFile, MessageType> DescriptorsThatAreNoFile()
    {
        var cases = new TheoryData<NotAFile, MessageType>();
        foreach (var kind in Enum.GetValues<NotAFile>())
        {
            foreach (var request in new[] { MessageType.RegisterRegion, MessageType.LoadModule, MessageType.RegisterModel })
            {
                cases.Add(kind, request);
            }
        }
        return cases;
    }

    private static byte[] RequestCarrying(MessageType request, uint requestId) => request switch
    {
        MessageType.RegisterRegion => RawFrames.Encode(request, requestId, new SizeMessage(4096), descriptorCount: 1),
        MessageType.LoadModule => RawFrames.Encode(request, requestId, new LoadModule(ModuleFormat.CudaC, 64, "m"), descriptorCount: 1),
        _ => RawFrames.Encode(request, requestId, new RegisterModel("m", []), descriptorCount: 1),
    };

    /// <summary>The reply's error code and message, read at once (a frame's memory is reused by the next read); None for a success.</summary>
    private static async Task<(ErrorCode Code, string Message)> ReadOutcomeAsync(FrameConnection connection)
    {
        var frame = await connection.ReadFrameAsync(Cancellation);
        Assert.NotNull(frame);
        if (frame.Header.Type != (ushort)MessageType.Error)
        {
            return (ErrorCode.None, "");
        }
        var error = Message.Decode<ErrorMessage>(frame.Payload.Span);
        return (error.Code, error.Text);
    }

    private static async Task<uint> AllocateAsync(FrameConnection connection, uint requestId)
    {
        await connection.SendAsync(RawFrames.Encode(MessageType.AllocateBuffer, requestId, new SizeMessage(RegionBytes)), Cancellation);
        return Message.Decode<HandleMessage>((await connection.ReadFrameAsync(Cancellation))!.Payload.Span).Handle;
    }

    private static byte[] CopyStep(uint requestId, uint region, uint buffer)
    {
        var frame = new byte[256];
        var encoder = new StepEncoder(frame);
        encoder.CopyIn(region, 0, buffer, 0, RegionBytes);
        encoder.CopyOut(buffer, 0, region, 0, RegionBytes);
        return frame[..encoder.Finish(requestId)];
    }
}
