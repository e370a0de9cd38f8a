using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests.Models;

/// <summary>Tensor arguments name a tensor of the step's own model, within its bytes; anything else is refused before the device sees it.</summary>
public sealed class ModelStepTests
{
    [Fact]
    public async Task Tensor_arguments_outside_the_step_s_model_are_refused_saying_why()
    {
        await using var engine = await ModelEngine.StartAsync();
        await using var tenant = await ModelTenant.OpenAsync(engine);
        var first = await tenant.RegisterAsync(TestModel.Create("first", 1));
        var second = await tenant.RegisterAsync(TestModel.Create("second", 2));
        var (stranger, strangerCompletions) = engine.Open();
        var w = await tenant.Session.GetTensorAsync(first.Model, "w", Ct);
        var otherW = await tenant.Session.GetTensorAsync(second.Model, "w", Ct);
        var spin = await tenant.Session.GetFunctionAsync(0, KernelNames.Spin, Ct);

        Task<StepCompletion> Run(Action<Step> fill) => tenant.Session.RunAsync(tenant.Completions, step =>
        {
            step.AddLaunch(spin, 1, 32, 0);
            fill(step);
        });

        var unbound = await Run(step => step.AddTensorArgument(w.Tensor, 0));
        var otherModel = await Run(step =>
        {
            step.UseModel(first.Model);
            step.AddTensorArgument(otherW.Tensor, 0);
        });
        var noTensor = await Run(step =>
        {
            step.UseModel(first.Model);
            step.AddTensorArgument(otherW.Tensor + 100, 0);
        });
        var pastEnd = await Run(step =>
        {
            step.UseModel(first.Model);
            step.AddTensorArgument(w.Tensor, w.Bytes);
        });
        var twoModels = await Run(step =>
        {
            step.UseModel(first.Model);
            step.UseModel(second.Model);
        });
        var foreign = await stranger.RunAsync(strangerCompletions, step => step.UseModel(first.Model));

        Assert.Equal(EngineError.UnknownHandle, unbound.Status);
        Assert.Contains("bound to no model", unbound.Message);
        Assert.Equal(EngineError.UnknownHandle, otherModel.Status);
        Assert.Contains($"tensor {otherW.Tensor} is a tensor of model {second.Model} (second), not of model {first.Model} (first)", otherModel.Message);
        Assert.Equal(EngineError.UnknownHandle, noTensor.Status);
        Assert.Contains("nor of any other model", noTensor.Message);
        Assert.Equal(EngineError.InvalidArgument, pastEnd.Status);
        Assert.Contains($"lies outside tensor {w.Tensor}", pastEnd.Message);
        Assert.Equal(EngineError.InvalidArgument, twoModels.Status);
        Assert.Equal(EngineError.UnknownHandle, foreign.Status);
        Assert.Contains($"model {first.Model} is not a model of this session", foreign.Message);
        Assert.NotEqual(w.Tensor, otherW.Tensor);
        Assert.All(await engine.GetModelsAsync(Ct), m => Assert.Equal(0, m.SwapCount));
    }

    [Fact]
    public async Task A_tensor_argument_points_at_its_tensor_plus_the_offset()
    {
        await using var engine = await ModelEngine.StartAsync();
        await using var tenant = await ModelTenant.OpenAsync(engine);
        var model = TestModel.Create("m", 5, padTensors: 2, padBytes: 4096);
        var registration = await tenant.RegisterAsync(model);
        var pad = await tenant.Session.GetTensorAsync(registration.Model, "pad.1", Ct);
        var checksum = await tenant.Session.GetFunctionAsync(0, KernelNames.Checksum, Ct);
        var sum = await tenant.Session.AllocateBufferAsync(sizeof(ulong), Ct);
        using var shared = new SharedMemoryFile(4096);
        var region = await tenant.Session.RegisterRegionAsync(shared.OpenDescriptor(), shared.Length, Ct);

        var completion = await tenant.Session.RunAsync(tenant.Completions, step =>
        {
            step.UseModel(registration.Model);
            step.AddLaunch(checksum, 2, 256, 0);
            step.AddTensorArgument(pad.Tensor, 1024);
            step.AddScalarArgument(pad.Bytes - 1024);
            step.AddBufferArgument(sum, 0);
            step.AddCopyOut(sum, 0, region, 0, sizeof(ulong));
        });

        Assert.Equal(EngineError.None, completion.Status);
        Assert.Equal(KernelReference.Checksum(model.Tensors[2].Data.AsSpan(1024)), shared.Read<ulong>(0, 1)[0]);
    }
}
