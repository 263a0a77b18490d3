using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Siem;
using AnomalyZT.Silo.Siem.Encoders;
using AnomalyZT.Tests.Response.Core;

namespace AnomalyZT.Tests.SiemCore;

public sealed class EncoderTests
{
    /// <summary>Text with everything the formats must escape, and non-ASCII.</summary>
    internal const string Nasty = "a=b \\ c|d\ne\rf\tg é 日本 \\n \\= end\\";

    internal static SiemRecord FindingRecord(string explanation = Nasty) =>
        SiemRecord.From(ResponseHarness.IdentityFinding("alice|x=y@corp", "failures", 0, Severity.High, "robust_level", ["s3://a=b", "c|d"]) with
        {
            Explanation = explanation,
            Agreed = ["robust_level", "ewma"],
        });

    internal static SiemRecord ActionRecord(string evt = "delivered")
    {
        var action = new ResponseAction
        {
            Id = "0123456789abcdef0123456789abcdef",
            Kind = ResponseActionKind.Disable,
            IdentityId = "alice@corp",
            Connector = "scim",
            Rule = "contain",
            Reason = "risk 70 ≥ 60 (" + Nasty + ")",
            Risk = 70,
            State = ResponseActionState.Done,
            CreatedAtMs = 1_790_000_000_000,
            UpdatedAtMs = 1_790_000_000_500,
            Revision = 2,
        };
        return SiemRecord.From(action, evt, "executor", "HTTP 204 " + Nasty, 1_790_000_000_500);
    }

    internal static SiemRecord RiskRecord() => SiemRecord.From(new RiskChange("alice@corp", 15, 50, 1_790_000_000_000, "f1"));

