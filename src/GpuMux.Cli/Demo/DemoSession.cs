using GpuMux.Client;

namespace GpuMux.Cli.Demo;

/// <summary>One client of the demo: its own connection, one workload, its steps one after another, each verified.</summary>
internal sealed class DemoSession(DemoWorkload workload, int steps)
{
    public SessionStats Stats { get; } = new(workload.Name, steps);

    /// <summary>Runs to the end; failures are counted in <see cref="Stats"/>, never thrown.</summary>
    public async Task RunAsync(string socketPath, CancellationToken cancellationToken)
    {
        try
        {
            var options = new GpuMuxClientOptions { Host = socketPath, ClientName = $"gpumuxctl demo: {workload.Name}" };
            await using var client = await GpuMuxClient.ConnectAsync(options, cancellationToken);
            await using (workload)
            {
                await workload.PrepareAsync(client, cancellationToken);
                Stats.Start();
                var step = new StepBuilder();
                for (var i = 0; i < steps; i++)
                {
                    workload.BuildStep(step.Clear(), i);
                    try
                    {
                        var result = await client.SubmitAsync(step, cancellationToken);
                        Stats.RecordStep(result, workload.Verify());
                    }
                    catch (GpuMuxException e)
                    {
                        Stats.RecordError(e);
                    }
                }
            }
        }
        catch (Exception e) when (e is GpuMuxException or GpuMuxConnectionException or OperationCanceledException)
        {
            Stats.RecordError(e);
        }
        finally
        {
            Stats.Finish();
        }
    }
}
