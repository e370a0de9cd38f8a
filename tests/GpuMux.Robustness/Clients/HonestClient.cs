using System.Diagnostics;
using GpuMux.Client;
using GpuMux.Robustness.Daemon;

namespace GpuMux.Robustness.Clients;

/// <summary>
/// A client whose every request is valid: it runs <see cref="HonestWork"/> step after step and
/// counts each error, wrong result and request left unanswered past the bound. When the daemon
/// dies (counted by the supervisor) it connects to the next one and goes on.
/// </summary>
internal sealed class HonestClient(DaemonSupervisor daemon, HonestCounters counters, int seed, TimeSpan bound)
{
    private const int StepsPerStatus = 32;

    private static readonly TimeSpan DeathGrace = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken stop)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested && await daemon.WaitUntilUpAsync(stop).ConfigureAwait(false))
        {
            var incarnation = daemon.Current;
            GpuMuxClient? client = null;
            HonestWork? work = null;
            var abandoned = false;
            try
            {
                client = await Bounded(GpuMuxClient.ConnectAsync(new() { Host = daemon.SocketPath, ClientName = "honest" }, stop), "connect", stop);
                work = await Bounded(HonestWork.SetUpAsync(client, stop), "set up its region, buffers and kernels", stop);
                for (var index = 0; !stop.IsCancellationRequested; index++)
                {
                    await StepAsync(client, work, index, random, stop);
                    if (index % StepsPerStatus == StepsPerStatus - 1)
                    {
                        var watch = Stopwatch.StartNew();
                        await Bounded(client.GetStatusAsync(stop), "status", stop);
                        counters.StatusLatency.Add(watch.Elapsed);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (TimeoutException e)
            {
                counters.Hangs.Add();
                counters.Notes.Add("honest hang", e.Message);
                abandoned = true;
            }
            catch (GpuMuxException e)
            {
                counters.Errors.Add();
                counters.Notes.Add("honest error", $"{e.Code} while setting up: {e.Message}");
            }
            catch (IOException e)
            {
                // A death is the supervisor's to count; the process's exit is seen a moment after its socket closes.
                await Task.WhenAny(incarnation.Exited, Task.Delay(DeathGrace, stop));
                if (!incarnation.HasExited)
                {
                    counters.ConnectionsLost.Add();
                    counters.Notes.Add("honest connection lost", e.Message);
                }
            }
            finally
            {
                await CloseAsync(client, work, abandoned);
            }
        }
    }

    private async Task StepAsync(GpuMuxClient client, HonestWork work, int index, Random random, CancellationToken stop)
    {
        var watch = Stopwatch.StartNew();
        string? wrong;
        try
        {
            wrong = await Bounded(work.RunStepAsync(client, index, random, stop), $"step {index}", stop);
        }
        catch (DeviceResetException e)
        {
            // Its inputs are written afresh for the next step, which is the retry.
            counters.Resets.Add();
            counters.Notes.Add("honest step told DeviceReset", $"step {index}: {e.Message}");
            return;
        }
        catch (GpuMuxException e)
        {
            counters.Errors.Add();
            counters.Notes.Add("honest error", $"step {index}: {e.Code}: {e.Message}");
            return;
        }

        counters.StepLatency.Add(watch.Elapsed);
        counters.Steps.Add();
        if (wrong is not null)
        {
            counters.WrongResults.Add();
            counters.Notes.Add("honest wrong result", $"step {index}, {wrong}");
        }
    }

    private async Task<T> Bounded<T>(Task<T> task, string what, CancellationToken stop)
    {
        try
        {
            return await task.WaitAsync(bound, stop).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{what}: no answer within {bound.TotalSeconds} s");
        }
    }

    // A connection that hung is dropped without waiting on it: its disposal could hang as well.
    private async Task CloseAsync(GpuMuxClient? client, HonestWork? work, bool abandoned)
    {
        if (client is null)
        {
            return;
        }

        var closing = Task.Run(async () =>
        {
            if (work is not null)
            {
                await work.DisposeAsync();
            }

            await client.DisposeAsync();
        });
        if (abandoned)
        {
            _ = closing.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }
        else
        {
            try
            {
                await closing.WaitAsync(bound).ConfigureAwait(false);
            }
            catch (Exception e) when (e is GpuMuxException or IOException or TimeoutException)
            {
                // The daemon went, or refused the releases: the connection's close releases it all anyway.
            }
        }
    }
}
