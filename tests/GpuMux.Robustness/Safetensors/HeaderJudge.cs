using System.Text.Json;
using GpuMux.Robustness.Counting;

namespace GpuMux.Robustness.Safetensors;

/// <summary>What registering one file gave: the model's tensor count, data bytes and each expected tensor's size; or the refusal.</summary>
internal sealed record RegistrationOutcome(int? TensorCount, ulong Bytes, IReadOnlyDictionary<string, ulong> TensorBytes, string? Refusal, bool RefusedAsInvalidModel);

/// <summary>
/// Judges each registration against what its file must get, for one path (the engine in-process,
/// or the daemon): valid files accepted and described right, invalid ones refused with
/// InvalidModel, random mutants either refused with InvalidModel or accepted consistently with
/// their own header as an independent JSON reader sees it.
/// </summary>
internal sealed class HeaderJudge
{
    private readonly Notes _notes;
    private readonly string _path;

    public HeaderJudge(Counts counts, Notes notes, string path)
    {
        _notes = notes;
        _path = path;
        Files = counts.Tally($"{path}: files registered");
        Accepted = counts.Tally($"{path}: accepted");
        Refused = counts.Tally($"{path}: refused with InvalidModel");
        ValidRefused = counts.Failure($"{path}: valid files refused");
        InvalidAccepted = counts.Failure($"{path}: invalid files accepted");
        OtherRefusal = counts.Failure($"{path}: refused with another error than InvalidModel");
        Misdescribed = counts.Failure($"{path}: accepted but described wrongly");
    }

    public Counter Files { get; }

    public Counter Accepted { get; }

    public Counter Refused { get; }

    public Counter ValidRefused { get; }

    public Counter InvalidAccepted { get; }

    public Counter OtherRefusal { get; }

    public Counter Misdescribed { get; }

    public void Judge(SafetensorsCase file, RegistrationOutcome outcome)
    {
        Files.Add();
        if (outcome.TensorCount is null)
        {
            if (!outcome.RefusedAsInvalidModel)
            {
                OtherRefusal.Add();
                Note("refused with another error", file, outcome.Refusal);
            }
            else
            {
                Refused.Add();
                if (file.Verdict == HeaderVerdict.Valid)
                {
                    ValidRefused.Add();
                    Note("valid file refused", file, outcome.Refusal);
                }
            }

            return;
        }

        Accepted.Add();
        if (file.Verdict == HeaderVerdict.Invalid)
        {
            InvalidAccepted.Add();
            Note("invalid file accepted", file, file.Mutation);
        }
        else if (Misdescription(file, outcome) is { } wrong)
        {
            Misdescribed.Add();
            Note("accepted but described wrongly", file, wrong);
        }
    }

    private static string? Misdescription(SafetensorsCase file, RegistrationOutcome outcome)
    {
        var dataBytes = (ulong)file.File.Length - (ulong)file.DataOffset;
        if (outcome.Bytes != dataBytes)
        {
            return $"{outcome.Bytes} data bytes, the file has {dataBytes}";
        }

        if (file.Verdict == HeaderVerdict.Valid)
        {
            if (outcome.TensorCount != file.Tensors.Count)
            {
                return $"{outcome.TensorCount} tensors, the file has {file.Tensors.Count}";
            }

            var wrong = file.Tensors.FirstOrDefault(t => outcome.TensorBytes.GetValueOrDefault(t.Name, ulong.MaxValue) != t.Bytes);
            return wrong == default ? null : $"tensor '{wrong.Name}' is {outcome.TensorBytes.GetValueOrDefault(wrong.Name, ulong.MaxValue)} bytes, the file says {wrong.Bytes}";
        }

        // A random mutant that was accepted: its header must be JSON, and hold as many tensors as the model.
        try
        {
            using var json = JsonDocument.Parse(file.File.AsMemory(8, (int)file.HeaderBytes));
            var tensors = json.RootElement.EnumerateObject().Count(property => property.Name != "__metadata__");
            return tensors == outcome.TensorCount ? null : $"{outcome.TensorCount} tensors, its header names {tensors}";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return $"its header is not a JSON object: {e.Message}";
        }
    }

    private void Note(string kind, SafetensorsCase file, string? detail)
    {
        var header = System.Text.Encoding.UTF8.GetString(file.File, 8, (int)Math.Min(Math.Min(file.HeaderBytes, (ulong)file.File.Length - 8), 300));
        _notes.Add($"{_path}: {kind}", $"{file.Mutation}: {detail}; header: {header}");
    }
}
