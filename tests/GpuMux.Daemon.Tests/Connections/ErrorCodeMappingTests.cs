using GpuMux.Daemon.Connections;
using GpuMux.Engine;
using GpuMux.Protocol;

namespace GpuMux.Daemon.Tests.Connections;

public sealed class ErrorCodeMappingTests
{
    public static TheoryData<EngineError> EngineErrors => [.. Enum.GetValues<EngineError>()];

    [Theory]
    [MemberData(nameof(EngineErrors))]
    public void Every_engine_error_travels_as_the_wire_code_of_its_name(EngineError error)
    {
        Assert.Equal(Enum.Parse<ErrorCode>(error.ToString()), error.ToWire());
    }
}
