using Microsoft.Extensions.Hosting;

namespace GpuMux.Daemon.Hosting;

internal static class HostStarted
{
    /// <summary>Completes once every hosted service has started, which is when the daemon says READY=1.</summary>
    public static async Task WaitForStartedAsync(this IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(cancellationToken);
    }
}
