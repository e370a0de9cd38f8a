using GpuMux.Protocol;
using GpuMux.Protocol.Messages;
using GpuMux.Robustness.Clients;
using GpuMux.Robustness.Fuzzing;
using GpuMux.Robustness.Linux;

namespace GpuMux.Robustness.Scenarios;

internal sealed record ShutdownOptions
{
    /// <summary>Clients with steps queued and on the device when SIGTERM comes.</summary>
    public int BusyClients { get; init; } = 64;

    public int StepsInFlight { get; init; } = 8;

    /// <summary>Clients connected with nothing to do.</summary>
    public int IdleClients { get; init; } = 16;

    /// <summary>Clients whose model is being staged.</summary>
    public int StagingClients { get; init; } = 4;
}

/// <summary>
/// SIGTERM under load: the daemon must exit promptly with status 0, and every client must be told
/// before its connection closes: every request answered (a step with its result or ShuttingDown),
/// and a ShuttingDown for each session.
/// </summary>
internal static class ShutdownScenario
{
    public const string Name = "shutdown";

    /// <summary>Steps have ids from here; the requests that set a client up have ids below.</summary>
    private const uint FirstStepId = 100;

    public static async Task<ScenarioResult> RunAsync(RunSettings settings, ShutdownOptions options, CancellationToken cancellationToken)
    {
        await using var run = await ScenarioRun.StartAsync(Name, settings, cancellationToken);
        var clientsCount = run.Counts.Tally("clients connected at SIGTERM");
        var inFlight = run.Counts.Tally("requests in flight at SIGTERM");
        var completed = run.Counts.Tally("requests answered with success");
        var shuttingDown = run.Counts.Tally("requests answered ShuttingDown");
        var otherErrors = run.Counts.Failure("requests answered with another error");
        var unanswered = run.Counts.Failure("steps without a completion when the connection closed");
        var cutOff = run.Counts.Tally("other requests cut off by the close (the session's ShuttingDown tells them)");
        var untold = run.Counts.Failure("clients closed without a ShuttingDown");
        var hangs = run.Counts.Failure("clients whose connection stayed open past the bound");
        run.MarkBaseline();

        var largeModel = FuzzAttachments.LargeModel();
        var random = new Random(settings.Seed);
        var kinds = Enumerable.Repeat(0, options.BusyClients).Concat(Enumerable.Repeat(1, options.IdleClients)).Concat(Enumerable.Repeat(2, options.StagingClients)).ToArray();
        var connections = new List<(RawConnection Connection, HashSet<uint> Outstanding)>();
        try
        {
            foreach (var kind in kinds)
            {
                var connection = await RawConnection.ConnectAsync(run.Daemon.SocketPath, cancellationToken);
                connections.Add((connection, await LoadAsync(connection, kind, options.StepsInFlight, random, largeModel, settings.HangBound, cancellationToken)));
            }

            clientsCount.Set(connections.Count);
            inFlight.Set(connections.Sum(c => c.Outstanding.Count));
            var listening = connections.Select(c => Task.Run(() => ListenAsync(c.Connection, c.Outstanding), cancellationToken)).ToArray();
            await run.TerminateAsync();
            await Task.WhenAll(listening);
        }
        finally
        {
            foreach (var (connection, _) in connections)
            {
                await connection.DisposeAsync();
            }
        }

        return await run.FinishAsync(
            $"SIGTERM while {options.BusyClients} clients have {options.StepsInFlight} steps each in flight, {options.IdleClients} are idle and {options.StagingClients} are staging a model: a prompt exit with status 0, and every client told",
            $"busy {options.BusyClients} with {options.StepsInFlight} steps each; idle {options.IdleClients}; staging {options.StagingClients}; seed {settings.Seed}",
            cancellationToken);

        async Task ListenAsync(RawConnection connection, HashSet<uint> outstanding)
        {
            var told = false;
            try
            {
                while (await connection.ReadAsync(settings.HangBound, cancellationToken) is { } reply)
                {
                    if (reply.Type == MessageType.ModelProgress)
                    {
                        continue;
                    }

                    var answered = outstanding.Remove(reply.RequestId);
                    switch (reply.Error)
                    {
                        case null:
                            completed.Add(answered ? 1 : 0);
                            break;
                        case ErrorCode.ShuttingDown:
                            told = true;
                            shuttingDown.Add(answered ? 1 : 0);
                            break;
                        case var other:
                            otherErrors.Add();
                            run.Notes.Add("answered with another error during shutdown", $"{other}: {reply}");
                            break;
                    }
                }
            }
            catch (TimeoutException)
            {
                hangs.Add();
            }

            // Every step gets exactly one completion (docs/protocol.md, 4.4); another request cut off is told by the session's ShuttingDown.
            unanswered.Add(outstanding.Count(id => id >= FirstStepId));
            cutOff.Add(outstanding.Count(id => id < FirstStepId));
            untold.Add(told ? 0 : 1);
        }
    }

    /// <summary>Sets a client up as busy (steps in flight), idle or staging; returns the ids of its requests still unanswered.</summary>
    private static async Task<HashSet<uint>> LoadAsync(RawConnection connection, int kind, int steps, Random random, byte[] largeModel, TimeSpan bound, CancellationToken cancellationToken)
    {
        var outstanding = new HashSet<uint>();
        await connection.RequestAsync(Frames.Hello(1, "shutdown"), [], bound, cancellationToken);
        switch (kind)
        {
            case 0:
                var state = new FuzzState();
                using (var file = FuzzAttachments.For(Attachment.RegionFile, DescriptorKind.SealableMemfd))
                {
                    state.Region = (await connection.RequestAsync(FuzzTemplates.RegisterRegion(FuzzState.RegionBytes).Frame(2), [file.Handle], bound, cancellationToken))!.Decode<HandleMessage>().Handle;
                }

                state.Buffers.Add((await connection.RequestAsync(FuzzTemplates.AllocateBuffer(FuzzState.BufferBytes).Frame(3), [], bound, cancellationToken))!.Decode<HandleMessage>().Handle);
                state.Functions["fill_f32"] = (await connection.RequestAsync(FuzzTemplates.GetFunction("fill_f32").Frame(4), [], bound, cancellationToken))!.Decode<HandleMessage>().Handle;
                state.Functions["spin"] = (await connection.RequestAsync(FuzzTemplates.GetFunction("spin").Frame(5), [], bound, cancellationToken))!.Decode<HandleMessage>().Handle;
                for (var id = FirstStepId; id < FirstStepId + steps; id++)
                {
                    // Spins of a few milliseconds, so that most are still queued when the signal comes.
                    var step = id % 2 == 0 ? FuzzTemplates.SpinStep(state, (ulong)random.Next(2_000, 10_000)) : FuzzTemplates.FillStep(state, random);
                    await connection.SendAsync(step.Frame(id), cancellationToken);
                    outstanding.Add(id);
                }

                break;
            case 2:
                using (var model = OddDescriptor.Create(DescriptorKind.SealableMemfd, largeModel))
                {
                    await connection.SendAsync(FuzzTemplates.RegisterModel("large").Frame(2), [model.Handle], cancellationToken);
                }

                outstanding.Add(2);
                break;
        }

        return outstanding;
    }
}
