using System.Text.Json.Serialization;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Serialization;

/// <summary>Source-generated JSON metadata for everything the silo stores or serves: camelCase names,
/// enums as strings, and NaN/Infinity written as the strings <c>"NaN"</c>/<c>"Infinity"</c> so that
/// detectors without a p-value survive a round trip.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    PropertyNameCaseInsensitive = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(Finding))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, object>>))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(ResponseAction))]
[JsonSerializable(typeof(AnomalyZT.Silo.Siem.SiemRecord))]
[JsonSerializable(typeof(List<AnomalyZT.Silo.Siem.SinkHealth>))]
[JsonSerializable(typeof(List<AnomalyZT.Silo.Receivers.ReceiverCount>))]
[JsonSerializable(typeof(AnomalyZT.Silo.Api.FindingStreamPage))]
[JsonSerializable(typeof(AnomalyZT.Silo.Api.ActionPage))]
[JsonSerializable(typeof(AnomalyZT.Silo.Api.RiskBody))]
[JsonSerializable(typeof(List<AnomalyZT.Silo.State.AuditRecord>))]
[JsonSerializable(typeof(List<AnomalyZT.Grains.Risk.RiskContribution>))]
[JsonSerializable(typeof(AnomalyZT.Silo.Security.ErrorBody))]
[JsonSerializable(typeof(AnomalyZT.Silo.Api.IngestResponse))]
[JsonSerializable(typeof(AnomalyZT.Silo.Api.AlertPage))]
[JsonSerializable(typeof(AnomalyZT.Silo.Api.EntityResponse))]
[JsonSerializable(typeof(AnomalyZT.Silo.Api.DeadLetterItem[]))]
[JsonSerializable(typeof(AnomalyZT.Silo.Api.HealthBody))]
[JsonSerializable(typeof(AnomalyZT.Silo.Hosting.DetectionConfigStatus))]
[JsonSerializable(typeof(List<AnomalyZT.Silo.Security.ApiKeyEntry>))]
[JsonSerializable(typeof(List<AnomalyZT.Grains.Runtime.InventoryEntry>))]
internal sealed partial class AnomalyJsonContext : JsonSerializerContext;
