using System.Net;
using System.Net.Http.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Silo.State;
using AnomalyZT.Tests.Response.Core;
using AnomalyZT.Tests.Silo;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyZT.Tests.SiemCore;

public sealed class FindingsPullTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PollingWithTheCursor_ReturnsEveryFindingOnceInCommitOrder_AndWaitsAtTheEnd()
    {
        await using var silo = await SiloServer.StartAsync();
        var store = silo.App.Services.GetRequiredService<IStateStore>();
        var first = Enumerable.Range(0, 5).Select(i => ResponseHarness.IdentityFinding("u" + i, "failures", 100 - i, Severity.Medium)).ToArray();
        await store.CommitAsync(new Checkpoint([], first, []), Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);

        var seen = new List<string>();
        string? cursor = null;
        for (var i = 0; i < 10; i++)
        {
            var page = await viewer.GetFromJsonAsync("v1/findings?limit=2" + (cursor is null ? string.Empty : "&cursor=" + cursor), AnomalyJsonContext.Default.FindingStreamPage, Ct);
            seen.AddRange(page!.Items.Select(f => f.Id));
            cursor = page.NextCursor;
            if (page.Items.Count == 0)
            {
                break;
            }
        }

        Assert.Equal(first.Select(f => f.Id), seen); // commit order, not bucket order

        var late = ResponseHarness.IdentityFinding("late", "failures", 0, Severity.High);
        await store.CommitAsync(new Checkpoint([], [late], []), Ct);
        var next = await viewer.GetFromJsonAsync("v1/findings?cursor=" + cursor, AnomalyJsonContext.Default.FindingStreamPage, Ct);
        Assert.Equal(late.Id, Assert.Single(next!.Items).Id);
    }

    [Theory]
    [InlineData(SiloServer.ViewerKey, "v1/findings?cursor=abc", HttpStatusCode.BadRequest)]
    [InlineData(SiloServer.ViewerKey, "v1/findings?limit=5000", HttpStatusCode.BadRequest)]
    [InlineData(SiloServer.ShipperKey, "v1/findings", HttpStatusCode.Forbidden)]
    [InlineData(SiloServer.ViewerKey, "v1/sinks", HttpStatusCode.OK)]
    [InlineData(SiloServer.ShipperKey, "v1/sinks", HttpStatusCode.Forbidden)]
    public async Task PullEndpoints_CheckTheirInputAndRole(string key, string path, HttpStatusCode expected)
    {
        await using var silo = await SiloServer.StartAsync();
        using var client = silo.Client(key);
        using var response = await client.GetAsync(path, Ct);
        Assert.Equal(expected, response.StatusCode);
    }
}
