using System.Diagnostics;
using GpuMux.Engine;
using GpuMux.Engine.Tenants;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Carries out one session's requests after its handshake: decodes each, calls the engine, and
/// sends the reply. Expected failures become Error frames; a step's failures arrive as its
/// completion instead. Replies are laid out for the protocol minor version the session speaks,
/// and the operator reports show what <paramref name="view"/> lets the session see.
/// </summary>
internal sealed class RequestDispatcher(
    GpuEngine engine, EngineSession session, ReplyWriter replies, ConnectionSettings settings, ushort minor, TenantView view)
{
    private const int StatusFixedPartBytes = 2048;

    // A lease's longest budget, in the milliseconds that AcquireLease states its budgets in.
    private static readonly ulong MaxBudgetMs = (ulong)LeaseRequest.MaxBudget.TotalMilliseconds;

    public async ValueTask DispatchAsync(ReceivedFrame frame, CancellationToken cancellationToken)
    {
        var id = frame.Header.RequestId;
        var payload = frame.Payload;
        switch ((MessageType)frame.Header.Type)
        {
            case MessageType.SubmitStep:
                Submit(id, payload.Span);
                break;
            case MessageType.RegisterRegion:
                var length = Message.Decode<SizeMessage>(payload.Span).Bytes;
                var region = await session.RegisterRegionAsync(frame.TakeDescriptor(0), length, cancellationToken);
                await replies.SendAsync(MessageType.RegionRegistered, id, new HandleMessage(region), cancellationToken);
                break;
            case MessageType.ReleaseRegion:
                await session.ReleaseRegionAsync(Message.Decode<HandleMessage>(payload.Span).Handle, cancellationToken);
                await replies.SendOkAsync(id, cancellationToken);
                break;
            case MessageType.AllocateBuffer:
                var allocate = Message.Decode<AllocateBuffer>(payload.Span);
                var buffer = await session.AllocateBufferAsync(allocate.Bytes, SpillableFlag(allocate.Flags), cancellationToken);
                await replies.SendAsync(MessageType.BufferAllocated, id, new HandleMessage(buffer), cancellationToken);
                break;
            case MessageType.FreeBuffer:
                await session.FreeBufferAsync(Message.Decode<HandleMessage>(payload.Span).Handle, cancellationToken);
                await replies.SendOkAsync(id, cancellationToken);
                break;
            case MessageType.LoadModule:
                await LoadModuleAsync(frame, cancellationToken);
                break;
            case MessageType.UnloadModule:
                await session.UnloadModuleAsync(Message.Decode<HandleMessage>(payload.Span).Handle, cancellationToken);
                await replies.SendOkAsync(id, cancellationToken);
                break;
            case MessageType.GetFunction:
                var lookup = Message.Decode<GetFunction>(payload.Span);
                var function = await session.GetFunctionAsync(lookup.Module, lookup.Name, cancellationToken);
                await replies.SendAsync(MessageType.FunctionFound, id, new HandleMessage(function), cancellationToken);
                break;
            case MessageType.RegisterModel:
                await RegisterModelAsync(frame, cancellationToken);
                break;
            case MessageType.UnregisterModel:
                await session.UnregisterModelAsync(Message.Decode<HandleMessage>(payload.Span).Handle, cancellationToken);
                await replies.SendOkAsync(id, cancellationToken);
                break;
            case MessageType.GetTensor:
                var tensorLookup = Message.Decode<GetTensor>(payload.Span);
                var tensor = await session.GetTensorAsync(tensorLookup.Model, tensorLookup.Name, cancellationToken);
                await replies.SendAsync(MessageType.TensorFound, id, new TensorFound(tensor.Tensor, tensor.Bytes, (uint)tensor.Group), cancellationToken);
                break;
            case MessageType.ListModels:
                Message.Decode<EmptyMessage>(payload.Span);
                await replies.SendAsync(MessageType.ModelList, id, await ModelListAsync(cancellationToken), cancellationToken);
                break;
            case MessageType.GetStatus:
                Message.Decode<EmptyMessage>(payload.Span);
                await replies.SendAsync(MessageType.StatusReport, id, await StatusAsync(cancellationToken), cancellationToken);
                break;
            case MessageType.AcquireLease:
                var granted = await session.AcquireLeaseAsync(LeaseRequestOf(Message.Decode<AcquireLease>(payload.Span)), cancellationToken);
                await replies.SendAsync(MessageType.LeaseGranted, id, granted.ToWire(), cancellationToken);
                break;
            case MessageType.ReleaseLease:
                Message.Decode<EmptyMessage>(payload.Span);
                await session.ReleaseLeaseAsync(cancellationToken);
                await replies.SendOkAsync(id, cancellationToken);
                break;
            case MessageType.GetLease:
                Message.Decode<EmptyMessage>(payload.Span);
                var held = await session.GetLeaseAsync(cancellationToken);
                await replies.SendAsync(MessageType.LeaseReport, id, new LeaseReport(held?.ToWire()), cancellationToken);
                break;
            case MessageType.GetTenants:
                Message.Decode<EmptyMessage>(payload.Span);
                await replies.SendAsync(MessageType.TenantReport, id, await TenantsAsync(cancellationToken), cancellationToken);
                break;
            default:
                await replies.SendErrorAsync(id, ErrorCode.UnknownMessage, $"0x{frame.Header.Type:x4} is not a request type", cancellationToken);
                break;
        }
    }

    private void Submit(uint requestId, ReadOnlySpan<byte> payload)
    {
        StepTranslator.Check(payload);
        var step = session.RentStep();
        step.RequestId = requestId;
        StepTranslator.Fill(payload, step);
        session.Submit(step);
    }

    private async ValueTask LoadModuleAsync(ReceivedFrame frame, CancellationToken cancellationToken)
    {
        var request = Message.Decode<LoadModule>(frame.Payload.Span);
        using var descriptor = frame.TakeDescriptor(0);
        var loaded = await session.LoadModuleAsync(
            (Engine.ModuleFormat)request.Format,
            request.Name,
            () => ModuleImageReader.Read(descriptor, request.ImageBytes, settings.MaxModuleBytes),
            cancellationToken);
        var reply = new ModuleLoaded(loaded.Module, loaded.FromCache, loaded.CompileLog);
        await replies.SendAsync(MessageType.ModuleLoaded, frame.Header.RequestId, reply, cancellationToken);
    }

    /// <summary>Stages the model while sending its progress, then its registration.</summary>
    private async ValueTask RegisterModelAsync(ReceivedFrame frame, CancellationToken cancellationToken)
    {
        var id = frame.Header.RequestId;
        var request = Message.Decode<RegisterModel>(frame.Payload.Span);
        var groups = request.GroupTensorCounts.Count == 0 ? null : request.GroupTensorCounts.Select(count => (int)Math.Min(count, int.MaxValue)).ToArray();
        var progress = new ProgressRelay<ModelStagingProgress>();
        var registration = session.RegisterModelAsync(frame.TakeDescriptor(0), request.Name, groups, progress, cancellationToken);
        while (!registration.IsCompleted)
        {
            await Task.WhenAny(registration, progress.Reported);
            if (!registration.IsCompleted && progress.TryTake(out var staged))
            {
                await replies.SendAsync(MessageType.ModelProgress, id, new ModelProgress(staged.StagedBytes, staged.TotalBytes), cancellationToken);
            }
        }

        var model = await registration;
        var reply = new ModelRegistered(model.Model, (uint)model.TensorCount, model.Bytes, (Protocol.Messages.ModelTier)model.Tier, (uint)model.Groups);
        await replies.SendAsync(MessageType.ModelRegistered, id, reply, cancellationToken);
    }

    /// <summary>Whether AllocateBuffer's flags ask for a spillable buffer; a bit this version does not know, or flags from a client older than 1.6, are refused.</summary>
    private bool SpillableFlag(BufferFlags flags)
    {
        if (flags != BufferFlags.None && minor < 6)
        {
            throw new EngineException(EngineError.InvalidArgument, $"AllocateBuffer's flags came from a client of protocol 1.{minor}; they need 1.6");
        }
        if ((flags & ~AllocateBuffer.KnownFlags) != 0)
        {
            throw new EngineException(EngineError.InvalidArgument, $"AllocateBuffer's flags 0x{(uint)flags:x} name bits this daemon does not know (it knows 0x{(uint)AllocateBuffer.KnownFlags:x})");
        }
        return (flags & BufferFlags.Spillable) != 0;
    }

    /// <summary>
    /// The models the session may see, as many as fit in a frame; a 1.3 session also gets each
    /// one's usage, a 1.4 session the others summed up, an older one the layout it knows.
    /// </summary>
    private async ValueTask<ModelList> ModelListAsync(CancellationToken cancellationToken)
    {
        var status = await engine.GetStatusAsync(cancellationToken);
        var models = await engine.GetModelsAsync(cancellationToken);
        var (shown, others) = view.Split(models);
        var withUsage = minor >= 3;
        var withOthers = minor >= 4;
        var withSpills = minor >= 6;
        var fixedBytes = ModelList.FixedBytes + (withOthers ? OtherModels.EncodedBytes : 0) + (withSpills ? SpillSummary.EncodedBytes : 0);
        var entryBytes = ModelEntry.MaxEncodedBytes + (withUsage ? UsageEntry.EncodedBytes : 0);
        var listed = shown.Take((replies.MaxPayloadBytes - fixedBytes) / entryBytes).ToArray();
        return new ModelList(
            status.DevicePoolBytes,
            status.DevicePoolFreeBytes,
            status.PinnedPoolBytes,
            status.PinnedPoolFreeBytes,
            (uint)models.Count,
            [.. listed.Select(m => m.ToWire())],
            withUsage ? [.. listed.Select(m => m.Usage.ToWire())] : null,
            withOthers ? others : null,
            withSpills ? ToWire(status.Spills) : null);
    }

    private static SpillSummary ToWire(BufferSpillStatus spills) => new(
        (uint)spills.SpilledBuffers, spills.SpilledBytes, (ulong)spills.Spills, spills.SpillBytes, (ulong)spills.Restores, spills.RestoreBytes);

    /// <summary>
    /// The status, with as many of the sessions the session may see as fit in a frame. A 1.2
    /// session also gets the scheduling part, a 1.4 session the other sessions summed up; an older
    /// one the layout it knows, which ends after the sessions.
    /// </summary>
    private async ValueTask<StatusReport> StatusAsync(CancellationToken cancellationToken)
    {
        var status = await engine.GetStatusAsync(cancellationToken);
        var (shown, others) = view.Split(status.Sessions);
        var withClasses = minor >= 2;
        var withOthers = minor >= 4;
        var fixedBytes = StatusFixedPartBytes + (withClasses ? SchedulingStatus.MaxFixedBytes : 0) + (withOthers ? OtherSessions.EncodedBytes : 0);
        var entryBytes = SessionEntry.MaxEncodedBytes + (withClasses ? SessionClassEntry.MaxEncodedBytes : 0);
        var listed = shown.Take(Math.Max(0, (replies.MaxPayloadBytes - fixedBytes) / entryBytes)).ToArray();
        SchedulingStatus? scheduling = withClasses
            ? new(status.Policy.ToWire(), [.. status.Classes.Select(c => c.ToWire())], [.. listed.Select(s => s.ToClassWire())])
            : null;
        return new StatusReport(
            status.Backend.ToWire(),
            engine.BackendDescription,
            status.Device.ToWire(),
            status.FreeBytes,
            status.TotalBytes,
            status.SessionBytes,
            (long)Stopwatch.GetElapsedTime(settings.StartedAt).TotalMilliseconds,
            (uint)status.Sessions.Count,
            [.. listed.Select(s => s.ToWire())],
            scheduling,
            withOthers ? others : null);
    }

    /// <summary>The tenants the session may see, as many as fit in a frame; a 1.4 session also gets the others summed up.</summary>
    private async ValueTask<TenantReport> TenantsAsync(CancellationToken cancellationToken)
    {
        var tenants = await engine.GetTenantsAsync(cancellationToken);
        var (shown, others) = view.Split(tenants);
        var withOthers = minor >= 4;
        var room = (replies.MaxPayloadBytes - TenantReport.FixedBytes - (withOthers ? OtherTenants.EncodedBytes : 0)) / TenantEntry.MaxEncodedBytes;
        return new TenantReport((uint)tenants.Count, [.. shown.Take(room).Select(t => t.ToWire())], withOthers ? others : null);
    }

    private static LeaseRequest LeaseRequestOf(AcquireLease request) => new(
        request.Class.Length == 0 ? null : request.Class,
        Budget(request.MaxGpuMs, "max_gpu_ms"),
        Budget(request.MaxDurationMs, "max_duration_ms"),
        request.MaxDeviceBytes);

    private static TimeSpan? Budget(ulong milliseconds, string field)
    {
        if (milliseconds > MaxBudgetMs)
        {
            throw new EngineException(EngineError.InvalidArgument, $"{field} is {milliseconds}; it must be at most {MaxBudgetMs}, or 0 for none");
        }

        return milliseconds == 0 ? null : TimeSpan.FromMilliseconds(milliseconds);
    }
}
