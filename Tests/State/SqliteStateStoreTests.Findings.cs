using System.Buffers.Text;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Tests.State;

/// <summary>Findings: insert-or-ignore, filters, cursor paging, JSON fidelity.</summary>
public sealed partial class SqliteStateStoreTests
{
    private const long MinuteMs = 60_000;

    [Fact]
    public async Task CommitAsync_SameFindingIdTwice_KeepsFirstRowOnly()
    {
        var store = await OpenAsync();
        var first = NewFinding(EntityKind.Identity, "alice", "robust-level", StartMs);
        var replayed = first with { Explanation = "a replay must not overwrite the original" };

        await store.CommitAsync(Of(findings: [first, replayed]), Ct);
        await store.CommitAsync(Of(findings: [replayed]), Ct);

        var page = await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 100), Ct);
        Assert.Equal(first, Assert.Single(page.Items));
        await using var side = OpenSide();
        Assert.Equal(["1"], await StringsAsync(side, "SELECT COUNT(*) FROM findings;"));
    }

    [Theory]
    [InlineData(null, null, null, null)]
    [InlineData("identity", null, null, null)]
    [InlineData("node", null, null, null)]
    [InlineData("identity", "alice", null, null)]
    [InlineData(null, "alice", null, null)]
    [InlineData(null, null, "first-seen", null)]
    [InlineData(null, null, null, 3)]
    [InlineData("node", "alice", "robust-level", 2)]
    public async Task QueryFindingsAsync_Filters_ReturnExactlyTheMatchingFindingsInOrder(
        string? kindName, string? entityId, string? detector, int? sinceBucket)
    {
        var store = await OpenAsync();
        var all = FilterDataset();
        await store.CommitAsync(Of(findings: all), Ct);
        EntityKind? kind = EntityKey.TryParseKind(kindName, out var parsed) ? parsed : null;
        long? sinceMs = sinceBucket is { } b ? StartMs + (b * MinuteMs) : null;

        var page = await store.QueryFindingsAsync(new FindingQuery(kind, entityId, detector, sinceMs, null, 1000), Ct);

        var expected = all
            .Where(f => kind is null || f.EntityKind == kind)
            .Where(f => entityId is null || f.EntityId == entityId)
            .Where(f => detector is null || f.Detector == detector)
            .Where(f => sinceMs is null || f.BucketStartMs >= sinceMs)
            .OrderBy(f => f.BucketStartMs).ThenBy(f => f.Id, StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, page.Items);
        Assert.Null(page.NextCursor);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(250)]
    [InlineData(1000)]
    public async Task QueryFindingsAsync_PagingWithCursors_ReturnsEveryItemOnceInStableOrder(int limit)
    {
        var store = await OpenAsync();
        var all = Enumerable.Range(0, 250)
            .Select(i => NewFinding(EntityKind.Identity, $"user-{i:D3}", "robust-level", StartMs + (i % 10 * MinuteMs)))
            .ToList();
        var shuffled = all.ToArray();
        new Random(42).Shuffle(shuffled);
        foreach (var chunk in shuffled.Chunk(50))
        {
            await store.CommitAsync(Of(findings: chunk), Ct);
        }

        var seen = new List<Finding>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await store.QueryFindingsAsync(new FindingQuery(EntityKind.Identity, null, null, null, cursor, limit), Ct);
            Assert.InRange(page.Items.Count, 1, limit);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
            pages++;
            Assert.True(pages <= 250, "the cursor must move forward on every page");
        }
        while (cursor is not null);

        var expected = all.OrderBy(f => f.BucketStartMs).ThenBy(f => f.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, seen);
        Assert.Equal((250 + limit - 1) / limit, pages);
    }

    [Fact]
    public async Task QueryFindingsAsync_FindingsArriveBetweenPages_NoDuplicatesAndLaterOnesAppear()
    {
        var store = await OpenAsync();
        var initial = Enumerable.Range(0, 6)
            .Select(i => NewFinding(EntityKind.Node, $"gpu-{i}", "robust-level", StartMs + (i * MinuteMs)))
            .ToList();
        await store.CommitAsync(Of(findings: initial), Ct);
        var query = new FindingQuery(null, null, null, null, null, 3);
        var firstPage = await store.QueryFindingsAsync(query, Ct);

        var behind = NewFinding(EntityKind.Node, "gpu-late", "robust-level", StartMs);
        var ahead = NewFinding(EntityKind.Node, "gpu-new", "robust-level", StartMs + (10 * MinuteMs));
        await store.CommitAsync(Of(findings: [behind, ahead]), Ct);
        var rest = await store.QueryFindingsAsync(query with { Cursor = firstPage.NextCursor, Limit = 100 }, Ct);

        Assert.Equal(initial.Take(3), firstPage.Items);
        Assert.Equal([.. initial.Skip(3), ahead], rest.Items);
    }

    [Theory]
    [InlineData("no-colon", true)]
    [InlineData(":0123abcd", true)]
    [InlineData("1700000000000:", true)]
    [InlineData("x17:0123abcd", true)]
    [InlineData("99999999999999999999999:0123abcd", true)]
    [InlineData("not base64!", false)]
    [InlineData("a", false)]
    [InlineData("", false)]
    [InlineData("__-", false)] // base64url of 0xFF 0xFE: not UTF-8
    public async Task QueryFindingsAsync_BadCursor_ThrowsArgumentException(string text, bool encode)
    {
        var store = await OpenAsync();
        var cursor = encode ? Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text)) : text;

        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => store.QueryFindingsAsync(new FindingQuery(null, null, null, null, cursor, 10), Ct));

        Assert.StartsWith("Cursor is not valid", error.Message, StringComparison.Ordinal);
        Assert.Equal("query", error.ParamName);
    }

    [Fact]
    public async Task QueryFindingsAsync_OverlongCursor_ThrowsArgumentException()
    {
        var store = await OpenAsync();
        var cursor = new string('A', FindingCursor.MaxLength + 1);

        await Assert.ThrowsAsync<ArgumentException>(
            () => store.QueryFindingsAsync(new FindingQuery(null, null, null, null, cursor, 10), Ct));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    public async Task QueryFindingsAsync_LimitOutOfRange_ThrowsArgumentOutOfRangeException(int limit)
    {
        var store = await OpenAsync();

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, limit), Ct));

        Assert.Contains("between 1 and 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommitAsync_FindingWithNaNAndInfinities_RoundTripsExactly()
    {
        var store = await OpenAsync();
        var finding = NewFinding(EntityKind.Identity, "alice", "first-seen", StartMs) with
        {
            PValue = double.NaN,
            Observed = double.PositiveInfinity,
            Lower = double.NegativeInfinity,
            Score = 0.1 + 0.2, // a value with no short decimal form
        };

        await store.CommitAsync(Of(findings: [finding]), Ct);

        var loaded = Assert.Single((await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 10), Ct)).Items);
        Assert.Equal(finding, loaded);
        Assert.True(double.IsNaN(loaded.PValue));
        await using var side = OpenSide();
        var json = Assert.Single(await StringsAsync(side, "SELECT json FROM findings;"));
        Assert.Contains("\"pValue\":\"NaN\"", json, StringComparison.Ordinal);
        Assert.Contains("\"observed\":\"Infinity\"", json, StringComparison.Ordinal);
        Assert.Contains("\"entityKind\":\"Identity\"", json, StringComparison.Ordinal);
    }

    /// <summary>Two identities, two nodes (one node shares an identity's id), two detectors, five buckets.</summary>
    private static List<Finding> FilterDataset()
    {
        (EntityKind Kind, string Id)[] entities =
            [(EntityKind.Identity, "alice"), (EntityKind.Identity, "bob"), (EntityKind.Node, "gpu-01"), (EntityKind.Node, "alice")];
        string[] detectors = ["robust-level", "first-seen"];
        return
        [
            .. from entity in entities
               from detector in detectors
               from bucket in Enumerable.Range(0, 5)
               select NewFinding(entity.Kind, entity.Id, detector, StartMs + (bucket * MinuteMs)),
        ];
    }

    private static Finding NewFinding(EntityKind kind, string entityId, string detector, long bucketStartMs) => new()
    {
        Id = Finding.ComputeId(kind, entityId, detector, "bytes_out", bucketStartMs),
        EntityKind = kind,
        EntityId = entityId,
        Detector = detector,
        Feature = "bytes_out",
        BucketStartMs = bucketStartMs,
        BucketSeconds = 60,
        Observed = 1234.5,
        Expected = 100,
        Lower = 0,
        Upper = 300,
        Score = 7.25,
        PValue = 0.001,
        Severity = Severity.High,
        ConfigVersion = "cfg-1",
        BaselineCount = 37,
        Explanation = "bytes_out 1234.5 is far above the usual 100 (bounds 0..300, p=0.001).",
    };
}
