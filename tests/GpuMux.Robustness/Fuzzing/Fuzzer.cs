using System.Net.Sockets;
using GpuMux.Robustness.Clients;
using GpuMux.Robustness.Daemon;

namespace GpuMux.Robustness.Fuzzing;

/// <summary>One fuzzing client: connection after connection, each a <see cref="FuzzSession"/> of random length.</summary>
internal sealed class Fuzzer(DaemonSupervisor daemon, FuzzCounters counters, IReadOnlyList<FuzzFamily> families, int seed, TimeSpan bound)
{
    private const int MaxActionsPerConnection = 200;

    public async Task RunAsync(Func<bool> keepGoing, CancellationToken stop)
    {
        var random = new Random(seed);
        while (keepGoing() && await daemon.WaitUntilUpAsync(stop))
        {
            RawConnection connection;
            try
            {
                connection = await RawConnection.ConnectAsync(daemon.SocketPath, stop);
            }
            catch (SocketException)
            {
                // Between a death and the next daemon's listen.
                await Task.Delay(10, stop);
                continue;
            }

            counters.Connections.Add();
            await using (connection)
            {
                var session = new FuzzSession(connection, counters, families, random, bound, stop);
                try
                {
                    await session.RunAsync(random.Next(1, MaxActionsPerConnection), keepGoing);
                }
                catch (IOException)
                {
                    // The connection failed under the session (the daemon died): the supervisor counts that.
                }
            }
        }
    }
}
