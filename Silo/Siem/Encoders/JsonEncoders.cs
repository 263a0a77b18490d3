using System.Buffers;
using System.Text;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Siem.Encoders;

/// <summary>Helpers for the JSON encoders: one compact line, non-ASCII kept as UTF-8.</summary>
internal static class JsonLine
{
    private static readonly JsonWriterOptions Options = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    public static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            body(w);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
    }
}

/// <summary>OCSF 1.3. Findings (and risk changes, as updates) are Detection Finding (class 2004, category 2); actions are
/// Remediation Activity (class 7001, category 7) with activity Evict (2: disable, revoke) or Restore (3). Always
/// <c>type_uid = class_uid × 100 + activity_id</c>; <c>severity_id</c> 1 informational … 5 critical.</summary>
public sealed class OcsfEncoder : ISiemEncoder
{
    /// <summary>OCSF schema version written in <c>metadata.version</c>.</summary>
    public const string SchemaVersion = "1.3.0";

    /// <inheritdoc />
    public string Format => "ocsf";

    /// <summary>OCSF severity_id of a severity.</summary>
    public static int SeverityId(Severity s) => (int)s + 1;

    /// <inheritdoc />
    public string Encode(SiemRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var (classUid, categoryUid, activityId, className, activityName) = record.Kind switch
        {
            SiemRecordKind.Finding => (2004, 2, 1, "Detection Finding", "Create"),
            SiemRecordKind.Risk => (2004, 2, 2, "Detection Finding", "Update"),
            _ => record.ActionEvent is "restored" or "restore-requested" or "restore-failed"
                ? (7001, 7, 3, "Remediation Activity", "Restore")
                : (7001, 7, 2, "Remediation Activity", "Evict"),
        };
        return JsonLine.Write(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("class_uid", classUid);
            w.WriteString("class_name", className);
            w.WriteNumber("category_uid", categoryUid);
            w.WriteNumber("activity_id", activityId);
            w.WriteString("activity_name", activityName);
            w.WriteNumber("type_uid", (classUid * 100) + activityId);
            w.WriteNumber("severity_id", SeverityId(record.Severity));
            w.WriteString("severity", record.Severity.ToString());
            w.WriteNumber("time", record.TimeMs);
            w.WriteString("message", record.Message);
            w.WriteStartObject("metadata");
            w.WriteString("version", SchemaVersion);
            w.WriteString("uid", record.Id);
            w.WriteStartObject("product");
            w.WriteString("name", SiemFormats.Vendor);
            w.WriteString("vendor_name", SiemFormats.Vendor);
            w.WriteString("version", SiemFormats.ProductVersion);
            w.WriteEndObject();
            w.WriteEndObject();
            if (record.Kind == SiemRecordKind.Action)
            {
                WriteAction(w, record);
            }
            else
            {
                WriteFinding(w, record);
            }

            WriteEntity(w, record);
            w.WriteEndObject();
        });
    }

    private static void WriteFinding(Utf8JsonWriter w, SiemRecord r)
    {
        w.WriteStartObject("finding_info");
        w.WriteString("uid", r.Kind == SiemRecordKind.Risk ? "risk:" + r.EntityId : r.Finding!.Id);
        w.WriteString("title", r.Name);
        w.WriteString("desc", r.Message);
        w.WriteNumber("created_time", r.TimeMs);
        w.WriteStartArray("types");
        w.WriteStringValue(r.Kind == SiemRecordKind.Risk ? "risk" : r.Finding!.Detector);
        w.WriteEndArray();
        if (r.Finding is { } f)
        {
            w.WriteStartObject("analytic");
            w.WriteString("name", f.Detector);
            w.WriteNumber("type_id", 5); // statistical
            w.WriteString("type", "Statistical");
            w.WriteEndObject();
        }

        w.WriteEndObject();
        if (r.Risk is { } k)
        {
            w.WriteNumber("risk_score", Math.Round(k.Current));
        }

        if (r.Finding is { } g)
        {
            w.WriteStartObject("unmapped");
            w.WriteString("feature", g.Feature);
            JsonLine.Number(w, "observed", g.Observed);
            JsonLine.Number(w, "expected", g.Expected);
            JsonLine.Number(w, "lower", g.Lower);
            JsonLine.Number(w, "upper", g.Upper);
            JsonLine.Number(w, "score", g.Score);
            JsonLine.Number(w, "p_value", g.PValue);
            w.WriteString("config_version", g.ConfigVersion);
            w.WriteEndObject();
        }
    }

    private static void WriteAction(Utf8JsonWriter w, SiemRecord r)
    {
        var a = r.Action!;
        var (statusId, status) = r.ActionEvent switch
        {
            "delivered" or "restored" => (1, "Success"),
            "failed" or "restore-failed" => (2, "Failure"),
            _ => (99, r.ActionEvent ?? "Other"),
        };
        w.WriteNumber("status_id", statusId);
        w.WriteString("status", status);
        w.WriteString("status_detail", a.LastError.Length > 0 ? a.LastError : r.ActionEvent);
        w.WriteStartObject("remediation");
        w.WriteString("desc", a.Reason);
        w.WriteEndObject();
        w.WriteStartObject("unmapped");
        w.WriteString("action_id", a.Id);
        w.WriteString("action", Grains.Policy.ActionNames.Of(a.Kind));
        w.WriteString("connector", a.Connector);
        w.WriteString("rule", a.Rule);
        w.WriteString("state", a.State.ToString());
        w.WriteBoolean("dry_run", a.DryRun);
        w.WriteString("actor", r.Actor);
        w.WriteEndObject();
    }

    private static void WriteEntity(Utf8JsonWriter w, SiemRecord r)
    {
        if (r.EntityKind == "identity")
        {
            w.WriteStartObject("user");
            w.WriteString("name", r.EntityId);
            w.WriteEndObject();
        }
        else
        {
            w.WriteStartObject("device");
            w.WriteString("hostname", r.EntityId);
            w.WriteNumber("type_id", 0);
            w.WriteEndObject();
        }
    }
}

