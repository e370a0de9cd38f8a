using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using GpuMux.Linux;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Client;

/// <summary>
/// One session with gpumuxd over its Unix socket. Thread-safe: any number of requests and steps
/// may be in flight at once, from any threads; replies are matched to requests by id.
/// </summary>
/// <remarks>
/// Cancelling a call's token abandons the wait for its reply (the reply is dropped when it comes);
/// it does not undo the request: a cancelled step still runs on the GPU, and a cancelled allocation
/// may still be made, to be freed when the session ends. When the connection is lost, every call
/// in flight and every later call fails with <see cref="GpuMuxConnectionException"/>.
/// </remarks>
public sealed class GpuMuxClient : IAsyncDisposable
{
    private static readonly SafeHandle[] NoDescriptors = [];

    private readonly FrameConnection _connection;
    private readonly PendingRequests _pending = new();
    private readonly FrameOutbox _outbox;
    private readonly Task _receiveLoop;
    private int _disposed;

    private GpuMuxClient(FrameConnection connection, string socketPath, Welcome welcome)
    {
        _connection = connection;
        SocketPath = socketPath;
        SessionId = welcome.SessionId;
        Backend = welcome.Backend;
        BackendDescription = welcome.BackendDescription;
        Devices = welcome.Devices;
        MaxPayloadBytes = (int)Math.Min(welcome.MaxPayloadBytes, int.MaxValue - FrameHeader.Size);
        Minor = welcome.Minor;
        InspectOnly = ((Capabilities)welcome.Capabilities).HasFlag(Capabilities.Inspect);
        connection.MaxPayloadBytes = MaxPayloadBytes;
        _outbox = new FrameOutbox(connection, Lose);
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The daemon's socket this client connected to.</summary>
    public string SocketPath { get; }

    /// <summary>The session's id, as <c>gpumuxctl status</c> shows it.</summary>
    public ulong SessionId { get; }

    /// <summary>CUDA, or the simulated device (real results, modelled timing).</summary>
    public BackendKind Backend { get; }

    /// <summary>Driver and compiler versions, or on the Sim backend why it runs instead of CUDA.</summary>
    public string BackendDescription { get; }

    /// <summary>The device the daemon serves, as its Welcome described it.</summary>
    public IReadOnlyList<DeviceDescription> Devices { get; }

    /// <summary>The largest payload the daemon accepts: it bounds a step's size.</summary>
    public int MaxPayloadBytes { get; }

    /// <summary>The protocol minor version both sides speak.</summary>
    public ushort Minor { get; }

    /// <summary>
    /// The daemon took this session as one that only reads its reports (status, models, tenants, its
    /// lease), outside its session limit; anything else is refused with <see cref="PermissionDeniedException"/>.
    /// </summary>
    public bool InspectOnly { get; }

    /// <exception cref="GpuMuxConnectionException">
    /// No daemon listens at the socket, it closed the connection, or the socket is in the user's
    /// fallback directory under /tmp and that directory is not the user's alone.
    /// </exception>
    /// <exception cref="GpuMuxException">The daemon refused the session (e.g. <see cref="TooManySessionsException"/>).</exception>
    public static async Task<GpuMuxClient> ConnectAsync(GpuMuxClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GpuMuxClientOptions();
        var path = SocketPaths.ResolveClientPath(options.Host);
        try
        {
            SocketPaths.SecureFallbackDirectory(path, create: false);
        }
        catch (InvalidOperationException e)
        {
            throw new GpuMuxConnectionException($"will not connect to gpumuxd at {path}: {e.Message}", e);
        }

        FrameConnection connection;
        try
        {
            connection = await FrameConnection.ConnectAsync(path, ProtocolVersion.HandshakePayloadBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new GpuMuxConnectionException($"cannot connect to gpumuxd at {path}: {e.Message}", e);
        }

        try
        {
            var welcome = await Handshake.RunAsync(connection, options.ClientName, options.InspectOnly ? Capabilities.Inspect : Capabilities.None, cancellationToken).ConfigureAwait(false);
            return new GpuMuxClient(connection, path, welcome);
        }
        catch (Exception e) when (e is FrameFormatException or (IOException and not GpuMuxConnectionException))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new GpuMuxConnectionException($"the handshake with gpumuxd at {path} failed: {e.Message}", e);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Shared memory of <paramref name="bytes"/> bytes, mapped here and registered with the daemon,
    /// which maps the same pages (and on CUDA pins them, so copies are DMA from them).
    /// </summary>
    public async Task<SharedRegion> CreateRegionAsync(ulong bytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bytes);
        using var file = MemoryFile.Create("gpumux-region", bytes);
        var address = PageMappings.MapShared(file, (nuint)bytes);
        try
        {
            var registered = await RequestAsync<SizeMessage, HandleMessage>(
                MessageType.RegisterRegion, new SizeMessage(bytes), MessageType.RegionRegistered, [file], null, cancellationToken).ConfigureAwait(false);
            return new SharedRegion(this, registered.Handle, address, bytes);
        }
        catch
        {
            PageMappings.Unmap(address, (nuint)bytes);
            throw;
        }
    }

    /// <summary>Allocates <paramref name="bytes"/> of device memory, zeroed, for the session.</summary>
    public Task<DeviceBuffer> AllocateBufferAsync(ulong bytes, CancellationToken cancellationToken = default) =>
        AllocateBufferAsync(bytes, spillable: false, cancellationToken);

    /// <summary>
    /// Allocates <paramref name="bytes"/> of device memory, zeroed, for the session. A
    /// <paramref name="spillable"/> buffer (a request's KV cache, say) may be copied to the
    /// daemon's pinned host memory when the device needs room while no step of the session names
    /// it, and is copied back before the next step that does; its address and its bytes stay the
    /// same. The copies count as the tenant's swap traffic.
    /// </summary>
    /// <exception cref="NotSupportedException">A spillable buffer was asked of a daemon older than protocol 1.6.</exception>
    public async Task<DeviceBuffer> AllocateBufferAsync(ulong bytes, bool spillable, CancellationToken cancellationToken = default)
    {
        if (spillable)
        {
            ThrowIfOlderThan(6, "spillable buffers");
        }
        var request = new AllocateBuffer(bytes, spillable ? BufferFlags.Spillable : BufferFlags.None);
        var allocated = await RequestAsync<AllocateBuffer, HandleMessage>(
            MessageType.AllocateBuffer, request, MessageType.BufferAllocated, NoDescriptors, null, cancellationToken).ConfigureAwait(false);
        return new DeviceBuffer(this, allocated.Handle, bytes);
    }

    /// <summary>
    /// Loads CUDA C source (compiled by the daemon, through its cache), PTX or a cubin. The image
    /// travels in a memory file passed with the request, not in the frame.
    /// </summary>
    /// <exception cref="CompileFailedException">NVRTC rejected the source; the message carries its log.</exception>
    public async Task<ClientModule> LoadModuleAsync(
        ModuleFormat format, string name, ReadOnlyMemory<byte> image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (image.IsEmpty)
        {
            throw new ArgumentException("a module image cannot be empty", nameof(image));
        }

        using var file = ModuleImageFile.Create(image.Span);
        var request = new LoadModule(format, (ulong)image.Length, name);
        var loaded = await RequestAsync<LoadModule, ModuleLoaded>(
            MessageType.LoadModule, request, MessageType.ModuleLoaded, [file], null, cancellationToken).ConfigureAwait(false);
        return new ClientModule(this, loaded.Module, name, loaded.FromCache, loaded.CompileLog);
    }

    /// <summary>Finds the kernel <paramref name="name"/> in a module the session loaded.</summary>
    public Task<KernelFunction> GetFunctionAsync(ClientModule module, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(module);
        return GetFunctionAsync(module.HandleFor(this), name, cancellationToken);
    }

    /// <summary>A built-in kernel (module 0): <c>fill_f32</c>, <c>axpy_f32</c>, <c>gemv_f32</c>, <c>gemv_f16</c>, <c>gemv_bf16</c>, <c>spin</c>, <c>checksum</c>.</summary>
    public Task<KernelFunction> GetBuiltinAsync(string name, CancellationToken cancellationToken = default) =>
        GetFunctionAsync(GetFunction.BuiltinModule, name, cancellationToken);

    /// <summary>
    /// Sends the step and waits for it to complete on the GPU. The builder may be cleared and reused
    /// as soon as this returns its task: the step is encoded before that. Await the task once (or
    /// call <see cref="ValueTask{TResult}.AsTask"/> once): what stands behind it is reused for a later
    /// step as soon as its result has been read.
    /// </summary>
    /// <exception cref="GpuMuxException">The step failed (its check, or on the GPU): the subclass for its status.</exception>
    public ValueTask<StepResult> SubmitAsync(StepBuilder step, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        ThrowIfUnusable();
        if (step.IsScheduled)
        {
            ThrowIfOlderThan(2, "step deadlines and EndRequest");
        }

        if (step.FrameLength - FrameHeader.Size > MaxPayloadBytes)
        {
            throw new ArgumentException(
                $"the step encodes to {step.FrameLength - FrameHeader.Size} bytes, over the daemon's {MaxPayloadBytes}-byte limit", nameof(step));
        }

        var requestId = _pending.NextRequestId();
        var pending = _pending.AddStep(requestId, step.FrameLength);
        int length;
        try
        {
            length = step.Encode(pending.Frame, requestId, this);
        }
        catch
        {
            _pending.Abandon(pending);
            throw;
        }

        pending.SubmittedAtNs = MonotonicClock.Now;
        // No async method between here and the result: the wait is the task, and the receive loop
        // completes it. The send never waits here; one that would goes on without the caller.
        _outbox.Send(new OutgoingFrame(pending.Frame, length, pending));

        pending.CancelWhen(cancellationToken);
        return pending.Result;
    }

    /// <summary>
    /// Registers a safetensors file as a model: weights that the daemon stages in its pinned host
    /// pool (or, when that is full, streams from the file at each swap), to bind steps to with
    /// <see cref="StepBuilder.UseModel"/>. The descriptor travels with the request and the daemon
    /// receives its own copy, so the caller keeps <paramref name="safetensorsFile"/> and may close
    /// it once this returns.
    /// </summary>
    /// <param name="groupTensorCounts">How many tensors, in file order, each layer group holds; null or empty for the daemon's default.</param>
    /// <param name="progress">Told how far the staging has come, in order, all before this returns.</param>
    /// <exception cref="InvalidModelException">The file is not valid safetensors; the message names the tensor and the problem.</exception>
    /// <exception cref="ModelTooLargeException">The weights do not fit the daemon's whole device pool.</exception>
    /// <exception cref="NotSupportedException">The daemon speaks protocol 1.0, which has no models.</exception>
    public async Task<ClientModel> RegisterModelAsync(
        SafeFileHandle safetensorsFile,
        string name,
        IReadOnlyList<uint>? groupTensorCounts = null,
        IProgress<ModelProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(safetensorsFile);
        ObjectDisposedException.ThrowIf(safetensorsFile.IsClosed, safetensorsFile);
        ArgumentNullException.ThrowIfNull(name);
        groupTensorCounts ??= [];
        if (groupTensorCounts.Contains(0u))
        {
            throw new ArgumentException("a layer group holds at least one tensor", nameof(groupTensorCounts));
        }

        ThrowIfOlderThan(1, "models");

        // The receive loop only queues the progress frames; they are reported from here, so the
        // caller's code never runs on (or stalls) the loop, and every report comes before the result.
        var staging = progress is null ? null : Channel.CreateUnbounded<ModelProgress>(new() { SingleReader = true, SingleWriter = true });
        var reporting = staging is null ? Task.CompletedTask : ReportAsync(staging.Reader, progress!);
        Action<ReplyFrame>? interim = staging is null
            ? null
            : frame => staging.Writer.TryWrite(frame.Decode<ModelProgress>(MessageType.ModelProgress));
        ModelRegistered registered;
        try
        {
            registered = await RequestAsync<RegisterModel, ModelRegistered>(
                MessageType.RegisterModel, new RegisterModel(name, groupTensorCounts), MessageType.ModelRegistered, [safetensorsFile], interim, cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            staging?.Writer.TryComplete();
            await reporting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        // The reply came after every progress frame, so the queue holds all of them.
        staging?.Writer.TryComplete();
        var model = new ClientModel(this, registered.Model, name, registered.TensorCount, registered.Bytes, registered.Tier, registered.Groups);
        try
        {
            await reporting.ConfigureAwait(false);
        }
        catch
        {
            // The caller's progress threw: the model never reaches the caller, who could not unregister it.
            await model.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return model;

        static async Task ReportAsync(ChannelReader<ModelProgress> staged, IProgress<ModelProgress> progress)
        {
            await foreach (var report in staged.ReadAllAsync().ConfigureAwait(false))
            {
                progress.Report(report);
            }
        }
    }

    /// <summary>
    /// Registers the safetensors file at <paramref name="path"/>, which this process opens read-only:
    /// the daemon never opens a path on a client's behalf, so the client's own permissions apply.
    /// </summary>
    /// <inheritdoc cref="RegisterModelAsync(SafeFileHandle, string, IReadOnlyList{uint}?, IProgress{ModelProgress}?, CancellationToken)"/>
    public async Task<ClientModel> RegisterModelAsync(
        string path,
        string name,
        IReadOnlyList<uint>? groupTensorCounts = null,
        IProgress<ModelProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return await RegisterModelAsync(file, name, groupTensorCounts, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A tensor of the model, by its name in the safetensors header, to pass to kernels with <see cref="StepBuilder.Tensor"/>.</summary>
    /// <exception cref="UnknownTensorException">The model has no tensor of that name.</exception>
    public async Task<ModelTensor> GetTensorAsync(ClientModel model, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(name);
        var found = await RequestAsync<GetTensor, TensorFound>(
            MessageType.GetTensor, new GetTensor(model.HandleFor(this), name), MessageType.TensorFound, NoDescriptors, null, cancellationToken)
            .ConfigureAwait(false);
        return new ModelTensor(model, found.Tensor, name, found.Bytes, found.Group);
    }

    /// <summary>
    /// The models this client may see and the daemon's memory pools, as <c>gpumuxctl models</c> shows
    /// them; each model's usage too, from a daemon that speaks 1.3, and other tenants' models summed
    /// up, from one that speaks 1.4.
    /// </summary>
    /// <exception cref="NotSupportedException">The daemon speaks protocol 1.0, which has no models.</exception>
    public Task<ModelList> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfOlderThan(1, "models");
        return RequestAsync<EmptyMessage, ModelList>(MessageType.ListModels, default, MessageType.ModelList, NoDescriptors, null, cancellationToken);
    }

    /// <summary>
    /// The daemon's device, memory and the sessions this client may see, as <c>gpumuxctl status</c>
    /// shows them; from a 1.2 daemon also its scheduling policy, its classes' queues, and each
    /// session's class and lease; from a 1.4 daemon other tenants' sessions summed up.
    /// </summary>
    public Task<StatusReport> GetStatusAsync(CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage, StatusReport>(MessageType.GetStatus, default, MessageType.StatusReport, NoDescriptors, null, cancellationToken);

    /// <summary>
    /// Takes a lease for this session. Its steps then run in <paramref name="priorityClass"/> (the
    /// daemon's default class when null) and draw their GPU time from the lease, and its buffers
    /// count against <paramref name="maxDeviceBytes"/>. A lease expires when its GPU time or its
    /// duration runs out: then the session's waiting steps fail with <see cref="LeaseExpiredException"/>,
    /// the buffers allocated under it are freed, and so are later steps until the session releases
    /// it and takes another. Null limits and 0 bytes are no limit.
    /// </summary>
    /// <exception cref="QuotaExceededException">The uid already holds as many leases as it may, or asks for a class above the highest its limits allow.</exception>
    /// <exception cref="InvalidArgumentException">No class has that name, or the session already holds a lease.</exception>
    /// <exception cref="NotSupportedException">The daemon speaks a protocol older than 1.2, which has no leases.</exception>
    public Task<LeaseInfo> AcquireLeaseAsync(
        string? priorityClass = null,
        TimeSpan? maxGpuTime = null,
        TimeSpan? maxDuration = null,
        ulong maxDeviceBytes = 0,
        CancellationToken cancellationToken = default)
    {
        var request = new AcquireLease(
            priorityClass ?? string.Empty, Milliseconds(maxGpuTime, nameof(maxGpuTime)), Milliseconds(maxDuration, nameof(maxDuration)), maxDeviceBytes);
        ThrowIfOlderThan(2, "leases");
        return RequestAsync<AcquireLease, LeaseInfo>(MessageType.AcquireLease, request, MessageType.LeaseGranted, NoDescriptors, null, cancellationToken);
    }

    /// <summary>Gives the session's lease back, expired or not; buffers allocated under a lease that had not expired stay the session's.</summary>
    /// <exception cref="InvalidArgumentException">The session holds no lease.</exception>
    /// <exception cref="NotSupportedException">The daemon speaks a protocol older than 1.2, which has no leases.</exception>
    public async Task ReleaseLeaseAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfOlderThan(2, "leases");
        await RequestAsync<EmptyMessage, EmptyMessage>(MessageType.ReleaseLease, default, MessageType.Ok, NoDescriptors, null, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The session's lease as it stands (its GPU time used, whether it has expired); null when it holds none.</summary>
    /// <exception cref="NotSupportedException">The daemon speaks a protocol older than 1.2, which has no leases.</exception>
    public async Task<LeaseInfo?> GetLeaseAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfOlderThan(2, "leases");
        var report = await RequestAsync<EmptyMessage, LeaseReport>(MessageType.GetLease, default, MessageType.LeaseReport, NoDescriptors, null, cancellationToken)
            .ConfigureAwait(false);
        return report.Lease;
    }

    /// <summary>
    /// The usage, limits and accounting of the tenants this client may see, as <c>gpumuxctl tenants</c>
    /// shows them; from a 1.4 daemon the others summed up.
    /// </summary>
    /// <exception cref="NotSupportedException">The daemon speaks a protocol older than 1.2, which has no tenant report.</exception>
    public Task<TenantReport> GetTenantsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfOlderThan(2, "tenant reports");
        return RequestAsync<EmptyMessage, TenantReport>(MessageType.GetTenants, default, MessageType.TenantReport, NoDescriptors, null, cancellationToken);
    }

    /// <summary>
    /// Closes the session: the daemon frees everything it holds for it. Calls in flight fail with
    /// <see cref="GpuMuxConnectionException"/>. Shared regions stay mapped here until disposed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _pending.Fail(new GpuMuxConnectionException("the client was disposed"));
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _receiveLoop.ConfigureAwait(false);
    }

    /// <summary>
    /// Releases a handle on the daemon. Quietly done where the session has already ended, since
    /// the daemon then released everything the session held, and where the daemon has released
    /// the handle itself (an expired lease frees the buffers allocated under it).
    /// </summary>
    internal async ValueTask ReleaseAsync(MessageType type, uint handle)
    {
        try
        {
            await RequestAsync<HandleMessage, EmptyMessage>(type, new HandleMessage(handle), MessageType.Ok, NoDescriptors, null, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is GpuMuxConnectionException or ObjectDisposedException or UnknownHandleException)
        {
        }
    }

    private async Task<KernelFunction> GetFunctionAsync(uint module, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var found = await RequestAsync<GetFunction, HandleMessage>(
            MessageType.GetFunction, new GetFunction(module, name), MessageType.FunctionFound, NoDescriptors, null, cancellationToken).ConfigureAwait(false);
        return new KernelFunction(this, found.Handle, name);
    }

    private async Task<TReply> RequestAsync<TRequest, TReply>(
        MessageType type,
        TRequest request,
        MessageType replyType,
        IReadOnlyList<SafeHandle> descriptors,
        Action<ReplyFrame>? interim,
        CancellationToken cancellationToken)
        where TRequest : struct, IMessage<TRequest>
        where TReply : struct, IMessage<TReply>
    {
        ThrowIfUnusable();
        var requestId = _pending.NextRequestId();
        var frame = ArrayPool<byte>.Shared.Rent(FrameHeader.Size + MaxPayloadBytes);
        int length;
        try
        {
            length = Message.Encode(frame.AsSpan(0, FrameHeader.Size + MaxPayloadBytes), type, requestId, request, (byte)descriptors.Count);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(frame);
            throw;
        }

        var reply = await ExchangeAsync(requestId, frame, length, descriptors, interim, cancellationToken).ConfigureAwait(false);
        return Decode<TReply>(reply, replyType);
    }

    /// <summary>
    /// Sends a frame (giving its pooled array back once sent) and waits for the reply with its id,
    /// handing the frames that precede it to <paramref name="interim"/>.
    /// The send itself is never cancelled: half a frame would leave the stream unreadable.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReplyFrame> ExchangeAsync(
        uint requestId, byte[] frame, int length, IReadOnlyList<SafeHandle> descriptors, Action<ReplyFrame>? interim, CancellationToken cancellationToken)
    {
        RequestReply pending;
        try
        {
            pending = _pending.Add(requestId, interim);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(frame);
            throw;
        }

        var awaited = false;
        try
        {
            if (descriptors.Count > 0)
            {
                await _outbox.SendAsync(new OutgoingFrame(frame, length, null), descriptors).ConfigureAwait(false);
            }
            else
            {
                _outbox.Send(new OutgoingFrame(frame, length, null));
            }

            using (pending.CancelOn(cancellationToken))
            {
                awaited = true;
                return await pending.Reply.ConfigureAwait(false);
            }
        }
        finally
        {
            // Recycled only once awaited: its result has then been read, and nothing can complete it
            // again. One abandoned before that may still be completed, so it is left to the collector.
            if (awaited)
            {
                _pending.Return(pending);
            }
        }
    }

    private T Decode<T>(ReplyFrame reply, MessageType expected)
        where T : struct, IMessage<T>
    {
        try
        {
            return reply.Decode<T>(expected);
        }
        catch (MalformedPayloadException e)
        {
            // A reply this client cannot read means the two sides disagree on the protocol; what
            // follows cannot be trusted either.
            Lose(e);
            _pending.ThrowIfFailed();
            throw;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        ErrorMessage? closingError = null;
        try
        {
            while (await _connection.ReadFrameAsync(CancellationToken.None).ConfigureAwait(false) is { } frame)
            {
                var receivedAt = MonotonicClock.Now;
                var type = (MessageType)frame.Header.Type;
                var payload = frame.Payload.Span;
                if (type == MessageType.Error)
                {
                    var error = Message.Decode<ErrorMessage>(payload);
                    closingError = error.Code.ClosesConnection() ? error : closingError;
                }

                if (type == MessageType.ModelProgress)
                {
                    var interim = ReplyFrame.Copy(type, payload, receivedAt);
                    if (!_pending.TryDeliverInterim(frame.Header.RequestId, interim))
                    {
                        interim.Release();
                    }
                }
                else if (_pending.TryTake(frame.Header.RequestId, out var pending))
                {
                    Complete(pending, type, payload, receivedAt);
                }
            }

            _pending.Fail(new GpuMuxConnectionException(closingError is { } last
                ? $"gpumuxd closed the connection after {last.Code}: {last.Text}"
                : "gpumuxd closed the connection"));
        }
        catch (Exception e)
        {
            Lose(e);
        }
    }

    private void Complete(PendingReply pending, MessageType type, ReadOnlySpan<byte> payload, long receivedAtNs)
    {
        try
        {
            pending.Complete(type, payload, receivedAtNs);
        }
        catch (MalformedPayloadException e)
        {
            // A reply this client cannot read means the two sides disagree on the protocol; what
            // follows cannot be trusted either.
            Lose(e);
            _pending.FailLost(pending);
        }
    }

    private void Lose(Exception reason)
    {
        _pending.Fail(new GpuMuxConnectionException($"lost the connection to gpumuxd at {SocketPath}: {reason.Message}", reason));
        _connection.Abort();
    }

    /// <summary>
    /// Refuses, before anything is sent, what the daemon's protocol version lacks: a 1.0 daemon
    /// would take RegisterModel's descriptor for a protocol violation and end the session, and an
    /// older daemon answers a newer request or op with an error that names no version.
    /// </summary>
    private void ThrowIfOlderThan(ushort minor, string feature)
    {
        if (Minor < minor)
        {
            throw new NotSupportedException($"gpumuxd at {SocketPath} speaks protocol {ProtocolVersion.Major}.{Minor}; {feature} need {ProtocolVersion.Major}.{minor}");
        }
    }

    /// <summary>A budget in whole milliseconds, rounded up so that a short one does not become 0, "none".</summary>
    private static ulong Milliseconds(TimeSpan? budget, string parameter)
    {
        if (budget is not { } span)
        {
            return 0;
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(span, TimeSpan.Zero, parameter);
        return (ulong)Math.Ceiling(span.TotalMilliseconds);
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _pending.ThrowIfFailed();
    }
}
