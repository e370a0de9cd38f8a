using GpuMux.Client;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.Client;

/// <summary>Models through the client, against a daemon played by the test: registration and its progress, tensors, steps bound to a model.</summary>
public sealed class ClientModelTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Registration_reports_every_progress_frame_in_order_then_completes_with_the_reply()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        using var file = File.OpenHandle("/dev/null");
        var progress = new RecordedProgress();

        var registering = client.RegisterModelAsync(file, "llama", [2, 3], progress, Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        ModelProgress[] staged = [new(0, 100), new(60, 100), new(100, 100)];
        foreach (var frame in staged)
        {
            await daemon.ReplyAsync(MessageType.ModelProgress, request.RequestId, frame, Cancellation);
        }

        await daemon.ReplyAsync(MessageType.ModelRegistered, request.RequestId, new ModelRegistered(3, 5, 100, ModelTier.Pinned, 2), Cancellation);
        var model = await registering;

        Assert.Equal((MessageType.RegisterModel, 1), (request.Type, request.DescriptorCount));
        var sent = Message.Decode<RegisterModel>(request.Payload);
        Assert.Equal("llama", sent.Name);
        Assert.Equal(new uint[] { 2, 3 }, sent.GroupTensorCounts);
        Assert.Equal(staged, progress.Reports);
        Assert.Equal((3u, "llama", 5u, 100UL, ModelTier.Pinned, 2u), (model.Handle, model.Name, model.TensorCount, model.Bytes, model.Tier, model.Groups));
        Assert.False(file.IsClosed);
    }

    [Fact]
    public async Task A_path_is_opened_by_the_client_and_an_invalid_file_throws_InvalidModelException()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        var path = Path.GetTempFileName();
        try
        {
            var registering = client.RegisterModelAsync(path, "broken", cancellationToken: Cancellation);
            var request = await daemon.ReadAsync(Cancellation);
            await daemon.ReplyAsync(MessageType.Error, request.RequestId, new ErrorMessage(ErrorCode.InvalidModel, "the header is 0 bytes"), Cancellation);

            Assert.Equal(1, request.DescriptorCount);
            Assert.Empty(Message.Decode<RegisterModel>(request.Payload).GroupTensorCounts);
            var error = await Assert.ThrowsAsync<InvalidModelException>(() => registering);
            Assert.Equal("the header is 0 bytes", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_step_bound_to_a_model_goes_out_with_UseModel_first_and_its_tensor_arguments()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        var (model, function) = await CreateModelAndFunctionAsync(daemon, client, 3);
        var finding = client.GetTensorAsync(model, "layers.0.w", Cancellation);
        var lookup = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.TensorFound, lookup.RequestId, new TensorFound(11, 4096, 1), Cancellation);
        var tensor = await finding;

        var step = new StepBuilder().UseModel(model).Launch(function, 1, 32).Tensor(tensor, 64).UInt32(4);
        var submitted = client.SubmitAsync(step, Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.StepCompleted, request.RequestId, new StepCompleted(ErrorCode.None, 1, 2, 3, ""), Cancellation);
        await submitted;

        Assert.Equal(new GetTensor(3, "layers.0.w"), Message.Decode<GetTensor>(lookup.Payload));
        Assert.Equal((11u, "layers.0.w", 4096UL, 1u), (tensor.Handle, tensor.Name, tensor.Bytes, tensor.Group));
        Assert.Same(model, tensor.Model);
        Assert.Equal(step.FrameLength, request.Payload.Length + Protocol.Framing.FrameHeader.Size);
        var decoder = new StepDecoder(request.Payload);
        Assert.Equal(2, decoder.OpCount);
        Assert.True(decoder.TryReadOp(out var useModel));
        Assert.Equal((StepOpKind.UseModel, 3u), (useModel.Kind, useModel.Model));
        Assert.True(decoder.TryReadOp(out var launch));
        Assert.Equal((StepOpKind.Launch, 9u, (byte)2), (launch.Kind, launch.Function, launch.ArgumentCount));
        var argument = decoder.ReadArgument();
        Assert.Equal((ArgumentKind.Tensor, 11u, 64UL), (argument.Kind, argument.Handle, argument.Offset));
        Assert.Equal(4u, decoder.ReadArgument().AsUInt32);
        Assert.False(decoder.TryReadOp(out _));
    }

    [Fact]
    public async Task UseModel_anywhere_but_first_is_refused()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        var (model, function) = await CreateModelAndFunctionAsync(daemon, client, 3);

        var afterLaunch = Assert.Throws<InvalidOperationException>(() => new StepBuilder().Launch(function, 1, 32).UseModel(model));
        Assert.Contains("first op", afterLaunch.Message);
        Assert.Throws<InvalidOperationException>(() => new StepBuilder().UseModel(model).UseModel(model));
        Assert.Equal(1, new StepBuilder().Launch(function, 1, 32).Clear().UseModel(model).OpCount);
    }

    [Fact]
    public async Task A_tensor_argument_needs_the_step_bound_to_its_own_model()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        var (model, function) = await CreateModelAndFunctionAsync(daemon, client, 3);
        var other = await RegisterAsync(daemon, client, 4);
        var tensor = new ModelTensor(model, 11, "w", 64, 0);

        Assert.Throws<InvalidOperationException>(() => new StepBuilder().Launch(function, 1, 32).Tensor(tensor));
        var mismatch = Assert.Throws<ArgumentException>(() => new StepBuilder().UseModel(other).Launch(function, 1, 32).Tensor(tensor));
        Assert.Contains(other.Name, mismatch.Message);
    }

    [Fact]
    public async Task An_unregistered_model_cannot_be_used_and_its_disposal_unregisters_it()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        var (model, function) = await CreateModelAndFunctionAsync(daemon, client, 3);
        var step = new StepBuilder().UseModel(model).Launch(function, 1, 32);

        var disposing = model.DisposeAsync().AsTask();
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.Ok, request.RequestId, default(EmptyMessage), Cancellation);
        await disposing;

        Assert.Equal((MessageType.UnregisterModel, new HandleMessage(3)), (request.Type, Message.Decode<HandleMessage>(request.Payload)));
        Assert.Throws<ObjectDisposedException>(() => { _ = client.SubmitAsync(step, Cancellation); });
    }

    [Fact]
    public async Task The_model_list_comes_back_as_the_daemon_sent_it()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        var entry = new ModelEntry(42, 3, "llama", 1000, 100, 5, 2, ModelTier.File, true, 1_700_000_000_000, 7, 12.5e9);
        var sent = new ModelList(1000, 400, 500, 500, 1, [entry]);

        var listing = client.ListModelsAsync(Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.ModelList, request.RequestId, sent, Cancellation);
        var list = await listing;

        Assert.Equal(MessageType.ListModels, request.Type);
        Assert.Equal((1000UL, 400UL, 500UL, 500UL, 1u), (list.DevicePoolBytes, list.DevicePoolFreeBytes, list.PinnedPoolBytes, list.PinnedPoolFreeBytes, list.ModelsTotal));
        Assert.Equal(entry, Assert.Single(list.Models));
    }

    [Fact]
    public async Task A_1_0_daemon_is_not_asked_about_models()
    {
        await using var daemon = new ScriptedDaemon(minor: 0);
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        using var file = File.OpenHandle("/dev/null");

        await Assert.ThrowsAsync<NotSupportedException>(() => client.RegisterModelAsync(file, "llama", cancellationToken: Cancellation));
        await Assert.ThrowsAsync<NotSupportedException>(() => client.ListModelsAsync(Cancellation));
    }

    private static async Task<(ClientModel, KernelFunction)> CreateModelAndFunctionAsync(ScriptedDaemon daemon, GpuMuxClient client, uint model)
    {
        var registered = await RegisterAsync(daemon, client, model);
        var function = client.GetBuiltinAsync("gemv_f16", Cancellation);
        await daemon.AnswerWithHandleAsync(MessageType.GetFunction, MessageType.FunctionFound, 9, Cancellation);
        return (registered, await function);
    }

    private static async Task<ClientModel> RegisterAsync(ScriptedDaemon daemon, GpuMuxClient client, uint model)
    {
        using var file = File.OpenHandle("/dev/null");
        var registering = client.RegisterModelAsync(file, $"model {model}", cancellationToken: Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.ModelRegistered, request.RequestId, new ModelRegistered(model, 5, 100, ModelTier.Pinned, 1), Cancellation);
        return await registering;
    }

    /// <summary>Keeps every report as it comes; unlike <see cref="Progress{T}"/>, it does not post them elsewhere.</summary>
    private sealed class RecordedProgress : IProgress<ModelProgress>
    {
        public List<ModelProgress> Reports { get; } = [];

        public void Report(ModelProgress value) => Reports.Add(value);
    }
}
