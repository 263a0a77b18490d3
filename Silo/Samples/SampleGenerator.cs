using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AnomalyZT.Silo.Samples;

/// <summary>What <see cref="SampleGenerator.Generate"/> writes.</summary>
/// <param name="Seed">Seed of the one random source; the same options give byte-identical files.</param>
/// <param name="Start">First hour of the set, on a whole hour (any offset; files are named in UTC); null means
/// <see cref="DefaultStart"/>.</param>
/// <param name="Hours">Hours of logs, 1 to <see cref="SampleGenerator.MaxHours"/>.</param>
/// <param name="Scale">Copies of the platform (identities and nodes), 1 to <see cref="SampleGenerator.MaxScale"/>; the
/// event rate grows with it while every entity keeps the same behaviour. Incidents are injected into the first copy
/// only, so their entities have the same names at every scale.</param>
public sealed record SampleOptions(int Seed = 42, DateTimeOffset? Start = null, int Hours = 24, int Scale = 1)
{
    /// <summary>The start used when <see cref="Start"/> is null: 2026-11-20T00:00:00Z.</summary>
    public static DateTimeOffset DefaultStart { get; } = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    /// <summary><see cref="Start"/>, or <see cref="DefaultStart"/> when it is null.</summary>
    public DateTimeOffset StartTime => Start ?? DefaultStart;
}

/// <summary>One injected incident as the engine should see it: a feature of one entity, abnormal over a window.
/// An incident that moves several features is listed once per feature, under the same <see cref="Name"/>.</summary>
/// <param name="Name">Incident name, e.g. <c>data-exfiltration</c>.</param>
/// <param name="EntityKind"><c>identity</c> or <c>node</c>.</param>
/// <param name="EntityId">Principal or node name, as the engine keys it.</param>
/// <param name="Feature">Feature or novelty kind expected to fire (<c>bytes_out</c>, <c>new_source_ip</c>, …).</param>
/// <param name="From">Start of the window (inclusive, on a 10-minute bucket boundary).</param>
/// <param name="To">End of the window (exclusive).</param>
/// <param name="Description">What happened, for people.</param>
public sealed record SampleIncident(string Name, string EntityKind, string EntityId, string Feature, DateTimeOffset From, DateTimeOffset To, string Description);

/// <summary>Writes a seeded, realistic log set of an AI/ML platform (Istio/Envoy access logs, Kubernetes audit,
/// Zeek conn.log, dcgm-exporter GPU samples) with injected incidents, for demos, tests and benchmarks.</summary>
/// <remarks>Normal traffic is built to stay inside the engine's normal range: every identity and node draws its
/// resources, addresses, user agents and destinations from small fixed sets that it uses up in its first active
/// hour, and its volumes vary by a gentle daily cycle and modest noise. Every source of randomness is one
/// <see cref="Random"/> seeded from <see cref="SampleOptions.Seed"/>; nothing reads the clock or the culture.</remarks>
public static partial class SampleGenerator
{
    /// <summary>Largest <see cref="SampleOptions.Hours"/>: a leap year.</summary>
    public const int MaxHours = 8784;

    /// <summary>Largest <see cref="SampleOptions.Scale"/> (the address plan holds this many copies).</summary>
    public const int MaxScale = 200;

    private static readonly string[] LogPatterns = ["*.envoy.ndjson", "*.k8s-audit.ndjson", "*.zeek-conn.log", "*.gpu.ndjson"];

    /// <summary>Writes the set into <paramref name="outDir"/> (created if missing): one file per format and hour,
    /// named <c>&lt;yyyy-MM-ddTHH&gt;.&lt;format&gt;.&lt;ext&gt;</c> (envoy, k8s-audit and gpu as <c>.ndjson</c>, zeek-conn as
    /// Zeek TSV <c>.log</c>), plus <c>incidents.json</c> and <c>inventory.json</c>. Log files of those four formats
    /// already in the folder are deleted first, so the folder holds exactly one set.</summary>
    /// <returns>The injected incidents (also in <c>incidents.json</c>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range or the start is not on a whole hour.</exception>
    public static IReadOnlyList<SampleIncident> Generate(SampleOptions options, string outDir)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        var startUs = Validate(options);
        Directory.CreateDirectory(outDir);
        foreach (var pattern in LogPatterns)
        {
            foreach (var old in Directory.GetFiles(outDir, pattern))
            {
                File.Delete(old);
            }
        }

        var master = new Random(options.Seed);
        var topology = new Topology(options.Scale);
        var schedule = new IncidentSchedule(topology.Groups[0], startUs, options.Hours);
        var jobs = new JobPlan(new Random(master.Next()), topology, startUs, options.Hours);
        var envoy = new EnvoySource(new Random(master.Next()), topology, schedule);
        var k8s = new K8sSource(new Random(master.Next()), topology);
        var zeek = new ZeekSource(new Random(master.Next()), topology, schedule, jobs);
        var gpu = new GpuSource(new Random(master.Next()), topology, schedule, jobs);

        using var buffer = new LineBuffer();
        for (var hour = 0; hour < options.Hours; hour++)
        {
            var hourUs = startUs + hour * HourMicros;
            var stem = Path.Combine(outDir, UtcTime(hourUs).ToString("yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture));
            for (var b = 0; b < BucketsPerHour; b++)
            {
                envoy.Emit(hourUs + b * BucketMicros, buffer);
            }

            buffer.WriteTo(stem + ".envoy.ndjson", header: null, footer: null);
            for (var b = 0; b < BucketsPerHour; b++)
            {
                k8s.Emit(hourUs + b * BucketMicros, buffer);
            }

            buffer.WriteTo(stem + ".k8s-audit.ndjson", header: null, footer: null);
            for (var b = 0; b < BucketsPerHour; b++)
            {
                zeek.Emit(hourUs + b * BucketMicros, buffer);
            }

            buffer.WriteTo(stem + ".zeek-conn.log", ZeekSource.Header(hourUs), ZeekSource.Footer(hourUs + HourMicros));
            for (var b = 0; b < BucketsPerHour; b++)
            {
                gpu.Emit(hourUs + b * BucketMicros, buffer);
            }

            buffer.WriteTo(stem + ".gpu.ndjson", header: null, footer: null);
        }

        var incidents = schedule.Incidents.ToArray();
        WriteJson(Path.Combine(outDir, "incidents.json"), JsonSerializer.Serialize(incidents, SampleJsonContext.Default.SampleIncidentArray));
        WriteJson(Path.Combine(outDir, "inventory.json"), JsonSerializer.Serialize(topology.Inventory(), SampleJsonContext.Default.SampleInventoryEntryArray));
        return incidents;
    }

    private static long Validate(SampleOptions options)
    {
        if (options.Hours is < 1 or > MaxHours)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Hours, $"Hours is {options.Hours}; it must be 1 to {MaxHours}");
        }

        if (options.Scale is < 1 or > MaxScale)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Scale, $"Scale is {options.Scale}; it must be 1 to {MaxScale}");
        }

        var start = options.StartTime.ToUniversalTime();
        if (start.Ticks % TimeSpan.TicksPerHour != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.StartTime,
                $"Start is {start.ToString("O", CultureInfo.InvariantCulture)}; it must fall on a whole hour");
        }

        if (start.Year < 1971 || start.AddHours(options.Hours).Year > 9998)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.StartTime,
                $"Start is {start.ToString("O", CultureInfo.InvariantCulture)}; the set must lie between 1971 and 9998");
        }

        return (start.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TicksPerMicro;
    }

    private static void WriteJson(string path, string json) =>
        File.WriteAllText(path, json + "\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
}
