using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Ingest.DropIn;

/// <summary>The OTLP/HTTP JSON receivers on a real silo, with bodies shaped like the OTel Collector's otlphttp exporter
/// sends (64-bit integers as strings).</summary>
public sealed class OtlpEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Nanos => (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task LogRecords_BecomeAccessEvents_AndUnmappableOnesAreAPartialSuccess()
    {
        await using var silo = await SiloServer.StartAsync();
        using var client = silo.Client(SiloServer.ShipperKey);
        var body = $$$"""
            {"resourceLogs":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"edge-1"}}]},
              "scopeLogs":[{"scope":{"name":"envoy"},"logRecords":[
                {"timeUnixNano":"{{{Nanos}}}","severityNumber":9,"body":{"stringValue":"GET /v1/models"},
                 "attributes":[{"key":"user.name","value":{"stringValue":"otlp-frank@corp"}},
                               {"key":"client.address","value":{"stringValue":"198.51.100.9"}},
                               {"key":"url.path","value":{"stringValue":"/v1/models"}},
                               {"key":"http.response.status_code","value":{"intValue":"200"}}]},
                {"timeUnixNano":"{{{Nanos}}}","body":{"stringValue":"no identity here"}}]}]}]}
            """;
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("v1/logs", content, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(1, json.RootElement.GetProperty("partialSuccess").GetProperty("rejectedLogRecords").GetInt32());

        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var entity = await viewer.GetAsync("v1/entities/identity/otlp-frank@corp", Ct);
        Assert.Equal(HttpStatusCode.OK, entity.StatusCode);
    }

    [Fact]
    public async Task DcgmMetrics_BecomeGpuSamples()
    {
        await using var silo = await SiloServer.StartAsync();
        using var client = silo.Client(SiloServer.ShipperKey);
        var point = $$$"""{"timeUnixNano":"{{{Nanos}}}","asDouble":97,"attributes":[{"key":"Hostname","value":{"stringValue":"otlp-gpu-1"}},{"key":"gpu","value":{"stringValue":"0"}},{"key":"UUID","value":{"stringValue":"GPU-abc"}}]}""";
        var body = $$$"""{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"DCGM_FI_DEV_GPU_UTIL","gauge":{"dataPoints":[{{{point}}}]}}]}]}]}""";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("v1/metrics", content, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync(Ct));
        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var entity = await viewer.GetAsync("v1/entities/node/otlp-gpu-1", Ct);
        Assert.Equal(HttpStatusCode.OK, entity.StatusCode);
    }

    [Fact]
    public async Task AnotherContentType_IsRefusedWithAClearError_AndAViewerCannotPost()
    {
        await using var silo = await SiloServer.StartAsync();
        using var shipper = silo.Client(SiloServer.ShipperKey);
        using var text = new StringContent("hello", Encoding.UTF8, "text/plain");
        using var refused = await shipper.PostAsync("v1/logs", text, Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        Assert.Contains("application/x-protobuf", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var forbidden = await viewer.PostAsync("v1/metrics", content, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public async Task MalformedProtobuf_IsAPartialSuccessInProtobuf_AndDeadLettered()
    {
        await using var silo = await SiloServer.StartAsync();
        using var shipper = silo.Client(SiloServer.ShipperKey);
        using var proto = new ByteArrayContent([0x0a, 0x7f, 0x01]); // resource_logs claims 127 bytes, 1 follows
        proto.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using var response = await shipper.PostAsync("v1/logs", proto, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        var answer = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.True(answer.Length > 4);
        Assert.Equal(0x0a, answer[0]); // partial_success
        Assert.Equal(0x08, answer[2]); // rejected_log_records
        Assert.Equal(1, answer[3]);

        using var viewer = silo.Client(SiloServer.ViewerKey);
        await silo.Runtime.FlushAsync(Ct);
        var letters = await viewer.GetStringAsync("v1/dead-letters", Ct);
        Assert.Contains("ExportLogsServiceRequest", letters, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAttributeMapping_IsConfigurable_AndValidatedAtStart()
    {
        await using (var silo = await SiloServer.StartAsync(settings: new Dictionary<string, string?>
                     {
                         ["Ingest:Otlp:Principal:0"] = "app.account",
                         ["Ingest:Otlp:Resource:0"] = "body.route",
                     }))
        {
            using var client = silo.Client(SiloServer.ShipperKey);
            var body = $$$"""
                {"resourceLogs":[{"scopeLogs":[{"logRecords":[
                  {"timeUnixNano":"{{{Nanos}}}","body":{"kvlistValue":{"values":[{"key":"route","value":{"stringValue":"/v1/train"}}]}},
                   "attributes":[{"key":"app.account","value":{"stringValue":"mapped-kim@corp"}},
                                 {"key":"user.name","value":{"stringValue":"not-this-one@corp"}}]}]}]}]}
                """;
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync("v1/logs", content, Ct);
            Assert.Equal("{}", await response.Content.ReadAsStringAsync(Ct));
            await silo.Runtime.FlushAsync(Ct);
            using var viewer = silo.Client(SiloServer.ViewerKey);
            using var mapped = await viewer.GetAsync("v1/entities/identity/mapped-kim@corp", Ct);
            Assert.Equal(HttpStatusCode.OK, mapped.StatusCode);
            using var unmapped = await viewer.GetAsync("v1/entities/identity/not-this-one@corp", Ct);
            Assert.Equal(HttpStatusCode.NotFound, unmapped.StatusCode);
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var bad = await SiloServer.StartAsync(settings: new Dictionary<string, string?> { ["Ingest:Otlp:SourceIp:0"] = " " });
        });
        Assert.Contains("Ingest:Otlp:SourceIp:0", error.Message, StringComparison.Ordinal);
    }
}
