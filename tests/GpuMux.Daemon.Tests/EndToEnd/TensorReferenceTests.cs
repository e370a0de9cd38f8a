using GpuMux.Protocol;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// The errors of docs/protocol.md §4.4 for a step's model and tensors, each sent as raw frames
/// (the .NET client refuses to build such steps): a handle that names nothing the step can use is
/// <see cref="ErrorCode.UnknownHandle"/>, model 0 and a tensor in a step bound to no model
/// included; a tensor the step can use at an offset outside it is <see cref="ErrorCode.InvalidArgument"/>.
/// </summary>
public sealed class TensorReferenceTests : IAsyncLifetime
{
    private const uint Floats = 1024;

    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("gmx-tensors-");
    private TestDaemon _daemon = null!;
    private FrameConnection _connection = null!;
    private uint _first;
    private uint _second;
    private uint _firstTensor;
    private uint _secondTensor;
    private uint _checksum;
    private uint _sum;
    private uint _nextRequest = 10;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync();
        _connection = await _daemon.ConnectRawAsync();
        await RawFrames.HelloAsync(_connection);
        _first = await RegisterModelAsync("first");
        _second = await RegisterModelAsync("second");
        _firstTensor = await AskAsync<GetTensor, TensorFound, uint>(MessageType.GetTensor, new GetTensor(_first, "w"), t => t.Tensor);
        _secondTensor = await AskAsync<GetTensor, TensorFound, uint>(MessageType.GetTensor, new GetTensor(_second, "w"), t => t.Tensor);
        _checksum = await AskAsync<GetFunction, HandleMessage, uint>(MessageType.GetFunction, new GetFunction(0, "checksum"), h => h.Handle);
        _sum = await AskAsync<SizeMessage, HandleMessage, uint>(MessageType.AllocateBuffer, new SizeMessage(sizeof(ulong)), h => h.Handle);
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _daemon.DisposeAsync();
        _files.Delete(recursive: true);
    }

    [Fact]
    public async Task A_tensor_of_the_step_s_model_is_read_by_a_built_in()
    {
        var completed = await SubmitFillAsync(model: _first, tensor: _firstTensor, offset: 0);

        Assert.Equal(ErrorCode.None, completed.Status);
    }

    [Fact]
    public async Task A_tensor_of_another_of_the_session_s_models_is_an_unknown_handle()
    {
        var completed = await SubmitFillAsync(model: _first, tensor: _secondTensor, offset: 0);

        Assert.Equal(ErrorCode.UnknownHandle, completed.Status);
        Assert.Contains($"tensor {_secondTensor} is a tensor of model {_second}", completed.Message);
    }

    [Fact]
    public async Task A_tensor_handle_no_model_of_the_session_has_is_an_unknown_handle()
    {
        var completed = await SubmitFillAsync(model: _first, tensor: _secondTensor + 100, offset: 0);

        Assert.Equal(ErrorCode.UnknownHandle, completed.Status);
    }

    [Fact]
    public async Task A_tensor_in_a_step_bound_to_no_model_is_an_unknown_handle_even_when_the_session_has_it()
    {
        var known = await SubmitFillAsync(model: null, tensor: _firstTensor, offset: 0);
        var unknown = await SubmitFillAsync(model: null, tensor: _secondTensor + 100, offset: 0);

        Assert.Equal(ErrorCode.UnknownHandle, known.Status);
        Assert.Contains("bound to no model", known.Message);
        Assert.Equal(ErrorCode.UnknownHandle, unknown.Status);
    }

    [Fact]
    public async Task Model_0_is_an_unknown_handle()
    {
        var completed = await SubmitFillAsync(model: 0, tensor: null, offset: 0);

        Assert.Equal(ErrorCode.UnknownHandle, completed.Status);
        Assert.Contains("model 0", completed.Message);
    }

    [Fact]
    public async Task A_model_the_session_does_not_have_is_an_unknown_handle()
    {
        var completed = await SubmitFillAsync(model: _second + 100, tensor: null, offset: 0);

        Assert.Equal(ErrorCode.UnknownHandle, completed.Status);
    }

    [Fact]
    public async Task A_tensor_of_the_step_s_model_at_an_offset_outside_it_is_an_invalid_argument()
    {
        var completed = await SubmitFillAsync(model: _first, tensor: _firstTensor, offset: Floats * sizeof(float));

        Assert.Equal(ErrorCode.InvalidArgument, completed.Status);
        Assert.Contains($"lies outside tensor {_firstTensor}", completed.Message);
    }

    private async Task<uint> RegisterModelAsync(string name)
    {
        var path = SafetensorsFile.Write(_files.FullName, name, ("w", new float[Floats]));
        using var file = File.OpenHandle(path);
        var requestId = _nextRequest++;
        await _connection.SendAsync(RawFrames.Encode(MessageType.RegisterModel, requestId, new RegisterModel(name, []), descriptorCount: 1), [file], Cancellation);
        while (true)
        {
            var frame = await _connection.ReadFrameAsync(Cancellation);
            Assert.NotNull(frame);
            Assert.Equal(requestId, frame.Header.RequestId);
            if (frame.Header.Type == (ushort)MessageType.ModelRegistered)
            {
                return Message.Decode<ModelRegistered>(frame.Payload.Span).Model;
            }
            Assert.Equal((ushort)MessageType.ModelProgress, frame.Header.Type);
        }
    }

    private async Task<TResult> AskAsync<TRequest, TReply, TResult>(MessageType type, TRequest request, Func<TReply, TResult> result)
        where TRequest : struct, IMessage<TRequest>
        where TReply : struct, IMessage<TReply>
    {
        await _connection.SendAsync(RawFrames.Encode(type, _nextRequest++, request), Cancellation);
        var frame = await _connection.ReadFrameAsync(Cancellation);
        Assert.Equal((ushort)type | 0x8000, frame!.Header.Type);
        return result(Message.Decode<TReply>(frame.Payload.Span));
    }

    /// <summary>A step of one checksum launch over 16 bytes of a tensor argument, bound to <paramref name="model"/> if any (0 included); without a tensor it has no launch.</summary>
    private async Task<StepCompleted> SubmitFillAsync(uint? model, uint? tensor, ulong offset)
    {
        var frame = new byte[256];
        var encoder = new StepEncoder(frame);
        if (model is { } bound)
        {
            encoder.UseModel(bound);
        }
        if (tensor is { } handle)
        {
            encoder.Launch(_checksum, 1, 1, 1, 256, 1, 1);
            encoder.TensorArgument(handle, offset);
            encoder.Argument(16UL);
            encoder.BufferArgument(_sum);
        }
        var requestId = _nextRequest++;
        await _connection.SendAsync(frame[..encoder.Finish(requestId)], Cancellation);
        var reply = await _connection.ReadFrameAsync(Cancellation);
        Assert.Equal(((ushort)MessageType.StepCompleted, requestId), (reply!.Header.Type, reply.Header.RequestId));
        return Message.Decode<StepCompleted>(reply.Payload.Span);
    }
}
