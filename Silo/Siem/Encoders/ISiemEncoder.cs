using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Siem.Encoders;

/// <summary>Turns a <see cref="SiemRecord"/> into one line of a SIEM format (no CR or LF in the output).</summary>
public interface ISiemEncoder
{
    /// <summary>The format's config name (<c>cef</c>, <c>leef</c>, <c>ocsf</c>, <c>ecs</c>, <c>hec</c>, <c>json</c>).</summary>
    string Format { get; }

    /// <summary>The encoded record.</summary>
    string Encode(SiemRecord record);
}

/// <summary>Names and shared mappings of the encoders.</summary>
public static class SiemFormats
{
    /// <summary>Every format name.</summary>
    public static readonly string[] All = ["cef", "leef", "ocsf", "ecs", "hec", "json"];

    /// <summary>Vendor and product in every header.</summary>
    public const string Vendor = "AnomalyZT";

    /// <summary>Product version in headers.</summary>
    public const string ProductVersion = "1.0";

    /// <summary>The encoder for <paramref name="format"/>.</summary>
    /// <exception cref="ArgumentException">Unknown format.</exception>
    public static ISiemEncoder Create(string format, string? host = null) => format switch
    {
        "cef" => new CefEncoder(),
        "leef" => new LeefEncoder(),
        "ocsf" => new OcsfEncoder(),
        "ecs" => new EcsEncoder(),
        "hec" => new HecEncoder(host ?? Environment.MachineName),
        "json" => new JsonRecordEncoder(),
        _ => throw new ArgumentException($"format '{format}' is unknown; allowed: {string.Join(", ", All)}", nameof(format)),
    };

    /// <summary>CEF and LEEF severity 0–10.</summary>
    public static int Severity10(Severity s) => s switch
    {
        Severity.Info => 1,
        Severity.Low => 3,
        Severity.Medium => 5,
        Severity.High => 8,
        _ => 10,
    };

    /// <summary>RFC 5424 severity: critical 2, high 3 (error), medium 4 (warning), low 5 (notice), info 6.</summary>
    public static int SyslogSeverity(Severity s) => s switch
    {
        Severity.Critical => 2,
        Severity.High => 3,
        Severity.Medium => 4,
        Severity.Low => 5,
        _ => 6,
    };

    /// <summary>The event-class id CEF and LEEF carry: <c>finding:detector:feature</c>, <c>action:kind:event</c>, <c>risk</c>.</summary>
    public static string EventClass(SiemRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return r.Kind switch
        {
            SiemRecordKind.Finding => "finding:" + r.Finding!.Detector + ":" + r.Finding.Feature,
            SiemRecordKind.Action => "action:" + Grains.Policy.ActionNames.Of(r.Action!.Kind) + ":" + r.ActionEvent,
            _ => "risk",
        };
    }

    /// <summary>The fields every key=value format carries, in a fixed order, as (CEF key, LEEF key, label, value).</summary>
    internal static IEnumerable<(string Cef, string Leef, string? Label, string Value)> Fields(SiemRecord r)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        yield return ("rt", "devTime", null, r.TimeMs.ToString(inv));
        yield return ("externalId", "externalId", null, r.Id);
        yield return ("cat", "cat", null, r.Kind.ToString().ToLowerInvariant());
        yield return (r.EntityKind == "identity" ? "suser" : "dhost", r.EntityKind == "identity" ? "usrName" : "dstHost", null, r.EntityId);
        yield return ("msg", "msg", null, r.Message);
        switch (r.Kind)
        {
            case SiemRecordKind.Finding:
                var f = r.Finding!;
                yield return ("cs1", "detector", "detector", f.Detector);
                yield return ("cs2", "feature", "feature", f.Feature);
                yield return ("cs3", "configVersion", "configVersion", f.ConfigVersion);
                yield return ("cs4", "agreed", "agreed", string.Join(",", f.Agreed));
                yield return ("cs5", "examples", "examples", string.Join(",", f.Examples));
                yield return ("cfp1", "observed", "observed", f.Observed.ToString("R", inv));
                yield return ("cfp2", "expected", "expected", f.Expected.ToString("R", inv));
                yield return ("cfp3", "score", "score", f.Score.ToString("R", inv));
                yield return ("cfp4", "pValue", "pValue", f.PValue.ToString("R", inv));
                break;
            case SiemRecordKind.Action:
                var a = r.Action!;
                yield return ("act", "action", null, Grains.Policy.ActionNames.Of(a.Kind));
                yield return ("outcome", "outcome", null, r.ActionEvent ?? string.Empty);
                yield return ("cs1", "connector", "connector", a.Connector);
                yield return ("cs2", "rule", "rule", a.Rule);
                yield return ("cs3", "state", "state", a.State.ToString());
                yield return ("cs4", "actor", "actor", r.Actor ?? string.Empty);
                yield return ("cs5", "actionId", "actionId", a.Id);
                yield return ("cs6", "dryRun", "dryRun", a.DryRun ? "true" : "false");
                yield return ("cfp1", "risk", "risk", a.Risk.ToString("R", inv));
                break;
            default:
                var k = r.Risk!;
                yield return ("cs1", "trigger", "triggerFinding", k.TriggerFindingId);
                yield return ("cfp1", "previousRisk", "previousRisk", k.Previous.ToString("R", inv));
                yield return ("cfp2", "risk", "risk", k.Current.ToString("R", inv));
                break;
        }
    }
}
