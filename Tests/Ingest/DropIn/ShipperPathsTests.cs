using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Ingest.DropIn;

/// <summary>HEC's raw endpoint, the CloudTrail endpoint (log file and line forms, gzip as S3 delivers it), counts by
/// shipper, and per-shipper rate limits, on a real silo.</summary>
public sealed class ShipperPathsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Now => DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    private static string Trail(string user, string? errorCode = null) =>
        $$"""{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{{user}}","userName":"{{user}}"},"eventTime":"{{Now}}","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"203.0.113.5","userAgent":"aws-cli/2","requestParameters":{"bucketName":"models","key":"llama.bin"}{{(errorCode is null ? "" : $",\"errorCode\":\"{errorCode}\"")}},"requestID":"R1","eventID":"E1"}""";

    [Fact]
    public async Task HecRaw_LinesOfTheSourcetype_AreTaken_AndTheBadLineIsNamed()
    {
        await using var silo = await SiloServer.StartAsync();
        using var hec = new HttpClient { BaseAddress = silo.BaseAddress };
        hec.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Splunk", SiloServer.ShipperKey);
        var body = Trail("raw-carol") + "\n" + "{not json\n" + Trail("raw-dave") + "\n";
        using var content = new StringContent(body, Encoding.UTF8, "text/plain");
        using var response = await hec.PostAsync("services/collector/raw?sourcetype=aws:cloudtrail&channel=8c1b", content, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(6, json.RootElement.GetProperty("code").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("invalid-event-number").GetInt32()); // 0-based, as Splunk counts

        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var carol = await viewer.GetAsync("v1/entities/identity/" + Uri.EscapeDataString("arn:aws:iam::111122223333:user/raw-carol"), Ct);
        Assert.Equal(HttpStatusCode.OK, carol.StatusCode);
        var row = await RowAsync(viewer, "hec-raw", "cloudtrail");
        Assert.Equal(2, row.GetProperty("accepted").GetInt64());
        Assert.Equal(1, row.GetProperty("rejected").GetInt64());

        using var plain = new StringContent("{\"type\":\"access\",\"ts\":\"" + Now + "\",\"principal\":\"raw-erin\",\"resource\":\"/x\",\"status\":200}\n", Encoding.UTF8, "text/plain");
        using var ok = await hec.PostAsync("services/collector/raw", plain, Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task CloudTrail_GzippedLogFile_AndLinePerRecord_BecomeAccessEvents()
    {
        await using var silo = await SiloServer.StartAsync();
        using var shipper = silo.Client(SiloServer.ShipperKey);
        var file = "{\"Records\":[" + Trail("ct-frank") + "," + Trail("ct-frank", "AccessDenied") + ",{\"eventName\":\"x\"}]}";
        using var gz = new MemoryStream();
        using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            zip.Write(Encoding.UTF8.GetBytes(file));
        }

        using var content = new ByteArrayContent(gz.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await shipper.PostAsync("v1/ingest/cloudtrail", content, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)))
        {
            Assert.Equal(3, json.RootElement.GetProperty("lines").GetInt32());
            Assert.Equal(2, json.RootElement.GetProperty("accepted").GetInt32());
            Assert.Equal(1, json.RootElement.GetProperty("rejected").GetInt32());
            var error = json.RootElement.GetProperty("errors")[0];
            Assert.Equal(3, error.GetProperty("line").GetInt32());
            Assert.Contains("eventTime", error.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        using var lines = new StringContent(Trail("ct-grace") + "\n" + Trail("ct-grace") + "\n", Encoding.UTF8, "application/x-ndjson");
        using var second = await shipper.PostAsync("v1/ingest/cloudtrail", lines, Ct);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var grace = await viewer.GetAsync("v1/entities/identity/" + Uri.EscapeDataString("arn:aws:iam::111122223333:user/ct-grace"), Ct);
        Assert.Equal(HttpStatusCode.OK, grace.StatusCode);
        var row = await RowAsync(viewer, "http:ingest", "cloudtrail");
        Assert.Equal("shipper", row.GetProperty("shipper").GetString());
        Assert.Equal(4, row.GetProperty("accepted").GetInt64());
        Assert.Equal(1, row.GetProperty("rejected").GetInt64());
    }

    [Fact]
    public async Task AShipperOverItsRateLimit_Gets429_NothingTaken_AndTheRecordsAreCountedLimited()
    {
        await using var silo = await SiloServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Ingest:RateLimit:Shippers:shipper:EventsPerSecond"] = "0.001",
            ["Ingest:RateLimit:Shippers:shipper:Burst"] = "2",
        });
        using var shipper = silo.Client(SiloServer.ShipperKey);
        var line = "{\"type\":\"access\",\"ts\":\"" + Now + "\",\"principal\":\"limited-hank\",\"resource\":\"/x\",\"status\":200}\n";
        using var first = await shipper.PostAsync("v1/ingest/generic", new StringContent(line + line + line, Encoding.UTF8, "application/x-ndjson"), Ct);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode); // a full bucket lets a body through, into debt
        using var second = await shipper.PostAsync("v1/ingest/generic", new StringContent(line, Encoding.UTF8, "application/x-ndjson"), Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.True(second.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains("rate_limited", await second.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // The admin key is another shipper, with the default limit.
        using var admin = silo.Client(SiloServer.AdminKey);
        using var third = await admin.PostAsync("v1/ingest/generic", new StringContent(line, Encoding.UTF8, "application/x-ndjson"), Ct);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);

        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var json = JsonDocument.Parse(await viewer.GetStringAsync("v1/receivers", Ct));
        var rows = json.RootElement.EnumerateArray().Where(r => r.GetProperty("receiver").GetString() == "http:ingest").ToList();
        var mine = rows.Single(r => r.GetProperty("shipper").GetString() == "shipper");
        Assert.Equal(3, mine.GetProperty("accepted").GetInt64());
        Assert.Equal(1, mine.GetProperty("limited").GetInt64());
        Assert.Equal(1, rows.Single(r => r.GetProperty("shipper").GetString() == "admin").GetProperty("accepted").GetInt64());
    }

    [Fact]
    public async Task OutputHandshakes_ElasticRootLicenseAndHecHealth_AnswerShippersOnly()
    {
        await using var silo = await SiloServer.StartAsync();
        using var logstash = new HttpClient { BaseAddress = silo.BaseAddress };
        using (var anonymous = await logstash.GetAsync("", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        logstash.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("logstash:" + SiloServer.ShipperKey)));
        using (var head = await logstash.SendAsync(new HttpRequestMessage(HttpMethod.Head, ""), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }

        using (var root = await logstash.GetAsync("", Ct))
        {
            Assert.Equal("Elasticsearch", Assert.Single(root.Headers.GetValues("X-Elastic-Product")));
            using var json = JsonDocument.Parse(await root.Content.ReadAsStringAsync(Ct));
            Assert.StartsWith("8.", json.RootElement.GetProperty("version").GetProperty("number").GetString(), StringComparison.Ordinal);
        }

        using (var license = await logstash.GetAsync("_license", Ct))
        {
            Assert.Contains("\"active\"", await license.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        using var vector = new HttpClient { BaseAddress = silo.BaseAddress };
        vector.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Splunk", SiloServer.ShipperKey);
        using var health = await vector.GetAsync("services/collector/health/1.0", Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"code\":17", await health.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimitSettings_AreValidatedAtStart()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var silo = await SiloServer.StartAsync(settings: new Dictionary<string, string?> { ["Ingest:RateLimit:EventsPerSecond"] = "-5" });
        });
        Assert.Contains("Ingest:RateLimit:EventsPerSecond is -5", error.Message, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> RowAsync(HttpClient viewer, string receiver, string format)
    {
        using var json = JsonDocument.Parse(await viewer.GetStringAsync("v1/receivers", Ct));
        foreach (var row in json.RootElement.EnumerateArray())
        {
            if (row.GetProperty("receiver").GetString() == receiver && row.GetProperty("format").GetString() == format)
            {
                return row.Clone();
            }
        }

        throw new Xunit.Sdk.XunitException($"no /v1/receivers row for {receiver}/{format}: {json.RootElement}");
    }
}