    [Fact]
    public void Cef_EveryFieldRoundTrips_ThroughTheEscaping()
    {
        var record = FindingRecord();
        var line = new CefEncoder().Encode(record);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        var (header, ext) = SiemParsers.ParseCef(line);
        Assert.Equal(["CEF:0", "AnomalyZT", "AnomalyZT", "1.0", "finding:robust_level:failures", "finding robust_level failures", "8"], header);
        Assert.Equal(Nasty, ext["msg"]);
        Assert.Equal("alice|x=y@corp", ext["suser"]);
        Assert.Equal(record.Id, ext["externalId"]);
        Assert.Equal(record.TimeMs.ToString(System.Globalization.CultureInfo.InvariantCulture), ext["rt"]);
        Assert.Equal(("detector", "robust_level"), (ext["cs1Label"], ext["cs1"]));
        Assert.Equal("robust_level,ewma", ext["cs4"]);
        Assert.Equal("s3://a=b,c|d", ext["cs5"]);
        Assert.Equal(100, double.Parse(ext["cfp1"], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Cef_HeaderEscapesPipeAndBackslash()
    {
        var record = FindingRecord() with { Name = "a|b\\c" };
        var (header, _) = SiemParsers.ParseCef(new CefEncoder().Encode(record));
        Assert.Equal("a|b\\c", header[5]);
    }

    [Fact]
    public void Leef_EveryFieldRoundTrips_ThroughTheEscaping()
    {
        var record = ActionRecord();
        var line = new LeefEncoder().Encode(record);
        Assert.DoesNotContain('\n', line);
        var (header, a) = SiemParsers.ParseLeef(line);
        Assert.Equal(["LEEF:2.0", "AnomalyZT", "AnomalyZT", "1.0", "action:disable:delivered", "x09"], header);
        Assert.Equal(record.Message, a["msg"]);
        Assert.Contains(Nasty, a["msg"], StringComparison.Ordinal);
        Assert.Equal("8", a["sev"]);
        Assert.Equal(("disable", "delivered", "scim", "contain"), (a["action"], a["outcome"], a["connector"], a["rule"]));
        Assert.Equal("alice@corp", a["usrName"]);
    }

    [Theory]
    [MemberData(nameof(AllRecords))]
    public void Ocsf_HasTheRequiredFields_AndTypeUidIsClassTimes100PlusActivity(string kind)
    {
        var record = ByKind(kind);
        using var doc = JsonDocument.Parse(new OcsfEncoder().Encode(record));
        var root = doc.RootElement;
        var classUid = root.GetProperty("class_uid").GetInt32();
        var activity = root.GetProperty("activity_id").GetInt32();
        Assert.Equal((classUid * 100) + activity, root.GetProperty("type_uid").GetInt32());
        Assert.Equal(record.TimeMs, root.GetProperty("time").GetInt64());
        Assert.InRange(root.GetProperty("severity_id").GetInt32(), 1, 5);
        Assert.Equal(OcsfEncoder.SchemaVersion, root.GetProperty("metadata").GetProperty("version").GetString());
        Assert.Equal("AnomalyZT", root.GetProperty("metadata").GetProperty("product").GetProperty("name").GetString());
        var expected = kind switch { "finding" => (2004, 2, 1), "risk" => (2004, 2, 2), _ => (7001, 7, 2) };
        Assert.Equal(expected, (classUid, root.GetProperty("category_uid").GetInt32(), activity));
        if (classUid == 2004)
        {
            Assert.False(string.IsNullOrEmpty(root.GetProperty("finding_info").GetProperty("uid").GetString()));
            Assert.False(string.IsNullOrEmpty(root.GetProperty("finding_info").GetProperty("title").GetString()));
        }
        else
        {
            Assert.Equal(1, root.GetProperty("status_id").GetInt32());
        }
    }

    [Fact]
    public void Ocsf_ARestoreIsTheRestoreActivity()
    {
        using var doc = JsonDocument.Parse(new OcsfEncoder().Encode(ActionRecord("restored")));
        Assert.Equal(700103, doc.RootElement.GetProperty("type_uid").GetInt32());
    }

    [Theory]
    [MemberData(nameof(AllRecords))]
    public void Ecs_UsesOnlyAllowedCategorizationValues(string kind)
    {
        var record = ByKind(kind);
        using var doc = JsonDocument.Parse(new EcsEncoder().Encode(record));
        var root = doc.RootElement;
        Assert.Equal(EcsEncoder.Version, root.GetProperty("ecs").GetProperty("version").GetString());
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("@timestamp").GetString(), System.Globalization.CultureInfo.InvariantCulture, out var ts));
        Assert.Equal(record.TimeMs, ts.ToUnixTimeMilliseconds());
        var evt = root.GetProperty("event");
        Assert.Contains(evt.GetProperty("kind").GetString(), new[] { "alert", "event", "metric", "state", "signal" });
        Assert.All(evt.GetProperty("category").EnumerateArray(), c => Assert.Contains(c.GetString(), new[] { "intrusion_detection", "iam", "authentication", "network", "host" }));
        Assert.All(evt.GetProperty("type").EnumerateArray(), t => Assert.Contains(t.GetString(), new[] { "info", "change", "creation", "deletion", "user", "admin" }));
        Assert.Contains(evt.GetProperty("outcome").GetString(), new[] { "success", "failure", "unknown" });
        Assert.Equal(record.Id, evt.GetProperty("id").GetString());
        Assert.Equal(record.Message, root.GetProperty("message").GetString());
    }

    [Fact]
    public void Hec_WrapsTheEventInTheEnvelope()
    {
        var record = FindingRecord();
        using var doc = JsonDocument.Parse(new HecEncoder("silo-1") { Index = "security" }.Encode(record));
        var root = doc.RootElement;
        Assert.Equal(record.TimeMs / 1000.0, root.GetProperty("time").GetDouble(), 3);
        Assert.Equal("silo-1", root.GetProperty("host").GetString());
        Assert.Equal("anomalyzt", root.GetProperty("source").GetString());
        Assert.Equal("anomalyzt:finding", root.GetProperty("sourcetype").GetString());
        Assert.Equal("security", root.GetProperty("index").GetString());
        Assert.Equal(record.Id, root.GetProperty("fields").GetProperty("record_id").GetString());
        Assert.Equal("alert", root.GetProperty("event").GetProperty("event").GetProperty("kind").GetString());
    }

    [Fact]
    public void Json_RoundTripsTheRecord_WithoutTheActionToken()
    {
        var record = ActionRecord() with { Action = ActionRecord().Action! with { Token = "secret-token" } };
        var text = new JsonRecordEncoder().Encode(record);
        Assert.DoesNotContain("secret-token", text, StringComparison.Ordinal);
        var back = JsonSerializer.Deserialize(text, AnomalyZT.Silo.Serialization.AnomalyJsonContext.Default.SiemRecord)!;
        Assert.Equal(record.Id, back.Id);
        Assert.Equal(record.Message, back.Message);
    }

    public static TheoryData<string> AllRecords() => new("finding", "action", "risk");

    private static SiemRecord ByKind(string kind) => kind switch
    {
        "finding" => FindingRecord(),
        "action" => ActionRecord(),
        _ => RiskRecord(),
    };
}
