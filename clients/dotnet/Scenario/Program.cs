using GpuMux.Scenario;

// The clients' common scenario (clients/scenario.md) with GpuMux.Client: one line per check, then
// "scenario ok"; a result other than the host's prints "FAIL name: what it found" and exits 1.
try
{
    await CommonScenario.RunAsync(Console.Out);
    Console.WriteLine("scenario ok");
    return 0;
}
catch (ScenarioFailure failure)
{
    Console.WriteLine(failure.Message);
    return 1;
}
