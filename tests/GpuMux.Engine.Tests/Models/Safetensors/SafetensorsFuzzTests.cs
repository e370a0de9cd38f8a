using System.Text;
using GpuMux.Engine.Models.Safetensors;
using static GpuMux.Engine.Tests.Models.Safetensors.SafetensorsTestFile;

namespace GpuMux.Engine.Tests.Models.Safetensors;

/// <summary>
/// Mutates valid headers at random: the parser must either accept the result, and then describe a well-formed
/// layout, or reject it with <see cref="SafetensorsFormatException"/>; any other exception is a bug.
/// </summary>
public sealed class SafetensorsFuzzTests
{
    private const int Seed = 0x5AFE;
    private const int Iterations = 6000;
    private const ulong MaxHeaderBytes = 1 << 16;

    private static readonly string[] Tokens =
    [
        "18446744073709551616", "18446744073709551615", "9223372036854775808", "4294967296", "-1", "-0", "0", "00",
        "1e400", "1e30", "1.5", "2.0", "1E2", "99999999999999999999999999", "null", "true", "[]", "{}", "[0,0]",
        "\"F4\"", "\"Q8\"", "\"U8\"", "\"\"", "\"__metadata__\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\u0000\"",
    ];

    private static readonly byte[] Structural = "{}[]\":,0123456789 -.eE\\"u8.ToArray();

    [Fact]
    public void Mutated_headers_are_accepted_or_rejected_with_a_format_error()
    {
        var seeds = SeedFiles();
        var (accepted, rejected, rejectedPastSyntax) = (0, 0, 0);
        var random = new Random(Seed);
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var (json, dataBytes) = seeds[random.Next(seeds.Length)];
            var mutant = new Mutant([.. json], dataBytes);
            for (var count = random.Next(1, 4); count > 0; count--)
            {
                mutant.Mutate(random);
            }

            var file = Build(mutant.Json.ToArray(), mutant.DataBytes, mutant.LengthPrefix);
            try
            {
                var header = SafetensorsParser.ParseFile(file, MaxHeaderBytes);
                CheckWellFormed(header, file.Length);
                accepted++;
            }
            catch (SafetensorsFormatException e)
            {
                rejected++;
                rejectedPastSyntax += e.Message.StartsWith("header ", StringComparison.Ordinal) ? 0 : 1;
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {Seed}, iteration {iteration}: {e.GetType().Name}: {e.Message}\nheader: {Encoding.UTF8.GetString(mutant.Json.ToArray())}\n{e.StackTrace}");
            }
        }

