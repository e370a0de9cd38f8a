using GpuMux.Engine.Models.Safetensors;
using GpuMux.Engine.Memory;
using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine.Models;

/// <summary>
/// Reads a client's model file, off the engine thread: its header, at registration, and its
/// data, into pinned memory (staging) or a bounce buffer (a File-tier swap-in). Reads are
/// <c>pread</c>s at explicit offsets, so the descriptor's file position, which the client may
/// share, is never touched. The file is never mapped: it may be a file on disk that cannot be
/// sealed, and a client that shrinks it makes a read come back short, where touching a mapping
/// past its end would raise SIGBUS.
/// </summary>
internal static class ModelFiles
{
    // One read at a time: large enough to run at the page cache's speed, small enough for prompt progress and cancellation.
    private const int MaxReadBytes = 64 << 20;

    /// <summary>
    /// Checks that the descriptor is a file that can be read (<see cref="ClientFiles.RequireReadable"/>),
    /// then parses and checks the safetensors header and lays the tensors out in groups.
    /// </summary>
    public static ModelLayout ReadLayout(SafeFileHandle file, ulong maxHeaderBytes, IReadOnlyList<int>? groupTensorCounts, int defaultGroupTensors)
    {
        var size = ClientFiles.RequireReadable(file, "model");
        SafetensorsHeader header;
        try
        {
            header = SafetensorsParser.Read(file, size, maxHeaderBytes);
        }
        catch (SafetensorsFormatException e)
        {
            throw new EngineException(EngineError.InvalidModel, e.Message, e);
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            throw new EngineException(EngineError.BadDescriptor, $"cannot read the model's file: {e.Message}", e);
        }
        return ModelLayout.Create(header, groupTensorCounts, defaultGroupTensors);
    }

    /// <summary>Copies the data section into <paramref name="slice"/>, reporting progress after each read.</summary>
    public static void Stage(SafeFileHandle file, ModelLayout layout, PinnedSlice slice, IProgress<ModelStagingProgress>? progress, CancellationToken cancellationToken)
    {
        var total = layout.DataBytes;
        ulong staged = 0;
        while (staged < total)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var length = (int)Math.Min((ulong)MaxReadBytes, total - staged);
            try
            {
                ReadExactly(file, slice.AsSpan(staged, length), layout.DataOffset + staged);
            }
            catch (Exception e) when (IsReadFailure(e))
            {
                throw new EngineException(EngineError.BadDescriptor, $"cannot read the model's data: {e.Message}", e);
            }
            staged += (ulong)length;
            progress?.Report(new ModelStagingProgress(staged, total));
        }
    }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="fileOffset"/>; an <see cref="EndOfStreamException"/> if the file ends first.</summary>
    public static void ReadExactly(SafeFileHandle file, Span<byte> destination, ulong fileOffset)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var read = RandomAccess.Read(file, destination[done..], (long)fileOffset + done);
            if (read == 0)
            {
                throw new EndOfStreamException($"the file ends at byte {fileOffset + (ulong)done}, before the model's data does (at {fileOffset + (ulong)destination.Length}); was it truncated?");
            }
            done += read;
        }
    }

    /// <summary>What reading a descriptor the client chose can throw: not a file that can be read at an offset, or an I/O error.</summary>
    public static bool IsReadFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or NotSupportedException or ObjectDisposedException or LinuxException;
}
