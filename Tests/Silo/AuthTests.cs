using System.Net;
using System.Text;

namespace AnomalyZT.Tests.Silo;

public sealed class AuthTests : IAsyncLifetime
{
    private SiloServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SiloServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        SiloServer.DeleteDirectory(_server.DataDirectory);
    }

    [Theory]
    [InlineData("GET", "v1/alerts")]
    [InlineData("GET", "v1/entities/identity/alice")]
    [InlineData("GET", "v1/dead-letters")]
    [InlineData("POST", "v1/ingest/envoy")]
    [InlineData("GET", "v1/unknown")]
    public async Task Endpoint_WithoutKey_Is401(string method, string path)
    {
        using var client = _server.Client(null);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("{}\n", Encoding.UTF8);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Endpoint_WithWrongKey_Is401()
    {
        using var client = _server.Client("not-a-key");
        using var response = await client.GetAsync("v1/alerts", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Alerts_WithShipperKey_Is403()
    {
        using var client = _server.Client(SiloServer.ShipperKey);
        using var response = await client.GetAsync("v1/alerts", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Ingest_WithViewerKey_Is403()
    {
        using var client = _server.Client(SiloServer.ViewerKey);
        using var response = await client.PostAsync("v1/ingest/envoy", new StringContent("\n"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData(SiloServer.ViewerKey)]
    [InlineData(SiloServer.AdminKey)]
    public async Task Alerts_WithReadRole_Is200(string key)
    {
        using var client = _server.Client(key);
        using var response = await client.GetAsync("v1/alerts", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task XApiKeyHeader_IsAccepted()
    {
        using var client = _server.Client(null);
        client.DefaultRequestHeaders.Add("X-Api-Key", SiloServer.ViewerKey);
        using var response = await client.GetAsync("v1/alerts", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("healthz")]
    [InlineData("readyz")]
    public async Task Health_WithoutKey_Is200(string path)
    {
        using var client = _server.Client(null);
        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
