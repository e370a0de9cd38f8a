using System.CommandLine;
using GpuMux.Cli.Devices;
using GpuMux.Cli.Output;
using GpuMux.Gpu;

namespace GpuMux.Cli.Commands;

/// <summary><c>gpumuxctl devices</c>: the GPUs this host has, each checked by running kernels on it.</summary>
internal sealed class DevicesCommand : Command
{
    private readonly Terminal _terminal;

    private readonly Option<BackendPreference> _backend = ChoiceOption.Create(
        "--backend", "The GPU backend: CUDA if a GPU is present (auto), CUDA or fail, or the simulator.", BackendPreference.Auto);

    private readonly Option<OutputFormat> _output = OutputOption.Create();

    public DevicesCommand(Terminal terminal)
        : base("devices", "List the GPUs and check each one: kernels against their host references, and pinned host-to-device bandwidth.")
    {
        _terminal = terminal;
        Add(_backend);
        Add(_output);
        SetAction(Run);
    }

    private int Run(ParseResult parse)
    {
        var format = parse.GetValue(_output);
        var json = format == OutputFormat.Json;
        BackendSelection selection;
        try
        {
            selection = GpuBackends.Select(parse.GetValue(_backend), new GpuBackendOptions());
        }
        catch (GpuException e) when (e.Status == GpuStatus.NoDevice)
        {
            ErrorOutput.Write(_terminal.Error, e.Message);
            return ExitCodes.BackendUnavailable;
        }

        if (selection.CudaUnavailableReason is { } reason)
        {
            // Before anything else, so that nobody reads simulated figures as a GPU's. JSON keeps
            // standard output for the object alone.
            DeviceReportRenderer.WriteFallbackWarning(json ? _terminal.Error : _terminal.Out, reason);
        }

        var report = DeviceInspector.InspectAll(selection);
        ReportOutput.Write(_terminal, format, report, CliJsonContext.Default.DevicesReport, DeviceReportRenderer.Write);
        return report.Passed ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }
}
