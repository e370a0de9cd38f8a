using System.Runtime.InteropServices;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Robustness.Clients;
using GpuMux.Robustness.Linux;

namespace GpuMux.Robustness.Fuzzing;

/// <summary>
/// One fuzzing connection: an honest handshake and set-up (a region, buffers, the built-in
/// kernels, sometimes a model), so that mutated requests name real handles; then actions of the
/// chosen families, each followed by a probe that must be answered; then an end (orderly, or cut).
/// Every request must get its answer, or the connection its close, within the bound: else it is a hang.
/// </summary>
internal sealed class FuzzSession(RawConnection connection, FuzzCounters counters, IReadOnlyList<FuzzFamily> families, Random random, TimeSpan bound, CancellationToken stop)
{
    private const int RecentFrames = 6;

    /// <summary>Twice the protocol's most, for frames that carry the wrong number of descriptors.</summary>
    private const int MaxAttachedDescriptors = 2 * FrameHeader.MaxDescriptors;

    private static readonly DescriptorKind[] WrongKinds = [.. Enum.GetValues<DescriptorKind>().Where(kind => kind != DescriptorKind.SealableMemfd)];
    private static readonly DescriptorKind[] ShrinkableKinds = [DescriptorKind.UnsealableMemfd, DescriptorKind.SealSealedMemfd, DescriptorKind.RegularFile];

    private readonly FuzzState _state = new();
    private readonly HashSet<uint> _unanswered = [];
    private readonly Queue<string> _recent = new();
    private uint _lastId;
    private bool _ended;
    private Reply? _lastAnswer;

    /// <summary>Runs up to <paramref name="actions"/> actions, fewer when the connection ends first or <paramref name="keepGoing"/> says stop.</summary>
    public async Task RunAsync(int actions, Func<bool> keepGoing)
    {
        if (!await SetUpAsync())
        {
            return;
        }

        for (var i = 0; i < actions && keepGoing(); i++)
        {
            if (!await ActAsync(families[random.Next(families.Count)]))
            {
                return;
            }
        }

        await EndAsync();
    }

    private async Task<bool> SetUpAsync()
    {
        var welcome = await RequestAsync(FuzzTemplates.Hello("fuzz"), null);
        if (welcome?.Type != MessageType.Welcome)
        {
            return false;
        }

        if (await RequestAsync(FuzzTemplates.RegisterRegion(FuzzState.RegionBytes), null) is { Type: MessageType.RegionRegistered } region)
        {
            _state.Region = region.Decode<HandleMessage>().Handle;
        }

        for (var i = 0; i < 2; i++)
        {
            if (await RequestAsync(FuzzTemplates.AllocateBuffer(FuzzState.BufferBytes), null) is { Type: MessageType.BufferAllocated } buffer)
            {
                _state.Buffers.Add(buffer.Decode<HandleMessage>().Handle);
            }
        }

        foreach (var name in new[] { "fill_f32", "spin", "checksum", "axpy_f32" })
        {
            if (await RequestAsync(FuzzTemplates.GetFunction(name), null) is { Type: MessageType.FunctionFound } function)
            {
                _state.Functions[name] = function.Decode<HandleMessage>().Handle;
            }
        }

        // A step on the session's own stream runs after the zeroing of its new buffers: once it is
        // done, a session that ends abruptly frees no buffer whose zeroing is still queued.
        if (_state.Buffers.Count > 0)
        {
            await RequestAsync(FuzzTemplates.FillStep(_state, random), null);
        }

        if (random.Next(4) == 0 && await RequestAsync(FuzzTemplates.RegisterModel(), null) is { Type: MessageType.ModelRegistered } model)
        {
            _state.Model = model.Decode<ModelRegistered>().Model;
            var tensor = await RequestAsync(FuzzTemplates.GetTensor(_state.Model, "w"), null);
            _state.Tensor = tensor is { Type: MessageType.TensorFound } ? tensor.Decode<TensorFound>().Tensor : 0;
        }

        return !_ended;
    }

