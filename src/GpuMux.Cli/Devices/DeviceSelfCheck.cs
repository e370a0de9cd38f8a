using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Cli.Devices;

/// <summary>
/// Runs the built-in kernels on random data on one device and compares their results with
/// <see cref="KernelReference"/>, then times a large pinned host-to-device copy. Each kernel and
/// the copy is timed between two events on the device. Call on the context's owning thread.
/// </summary>
internal sealed class DeviceSelfCheck
{
    // Sizes that are not multiples of a block, a warp or a word, so that every kernel's tail runs.
    private const int VectorLength = 1_000_003;
    private const int ChecksumBytes = (4 << 20) + 3;
    private const int GemvRows = 1031;
    private const int GemvColumns = 4099;
    private const ulong CopyBytes = 256UL << 20;

    // The kernels and their references compute the same bits; the tolerance leaves room only for
    // a device that fuses or orders differently, as the contract tests do.
    private const float GemvTolerance = 1e-5f;

    // A quiet NaN either side of the filled range: a fill that writes outside it changes one.
    private const uint GuardBits = 0x7FC00000;

    private readonly GpuContext _context;
    private readonly BuiltinKernels _kernels;
    private readonly GpuStream _stream;
    private readonly GpuEvent _start;
    private readonly GpuEvent _end;
    private readonly Random _random = new();

    private DeviceSelfCheck(GpuContext context, BuiltinKernels kernels, GpuStream stream, GpuEvent start, GpuEvent end)
    {
        _context = context;
        _kernels = kernels;
        _stream = stream;
        _start = start;
        _end = end;
    }

    public static IReadOnlyList<CheckResult> Run(GpuContext context)
    {
        const string LoadCheck = "compile and load built-in kernels";
        BuiltinKernels kernels;
        try
        {
            kernels = BuiltinKernels.Load(context);
        }
        catch (GpuException e)
        {
            return [new CheckResult(LoadCheck, Passed: false, e.Message, ElapsedMilliseconds: null, GigabytesPerSecond: null)];
        }
        using (kernels)
        {
            using var stream = context.CreateStream();
            using var start = context.CreateEvent();
            using var end = context.CreateEvent();
            var loaded = new CheckResult(LoadCheck, Passed: true, Detail: null, ElapsedMilliseconds: null, GigabytesPerSecond: null);
            return [loaded, .. new DeviceSelfCheck(context, kernels, stream, start, end).RunChecks()];
        }
    }

    private List<CheckResult> RunChecks()
    {
        (string Name, Func<Outcome> Run)[] checks =
        [
            ($"fill f32, {VectorLength:N0} elements", CheckFill),
            ($"checksum, {ChecksumBytes:N0} bytes", CheckChecksum),
            ($"axpy f32, {VectorLength:N0} elements", CheckAxpy),
            ($"gemv f32, {GemvRows}x{GemvColumns}", () => CheckGemv(WeightType.F32)),
            ($"gemv f16, {GemvRows}x{GemvColumns}", () => CheckGemv(WeightType.F16)),
            ($"gemv bf16, {GemvRows}x{GemvColumns}", () => CheckGemv(WeightType.Bf16)),
            ($"copy host to device, {CopyBytes >> 20} MiB pinned", CheckHostToDeviceCopy),
        ];
        var results = new List<CheckResult>(checks.Length);
        foreach (var (name, run) in checks)
        {
            try
            {
                var outcome = run();
                // Rounded to the events' resolution (about half a microsecond), so that the float's
                // widening adds no digits it never had.
                var milliseconds = Math.Round(outcome.Milliseconds, 4);
                var bandwidth = outcome.GigabytesPerSecond is { } gbps ? Math.Round(gbps, 2) : (double?)null;
                results.Add(new CheckResult(name, outcome.Failure is null, outcome.Failure, milliseconds, bandwidth));
            }
            catch (GpuException e) when (e.IsContextFatal)
            {
                results.Add(new CheckResult(name, Passed: false, $"{e.Message} (the context is lost; later checks not run)", ElapsedMilliseconds: null, GigabytesPerSecond: null));
                break;
            }
            catch (GpuException e)
            {
                results.Add(new CheckResult(name, Passed: false, e.Message, ElapsedMilliseconds: null, GigabytesPerSecond: null));
            }
        }
        return results;
    }

    private Outcome CheckFill()
    {
        var value = NextFloat();
        using var buffer = _context.Allocate((VectorLength + 2) * sizeof(float));
        _stream.Memset32(buffer.Pointer, GuardBits, VectorLength + 2);

        var milliseconds = Timed(() => _kernels.Fill(_stream, buffer.Pointer + sizeof(float), value, VectorLength));

        var actual = new float[VectorLength + 2];
        _stream.Download<float>(actual, buffer.Pointer);
        var expected = new float[VectorLength];
        KernelReference.Fill(expected, value);
        var guardsIntact = BitConverter.SingleToUInt32Bits(actual[0]) == GuardBits && BitConverter.SingleToUInt32Bits(actual[^1]) == GuardBits;
        return new Outcome(FirstDifference(actual.AsSpan(1, VectorLength), expected) ?? (guardsIntact ? null : "wrote outside its range"), milliseconds);
    }

