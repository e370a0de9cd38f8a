using System.Text.Json.Serialization;
using GpuMux.Cli.Devices;
using GpuMux.Cli.Models;
using GpuMux.Cli.Status;
using GpuMux.Cli.Tenants;

namespace GpuMux.Cli.Output;

// Source-generated, so that -o json needs no reflection under NativeAOT.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(DevicesReport))]
[JsonSerializable(typeof(DaemonStatus))]
[JsonSerializable(typeof(ModelsReport))]
[JsonSerializable(typeof(TenantsReport))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
