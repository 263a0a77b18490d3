using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Ingest.DropIn;

/// <summary>The Splunk HEC drop-in endpoint on a real silo, with the body shape Fluent Bit's and Vector's HEC outputs
/// send and the <c>Authorization: Splunk</c> header they use.</summary>
public sealed class HecEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Envelope(string user, string sourcetype = "_json") =>
        $$$"""{"time":{{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}}.25,"host":"edge-1","sourcetype":"{{{sourcetype}}}","event":{"type":"access","ts":"{{{DateTimeOffset.UtcNow:O}}}","principal":"{{{user}}}","resource":"/v1/models","status":200}}""";

    private static HttpClient Client(SiloServer silo, string key)
    {
        var client = new HttpClient { BaseAddress = silo.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Splunk", key);
        return client;
    }

    [Fact]
    public async Task StockHecBody_IsAccepted_AndReachesTheGrains()
    {
        await using var silo = await SiloServer.StartAsync();
        using var hec = Client(silo, SiloServer.ShipperKey);
        using var body = new StringContent(Envelope("hec-alice@corp") + Envelope("hec-bob@corp"), Encoding.UTF8, "application/json");
        using var response = await hec.PostAsync("services/collector/event", body, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(0, json.RootElement.GetProperty("code").GetInt32());
        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var entity = await viewer.GetAsync("v1/entities/identity/hec-alice@corp", Ct);
        Assert.Equal(HttpStatusCode.OK, entity.StatusCode);
    }

    [Fact]
    public async Task AnInvalidEnvelope_IsNamedAndDeadLettered_TheValidOnesAreTaken()
    {
        await using var silo = await SiloServer.StartAsync();
        using var hec = Client(silo, SiloServer.ShipperKey);
        var text = Envelope("hec-carol@corp") + "\n{\"time\":1,\"host\":\"x\"}\n" + Envelope("hec-dave@corp", "no-such-type");
        using var body = new StringContent(text, Encoding.UTF8, "application/json");
        using var response = await hec.PostAsync("services/collector", body, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(6, json.RootElement.GetProperty("code").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("invalid-event-number").GetInt32());

        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        var letters = await viewer.GetFromJsonAsync("v1/dead-letters", AnomalyJsonContext.Default.DeadLetterItemArray, Ct) ?? [];
        var letter = Assert.Single(letters, l => l.Source.StartsWith("hec", StringComparison.Ordinal));
        Assert.Equal(2, letter.Line); // envelope numbers are 1-based in dead letters
        foreach (var taken in new[] { "hec-carol@corp", "hec-dave@corp" }) // an unknown sourcetype falls back to ?format= (generic)
        {
            using var entity = await viewer.GetAsync("v1/entities/identity/" + taken, Ct);
            Assert.Equal(HttpStatusCode.OK, entity.StatusCode);
        }
    }

    [Theory]
    [InlineData("not-a-key", HttpStatusCode.Unauthorized)]
    [InlineData(SiloServer.ViewerKey, HttpStatusCode.Forbidden)]
    public async Task TheHecToken_IsAnApiKeyWithTheShipperRole(string key, HttpStatusCode expected)
    {
        await using var silo = await SiloServer.StartAsync();
        using var hec = Client(silo, key);
        using var body = new StringContent(Envelope("x@corp"), Encoding.UTF8, "application/json");
        using var response = await hec.PostAsync("services/collector/event", body, Ct);
        Assert.Equal(expected, response.StatusCode);
    }
}

/// <summary>The Elasticsearch <c>_bulk</c> drop-in on a real silo, with the body Fluent Bit's <c>es</c> output sends and
/// HTTP Basic credentials whose password is the API key.</summary>
public sealed class BulkEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BulkBody_TakesGoodItems_AndAnswersPerItem()
    {
        await using var silo = await SiloServer.StartAsync();
        using var client = new HttpClient { BaseAddress = silo.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("fluent-bit:" + SiloServer.ShipperKey)));
        var ts = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var body = string.Join('\n',
            """{"create":{"_index":"anomalyzt-generic"}}""",
            $$"""{"type":"access","ts":"{{ts}}","principal":"bulk-erin@corp","resource":"/v1/models","status":200}""",
            """{"create":{"_index":"anomalyzt-generic"}}""",
            """{"type":"access","principal":"no-ts@corp"}""",
            """{"delete":{"_index":"anomalyzt-generic","_id":"1"}}""") + "\n";
        using var content = new StringContent(body, Encoding.UTF8, "application/x-ndjson");
        using var response = await client.PostAsync("_bulk", content, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.True(json.RootElement.GetProperty("errors").GetBoolean());
        var statuses = json.RootElement.GetProperty("items").EnumerateArray()
            .Select(i => i.EnumerateObject().First().Value.GetProperty("status").GetInt32()).ToList();
        Assert.Equal([201, 400, 400], statuses);

        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var entity = await viewer.GetAsync("v1/entities/identity/bulk-erin@corp", Ct);
        Assert.Equal(HttpStatusCode.OK, entity.StatusCode);
        var letters = await viewer.GetFromJsonAsync("v1/dead-letters", AnomalyJsonContext.Default.DeadLetterItemArray, Ct) ?? [];
        Assert.Equal(2, letters.Count(l => l.Source.StartsWith("bulk", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task WrongBasicPassword_IsRefused()
    {
        await using var silo = await SiloServer.StartAsync();
        using var client = new HttpClient { BaseAddress = silo.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("u:wrong")));
        using var content = new StringContent("{}\n", Encoding.UTF8, "application/x-ndjson");
        using var response = await client.PostAsync("anomalyzt-generic/_bulk", content, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ABodyOverTheLimit_Is413_OnBothDropIns()
    {
        await using var silo = await SiloServer.StartAsync(settings: new Dictionary<string, string?> { ["Ingest:MaxBodyBytes"] = "1024", ["Ingest:MaxLineBytes"] = "1024", ["Ingest:MaxFieldBytes"] = "512" });
        using var client = new HttpClient { BaseAddress = silo.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Splunk", SiloServer.ShipperKey);
        foreach (var path in new[] { "services/collector/event", "_bulk" })
        {
            using var content = new StringContent(new string(' ', 4096) + "{}", Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(path, content, Ct);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
    }
}