    private Outcome CheckChecksum()
    {
        var data = new byte[ChecksumBytes];
        _random.NextBytes(data);
        using var device = _context.Allocate(ChecksumBytes);
        using var result = _context.Allocate(sizeof(ulong));
        _stream.Upload<byte>(device.Pointer, data);

        var milliseconds = Timed(() => _kernels.Checksum(_stream, device.Pointer, ChecksumBytes, result.Pointer));

        return new Outcome(ChecksumDifference(result, KernelReference.Checksum(data)), milliseconds);
    }

    private Outcome CheckAxpy()
    {
        var x = NextFloats(VectorLength);
        var y = NextFloats(VectorLength);
        var a = NextFloat();
        using var deviceX = _stream.AllocateAndUpload<float>(x);
        using var deviceY = _stream.AllocateAndUpload<float>(y);

        var milliseconds = Timed(() => _kernels.Axpy(_stream, deviceY.Pointer, deviceX.Pointer, a, VectorLength));

        var actual = new float[VectorLength];
        _stream.Download<float>(actual, deviceY.Pointer);
        KernelReference.Axpy(y, x, a);
        return new Outcome(FirstDifference(actual, y), milliseconds);
    }

    private Outcome CheckGemv(WeightType type)
    {
        var x = NextFloats(GemvColumns);
        var weights = NextFloats(GemvRows * GemvColumns);
        var encoded = KernelReference.EncodeWeights(type, weights);
        var expected = new float[GemvRows];
        KernelReference.Gemv(type, encoded, x, expected, GemvRows, GemvColumns);
        using var deviceWeights = _stream.AllocateAndUpload<byte>(encoded);
        using var deviceX = _stream.AllocateAndUpload<float>(x);
        using var deviceY = _context.Allocate(GemvRows * sizeof(float));

        var milliseconds = Timed(() => _kernels.Gemv(_stream, type, deviceWeights.Pointer, deviceX.Pointer, deviceY.Pointer, GemvRows, GemvColumns));

        var actual = new float[GemvRows];
        _stream.Download<float>(actual, deviceY.Pointer);
        for (var row = 0; row < GemvRows; row++)
        {
            // Negated so that a NaN fails.
            if (!(Math.Abs(actual[row] - expected[row]) <= GemvTolerance * (1 + Math.Abs(expected[row]))))
            {
                return new Outcome($"row {row}: {actual[row]:R}, expected {expected[row]:R} (tolerance {GemvTolerance:R} relative)", milliseconds);
            }
        }
        return new Outcome(null, milliseconds);
    }

    private Outcome CheckHostToDeviceCopy()
    {
        using var pinned = _context.AllocatePinned(CopyBytes);
        using var device = _context.Allocate(CopyBytes);
        using var result = _context.Allocate(sizeof(ulong));
        var host = pinned.AsSpan<byte>();
        _random.NextBytes(host);

        // The first copy on a fresh context pays for one-time driver setup; time the second.
        _stream.CopyToDevice(device.Pointer, pinned.Pointer, CopyBytes);
        var milliseconds = Timed(() => _stream.CopyToDevice(device.Pointer, pinned.Pointer, CopyBytes));

        // Check what arrived, so that a fast copy of the wrong bytes does not pass.
        _kernels.Checksum(_stream, device.Pointer, CopyBytes, result.Pointer);
        var failure = ChecksumDifference(result, KernelReference.Checksum(host));
        return new Outcome(failure, milliseconds, CopyBytes / (milliseconds * 1e6));
    }

    private float Timed(Action enqueue)
    {
        _stream.Record(_start);
        enqueue();
        _stream.Record(_end);
        _end.Synchronize();
        return GpuEvent.ElapsedMilliseconds(_start, _end);
    }

    private string? ChecksumDifference(DeviceAllocation result, ulong expected)
    {
        Span<ulong> actual = stackalloc ulong[1];
        _stream.Download(actual, result.Pointer);
        return actual[0] == expected ? null : $"checksum 0x{actual[0]:x16}, expected 0x{expected:x16}";
    }

    private static string? FirstDifference(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(actual[i]) != BitConverter.SingleToUInt32Bits(expected[i]))
            {
                return $"element {i}: {actual[i]:R}, expected {expected[i]:R}";
            }
        }
        return null;
    }

    private float NextFloat() => (float)(_random.NextDouble() * 2 - 1);

    private float[] NextFloats(int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = NextFloat();
        }
        return values;
    }

    /// <param name="Failure">Null when the device agreed with the reference.</param>
    private readonly record struct Outcome(string? Failure, float Milliseconds, double? GigabytesPerSecond = null);
}
