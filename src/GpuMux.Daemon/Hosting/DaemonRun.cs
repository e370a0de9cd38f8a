using GpuMux.Daemon.CommandLine;
using GpuMux.Daemon.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// gpumuxd's process: its command line, then a check of the configuration or a run of the daemon
/// until it stops. Whatever stops it from starting is one line on standard error at error priority
/// (its stack trace too with <c>--verbose</c>) and an exit status of <see cref="DaemonExitCode"/>'s.
/// </summary>
internal static class DaemonRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var command = new DaemonCommand();
        if (command.Parse(args, out var parse) is not { } arguments)
        {
            // Help, the version, or a usage error with the usage.
            var status = await parse.InvokeAsync();
            return parse.Errors.Count > 0 ? DaemonExitCode.Usage : status;
        }

        DaemonConfiguration configuration;
        try
        {
            configuration = DaemonConfiguration.Load(
                arguments, Environment.GetEnvironmentVariable(ConfigurationFile.EnvironmentVariable), ConfigurationFile.DefaultPath);
        }
        catch (ConfigurationException e)
        {
            return Failed(e, arguments.Verbose);
        }

        return arguments.CheckOnly ? Check(configuration) : await RunAsync(arguments, configuration);
    }

    private static int Check(DaemonConfiguration configuration)
    {
        var problems = configuration.Check(configuration.AtStart.Settings);
        foreach (var warning in problems.Warnings)
        {
            StandardErrorLines.Warning(warning);
        }
        foreach (var error in problems.Errors)
        {
            StandardErrorLines.Error(error);
        }
        if (problems.Errors.Count > 0)
        {
            return DaemonExitCode.Configuration;
        }

        var file = configuration.File;
        Console.WriteLine(configuration.AtStart.Exists
            ? $"{file.Path}: valid"
            : $"{file.Path} does not exist: the defaults, with the environment's and the command line's settings, are valid");
        return 0;
    }

    private static async Task<int> RunAsync(DaemonArguments arguments, DaemonConfiguration configuration)
    {
        IHost host;
        try
        {
            host = DaemonHost.Build(arguments, configuration, reloadOnHangup: true, replaceServices: null);
        }
        catch (ConfigurationException e)
        {
            return Failed(e, arguments.Verbose);
        }

        using (host)
        {
            // Taken before the run, which disposes the host and its services when it ends.
            var exitCode = host.Services.GetRequiredService<DaemonExitCode>();
            try
            {
                await host.StartAsync();
            }
            catch (Exception e)
            {
                return Failed(e, arguments.Verbose);
            }

            await host.WaitForShutdownAsync();
            return exitCode.Value;
        }
    }

    private static int Failed(Exception failure, bool verbose)
    {
        var (exitCode, lines) = Describe(failure);
        foreach (var line in lines)
        {
            StandardErrorLines.Error(exitCode == DaemonExitCode.Configuration ? line : $"cannot start: {line}");
        }
        if (verbose)
        {
            Console.Error.WriteLine(failure);
        }
        return exitCode;
    }

    private static (int ExitCode, IEnumerable<string> Lines) Describe(Exception failure) => failure switch
    {
        ConfigurationException e => (DaemonExitCode.Configuration, e.Problems),
        OptionsValidationException e => (DaemonExitCode.Configuration, e.Failures),
        AggregateException e when e.InnerExceptions.All(inner => inner is OptionsValidationException) =>
            (DaemonExitCode.Configuration, e.InnerExceptions.SelectMany(inner => ((OptionsValidationException)inner).Failures).Distinct()),
        DaemonStartException e => (e.ExitCode, [e.Message]),
        _ => (DaemonExitCode.Unavailable, [failure.Message]),
    };
}
