using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AnomalyZT.Silo.Siem.Sinks;

namespace AnomalyZT.Tests.Siem;

/// <summary>Records for the syslog tests: each payload carries <c>externalId=ID</c>, and the characters a SIEM format
/// escapes (<c>=</c>, <c>\</c>, <c>|</c>, escaped newlines) plus non-ASCII text.</summary>
internal static partial class SyslogTestRecords
{
    /// <summary>A fixed event time with microseconds.</summary>
    public static readonly DateTimeOffset Time = new(2026, 11, 20, 9, 15, 0, TimeSpan.Zero);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fresh run tag (tests sharing an rsyslogd tell their lines apart by it).</summary>
    public static string NewRun() => "run" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>One record.</summary>
    public static EncodedRecord Record(long seq, string id, string payload, int severity = 3, string msgId = "finding", DateTimeOffset? time = null) =>
        new(seq, id, time ?? Time.AddTicks(seq * 10 + 3), severity, msgId, Encoding.UTF8.GetBytes(payload));

    /// <summary>Payloads as the encoders write them (one line; newlines escaped), each with <paramref name="id"/>.</summary>
    public static IReadOnlyList<(string Payload, int Severity, string MsgId)> Tricky(string id) =>
    [
        ($@"CEF:0|AnomalyZT|AnomalyZT|1.0|finding:robust_level:bytes_out|Pipe \| and back\\slash|8|rt=1763630100000 externalId={id}-cef msg=bytes\=5x usual\nat night\r path C:\\data\\x|y suser=josé 日本 cs1=trailing space ", 3, "finding"),
        ($"LEEF:2.0|AnomalyZT|AnomalyZT|1.0|action:disable:done|x09|devTime=1763630100000\texternalId={id}-leef\tmsg=a=b|c\\\\d \\n e\tusrName=é 日本", 5, "action"),
        ($"{{\"class_uid\":2004,\"externalId\":\"{id}-json\",\"message\":\"line1\\nline2 \\\"q\\\" = | \\\\ é 日本\"}}", 2, "risk"),
        ($"  leading spaces externalId={id}-space é", 6, "finding"),
    ];

    /// <summary><paramref name="count"/> CEF-like records of about <paramref name="payloadBytes"/> bytes, ids
    /// <c>{run}-000000</c>, … in order.</summary>
    public static List<EncodedRecord> Many(string run, int count, int payloadBytes = 300)
    {
        var records = new List<EncodedRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var id = Id(run, i);
            var head = string.Create(CultureInfo.InvariantCulture,
                $@"CEF:0|AnomalyZT|AnomalyZT|1.0|finding:robust_level:bytes_out|Unusual bytes_out|8|rt={1763630100000 + i} externalId={id} cat=finding suser=svc-{i % 50} msg=bytes\=5x usual é 日本\n cs1=");
            var pad = Math.Max(0, payloadBytes - Encoding.UTF8.GetByteCount(head));
            records.Add(Record(i, id, head + new string((char)('a' + (i % 26)), pad), 2 + (i % 5), i % 3 == 0 ? "action" : "finding"));
        }

        return records;
    }

    /// <summary>The id of record <paramref name="i"/> of a run.</summary>
    public static string Id(string run, int i) => string.Create(CultureInfo.InvariantCulture, $"{run}-{i:D6}");

    /// <summary>The <c>externalId</c> in a line, or null.</summary>
    public static string? IdOf(SyslogLine line) => ExternalId().Match(line.Message) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The timestamp the formatter writes for <paramref name="time"/>.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"externalId[="":]+([A-Za-z0-9-]+)")]
    private static partial Regex ExternalId();
}