    /// <summary>One action of <paramref name="family"/>; false once the connection has ended.</summary>
    private Task<bool> ActAsync(FuzzFamily family) => family switch
    {
        FuzzFamily.RandomBytes => RandomBytesAsync(),
        FuzzFamily.Fields or FuzzFamily.Counts or FuzzFamily.Types or FuzzFamily.Lengths => MutatedBurstAsync(family),
        FuzzFamily.Descriptors => WrongDescriptorsAsync(),
        FuzzFamily.Shrink => ShrinkAsync(),
        FuzzFamily.Cut => CutAsync(),
        FuzzFamily.Churn => ChurnAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, null),
    };

    private async Task<bool> RandomBytesAsync()
    {
        var bytes = new byte[random.Next(1, 513)];
        random.NextBytes(bytes);
        if (bytes.Length >= FrameHeader.Size && random.Next(2) == 0)
        {
            // A header the daemon takes for one, so that the bytes after it are read as a payload.
            new FrameHeader((uint)random.Next(0, bytes.Length + 64), (ushort)random.Next(0x20), 0, 0, NextId()).Write(bytes);
        }

        await SendAsync(bytes, [], FuzzFamily.RandomBytes, $"{bytes.Length} random bytes, then the end of the stream", expectAnswer: false);
        connection.EndSending();
        await AwaitCloseAsync();
        return false;
    }

    private async Task<bool> MutatedBurstAsync(FuzzFamily family)
    {
        for (var count = random.Next(1, 5); count > 0; count--)
        {
            var template = PickTemplate(family);
            var mutated = FrameMutator.Mutate(family, template, random);
            var id = NextId();
            var frame = FrameTemplate.Frame(id, mutated.Type, mutated.Payload, (byte)template.DescriptorCount, mutated.StatedLength);
            using var attachment = template.Attachment == Attachment.None ? null : FuzzAttachments.For(template.Attachment, DescriptorKind.SealableMemfd);
            var tooLarge = mutated.StatedLength is not null;
            if (!await SendAsync(frame, attachment is null ? [] : [attachment.Handle], family, mutated.Description, expectAnswer: !tooLarge, id))
            {
                return false;
            }

            if (tooLarge)
            {
                // Refused from its header alone, and the connection closed: nothing after it is read.
                await AwaitCloseAsync();
                return false;
            }
        }

        return await ProbeAsync();
    }

    private FrameTemplate PickTemplate(FuzzFamily family)
    {
        var template = FuzzTemplates.Any(_state, random);
        for (var tries = 0; family == FuzzFamily.Counts && !template.Fields.Any(field => field.Role == FieldRole.Count) && tries < 8; tries++)
        {
            template = FuzzTemplates.Any(_state, random);
        }

        return template;
    }

    private async Task<bool> WrongDescriptorsAsync()
    {
        var template = random.Next(3) == 0 ? FuzzTemplates.Any(_state, random) : FuzzTemplates.WithDescriptor(random);
        var id = NextId();
        if (template.Attachment != Attachment.None && random.Next(3) != 0)
        {
            var kind = WrongKinds[random.Next(WrongKinds.Length)];
            using var odd = FuzzAttachments.For(template.Attachment, kind);
            return await SendAsync(template.Frame(id), [odd.Handle], FuzzFamily.Descriptors, $"{template.Type} with a descriptor of kind {kind}", expectAnswer: true, id)
                && await ProbeAsync();
        }

        // The wrong number: the header and the type disagree, or the header and what rides with it.
        var attached = random.Next(0, MaxAttachedDescriptors - 1);
        var stated = (byte)(random.Next(2) == 0 ? attached : random.Next(0, 7));
        if (attached == template.DescriptorCount && stated == template.DescriptorCount)
        {
            attached++;
        }

        var descriptors = Enumerable.Range(0, attached).Select(_ => FuzzAttachments.For(Attachment.RegionFile, DescriptorKind.SealableMemfd)).ToList();
        try
        {
            var frame = FrameTemplate.Frame(id, (ushort)template.Type, template.Payload, stated);
            return await SendAsync(frame, [.. descriptors.Select(d => (SafeHandle)d.Handle)], FuzzFamily.Descriptors,
                    $"{template.Type} stating {stated} descriptors, carrying {attached}", expectAnswer: true, id)
                && await ProbeAsync();
        }
        finally
        {
            descriptors.ForEach(d => d.Dispose());
        }
    }

    private async Task<bool> ShrinkAsync()
    {
        var kind = ShrinkableKinds[random.Next(ShrinkableKinds.Length)];
        using var file = FuzzAttachments.For(Attachment.RegionFile, kind);
        var registered = await RequestAsync(FuzzTemplates.RegisterRegion(FuzzState.RegionBytes), file, FuzzFamily.Shrink, $"RegisterRegion of a {kind}");
        if (registered is null)
        {
            return false;
        }

        if (registered.Type != MessageType.RegionRegistered)
        {
            // Refused, as a file that can shrink should be: nothing to shrink under the daemon.
            return true;
        }

        var region = registered.Decode<HandleMessage>().Handle;
        var length = (ulong)(random.Next(3) switch { 0 => 0, 1 => 100, _ => 4096 });
        file.Truncate(length);
        var steps = random.Next(1, 4);
        for (var i = 0; i < steps; i++)
        {
            var buffer = _state.Buffer(random);
            var offset = (ulong)random.Next(0, 15) * 4096;
            var payload = new PayloadWriter().U16(0).U16(2)
                .U8(1).U32(region).U64(offset).U32(buffer).U64(0).U64(4096)
                .U8(3).U32(buffer).U64(0).U32(region).U64(offset).U64(4096)
                .Build(MessageType.SubmitStep);
            var id = NextId();
            if (!await SendAsync(payload.Frame(id), [], FuzzFamily.Shrink, $"a step copying 4 KiB in and out at {offset} of a {kind} region cut to {length} bytes", expectAnswer: true, id))
            {
                return false;
            }
        }

        return await ProbeAsync() && await RequestAsync(FuzzTemplates.ReleaseRegion(region), null) is not null;
    }

    private async Task<bool> CutAsync()
    {
        var template = random.Next(3) == 0 ? FuzzTemplates.WithDescriptor(random) : FuzzTemplates.Any(_state, random);
        var frame = template.Frame(NextId());
        var kept = random.Next(1, frame.Length);
        using var attachment = template.Attachment == Attachment.None ? null : FuzzAttachments.For(template.Attachment, DescriptorKind.SealableMemfd);
        await SendAsync(frame.AsMemory(0, kept), attachment is null ? [] : [attachment.Handle], FuzzFamily.Cut, $"{template.Type}: {kept} of {frame.Length} bytes, then killed", expectAnswer: false);
        connection.Abort();
        _ended = true;
        return false;
    }

    /// <summary>Valid requests, as fast as a busy client makes them: memory and other resources given back as soon as they are had.</summary>
    private async Task<bool> ChurnAsync()
    {
        switch (random.Next(7))
        {
            case 0 or 1:
                var allocated = await RequestAsync(FuzzTemplates.AllocateBuffer((ulong)random.Next(1, 9) << 20), null, FuzzFamily.Churn, "AllocateBuffer, to free at once");
                if (allocated is not { Type: MessageType.BufferAllocated })
                {
                    return allocated is not null;
                }

                if (random.Next(4) == 0)
                {
                    // The session ends right after the allocation: the close frees it.
                    connection.Abort();
                    _ended = true;
                    return false;
                }

                return await RequestAsync(FuzzTemplates.FreeBuffer(allocated.Decode<HandleMessage>().Handle), null, FuzzFamily.Churn, "FreeBuffer right after its allocation") is not null;
            case 2:
                var region = await RequestAsync(FuzzTemplates.RegisterRegion(FuzzState.RegionBytes), null, FuzzFamily.Churn, "RegisterRegion, to release at once");
                return region is { Type: MessageType.RegionRegistered }
                    ? await RequestAsync(FuzzTemplates.ReleaseRegion(region.Decode<HandleMessage>().Handle), null, FuzzFamily.Churn, "ReleaseRegion") is not null
                    : region is not null;
            case 3:
                var lease = await RequestAsync(FuzzTemplates.AcquireLease(random), null, FuzzFamily.Churn, "AcquireLease, to release at once");
                return lease is not null && await RequestAsync(FuzzTemplates.Empty(MessageType.ReleaseLease), null, FuzzFamily.Churn, "ReleaseLease") is not null;
            case 4:
                var module = await RequestAsync(FuzzTemplates.LoadModule(), null, FuzzFamily.Churn, "LoadModule, to unload at once");
                return module is { Type: MessageType.ModuleLoaded }
                    ? await RequestAsync(FuzzTemplates.UnloadModule(module.Decode<ModuleLoaded>().Module), null, FuzzFamily.Churn, "UnloadModule") is not null
                    : module is not null;
            case 5:
                var model = await RequestAsync(FuzzTemplates.RegisterModel(), null, FuzzFamily.Churn, "RegisterModel, to unregister at once");
                return model is { Type: MessageType.ModelRegistered }
                    ? await RequestAsync(FuzzTemplates.UnregisterModel(model.Decode<ModelRegistered>().Model), null, FuzzFamily.Churn, "UnregisterModel") is not null
                    : model is not null;
            default:
                // A step on a buffer, and the buffer freed before the step has run: allowed, the free waits for it.
                if (_state.Buffers.Count == 0)
                {
                    return true;
                }

                var step = FuzzTemplates.FillStep(_state, random);
                var id = NextId();
                if (!await SendAsync(step.Frame(id), [], FuzzFamily.Churn, "a fill step", expectAnswer: true, id))
                {
                    return false;
                }

                foreach (var buffer in _state.Buffers)
                {
                    var freeId = NextId();
                    if (!await SendAsync(FuzzTemplates.FreeBuffer(buffer).Frame(freeId), [], FuzzFamily.Churn, "FreeBuffer of a buffer with a step in flight", expectAnswer: true, freeId))
                    {
                        return false;
                    }
                }

                _state.Buffers.Clear();
                return await ProbeAsync();
        }
    }

    /// <summary>The end of the session: an orderly close once every answer is in, a drop with work in flight, or the end of the stream.</summary>
    private async Task EndAsync()
    {
        switch (random.Next(3))
        {
            case 0:
                await AwaitAllAnsweredAsync();
                break;
            case 1:
                connection.Abort();
                break;
            default:
                connection.EndSending();
                await AwaitCloseAsync();
                break;
        }
    }

    /// <summary>Sends a request of the session's own, which must be answered (with whatever came before it that was).</summary>
    private async Task<bool> ProbeAsync()
    {
        var id = NextId();
        return await SendAsync(Frames.Empty(MessageType.GetLease, id), [], null, "GetLease (probe)", expectAnswer: true, id)
            && await AwaitAsync(id);
    }

    private async Task<Reply?> RequestAsync(FrameTemplate template, OddDescriptor? file, FuzzFamily? family = null, string? description = null)
    {
        var id = NextId();
        using var attachment = file is null && template.Attachment != Attachment.None ? FuzzAttachments.For(template.Attachment, DescriptorKind.SealableMemfd) : null;
        var descriptor = file ?? attachment;
        if (!await SendAsync(template.Frame(id), descriptor is null ? [] : [descriptor.Handle], family, description ?? template.Type.ToString(), expectAnswer: true, id))
        {
            return null;
        }

        return await AwaitAsync(id) ? _lastAnswer : null;
    }

    private async Task<bool> SendAsync(ReadOnlyMemory<byte> frame, IReadOnlyList<SafeHandle> descriptors, FuzzFamily? family, string description, bool expectAnswer, uint id = 0)
    {
        if (_ended)
        {
            return false;
        }

        _recent.Enqueue(description);
        if (_recent.Count > RecentFrames)
        {
            _recent.Dequeue();
        }

        if (expectAnswer)
        {
            _unanswered.Add(id);
        }

        counters.FrameSent(family);
        try
        {
            await connection.SendAsync(frame, descriptors, stop);
            return true;
        }
        catch (IOException)
        {
            // The daemon closed the connection, as it may after a violation: the reads say why.
            await AwaitCloseAsync();
            return false;
        }
    }

    /// <summary>Reads until <paramref name="id"/> is answered (true) or the connection ends (false).</summary>
    private async Task<bool> AwaitAsync(uint id)
    {
        while (!_ended)
        {
            var reply = await ReadAsync();
            if (reply is null)
            {
                return false;
            }

            if (reply.RequestId == id && reply.Type != MessageType.ModelProgress)
            {
                _lastAnswer = reply;
                return true;
            }
        }

        return false;
    }

    private async Task AwaitAllAnsweredAsync()
    {
        var open = true;
        while (open && !_ended && _unanswered.Count > 0)
        {
            open = await ReadAsync() is not null;
        }
    }

    private async Task AwaitCloseAsync()
    {
        var open = true;
        while (open && !_ended)
        {
            open = await ReadAsync() is not null;
        }
    }

    /// <summary>The next frame, null once the connection has ended; a bound passed with nothing read is a hang.</summary>
    private async Task<Reply?> ReadAsync()
    {
        try
        {
            var reply = await connection.ReadAsync(bound, stop);
            if (reply is null)
            {
                counters.ClosedByDaemon.Add();
                _ended = true;
                return null;
            }

            if (reply.Type != MessageType.ModelProgress)
            {
                _unanswered.Remove(reply.RequestId);
            }

            switch (reply.Error)
            {
                case null:
                    break;
                case ErrorCode.Internal:
                    counters.ErrorReplies.Add();
                    counters.Internal.Add();
                    counters.Notes.Add("Internal error", $"{reply}; the last frames sent: {string.Join(" | ", _recent)}");
                    break;
                case ErrorCode.ShuttingDown:
                    // The scenario stops the daemon only after every fuzzer has finished.
                    counters.ErrorReplies.Add();
                    counters.SpuriousShuttingDown.Add();
                    counters.Notes.Add("ShuttingDown while the daemon was not stopping", $"{reply}; the last frames sent: {string.Join(" | ", _recent)}");
                    break;
                default:
                    counters.ErrorReplies.Add();
                    break;
            }

            return reply;
        }
        catch (TimeoutException)
        {
            counters.Hangs.Add();
            counters.Notes.Add("fuzzer hang", $"{_unanswered.Count} requests unanswered after {bound.TotalSeconds} s; the last frames sent: {string.Join(" | ", _recent)}");
        }
        catch (FrameFormatException e)
        {
            counters.MalformedReplies.Add();
            counters.Notes.Add("frame from the daemon that does not parse", e.Message);
        }

        connection.Abort();
        _ended = true;
        return null;
    }

    private uint NextId() => ++_lastId;
}
