namespace GpuMux.Bench.Copies;

internal readonly record struct CopyCase(CopyDirection Direction, HostMemoryKind Memory)
{
    public static IReadOnlyList<CopyCase> All { get; } =
    [
        new(CopyDirection.HostToDevice, HostMemoryKind.Pinned),
        new(CopyDirection.HostToDevice, HostMemoryKind.Pageable),
        new(CopyDirection.DeviceToHost, HostMemoryKind.Pinned),
        new(CopyDirection.DeviceToHost, HostMemoryKind.Pageable),
    ];

    public string DirectionName => Direction switch
    {
        CopyDirection.HostToDevice => "host-to-device",
        CopyDirection.DeviceToHost => "device-to-host",
        _ => throw new InvalidOperationException($"unknown direction {Direction}"),
    };

    public string MemoryName => Memory switch
    {
        HostMemoryKind.Pinned => "pinned",
        HostMemoryKind.Pageable => "pageable",
        _ => throw new InvalidOperationException($"unknown host memory kind {Memory}"),
    };

    public override string ToString() => $"{DirectionName} {MemoryName}";
}
