namespace GpuMux.Engine.Threading;

/// <summary>Something posted to the engine thread.</summary>
internal interface IEngineWork
{
    void Execute(EngineRuntime runtime);

    /// <summary>The engine stopped before it could run; called on whichever thread finds that out.</summary>
    void Abandon();
}
