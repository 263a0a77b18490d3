using System.Globalization;
using System.Net;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>What a CloudTrail body held. <see cref="Items"/> equals accepted plus rejected.</summary>
/// <param name="Events">Accepted records as access events, in body order.</param>
/// <param name="Errors">Rejected records.</param>
public sealed record CloudTrailResult(IReadOnlyList<AccessEvent> Events, IReadOnlyList<DropInError> Errors)
{
    /// <summary>Records seen.</summary>
    public int Items => Events.Count + Errors.Count;
}

/// <summary>Reads AWS CloudTrail records into <see cref="AccessEvent"/>s, from the log-file form
/// <c>{"Records":[…]}</c> (as delivered to S3, after gunzip) or one record per line (EventBridge/CloudWatch forwarders,
/// HEC <c>aws:cloudtrail</c>). Principal: <c>userIdentity.arn</c>, else <c>principalId</c>, else <c>userName</c>, else
/// <c>invokedBy</c>, else the source address; action: <c>eventName</c>; resource: <c>resources[0].ARN</c>, else
/// <c>requestParameters.bucketName</c>[/<c>key</c>]; outcome: no <c>errorCode</c> is success, <c>AccessDenied*</c>,
/// <c>*Unauthorized*</c> and <c>*Forbidden*</c> are denied, other codes failure; bytes from
/// <c>additionalEventData.bytesTransferredIn/Out</c> (S3 data events); session: <c>requestID</c>, else <c>eventID</c>.</summary>
public static class CloudTrailReader
{
    /// <summary>Reads a body in either form.</summary>
    public static CloudTrailResult Read(ReadOnlySpan<byte> body)
    {
        var events = new List<AccessEvent>();
        var errors = new List<DropInError>();
        JsonDocument? whole = null;
        try
        {
            whole = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException)
        {
            // Not one document: one record per line.
        }

        using (whole)
        {
            if (whole is not null && whole.RootElement.ValueKind == JsonValueKind.Object
                && whole.RootElement.TryGetProperty("Records", out var records))
            {
                if (records.ValueKind != JsonValueKind.Array)
                {
                    errors.Add(new DropInError(0, "field 'Records' is not an array"));
                    return new CloudTrailResult(events, errors);
                }

                var i = 0;
                foreach (var record in records.EnumerateArray())
                {
                    Add(record, i++, events, errors);
                }

                return new CloudTrailResult(events, errors);
            }
        }

        var index = 0;
        foreach (var range in body.Split((byte)'\n'))
        {
            var line = body[range].Trim(" \t\r"u8);
            if (line.IsEmpty)
            {
                continue;
            }

            if (TryParseRecord(line, out var access, out var reason))
            {
                events.Add(access);
            }
            else
            {
                errors.Add(new DropInError(index, reason!));
            }

            index++;
        }

        return new CloudTrailResult(events, errors);
    }

    /// <summary>Parses one record (one JSON object).</summary>
    public static bool TryParseRecord(ReadOnlySpan<byte> line, out AccessEvent access, out string? reason)
    {
        access = default;
        try
        {
            using var doc = JsonDocument.Parse(line.ToArray());
            return TryMap(doc.RootElement, out access, out reason);
        }
        catch (JsonException ex)
        {
            reason = "invalid JSON: " + ex.Message;
            return false;
        }
    }

    private static void Add(JsonElement record, int index, List<AccessEvent> events, List<DropInError> errors)
    {
        if (TryMap(record, out var access, out var reason))
        {
            events.Add(access);
        }
        else
        {
            errors.Add(new DropInError(index, reason!));
        }
    }

    private static bool TryMap(JsonElement r, out AccessEvent access, out string? reason)
    {
        access = default;
        if (r.ValueKind != JsonValueKind.Object)
        {
            reason = "record is not a JSON object";
            return false;
        }

        if (!r.TryGetProperty("eventTime", out var t) || t.ValueKind != JsonValueKind.String)
        {
            reason = "missing required field 'eventTime'";
            return false;
        }

        if (!DropInJson.TryTimestamp(t, out var time))
        {
            reason = "field 'eventTime' is not an RFC 3339 timestamp";
            return false;
        }

        r.TryGetProperty("userIdentity", out var identity);
        var principal = DropInJson.String(identity, "arn")
            ?? DropInJson.String(identity, "principalId")
            ?? DropInJson.String(identity, "userName")
            ?? DropInJson.String(identity, "invokedBy");
        var source = DropInJson.String(r, "sourceIPAddress");
        var ip = source is not null && IPAddress.TryParse(source, out _) ? source : null;
        if (principal is null && source is null)
        {
            reason = "no principal: none of userIdentity.arn, userIdentity.principalId, userIdentity.userName, userIdentity.invokedBy present and no sourceIPAddress";
            return false;
        }

        string? resource = null;
        if (r.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Array
            && resources.GetArrayLength() > 0)
        {
            resource = DropInJson.String(resources[0], "ARN");
        }

        if (resource is null && r.TryGetProperty("requestParameters", out var rp) && DropInJson.String(rp, "bucketName") is { } bucket)
        {
            resource = DropInJson.String(rp, "key") is { } key ? bucket + "/" + key : bucket;
        }

        var errorCode = DropInJson.String(r, "errorCode");
        var outcome = errorCode switch
        {
            null => Outcome.Success,
            _ when errorCode.StartsWith("AccessDenied", StringComparison.Ordinal)
                || errorCode.Contains("Unauthorized", StringComparison.OrdinalIgnoreCase)
                || errorCode.Contains("Forbidden", StringComparison.OrdinalIgnoreCase) => Outcome.Denied,
            _ => Outcome.Failure,
        };

        r.TryGetProperty("additionalEventData", out var extra);
        access = new AccessEvent(
            time,
            principal ?? source!,
            principal is null ? PrincipalSource.SourceAddress : PrincipalSource.Field,
            ip,
            DropInJson.String(r, "userAgent"),
            DropInJson.String(r, "eventName"),
            resource,
            outcome,
            0,
            Bytes(extra, "bytesTransferredIn"),
            Bytes(extra, "bytesTransferredOut"),
            null,
            DropInJson.String(r, "requestID") ?? DropInJson.String(r, "eventID"));
        reason = null;
        return true;
    }

    private static long Bytes(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v))
        {
            return 0;
        }

        return v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetDouble(out var d) && d >= 0 && d < long.MaxValue => (long)d,
            JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var l) => l,
            _ => 0,
        };
    }
}
