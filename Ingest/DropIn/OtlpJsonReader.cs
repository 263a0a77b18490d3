using System.Globalization;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Parsing;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>One OTLP log record with its attributes flattened.</summary>
/// <param name="Index">0-based record number over the whole body.</param>
/// <param name="TimeMs"><c>timeUnixNano</c>, or <c>observedTimeUnixNano</c> when that is 0 or absent, as Unix ms; 0 when
/// neither is set.</param>
/// <param name="SeverityNumber"><c>severityNumber</c> (0 when absent).</param>
/// <param name="SeverityText"><c>severityText</c>.</param>
/// <param name="Body">The body: a string's text, or compact JSON for other values (a kvlist becomes an object).</param>
/// <param name="Attributes">Resource attributes, then scope attributes, then record attributes (later ones win), with
/// nested kvlists flattened as <c>a.b</c>, arrays as compact JSON, numbers and booleans as invariant text; a kvlist body
/// is also flattened under <c>body.</c>.</param>
public sealed record OtlpLogRecord(
    int Index,
    long TimeMs,
    int SeverityNumber,
    string? SeverityText,
    string? Body,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>What an OTLP <c>/v1/logs</c> body held. <see cref="Items"/> equals accepted plus rejected.</summary>
/// <param name="Records">Accepted log records.</param>
/// <param name="Errors">Rejected records (and structural errors, numbered like records).</param>
public sealed record OtlpLogsResult(IReadOnlyList<OtlpLogRecord> Records, IReadOnlyList<DropInError> Errors)
{
    /// <summary>Records seen.</summary>
    public int Items => Records.Count + Errors.Count;
}

/// <summary>What an OTLP <c>/v1/metrics</c> body held for GPU telemetry. Only the data points of the dcgm metrics
/// <c>DCGM_FI_DEV_GPU_UTIL</c>, <c>DCGM_FI_DEV_FB_USED</c> and <c>DCGM_FI_DEV_POWER_USAGE</c> are items;
/// <see cref="Items"/> equals <see cref="AcceptedPoints"/> plus the errors.</summary>
/// <param name="Samples">One sample per (host, GPU index, UUID, time), the three metrics merged.</param>
/// <param name="AcceptedPoints">dcgm data points that went into a sample.</param>
/// <param name="Errors">Rejected dcgm data points.</param>
/// <param name="SkippedMetrics">Metrics of other names, not read.</param>
public sealed record OtlpGpuResult(IReadOnlyList<GpuSample> Samples, int AcceptedPoints, IReadOnlyList<DropInError> Errors, int SkippedMetrics)
{
    /// <summary>dcgm data points seen.</summary>
    public int Items => AcceptedPoints + Errors.Count;
}

/// <summary>Which log attributes make an <see cref="AccessEvent"/>; each list is tried in order and the first present
/// attribute wins. The defaults follow the OpenTelemetry semantic conventions.</summary>
public sealed class OtlpAccessMapping
{
    /// <summary>Who acted.</summary>
    public IReadOnlyList<string> Principal { get; init; } = ["user.name", "enduser.id"];

    /// <summary>Client address.</summary>
    public IReadOnlyList<string> SourceIp { get; init; } = ["client.address", "source.address", "network.peer.address"];

    /// <summary>User agent.</summary>
    public IReadOnlyList<string> UserAgent { get; init; } = ["user_agent.original"];

    /// <summary>Action (method, verb).</summary>
    public IReadOnlyList<string> Action { get; init; } = ["http.request.method"];

    /// <summary>Resource (path).</summary>
    public IReadOnlyList<string> Resource { get; init; } = ["url.path", "http.route"];

    /// <summary>HTTP status code; decides the outcome (absent: unknown).</summary>
    public IReadOnlyList<string> Status { get; init; } = ["http.response.status_code"];

    /// <summary>Bytes the client sent.</summary>
    public IReadOnlyList<string> BytesIn { get; init; } = ["http.request.body.size"];

    /// <summary>Bytes returned to the client.</summary>
    public IReadOnlyList<string> BytesOut { get; init; } = ["http.response.body.size"];

    /// <summary>Node that served the request.</summary>
    public IReadOnlyList<string> Node { get; init; } = ["host.name", "k8s.node.name"];

    /// <summary>Session or request id.</summary>
    public IReadOnlyList<string> SessionId { get; init; } = ["session.id"];
}

/// <summary>Reads OTLP/HTTP JSON bodies (the OpenTelemetry Collector's <c>otlphttp</c> exporter with
/// <c>encoding: json</c>): <c>/v1/logs</c> (resourceLogs → scopeLogs → logRecords) and <c>/v1/metrics</c>
/// (resourceMetrics → scopeMetrics → metrics → gauge/sum dataPoints). 64-bit integers may be strings or numbers, as
/// the OTLP JSON mapping allows.</summary>
public static class OtlpJsonReader
{
    /// <summary>Most attributes a record or data point may carry with those it inherits from its resource and scope.
    /// Each record gets its own copy of the inherited ones, so without a bound a body with a huge resource and many
    /// tiny records would cost memory far beyond its size.</summary>
    public const int MaxAttributes = 512;

    /// <summary>Most log records, or dcgm data points, read from one body; a larger body is refused whole (413) so the
    /// shipper splits it, rather than holding millions of tiny records in memory.</summary>
    public const int MaxRecords = 65_536;

    internal const string GpuUtil = "DCGM_FI_DEV_GPU_UTIL";
    internal const string FbUsed = "DCGM_FI_DEV_FB_USED";
    internal const string Power = "DCGM_FI_DEV_POWER_USAGE";

    // DCGM's blank sentinels: int64 near 2^63, fp64 from 2^47 (see GpuParser).
    internal const double DcgmBlankThreshold = 140737488355328.0;

    private static readonly JsonElement EmptyArray = JsonDocument.Parse("[]").RootElement.Clone();

    /// <summary>Reads a <c>/v1/logs</c> body. A body that is not JSON or has no <c>resourceLogs</c> array is one
    /// rejected item.</summary>
    public static OtlpLogsResult ReadLogs(ReadOnlySpan<byte> body)
    {
        var records = new List<OtlpLogRecord>();
        var errors = new List<DropInError>();
        if (!TryRoot(body, "resourceLogs", out var doc, out var reason))
        {
            errors.Add(new DropInError(0, reason!));
            return new OtlpLogsResult(records, errors);
        }

        using (doc)
        {
            var index = 0;
            foreach (var rl in Array(doc!.RootElement, "resourceLogs"))
            {
                var resource = new LayeredAttributeDictionary();
                var resourceRefusal = rl.ValueKind == JsonValueKind.Object && rl.TryGetProperty("resource", out var res)
                    ? Flatten(res, "attributes", resource)
                    : null;
                foreach (var sl in Array(rl, "scopeLogs"))
                {
                    var scope = new LayeredAttributeDictionary(resource);
                    var refusal = resourceRefusal
                        ?? (sl.ValueKind == JsonValueKind.Object && sl.TryGetProperty("scope", out var sc) ? Flatten(sc, "attributes", scope) : null);
                    foreach (var lr in Array(sl, "logRecords"))
                    {
                        CheckRecordBudget(index, "log records");
                        string? error = null;
                        Collect(refusal is null ? LogRecord(lr, index, scope, out error) : null, refusal ?? error, index++, records, errors);
                    }
                }
            }
        }

        return new OtlpLogsResult(records, errors);
    }

    /// <summary>Maps a log record to an access event with <paramref name="mapping"/> (defaults when null). The principal
    /// falls back to the source address; with neither the record is rejected, as it is with no time.</summary>
    public static bool TryToAccessEvent(OtlpLogRecord record, OtlpAccessMapping? mapping, out AccessEvent access, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(record);
        mapping ??= new OtlpAccessMapping();
        access = default;
        var a = record.Attributes;
        var principal = First(a, mapping.Principal);
        var ip = First(a, mapping.SourceIp);
        if (record.TimeMs == 0)
        {
            reason = "record has neither timeUnixNano nor observedTimeUnixNano";
            return false;
        }

        if (principal is null && ip is null)
        {
            reason = AccessOutcomes.NoPrincipal(string.Join(", ", mapping.Principal));
            return false;
        }

        var statusText = First(a, mapping.Status);
        var status = 0;
        if (statusText is not null && !int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out status))
        {
            reason = $"attribute '{mapping.Status[0]}' is not a status code";
            return false;
        }

        access = new AccessEvent(
            record.TimeMs,
            principal ?? ip!,
            principal is null ? PrincipalSource.SourceAddress : PrincipalSource.Field,
            ip,
            First(a, mapping.UserAgent),
            First(a, mapping.Action),
            First(a, mapping.Resource),
            statusText is null ? Outcome.Unknown : AccessOutcomes.FromHttpStatus(status),
            status,
            Long(First(a, mapping.BytesIn)),
            Long(First(a, mapping.BytesOut)),
            First(a, mapping.Node),
            First(a, mapping.SessionId));
        reason = null;
        return true;
    }

    /// <summary>Reads a <c>/v1/metrics</c> body into GPU samples: gauge or sum data points (<c>asDouble</c> or
    /// <c>asInt</c>) of the three dcgm metrics, labelled like dcgm-exporter (<c>Hostname</c>/<c>hostname</c>, else the
    /// resource's <c>host.name</c>; <c>gpu</c>; <c>UUID</c>/<c>uuid</c>; <c>pod</c>/<c>pod_name</c>;
    /// <c>namespace</c>/<c>pod_namespace</c>), merged by (host, gpu, UUID, time). DCGM blank sentinels become NaN.</summary>
    public static OtlpGpuResult ReadGpuMetrics(ReadOnlySpan<byte> body)
    {
        var errors = new List<DropInError>();
        var samples = new Dictionary<(string Host, int Gpu, string? Uuid, long Time), GpuSample>();
        var order = new List<(string, int, string?, long)>();
        var accepted = 0;
        var skipped = 0;
        if (!TryRoot(body, "resourceMetrics", out var doc, out var rootReason))
        {
            errors.Add(new DropInError(0, rootReason!));
            return new OtlpGpuResult([], 0, errors, 0);
        }

        using (doc)
        {
            var index = 0;
            foreach (var rm in Array(doc!.RootElement, "resourceMetrics"))
            {
                var resource = new LayeredAttributeDictionary();
                var refusal = rm.ValueKind == JsonValueKind.Object && rm.TryGetProperty("resource", out var res)
                    ? Flatten(res, "attributes", resource)
                    : null;

                foreach (var sm in Array(rm, "scopeMetrics"))
                {
                    foreach (var metric in Array(sm, "metrics"))
                    {
                        var name = DropInJson.String(metric, "name");
                        if (name is not (GpuUtil or FbUsed or Power))
                        {
                            skipped++;
                            continue;
                        }

                        var data = metric.TryGetProperty("gauge", out var g) ? g : metric.TryGetProperty("sum", out var s) ? s : default;
                        if (data.ValueKind != JsonValueKind.Object)
                        {
                            errors.Add(new DropInError(index++, $"metric '{name}' is neither a gauge nor a sum"));
                            continue;
                        }

                        foreach (var dp in Array(data, "dataPoints"))
                        {
                            CheckRecordBudget(index, "data points");
                            var reason = refusal ?? Point(dp, name, resource, samples, order);
                            if (reason is null)
                            {
                                accepted++;
                            }
                            else
                            {
                                errors.Add(new DropInError(index, $"metric '{name}': {reason}"));
                            }

                            index++;
                        }
                    }
                }
            }
        }

        return new OtlpGpuResult(order.Select(k => samples[k]).ToList(), accepted, errors, skipped);
    }

    private static string? Point(
        JsonElement dp,
        string name,
        LayeredAttributeDictionary resource,
        Dictionary<(string, int, string?, long), GpuSample> samples,
        List<(string, int, string?, long)> order)
    {
        if (dp.ValueKind != JsonValueKind.Object)
        {
            return "data point is not an object";
        }

        var attrs = new LayeredAttributeDictionary(resource);
        if (Flatten(dp, "attributes", attrs) is { } refusal)
        {
            return refusal;
        }

        if (!DropInJson.TryNanos(dp, "timeUnixNano", out var time, out var reason))
        {
            return reason ?? "missing required field 'timeUnixNano'";
        }

        double value;
        if (dp.TryGetProperty("asDouble", out var d))
        {
            if (!TryDouble(d, out value))
            {
                return "field 'asDouble' is not a number";
            }
        }
        else if (dp.TryGetProperty("asInt", out var n))
        {
            if (!TryDouble(n, out value))
            {
                return "field 'asInt' is not an integer";
            }
        }
        else
        {
            value = double.NaN;
        }

        return AddGpuPoint(name, attrs, time, value, samples, order);
    }

    /// <summary>Merges one dcgm data point (its attributes already include the resource's) into the sample of its
    /// (host, GPU, UUID, time); the reason when it cannot be placed. DCGM blank sentinels and non-finite values become NaN.</summary>
    internal static string? AddGpuPoint(
        string name,
        IReadOnlyDictionary<string, string> attrs,
        long time,
        double value,
        Dictionary<(string, int, string?, long), GpuSample> samples,
        List<(string, int, string?, long)> order)
    {
        var host = First(attrs, ["Hostname", "hostname", "host.name"]);
        if (host is null)
        {
            return "missing label 'Hostname' (or 'hostname', or resource 'host.name')";
        }

        var gpu = -1;
        if (First(attrs, ["gpu"]) is { } gpuText
            && (!int.TryParse(gpuText, NumberStyles.None, CultureInfo.InvariantCulture, out gpu)))
        {
            return "label 'gpu' is not a GPU index";
        }

        if (!double.IsFinite(value) || value >= DcgmBlankThreshold)
        {
            value = double.NaN;
        }

        var uuid = First(attrs, ["UUID", "uuid"]);
        var key = (host, gpu, uuid, time);
        if (!samples.TryGetValue(key, out var sample))
        {
            sample = new GpuSample(time, host, uuid, gpu, double.NaN, double.NaN, double.NaN,
                First(attrs, ["pod", "pod_name", "k8s.pod.name"]), First(attrs, ["namespace", "pod_namespace", "k8s.namespace.name"]));
            order.Add(key);
        }

        samples[key] = name switch
        {
            GpuUtil => sample with { UtilPct = value },
            FbUsed => sample with { MemUsedMiB = value },
            _ => sample with { PowerW = value },
        };
        return null;
    }

    private static OtlpLogRecord? LogRecord(JsonElement lr, int index, LayeredAttributeDictionary inherited, out string? error)
    {
        error = null;
        if (lr.ValueKind != JsonValueKind.Object)
        {
            error = "log record is not an object";
            return null;
        }

        if (!DropInJson.TryNanos(lr, "timeUnixNano", out var time, out error))
        {
            if (error is not null)
            {
                return null;
            }

            DropInJson.TryNanos(lr, "observedTimeUnixNano", out time, out error);
            if (error is not null)
            {
                return null;
            }
        }

        var severity = 0;
        if (lr.TryGetProperty("severityNumber", out var sev) && sev.ValueKind != JsonValueKind.Null
            && !(sev.ValueKind == JsonValueKind.Number && sev.TryGetInt32(out severity)))
        {
            error = "field 'severityNumber' is not an integer";
            return null;
        }

        var attrs = new LayeredAttributeDictionary(inherited);
        string? body = null;
        if (lr.TryGetProperty("body", out var b) && b.ValueKind == JsonValueKind.Object)
        {
            if (b.TryGetProperty("stringValue", out var sv) && sv.ValueKind == JsonValueKind.String)
            {
                body = sv.GetString();
            }
            else if (b.TryGetProperty("kvlistValue", out var kv))
            {
                if (FlattenKv(kv, "values", "body.", attrs) is { } bodyRefusal)
                {
                    error = bodyRefusal;
                    return null;
                }

                body = AnyToJson(b);
            }
            else
            {
                body = AnyText(b);
            }
        }

        if (Flatten(lr, "attributes", attrs) is { } refusal)
        {
            error = refusal;
            return null;
        }

        return new OtlpLogRecord(index, time, severity, DropInJson.String(lr, "severityText"), body, attrs);
    }

    private static bool TryRoot(ReadOnlySpan<byte> body, string member, out JsonDocument? doc, out string? reason)
    {
        doc = null;
        reason = null;
        try
        {
            doc = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            reason = "body is not valid JSON: " + ex.Message;
            return false;
        }

        if (doc.RootElement.ValueKind != JsonValueKind.Object
            || !doc.RootElement.TryGetProperty(member, out var arr) || arr.ValueKind != JsonValueKind.Array)
        {
            doc.Dispose();
            doc = null;
            reason = $"body has no '{member}' array";
            return false;
        }

        return true;
    }

    /// <summary>Keeps a read record, or its rejection with <paramref name="reason"/>.</summary>
    internal static void Collect(OtlpLogRecord? record, string? reason, int index, List<OtlpLogRecord> records, List<DropInError> errors)
    {
        if (record is null)
        {
            errors.Add(new DropInError(index, reason ?? "log record rejected"));
        }
        else
        {
            records.Add(record);
        }
    }

    /// <summary>Refuses the whole body once it holds more than <see cref="MaxRecords"/> items.</summary>
    internal static void CheckRecordBudget(int index, string what)
    {
        if (index >= MaxRecords)
        {
            throw new IngestLimitException(413, $"the body holds more than {MaxRecords} {what}; send smaller batches (e.g. the OTel Collector batch processor's send_batch_max_size)");
        }
    }

    private static JsonElement.ArrayEnumerator Array(JsonElement obj, string name) =>
        (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var arr) && arr.ValueKind == JsonValueKind.Array
            ? arr
            : EmptyArray).EnumerateArray();

    /// <summary>Adds the attributes of <paramref name="member"/>; the reason when a key or the count is over its bound.</summary>
    private static string? Flatten(JsonElement owner, string member, LayeredAttributeDictionary into) =>
        FlattenKv(owner, member, string.Empty, into);

    private static string? FlattenKv(JsonElement owner, string member, string prefix, LayeredAttributeDictionary into)
    {
        foreach (var kv in Array(owner, member))
        {
            if (DropInJson.String(kv, "key") is not { } key || !kv.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            // The joined key is checked before it is built: a long key under many members must not multiply memory.
            if (into.Refusal(prefix.Length + key.Length) is { } refusal)
            {
                return refusal;
            }

            if (value.TryGetProperty("kvlistValue", out var nested))
            {
                if (FlattenKv(nested, "values", prefix + key + ".", into) is { } inner)
                {
                    return inner;
                }
            }
            else if (AnyText(value) is { } text && !into.TrySet(prefix + key, text))
            {
                return into.Refusal(prefix.Length + key.Length);
            }
        }

        return null;
    }

    /// <summary>An AnyValue as text: strings as is, numbers and booleans invariant, arrays and kvlists as JSON.</summary>
    private static string? AnyText(JsonElement any)
    {
        if (any.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var p in any.EnumerateObject())
        {
            switch (p.Name)
            {
                case "stringValue" or "bytesValue" when p.Value.ValueKind == JsonValueKind.String:
                    return p.Value.GetString();
                case "intValue" when p.Value.ValueKind == JsonValueKind.String:
                    return p.Value.GetString();
                case "intValue" or "doubleValue" when p.Value.ValueKind == JsonValueKind.Number:
                    return p.Value.GetRawText();
                case "boolValue" when p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    return p.Value.GetBoolean() ? "true" : "false";
                case "arrayValue" or "kvlistValue":
                    return AnyToJson(any);
            }
        }

        return null;
    }

    /// <summary>An AnyValue as plain JSON (kvlists as objects, arrays as arrays).</summary>
    private static string AnyToJson(JsonElement any)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            WriteAny(w, any);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteAny(Utf8JsonWriter w, JsonElement any)
    {
        if (any.ValueKind == JsonValueKind.Object)
        {
            if (any.TryGetProperty("kvlistValue", out var kv))
            {
                w.WriteStartObject();
                foreach (var e in Array(kv, "values"))
                {
                    if (DropInJson.String(e, "key") is { } key && e.TryGetProperty("value", out var v))
                    {
                        w.WritePropertyName(key);
                        WriteAny(w, v);
                    }
                }

                w.WriteEndObject();
                return;
            }

            if (any.TryGetProperty("arrayValue", out var arr))
            {
                w.WriteStartArray();
                foreach (var v in Array(arr, "values"))
                {
                    WriteAny(w, v);
                }

                w.WriteEndArray();
                return;
            }

            foreach (var p in any.EnumerateObject())
            {
                if (p.Name is "intValue" && p.Value.ValueKind == JsonValueKind.String
                    && long.TryParse(p.Value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    w.WriteNumberValue(l);
                    return;
                }

                if (p.Name is "stringValue" or "boolValue" or "intValue" or "doubleValue" or "bytesValue")
                {
                    p.Value.WriteTo(w);
                    return;
                }
            }
        }

        w.WriteNullValue();
    }

    private static bool TryDouble(JsonElement value, out double result)
    {
        result = double.NaN;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDouble(out result),
            JsonValueKind.String => double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out result),
            _ => false,
        };
    }

    private static string? First(IReadOnlyDictionary<string, string> attrs, IReadOnlyList<string> names)
    {
        foreach (var name in names)
        {
            if (attrs.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v))
            {
                return v;
            }
        }

        return null;
    }

    private static long Long(string? text) =>
        text is not null && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
}
