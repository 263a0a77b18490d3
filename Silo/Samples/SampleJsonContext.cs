using System.Text.Json.Serialization;

namespace AnomalyZT.Silo.Samples;

/// <summary>Source-generated JSON for <c>incidents.json</c> and <c>inventory.json</c>: camelCase, indented, "\n".</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, NewLine = "\n", IndentSize = 2)]
[JsonSerializable(typeof(SampleIncident[]))]
[JsonSerializable(typeof(SampleInventoryEntry[]))]
internal sealed partial class SampleJsonContext : JsonSerializerContext;
