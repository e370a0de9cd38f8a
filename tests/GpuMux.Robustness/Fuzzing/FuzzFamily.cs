namespace GpuMux.Robustness.Fuzzing;

/// <summary>
/// What a fuzzing connection does to the daemon. Each family can be run alone, so that a defect
/// found by one does not hide what the others find.
/// </summary>
internal enum FuzzFamily
{
    /// <summary>Random bytes, sometimes behind a plausible header, then the end of the stream.</summary>
    RandomBytes,

    /// <summary>Valid requests with one to three fields set to edge values (0, maxima, sign bits, huge sizes and durations).</summary>
    Fields,

    /// <summary>Valid requests with a count or a string length changed: op, argument and group counts.</summary>
    Counts,

    /// <summary>Valid requests whose message type, op kind, argument kind or module format is changed.</summary>
    Types,

    /// <summary>Valid requests cut short or padded, the header saying so truthfully, or announcing more than the limit.</summary>
    Lengths,

    /// <summary>Descriptors of the wrong kind (pipe, socket, eventfd, directory, device, short file) or the wrong count.</summary>
    Descriptors,

    /// <summary>A region backed by a file that cannot be sealed, shrunk under the daemon's mapping, then copied to and from.</summary>
    Shrink,

    /// <summary>A valid frame of which only a part is sent before the connection is dropped.</summary>
    Cut,

    /// <summary>
    /// Valid requests in quick succession: a buffer freed (or its session closed) right after it
    /// is allocated, regions, leases, modules and models taken and given back at once.
    /// </summary>
    Churn,
}
