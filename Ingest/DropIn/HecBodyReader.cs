using System.Text;
using System.Text.Json;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>One accepted HEC envelope: the inner <c>event</c> as one JSON line plus the envelope's metadata.</summary>
/// <param name="Index">0-based position of the envelope in the body (Splunk's event number).</param>
/// <param name="Line">The inner event: compact JSON when it was an object, the string's text when it was a string.</param>
/// <param name="TimeMs">Envelope <c>time</c> (epoch seconds, fractions allowed) as Unix ms, or null when absent.</param>
/// <param name="Host">Envelope <c>host</c>.</param>
/// <param name="Source">Envelope <c>source</c>.</param>
/// <param name="Sourcetype">Envelope <c>sourcetype</c>.</param>
/// <param name="IndexName">Envelope <c>index</c>.</param>
/// <param name="Fields">Envelope <c>fields</c> (indexed fields) whose values are strings or numbers, as text.</param>
public sealed record HecEvent(
    int Index,
    byte[] Line,
    long? TimeMs,
    string? Host,
    string? Source,
    string? Sourcetype,
    string? IndexName,
    IReadOnlyDictionary<string, string> Fields);

/// <summary>One rejected HEC envelope.</summary>
/// <param name="Index">0-based envelope number (Splunk's <c>invalid-event-number</c>).</param>
/// <param name="Code">The Splunk HEC status code that describes it (see <see cref="HecResponse"/>).</param>
/// <param name="Reason">Why, for the shipper's log.</param>
public readonly record struct HecError(int Index, int Code, string Reason);

/// <summary>What a HEC body held. <see cref="Items"/> always equals accepted plus rejected.</summary>
/// <param name="Events">Accepted envelopes, in body order.</param>
/// <param name="Errors">Rejected envelopes, in body order.</param>
public sealed record HecReadResult(IReadOnlyList<HecEvent> Events, IReadOnlyList<HecError> Errors)
{
    /// <summary>Envelopes seen.</summary>
    public int Items => Events.Count + Errors.Count;
}

/// <summary>Reads Splunk HEC <c>/services/collector/event</c> bodies: JSON envelopes
/// <c>{"time","host","source","sourcetype","index","event","fields"}</c> concatenated, with or without whitespace or
/// newlines between them (what Fluent Bit's <c>splunk</c> output, Vector's <c>splunk_hec_logs</c> sink and Logstash's
/// <c>http</c> output send). A syntax error in one envelope costs that envelope only when the next one starts on a
/// new line; otherwise the rest of the body is one rejected item.</summary>
public static partial class HecBodyReader
{
    /// <summary>Reads every envelope of <paramref name="body"/> (already decompressed).</summary>
    public static HecReadResult Read(ReadOnlySpan<byte> body)
    {
        var events = new List<HecEvent>();
        var errors = new List<HecError>();
        var index = 0;
        var pos = 0;
        while (true)
        {
            pos += LeadingWhitespace(body[pos..]);
            if (pos >= body.Length)
            {
                break;
            }

            var rest = body[pos..];
            var reader = new Utf8JsonReader(rest, new JsonReaderOptions { AllowMultipleValues = true });
            try
            {
                // One pass to validate and find where the envelope ends; no document is built.
                reader.Read();
                reader.Skip();
            }
            catch (JsonException ex)
            {
                errors.Add(new HecError(index++, HecResponse.InvalidDataFormat, "invalid JSON: " + ex.Message));
                var newline = rest.IndexOf((byte)'\n');
                if (newline < 0)
                {
                    break;
                }

                pos += newline + 1;
                continue;
            }

            var envelope = rest[..(int)reader.BytesConsumed];
            pos += envelope.Length;
            HecEvent? item;
            HecError error;
            try
            {
                item = Envelope(envelope, index, out error);
            }
            catch (InvalidOperationException)
            {
                // A string that is not valid UTF-8 (the reader validates structure, not text).
                item = null;
                error = new HecError(index, HecResponse.InvalidDataFormat, "envelope holds text that is not valid UTF-8");
            }

            if (item is not null)
            {
                events.Add(item);
            }
            else
            {
                errors.Add(error);
            }

            index++;
        }

        return new HecReadResult(events, errors);
    }

    /// <summary>The line format (one of <see cref="LineDecoder.Formats"/>, or <c>cloudtrail</c> for
    /// <see cref="CloudTrailReader"/>) for a HEC sourcetype, or <paramref name="fallback"/> when the sourcetype is absent
    /// or unknown. Accepts the format names themselves and the common Splunk add-on names (<c>aws:cloudtrail</c>,
    /// <c>kube:apiserver:audit</c>, <c>bro:conn:json</c>, <c>zeek:conn</c>, <c>envoy:access</c>, <c>istio:access</c>,
    /// <c>dcgm</c>, <c>_json</c>).</summary>
    public static string? FormatForSourcetype(string? sourcetype, string? fallback = null)
    {
        if (string.IsNullOrWhiteSpace(sourcetype))
        {
            return fallback;
        }

        return sourcetype.Trim().ToLowerInvariant() switch
        {
            "envoy" or "envoy:access" or "envoy:access:json" or "istio" or "istio:access" or "istio:proxy" => "envoy",
            "k8s-audit" or "kube:apiserver:audit" or "kube:audit" or "k8s:audit" or "kubernetes:audit" => "k8s-audit",
            "zeek-conn" or "zeek:conn" or "zeek:conn:json" or "bro:conn:json" or "bro_conn" => "zeek-conn",
            "gpu" or "dcgm" or "dcgm-exporter" or "nvidia:dcgm" => "gpu",
            "cloudtrail" or "aws:cloudtrail" => "cloudtrail",
            "generic" or "_json" or "json" => "generic",
            _ => fallback,
        };
    }

    private static int LeadingWhitespace(ReadOnlySpan<byte> span)
    {
        var i = 0;
        while (i < span.Length && span[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }

        return i;
    }

}
