using System.Text.Json.Serialization;

namespace Flannel.Daemon.Commands.Status;

/// <summary>Source-generated serialization of the report: the binary is NativeAOT and trimmed (no reflection).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatusReport))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;
