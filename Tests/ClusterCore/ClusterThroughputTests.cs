using System.Diagnostics;
using System.Globalization;
using AnomalyZT.Silo.Cli;
using AnomalyZT.Silo.Samples;
using AnomalyZT.Tests.Cluster;
using AnomalyZT.Tests.Silo;
using AnomalyZT.Tests.State;

namespace AnomalyZT.Tests.ClusterCore;

/// <summary>A load run, not a timed test: the same generated input through one silo and through three, both must
/// produce the same findings; ingest and drain rates are written out for the record (nothing asserts on time).</summary>
public sealed class ClusterThroughputTests(PostgresFixture postgres, RabbitMqFixture rabbit)
    : IClassFixture<PostgresFixture>, IClassFixture<RabbitMqFixture>
{
    private const int Partitions = 16;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OneSiloAndThreeSilos_ProduceTheSameFindings_AndTheirRatesAreRecorded()
    {
        var input = Path.Combine(Path.GetTempPath(), "anomalyzt-load-" + Guid.NewGuid().ToString("N"));
        SampleGenerator.Generate(new SampleOptions(42, null, 24, 4), input); // the samples' topology (their inventory applies), four times the traffic
        var inputs = InputFiles.Resolve([input], null);
        var lines = inputs.Sum(i => File.ReadLines(i.Path).Count(l => l.Length > 0 && l[0] != '#'));

        var one = await RunAsync(1, inputs);
        var three = await RunAsync(3, inputs);
        Assert.Equal(ClusterTestKit.Key(one.Findings), ClusterTestKit.Key(three.Findings));
        Assert.NotEmpty(one.Findings);

        var report = string.Create(CultureInfo.InvariantCulture,
            $"lines={lines} 1 silo: ingest (one shipper into silo 1) {lines / one.Ingest.TotalSeconds:0} lines/s, end-to-end {lines / one.Total.TotalSeconds:0} lines/s; " +
            $"3 silos: ingest {lines / three.Ingest.TotalSeconds:0} lines/s, end-to-end {lines / three.Total.TotalSeconds:0} lines/s\n");
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "anomalyzt-cluster-throughput.txt"), report, Ct);
        Directory.Delete(input, recursive: true);
    }

    private async Task<(List<AnomalyZT.Grains.Interfaces.Finding> Findings, TimeSpan Ingest, TimeSpan Total)> RunAsync(int silos, IReadOnlyList<(string Path, string Format)> inputs)
    {
        var kit = new ClusterTestKit(postgres, rabbit, Partitions);
        var started = new List<(Response.PeerProcess Process, HttpClient Admin, int Port, string Id)>();
        try
        {
            for (var i = 1; i <= silos; i++)
            {
                started.Add(await kit.StartSiloAsync("L" + i.ToString(CultureInfo.InvariantCulture)));
            }

            await ClusterTestKit.WaitAsync(async () => (await kit.HeldAsync()).Count == Partitions, "every partition to be held");
            var clock = Stopwatch.StartNew();
            // One shipper, interleaved by event time (independent shippers racing ahead of each other would make the
            // slower ones' events late); the partitions it feeds are consumed by every silo.
            await Shipper.ShipAsync(inputs, started[0].Admin.BaseAddress!, SiloServer.ShipperKey, 60, Ct);
            var ingest = clock.Elapsed;
            using (var close = await started[0].Admin.PostAsync("v1/runtime/close-all", null, Ct))
            {
                Assert.True(close.IsSuccessStatusCode, await close.Content.ReadAsStringAsync(Ct));
            }

            var total = clock.Elapsed;
            return (await ClusterTestKit.AllFindingsAsync(started[0].Admin), ingest, total);
        }
        finally
        {
            foreach (var s in started)
            {
                s.Admin.Dispose();
                await s.Process.DisposeAsync();
            }
        }
    }
}
