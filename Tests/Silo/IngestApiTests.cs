using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyZT.Tests.Silo;

public sealed class IngestApiTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
    private SiloServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SiloServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        SiloServer.DeleteDirectory(_server.DataDirectory);
    }

    internal static string EnvoyLine(DateTimeOffset at, string principal, long bytesSent, string ip = "10.0.0.7", int code = 200) =>
        string.Create(CultureInfo.InvariantCulture,
            $$"""{"start_time":"{{at:yyyy-MM-ddTHH:mm:ss.fffZ}}","method":"GET","path":"/v1/datasets/a","protocol":"HTTP/2","response_code":{{code}},"response_flags":"-","bytes_received":0,"bytes_sent":{{bytesSent}},"duration":12,"user_agent":"trainer/1.0","request_id":"r-1","authority":"data.svc","downstream_remote_address":"{{ip}}:41234","downstream_peer_uri_san":"{{principal}}"}""");

    [Fact]
    public async Task Post_MalformedLineInMiddle_RestAcceptedLineNamedAndDeadLettered()
    {
        var lines = new[]
        {
            EnvoyLine(T0, "spiffe://c/ns/a/sa/x", 100),
            EnvoyLine(T0.AddSeconds(1), "spiffe://c/ns/a/sa/x", 100),
            "{\"start_time\": \"2026-11-20T00:00:02Z\", \"bytes_sent\": ",
            EnvoyLine(T0.AddSeconds(3), "spiffe://c/ns/a/sa/x", 100),
            EnvoyLine(T0.AddSeconds(4), "spiffe://c/ns/a/sa/y", 100),
        };
        using var client = _server.Client(SiloServer.ShipperKey);
        using var response = await client.PostAsync("v1/ingest/envoy", new StringContent(string.Join('\n', lines) + "\n"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var root = body.RootElement;
        Assert.Equal(5, root.GetProperty("lines").GetInt32());
        Assert.Equal(4, root.GetProperty("accepted").GetInt32());
        Assert.Equal(1, root.GetProperty("rejected").GetInt32());
        var error = root.GetProperty("errors").EnumerateArray().Single();
        Assert.Equal(3, error.GetProperty("line").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("reason").GetString()));

        // Dead letters are durable with the batch's checkpoint.
        await _server.Runtime.FlushAsync(TestContext.Current.CancellationToken);
        var store = _server.App.Services.GetRequiredService<IStateStore>();
        var dead = await store.QueryDeadLettersAsync(0, 10, TestContext.Current.CancellationToken);
        var letter = Assert.Single(dead);
        Assert.Equal("http:envoy", letter.Source);
        Assert.Equal(3, letter.LineNumber);
        Assert.Equal(lines[2], Encoding.UTF8.GetString(letter.Payload));

        using var admin = _server.Client(SiloServer.AdminKey);
        var served = await admin.GetFromJsonAsync<JsonElement>("v1/dead-letters", TestContext.Current.CancellationToken);
        Assert.Equal(3, served.EnumerateArray().Single().GetProperty("line").GetInt32());
    }

    [Fact]
    public async Task Post_FarFutureTimestamp_IsRejectedAndDoesNotBlindTheEngine()
    {
        var body = EnvoyLine(new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero), "svc-f", 1) + "\n" + EnvoyLine(T0, "svc-f", 1) + "\n";
        using var client = _server.Client(SiloServer.ShipperKey);
        using var response = await client.PostAsync("v1/ingest/envoy", new StringContent(body), TestContext.Current.CancellationToken);
        var root = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(1, root.GetProperty("accepted").GetInt32());
        var error = root.GetProperty("errors").EnumerateArray().Single();
        Assert.Equal(1, error.GetProperty("line").GetInt32());
        Assert.Contains("MaxFutureSkewSeconds", error.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // A later, normal event is still applied, not refused as late.
        using var next = await client.PostAsync("v1/ingest/envoy", new StringContent(EnvoyLine(T0.AddSeconds(1), "svc-f", 1) + "\n"), TestContext.Current.CancellationToken);
        await _server.Runtime.FlushAsync(TestContext.Current.CancellationToken);
        var store = _server.App.Services.GetRequiredService<IStateStore>();
        var letters = await store.QueryDeadLettersAsync(0, 10, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(letters, d => d.Source.StartsWith("late:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_Gzip_IsDecoded()
    {
        var text = EnvoyLine(T0, "spiffe://c/ns/a/sa/x", 1) + "\n" + EnvoyLine(T0, "spiffe://c/ns/a/sa/x", 2) + "\n";
        using var compressed = new MemoryStream();
        await using (var gz = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(Encoding.UTF8.GetBytes(text));
        }

        using var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        using var client = _server.Client(SiloServer.ShipperKey);
        using var response = await client.PostAsync("v1/ingest/envoy", content, TestContext.Current.CancellationToken);
        var root = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(2, root.GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task Post_UnknownFormat_Is400NamingFormats()
    {
        using var client = _server.Client(SiloServer.ShipperKey);
        using var response = await client.PostAsync("v1/ingest/cef", new StringContent("x\n"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("k8s-audit", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_RuntimeNotRunning_Is429WithRetryAfterAndNothingTaken()
    {
        await _server.Runtime.StopAsync(TestContext.Current.CancellationToken);
        using var client = _server.Client(SiloServer.ShipperKey);
        using var response = await client.PostAsync("v1/ingest/envoy", new StringContent("{\"bad\n"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var store = _server.App.Services.GetRequiredService<IStateStore>();
        Assert.Equal(0, await store.CountDeadLettersAsync(TestContext.Current.CancellationToken));

        using var viewer = _server.Client(SiloServer.ViewerKey);
        using var entity = await viewer.GetAsync("v1/entities/identity/x", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, entity.StatusCode);
        using var ready = await viewer.GetAsync("readyz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    [Fact]
    public async Task Entity_AfterIngest_ShowsFeaturesAndWarmup()
    {
        var lines = new StringBuilder();
        for (var i = 0; i < 30; i++)
        {
            lines.Append(EnvoyLine(T0.AddMinutes(10 * i), "spiffe://c/ns/a/sa/x", 1000)).Append('\n');
        }

        using var client = _server.Client(SiloServer.ShipperKey);
        (await client.PostAsync("v1/ingest/envoy", new StringContent(lines.ToString()), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        await _server.Runtime.FlushAsync(TestContext.Current.CancellationToken);

        using var viewer = _server.Client(SiloServer.ViewerKey);
        var entity = await viewer.GetFromJsonAsync<JsonElement>("v1/entities/identity/" + Uri.EscapeDataString("spiffe://c/ns/a/sa/x"), TestContext.Current.CancellationToken);
        var requests = entity.GetProperty("entity").GetProperty("features").EnumerateArray().First(f => f.GetProperty("name").GetString() == "requests");
        // 30 buckets; watermark = newest event − 5 min lateness, so the newest two are still open: 28 closed.
        Assert.Equal(28, requests.GetProperty("closedBuckets").GetInt64());
        Assert.Equal("ready", requests.GetProperty("warmup").GetString());

        using var missing = await viewer.GetAsync("v1/entities/identity/nobody", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Alerts_AfterSpike_ListExplainedFindingFilterableByEntity()
    {
        var lines = new StringBuilder();
        for (var i = 0; i < 40; i++)
        {
            lines.Append(EnvoyLine(T0.AddMinutes(10 * i), "svc-a", 100_000 + (i % 5 * 1000))).Append('\n');
            lines.Append(EnvoyLine(T0.AddMinutes(10 * i), "svc-b", 100_000)).Append('\n');
        }

        lines.Append(EnvoyLine(T0.AddMinutes(400), "svc-a", 900_000_000)).Append('\n');
        lines.Append(EnvoyLine(T0.AddMinutes(430), "svc-b", 100_000)).Append('\n');
        using var client = _server.Client(SiloServer.ShipperKey);
        (await client.PostAsync("v1/ingest/envoy", new StringContent(lines.ToString()), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        await _server.Runtime.FlushAsync(TestContext.Current.CancellationToken);

        using var viewer = _server.Client(SiloServer.ViewerKey);
        var page = await viewer.GetFromJsonAsync<JsonElement>("v1/alerts?entity=identity/svc-a&detector=robust-level", TestContext.Current.CancellationToken);
        var finding = page.GetProperty("items").EnumerateArray().Single();
        Assert.Equal("bytes_out", finding.GetProperty("feature").GetString());
        Assert.Equal(900_000_000, finding.GetProperty("observed").GetDouble());
        Assert.True(finding.GetProperty("upper").GetDouble() < 900_000_000);
        Assert.Equal(T0.AddMinutes(400).ToUnixTimeMilliseconds(), finding.GetProperty("bucketStartMs").GetInt64());

        var none = await viewer.GetFromJsonAsync<JsonElement>("v1/alerts?entity=identity/svc-b", TestContext.Current.CancellationToken);
        Assert.Empty(none.GetProperty("items").EnumerateArray());
        var alertsFile = Path.Combine(_server.DataDirectory, "alerts.jsonl");
        Assert.Contains(finding.GetProperty("id").GetString()!, await File.ReadAllTextAsync(alertsFile, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alerts_BadQuery_Is400WithReason()
    {
        using var viewer = _server.Client(SiloServer.ViewerKey);
        using var response = await viewer.GetAsync("v1/alerts?entity=robot/x", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Contains("identity/<principal>", body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EnvoyLine_Helper_IsValidJson() => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(EnvoyLine(T0, "x", 1)).RootElement.ValueKind);

    internal static EntityKey Key(string id) => new(EntityKind.Identity, id);
}
