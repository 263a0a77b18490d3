using System.Diagnostics;
using System.Globalization;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Cli;
using AnomalyZT.Tests.Cluster;
using AnomalyZT.Tests.Response;
using AnomalyZT.Tests.Silo;
using AnomalyZT.Tests.State;

namespace AnomalyZT.Tests.ClusterCore;

/// <summary>Three real silo processes on one RabbitMQ and one PostgreSQL: the samples are streamed in, one silo is
/// killed with SIGKILL mid-stream, and at the end the findings equal those of an embedded replay of the same input —
/// none lost, none doubled. Then a fourth silo joins and takes its share of the partitions.</summary>
public sealed class ClusterEquivalenceTests(PostgresFixture postgres, RabbitMqFixture rabbit)
    : IClassFixture<PostgresFixture>, IClassFixture<RabbitMqFixture>
{
    private const int Partitions = 16;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillingASiloMidStream_LosesAndDoublesNothing_AndANewSiloTakesItsShare()
    {
        var inputs = InputFiles.Resolve([RepoPaths.Samples], null);
        var inventory = CliCommands.LoadInventory(Path.Combine(RepoPaths.Samples, "inventory.json"));
        var (reference, _) = await ReplayCommand.RunAsync(inputs, DetectionConfig.Default, inventory, Partitions, TextWriter.Null, Ct);
        Assert.NotEmpty(reference);

        var kit = new ClusterTestKit(postgres, rabbit, Partitions);
        var silos = new List<(PeerProcess Process, HttpClient Admin, int Port, string Id)>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                silos.Add(await kit.StartSiloAsync("s" + i.ToString(CultureInfo.InvariantCulture)));
            }

            await ClusterTestKit.WaitAsync(async () => (await kit.HeldAsync()).Count == Partitions, "the three silos to hold every partition");

            // Stream the input in through silo 1; kill silo 2 while the partitions are still consuming it.
            var shipping = Shipper.ShipAsync(inputs, silos[0].Admin.BaseAddress!, SiloServer.ShipperKey, 60, Ct);
            await Task.Delay(500, Ct);
            var killed = Stopwatch.StartNew();
            await silos[1].Process.DisposeAsync(); // SIGKILL
            var takeover = ClusterTestKit.WaitAsync(async () => await kit.HeldAsync() is var held && !held.ContainsValue("s2") && held.Count == Partitions,
                "the survivors to take over silo 2's partitions").ContinueWith(t => (t, killed.Elapsed), TaskScheduler.Default);
            var shipped = await shipping;
            Assert.Equal(0, shipped.Rejected);
            var (took, failover) = await takeover;
            await took; // rethrows a timeout

            using (var close = await silos[0].Admin.PostAsync("v1/runtime/close-all", null, Ct))
            {
                Assert.True(close.IsSuccessStatusCode, await close.Content.ReadAsStringAsync(Ct));
            }

            var findings = await ClusterTestKit.AllFindingsAsync(silos[0].Admin);
            Assert.Equal(findings.Count, findings.Select(f => f.Id).Distinct().Count());
            Assert.Equal(ClusterTestKit.Key(reference), ClusterTestKit.Key(findings));

            // A fourth silo joins and takes a fair share within a bounded time.
            var joined = Stopwatch.StartNew();
            silos.Add(await kit.StartSiloAsync("s4"));
            await ClusterTestKit.WaitAsync(async () => (await kit.HeldAsync()).Values.Count(o => o == "s4") >= Partitions / 3 - 1, "silo 4 to take its share");
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"failover {failover.TotalSeconds:0.0} s, rebalance {joined.Elapsed.TotalSeconds:0.0} s, {findings.Count} findings"));
            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "anomalyzt-cluster-times.txt"), string.Create(CultureInfo.InvariantCulture,
                $"failover_s={failover.TotalSeconds:0.0} rebalance_s={joined.Elapsed.TotalSeconds:0.0} findings={findings.Count}\n"), Ct);
        }
        finally
        {
            foreach (var s in silos)
            {
                s.Admin.Dispose();
                await s.Process.DisposeAsync();
            }
        }
    }
}
