using System.Globalization;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Scrape;

/// <summary>Turns dcgm-exporter metrics into <see cref="GpuSample"/>s: <c>DCGM_FI_DEV_GPU_UTIL</c>,
/// <c>DCGM_FI_DEV_FB_USED</c> and <c>DCGM_FI_DEV_POWER_USAGE</c> grouped by node (<c>Hostname</c> or
/// <c>hostname</c>), GPU index (<c>gpu</c>) and <c>UUID</c>. Pod and namespace come from <c>pod</c>/<c>namespace</c>
/// or, behind a Prometheus that renamed them, <c>exported_pod</c>/<c>exported_namespace</c>. A reading that is absent,
/// not finite or one of DCGM's blank sentinels is NaN, as with the JSON GPU parser.</summary>
public static class DcgmSamples
{
    /// <summary>GPU utilization, percent.</summary>
    public const string Util = "DCGM_FI_DEV_GPU_UTIL";

    /// <summary>Framebuffer memory used, MiB.</summary>
    public const string FbUsed = "DCGM_FI_DEV_FB_USED";

    /// <summary>Power draw, watts.</summary>
    public const string Power = "DCGM_FI_DEV_POWER_USAGE";

    // DCGM's blanks: DCGM_INT32_BLANK is 0x7ffffff0 (2147483632) and the int32 "not found"/"not supported"/"not
    // permissioned" sentinels sit just above it; the int64 ones sit near 2^63 (9223372036854775794 in the exporter's
    // README); DCGM_FP64_BLANK is 2^47 (140737488355328). None of util %, MiB or watts comes near 2^31 - 16.
    private const double DcgmInt32Blank = 2147483632.0;

    /// <summary>True when <paramref name="value"/> is no reading: NaN, infinite, negative, or a DCGM blank.</summary>
    public static bool IsBlank(double value) => !double.IsFinite(value) || value < 0 || value >= DcgmInt32Blank;

    /// <summary>Groups the dcgm samples of one scrape. Lines without a node label take <paramref name="defaultNode"/>,
    /// or, when that is null, are reported in <paramref name="unattributed"/> and skipped; other metrics are ignored.
    /// The time is the latest line timestamp of the group, or <paramref name="scrapeTimeMs"/> when no line has one.</summary>
    public static IReadOnlyList<GpuSample> From(
        IEnumerable<PrometheusSample> samples, long scrapeTimeMs, string? defaultNode = null, ICollection<PrometheusLineError>? unattributed = null)
    {
        var order = new List<Group>();
        var groups = new Dictionary<(string Node, int Gpu, string? Uuid), Group>();
        foreach (var sample in samples ?? [])
        {
            var field = sample.Name switch
            {
                Util => 0,
                FbUsed => 1,
                Power => 2,
                _ => -1,
            };
            if (field < 0)
            {
                continue;
            }

            var node = NonEmpty(sample.Label("Hostname")) ?? NonEmpty(sample.Label("hostname")) ?? defaultNode;
            if (node is null)
            {
                unattributed?.Add(new PrometheusLineError(sample.LineNumber, $"{sample.Name} has no 'Hostname' label", sample.Name));
                continue;
            }

            var gpu = int.TryParse(sample.Label("gpu"), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1;
            var uuid = NonEmpty(sample.Label("UUID")) ?? NonEmpty(sample.Label("uuid"));
            var key = (node, gpu, uuid);
            if (!groups.TryGetValue(key, out var group))
            {
                group = new Group(node, gpu, uuid);
                groups.Add(key, group);
                order.Add(group);
            }

            var value = IsBlank(sample.Value) ? double.NaN : sample.Value;
            switch (field)
            {
                case 0: group.Util = value; break;
                case 1: group.FbUsed = value; break;
                default: group.Power = value; break;
            }

            if (sample.TimestampMs is { } ts && (group.TimeMs is null || ts > group.TimeMs))
            {
                group.TimeMs = ts;
            }

            group.Pod ??= NonEmpty(sample.Label("pod")) ?? NonEmpty(sample.Label("exported_pod"));
            group.Namespace ??= NonEmpty(sample.Label("namespace")) ?? NonEmpty(sample.Label("exported_namespace"));
        }

        var result = new GpuSample[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            var g = order[i];
            result[i] = new GpuSample(g.TimeMs ?? scrapeTimeMs, g.Node, g.Uuid, g.Gpu, g.Util, g.FbUsed, g.Power, g.Pod, g.Namespace);
        }

        return result;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private sealed class Group(string node, int gpu, string? uuid)
    {
        public string Node { get; } = node;

        public int Gpu { get; } = gpu;

        public string? Uuid { get; } = uuid;

        public double Util { get; set; } = double.NaN;

        public double FbUsed { get; set; } = double.NaN;

        public double Power { get; set; } = double.NaN;

        public long? TimeMs { get; set; }

        public string? Pod { get; set; }

        public string? Namespace { get; set; }
    }
}