        // Enough of both outcomes, and rejections by the tensor and layout checks, not only by the JSON syntax.
        Assert.InRange(accepted, Iterations / 50, Iterations / 2);
        Assert.InRange(rejected, Iterations / 2, Iterations - (Iterations / 50));
        Assert.True(rejectedPastSyntax >= Iterations / 10, $"only {rejectedPastSyntax} rejections got past the header's syntax");
    }

    private static void CheckWellFormed(SafetensorsHeader header, int fileLength)
    {
        Assert.Equal((ulong)fileLength, header.DataOffset + header.DataBytes);
        var covered = 0UL;
        foreach (var tensor in header.Tensors)
        {
            Assert.NotEmpty(tensor.Name);
            Assert.Equal(covered, tensor.Begin);
            var elements = tensor.Shape.Aggregate(1UL, (count, dimension) => checked(count * dimension));
            Assert.Equal(checked(elements * (ulong)tensor.DType.ElementSize), tensor.ByteLength);
            covered = tensor.End;
        }

        Assert.Equal(header.DataBytes, covered);
        Assert.Equal(header.Tensors.Count, header.Tensors.Select(t => t.Name).Distinct().Count());
    }

    private static (byte[] Json, int DataBytes)[] SeedFiles()
    {
        var model = Header(
            [
                ("model.embed_tokens.weight", "BF16", [16, 8]),
                ("model.layers.0.self_attn.q_proj.weight", "F16", [8, 8]),
                ("model.layers.0.mlp.up_proj.weight", "F8_E4M3", [8, 12]),
                ("model.norm.weight", "F32", [8]),
                ("lm_head.bias", "F64", [2]),
            ],
            Json("{'format':'pt','source':'test'}"));
        var small = Header([("a", "I64", []), ("empty", "U8", [0, 3]), ("b", "BOOL", [3])]);
        return
        [
            (Encoding.UTF8.GetBytes(model.Json), model.DataBytes),
            (Encoding.UTF8.GetBytes(small.Json + "   "), small.DataBytes),
            ("{}"u8.ToArray(), 0),
        ];
    }

    private sealed class Mutant(List<byte> json, int dataBytes)
    {
        public List<byte> Json { get; } = json;

        public int DataBytes { get; private set; } = dataBytes;

        public ulong? LengthPrefix { get; private set; }

        public void Mutate(Random random)
        {
            var at = Json.Count == 0 ? 0 : random.Next(Json.Count);
            switch (random.Next(12))
            {
                case 0 when Json.Count > 0:
                    Json[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when Json.Count > 0:
                    Json[at] = Structural[random.Next(Structural.Length)];
                    break;
                case 2:
                    Json.Insert(at, random.Next(2) == 0 ? (byte)random.Next(256) : Structural[random.Next(Structural.Length)]);
                    break;
                case 3 when Json.Count > 0:
                    Json.RemoveRange(at, Math.Min(random.Next(1, 5), Json.Count - at));
                    break;
                case 4:
                    SpliceToken(random, at, digitsOnly: true);
                    break;
                case 5:
                    SpliceToken(random, at, digitsOnly: false);
                    break;
                case 6:
                    ChangeDigit(random, at);
                    break;
                case 7:
                    Json.RemoveRange(at, Json.Count - at);
                    break;
                case 8 when Json.Count > 0:
                    var start = random.Next(Json.Count);
                    Json.InsertRange(at, Json.GetRange(start, Math.Min(random.Next(1, 40), Json.Count - start)));
                    break;
                case 9:
                    CopyEntry(random);
                    break;
                case 10:
                    DataBytes = Math.Max(0, DataBytes + random.Next(-8, 9));
                    break;
                default:
                    LengthPrefix = random.Next(6) switch
                    {
                        0 => 0,
                        1 => ulong.MaxValue,
                        2 => (ulong)random.NextInt64(),
                        3 => MaxHeaderBytes + 1,
                        _ => (ulong)Math.Max(0, Json.Count + random.Next(-3, 4)),
                    };
                    break;
            }
        }

        // Copies one entry to the end of the object, renamed half of the time: a duplicate name or an overlap.
        private void CopyEntry(Random random)
        {
            var entries = new List<int>();
            for (var i = 0; i + 2 < Json.Count; i++)
            {
                if (Json[i] == '"' && Json[i + 1] == ':' && Json[i + 2] == '{')
                {
                    entries.Add(i);
                }
            }

            var close = Json.LastIndexOf((byte)'}');
            if (entries.Count == 0 || close < 0)
            {
                return;
            }

            var keyEnd = entries[random.Next(entries.Count)];
            var keyStart = Json.LastIndexOf((byte)'"', keyEnd - 1);
            var valueEnd = Json.IndexOf((byte)'}', keyEnd);
            if (keyStart < 0 || valueEnd < 0)
            {
                return;
            }

            var entry = Json.GetRange(keyStart, valueEnd + 1 - keyStart);
            if (random.Next(2) == 0)
            {
                entry[1] = (byte)'X';
            }

            Json.InsertRange(close, [(byte)',', .. entry]);
        }

        // Replaces the number at or after the position (or, for any token, inserts it there).
        private void SpliceToken(Random random, int at, bool digitsOnly)
        {
            var token = Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)]);
            if (!digitsOnly)
            {
                Json.InsertRange(at, token);
                return;
            }

            var digit = Json.FindIndex(at, IsDigit);
            if (digit < 0)
            {
                return;
            }

            var end = digit;
            while (end < Json.Count && IsDigit(Json[end]))
            {
                end++;
            }

            Json.RemoveRange(digit, end - digit);
            Json.InsertRange(digit, token);
        }

        private void ChangeDigit(Random random, int at)
        {
            var digit = Json.FindIndex(at, IsDigit);
            if (digit < 0)
            {
                return;
            }

            if (random.Next(2) == 0 && digit + 1 < Json.Count && IsDigit(Json[digit + 1]))
            {
                (Json[digit], Json[digit + 1]) = (Json[digit + 1], Json[digit]);
            }
            else
            {
                Json[digit] = (byte)('0' + random.Next(10));
            }
        }

        private static bool IsDigit(byte value) => char.IsAsciiDigit((char)value);
    }
}
