using GpuMux.Protocol;
using GpuMux.Protocol.Messages;
using GpuMux.Robustness.Clients;
using GpuMux.Robustness.Fuzzing;
using GpuMux.Robustness.Linux;

namespace GpuMux.Robustness.Scenarios;

/// <summary>The moment a client is killed at, and what it holds then.</summary>
internal enum KillPoint
{
    BeforeHello,
    MidHello,
    AfterHello,
    MidFrame,
    MidDescriptorFrame,
    WithRegion,
    WithBuffers,
    WithLease,
    WithModule,
    WithModel,
    MidModelRegistration,
    WithStepsInFlight,
    WithEverything,
}

/// <summary>
/// A client that sets up what its kill point says and is then killed: its connection dropped at
/// once, which is all the daemon sees of a killed process (its socket closes; the descriptors it
/// passed are the daemon's own copies).
/// </summary>
internal sealed class DoomedClient(RawConnection connection, Random random, TimeSpan bound, CancellationToken stop)
{
    private uint _lastId;

    /// <summary>Sets up and dies; returns the requests it made that were refused, or throws <see cref="TimeoutException"/> when one was not answered.</summary>
    public async Task<int> LiveAndDieAsync(KillPoint point, byte[] largeModel)
    {
        var refused = 0;
        try
        {
            switch (point)
            {
                case KillPoint.BeforeHello:
                    return 0;
                case KillPoint.MidHello:
                    var hello = Frames.Hello(1, "doomed");
                    await connection.SendAsync(hello.AsMemory(0, random.Next(1, hello.Length)), stop);
                    return 0;
            }

            if (await RequestAsync(Frames.Hello(NextId(), "doomed"), Attachment.None) is not { Type: MessageType.Welcome })
            {
                return 1;
            }

            switch (point)
            {
                case KillPoint.MidFrame:
                    var step = FuzzTemplates.SpinStep(new FuzzState(), (ulong)random.Next(1, 200)).Frame(NextId());
                    await connection.SendAsync(step.AsMemory(0, random.Next(1, step.Length)), stop);
                    return 0;
                case KillPoint.MidDescriptorFrame:
                    using (var file = FuzzAttachments.For(Attachment.RegionFile, DescriptorKind.SealableMemfd))
                    {
                        var frame = FuzzTemplates.RegisterRegion(FuzzState.RegionBytes).Frame(NextId());
                        await connection.SendAsync(frame.AsMemory(0, random.Next(1, frame.Length)), [file.Handle], stop);
                    }

                    return 0;
            }

            var has = point == KillPoint.WithEverything ? Enum.GetValues<KillPoint>().ToHashSet() : [point];
            var state = new FuzzState();
            if (has.Contains(KillPoint.WithRegion) || has.Contains(KillPoint.WithStepsInFlight))
            {
                var region = await RequestAsync(FuzzTemplates.RegisterRegion(FuzzState.RegionBytes));
                refused += Handle(region, MessageType.RegionRegistered, handle => state.Region = handle);
            }

            if (has.Contains(KillPoint.WithBuffers) || has.Contains(KillPoint.WithStepsInFlight))
            {
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    var buffer = await RequestAsync(FuzzTemplates.AllocateBuffer((ulong)random.Next(1, 5) << 20));
                    refused += Handle(buffer, MessageType.BufferAllocated, state.Buffers.Add);
                }
            }

            if (has.Contains(KillPoint.WithLease))
            {
                refused += (await RequestAsync(FuzzTemplates.AcquireLease(random)))?.Type == MessageType.LeaseGranted ? 0 : 1;
            }

            if (has.Contains(KillPoint.WithModule))
            {
                refused += (await RequestAsync(FuzzTemplates.LoadModule()))?.Type == MessageType.ModuleLoaded ? 0 : 1;
            }

            if (has.Contains(KillPoint.WithModel))
            {
                refused += (await RequestAsync(FuzzTemplates.RegisterModel()))?.Type == MessageType.ModelRegistered ? 0 : 1;
            }

            if (has.Contains(KillPoint.WithStepsInFlight))
            {
                foreach (var name in new[] { "fill_f32", "spin" })
                {
                    var function = await RequestAsync(FuzzTemplates.GetFunction(name));
                    refused += Handle(function, MessageType.FunctionFound, handle => state.Functions[name] = handle);
                }

                for (var i = random.Next(1, 9); i > 0; i--)
                {
                    var step = random.Next(2) == 0 ? FuzzTemplates.FillStep(state, random) : FuzzTemplates.SpinStep(state, (ulong)random.Next(100, 3000));
                    await connection.SendAsync(step.Frame(NextId()), stop);
                }
            }

            if (has.Contains(KillPoint.MidModelRegistration))
            {
                // A model large enough that its staging is still going when the client dies.
                using var model = OddDescriptor.Create(DescriptorKind.SealableMemfd, largeModel);
                await connection.SendAsync(FuzzTemplates.RegisterModel("large").Frame(NextId()), [model.Handle], stop);
            }

            // Some die at once, some a moment later, while what they started is under way.
            if (random.Next(2) == 0)
            {
                await Task.Delay(random.Next(0, 4), stop);
            }

            return refused;
        }
        catch (IOException)
        {
            // The daemon closed the connection first: a refusal, as far as this client can tell.
            return refused + 1;
        }
        finally
        {
            connection.Abort();
        }
    }

    private static int Handle(Reply? reply, MessageType success, Action<uint> keep)
    {
        if (reply?.Type != success)
        {
            return 1;
        }

        keep(reply.Decode<HandleMessage>().Handle);
        return 0;
    }

    /// <summary>The reply to a request, or null when the connection closed; a request left unanswered past the bound throws.</summary>
    private Task<Reply?> RequestAsync(FrameTemplate template) => RequestAsync(template.Frame(NextId()), template.Attachment);

    private async Task<Reply?> RequestAsync(byte[] frame, Attachment attachment)
    {
        using var file = attachment == Attachment.None ? null : FuzzAttachments.For(attachment, DescriptorKind.SealableMemfd);
        return await connection.RequestAsync(frame, file is null ? [] : [file.Handle], bound, stop);
    }

    private uint NextId() => ++_lastId;
}