/// <summary>Elastic Common Schema 8.x JSON: <c>@timestamp</c>, <c>ecs.version</c>, categorisation with allowed values
/// only (<c>event.kind</c> alert for findings, event for actions and risk; <c>event.category</c> intrusion_detection or
/// iam; <c>event.outcome</c> success, failure or unknown).</summary>
public sealed class EcsEncoder : ISiemEncoder
{
    /// <summary>ECS version written in <c>ecs.version</c>.</summary>
    public const string Version = "8.11.0";

    /// <inheritdoc />
    public string Format => "ecs";

    /// <inheritdoc />
    public string Encode(SiemRecord record) => JsonLine.Write(w => Write(w, record));

    /// <summary>Writes the ECS document of <paramref name="r"/>.</summary>
    public static void Write(Utf8JsonWriter w, SiemRecord r)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(r);
        var (kind, category, type) = r.Kind switch
        {
            SiemRecordKind.Finding => ("alert", "intrusion_detection", "info"),
            SiemRecordKind.Action => ("event", "iam", "change"),
            _ => ("event", "iam", "info"),
        };
        var outcome = r.ActionEvent switch
        {
            "delivered" or "restored" => "success",
            "failed" or "restore-failed" => "failure",
            _ => "unknown",
        };
        w.WriteStartObject();
        w.WriteString("@timestamp", DateTimeOffset.FromUnixTimeMilliseconds(r.TimeMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteString("message", r.Message);
        w.WriteStartObject("ecs");
        w.WriteString("version", Version);
        w.WriteEndObject();
        w.WriteStartObject("event");
        w.WriteString("id", r.Id);
        w.WriteString("kind", kind);
        w.WriteStartArray("category");
        w.WriteStringValue(category);
        w.WriteEndArray();
        w.WriteStartArray("type");
        w.WriteStringValue(type);
        w.WriteEndArray();
        w.WriteString("outcome", outcome);
        w.WriteString("action", SiemFormats.EventClass(r));
        w.WriteString("dataset", "anomalyzt." + r.Kind.ToString().ToLowerInvariant());
        w.WriteString("module", "anomalyzt");
        w.WriteNumber("severity", SiemFormats.Severity10(r.Severity));
        if (r.Risk is { } k)
        {
            w.WriteNumber("risk_score", k.Current);
        }

        w.WriteEndObject();
        if (r.EntityKind == "identity")
        {
            w.WriteStartObject("user");
            w.WriteString("name", r.EntityId);
            w.WriteEndObject();
        }
        else
        {
            w.WriteStartObject("host");
            w.WriteString("name", r.EntityId);
            w.WriteEndObject();
        }

        if (r.Finding is { } f)
        {
            w.WriteStartObject("rule");
            w.WriteString("name", f.Detector + ":" + f.Feature);
            w.WriteString("version", f.ConfigVersion);
            w.WriteEndObject();
            w.WriteStartObject("anomalyzt");
            w.WriteString("feature", f.Feature);
            JsonLine.Number(w, "observed", f.Observed);
            JsonLine.Number(w, "expected", f.Expected);
            JsonLine.Number(w, "score", f.Score);
            JsonLine.Number(w, "p_value", f.PValue);
            w.WriteEndObject();
        }
        else if (r.Action is { } a)
        {
            w.WriteStartObject("rule");
            w.WriteString("name", a.Rule);
            w.WriteEndObject();
            w.WriteStartObject("anomalyzt");
            w.WriteString("action_id", a.Id);
            w.WriteString("action", Grains.Policy.ActionNames.Of(a.Kind));
            w.WriteString("connector", a.Connector);
            w.WriteString("state", a.State.ToString());
            w.WriteString("actor", r.Actor);
            w.WriteBoolean("dry_run", a.DryRun);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }
}

/// <summary>The Splunk HEC event envelope around the ECS document:
/// <c>{"time":seconds,"host":…,"source":"anomalyzt","sourcetype":"anomalyzt:finding","event":{…},"fields":{…}}</c>.</summary>
public sealed class HecEncoder(string host) : ISiemEncoder
{
    /// <inheritdoc />
    public string Format => "hec";

    /// <summary>Index to write to, or null for the token's default.</summary>
    public string? Index { get; init; }

    /// <inheritdoc />
    public string Encode(SiemRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return JsonLine.Write(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("time", record.TimeMs / 1000.0);
            w.WriteString("host", host);
            w.WriteString("source", "anomalyzt");
            w.WriteString("sourcetype", "anomalyzt:" + record.Kind.ToString().ToLowerInvariant());
            if (Index is not null)
            {
                w.WriteString("index", Index);
            }

            w.WritePropertyName("event");
            EcsEncoder.Write(w, record);
            w.WriteStartObject("fields");
            w.WriteString("record_id", record.Id);
            w.WriteString("entity", record.EntityKind + "/" + record.EntityId);
            w.WriteNumber("severity", SiemFormats.Severity10(record.Severity));
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }
}

/// <summary>The internal record as JSON (for webhooks and files that want everything).</summary>
public sealed class JsonRecordEncoder : ISiemEncoder
{
    /// <inheritdoc />
    public string Format => "json";

    /// <inheritdoc />
    public string Encode(SiemRecord record) => JsonSerializer.Serialize(record, Serialization.AnomalyJsonContext.Default.SiemRecord);
}
