using System.Text.Json;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Cli;

namespace AnomalyZT.Tests.Silo;

public sealed class SamplesReplayTests
{
    private static async Task<(List<Finding> Findings, byte[] Jsonl)> ReplaySamplesAsync(int batchSize = 4096, int partitions = 16)
    {
        var inputs = InputFiles.Resolve([RepoPaths.Samples], null);
        var inventory = CliCommands.LoadInventory(Path.Combine(RepoPaths.Samples, "inventory.json"));
        var (findings, summary) = await ReplayCommand.RunAsync(inputs, DetectionConfig.Default, inventory, partitions, TextWriter.Null, TestContext.Current.CancellationToken, batchSize);
        Assert.Equal(0, summary.Rejected);
        using var output = new MemoryStream();
        ReplayCommand.WriteJsonl(findings, output);
        return (findings, output.ToArray());
    }

    [Fact]
    public async Task Replay_Samples_FindsEveryInjectedIncident()
    {
        var (findings, _) = await ReplaySamplesAsync();
        using var incidents = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Samples, "incidents.json"), TestContext.Current.CancellationToken));
        var count = 0;
        foreach (var incident in incidents.RootElement.EnumerateArray())
        {
            count++;
            var kind = incident.GetProperty("entityKind").GetString() == "identity" ? EntityKind.Identity : EntityKind.Node;
            var id = incident.GetProperty("entityId").GetString();
            var feature = incident.GetProperty("feature").GetString();
            var from = incident.GetProperty("from").GetDateTimeOffset().ToUnixTimeMilliseconds();
            var to = incident.GetProperty("to").GetDateTimeOffset().ToUnixTimeMilliseconds();
            Assert.True(
                findings.Exists(f => f.EntityKind == kind && f.EntityId == id && f.Feature == feature && f.BucketStartMs + (f.BucketSeconds * 1000L) > from && f.BucketStartMs < to),
                $"no {feature} finding on {kind}/{id} between {incident.GetProperty("from")} and {incident.GetProperty("to")}");
        }

        Assert.True(count >= 3, "the sample set must carry at least three incidents");
    }

    [Fact]
    public async Task Replay_Samples_FewFindingsOnNormalTraffic()
    {
        var (findings, _) = await ReplaySamplesAsync();
        using var incidents = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Samples, "incidents.json"), TestContext.Current.CancellationToken));
        var windows = new List<(string Id, long From, long To)>();
        foreach (var incident in incidents.RootElement.EnumerateArray())
        {
            windows.Add((incident.GetProperty("entityId").GetString()!,
                incident.GetProperty("from").GetDateTimeOffset().ToUnixTimeMilliseconds(),
                incident.GetProperty("to").GetDateTimeOffset().ToUnixTimeMilliseconds()));
        }

        var normal = findings.FindAll(f => !windows.Exists(w => w.Id == f.EntityId && f.BucketStartMs + (f.BucketSeconds * 1000L) > w.From && f.BucketStartMs < w.To));
        // The closing note of issue 2 reports this number; the bound catches a detector change that floods analysts.
        Assert.True(normal.Count <= 5, $"{normal.Count} findings on normal traffic: {string.Join("; ", normal.ConvertAll(f => f.EntityId + " " + f.Feature + " " + f.Explanation))}");
    }

    [Fact]
    public async Task Replay_Twice_IsByteForByteIdentical()
    {
        var (_, a) = await ReplaySamplesAsync();
        var (_, b) = await ReplaySamplesAsync();
        Assert.NotEmpty(a);
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task Replay_DifferentBatchingAndPartitions_SameBytes()
    {
        // Live ingest delivers in many small bodies, replays in large batches: findings must not care.
        var (_, large) = await ReplaySamplesAsync(4096, 16);
        var (_, small) = await ReplaySamplesAsync(7, 3);
        Assert.Equal(large, small);
    }
}
