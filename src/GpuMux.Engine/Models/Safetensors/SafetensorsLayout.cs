namespace GpuMux.Engine.Models.Safetensors;

/// <summary>Checks where tensors lie in the data section: each within it, sized by its shape, together covering it exactly.</summary>
internal static class SafetensorsLayout
{
    private const string NoHoles = "the safetensors format requires the tensors to cover the data section with no holes";

    public static void CheckTensor(SafetensorsTensor tensor, ulong dataBytes)
    {
        var (name, begin, end) = (tensor.Name, tensor.Begin, tensor.End);
        if (begin > end)
        {
            throw new SafetensorsFormatException($"tensor '{name}' has data_offsets [{begin}, {end}]: begin is after end");
        }

        var elements = 1UL;
        foreach (var dimension in tensor.Shape)
        {
            if (Math.BigMul(elements, dimension, out elements) != 0)
            {
                throw new SafetensorsFormatException($"tensor '{name}' has shape {Format(tensor.Shape)}, whose element count overflows 64 bits");
            }
        }

        var dtype = tensor.DType;
        if (Math.BigMul(elements, (ulong)dtype.ElementSize, out var bytes) != 0)
        {
            throw new SafetensorsFormatException($"tensor '{name}' has {elements} elements of {dtype.WireName}, more than 2^64 bytes");
        }

        if (end - begin != bytes)
        {
            throw new SafetensorsFormatException(
                $"tensor '{name}' is {dtype.WireName} with shape {Format(tensor.Shape)}, so {bytes} bytes, but its data_offsets [{begin}, {end}] span {end - begin} bytes");
        }

        if (end > dataBytes)
        {
            throw new SafetensorsFormatException(
                $"tensor '{name}' has data_offsets [{begin}, {end}], past the end of the {dataBytes}-byte data section; the file is truncated or the offsets are wrong");
        }
    }

    /// <summary>Sorts into file order and checks that the tensors neither overlap nor leave holes, as the official implementation does.</summary>
    public static void SortAndCheckCoverage(List<SafetensorsTensor> tensors, ulong dataBytes)
    {
        tensors.Sort(CompareFileOrder);
        var covered = 0UL;
        SafetensorsTensor? previous = null;
        foreach (var tensor in tensors)
        {
            if (tensor.Begin < covered)
            {
                // Only a tensor with bytes can set covered past a later tensor's begin, so previous is that tensor.
                throw new SafetensorsFormatException(
                    $"tensor '{tensor.Name}' at [{tensor.Begin}, {tensor.End}) overlaps tensor '{previous!.Name}' at [{previous.Begin}, {previous.End})");
            }

            if (tensor.Begin > covered)
            {
                throw new SafetensorsFormatException(
                    $"bytes [{covered}, {tensor.Begin}) of the data section, before tensor '{tensor.Name}', belong to no tensor; {NoHoles}");
            }

            covered = tensor.End;
            previous = tensor;
        }

        if (covered != dataBytes)
        {
            throw new SafetensorsFormatException(
                $"bytes [{covered}, {dataBytes}) at the end of the data section belong to no tensor; {NoHoles}");
        }
    }

    private static int CompareFileOrder(SafetensorsTensor x, SafetensorsTensor y)
    {
        var order = x.Begin.CompareTo(y.Begin);
        if (order == 0)
        {
            order = x.End.CompareTo(y.End);
        }

        return order != 0 ? order : string.CompareOrdinal(x.Name, y.Name);
    }

    private static string Format(IReadOnlyList<ulong> shape) => $"[{string.Join(", ", shape)}]";
}
