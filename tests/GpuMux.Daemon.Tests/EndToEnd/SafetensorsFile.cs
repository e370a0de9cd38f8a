using System.Runtime.InteropServices;
using GpuMux.Engine.Models.Safetensors;
using GpuMux.Llama.Safetensors;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Model files for the tests that register models: safetensors with F32 tensors, in the order given.</summary>
internal static class SafetensorsFile
{
    /// <summary>Writes <c>name.safetensors</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string Write(string directory, string name, params (string Name, float[] Values)[] tensors)
    {
        var path = Path.Combine(directory, $"{name}.safetensors");
        SafetensorsWriter.Write(
            path,
            [.. tensors.Select(tensor => new SafetensorsEntry(tensor.Name, SafetensorsDType.F32, [tensor.Values.Length]))],
            new Dictionary<string, string>(),
            (index, stream) => stream.Write(MemoryMarshal.AsBytes(tensors[index].Values.AsSpan())));
        return path;
    }
}
