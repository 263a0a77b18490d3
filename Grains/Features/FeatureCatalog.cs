using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Grains.Features;

/// <summary>How a feature turns the events of a bucket into one number.</summary>
public enum Aggregation : byte
{
    /// <summary>Sum of contributions (requests, bytes).</summary>
    Sum = 0,

    /// <summary>Mean of contributions (utilisation samples).</summary>
    Mean = 1,

    /// <summary>Count of distinct values (resources, destinations).</summary>
    Distinct = 2,
}

/// <summary>A tracked numeric feature of an entity class.</summary>
/// <param name="Index">Slot of the feature in its grain.</param>
/// <param name="Name">Wire name, used in config, findings and the API.</param>
/// <param name="Kind">Entity class the feature belongs to.</param>
/// <param name="Aggregation">Bucket aggregation.</param>
/// <param name="DefaultBucketSeconds">Bucket span when the config says nothing.</param>
/// <param name="Unit">Unit for explanations.</param>
public sealed record FeatureDefinition(int Index, string Name, EntityKind Kind, Aggregation Aggregation, int DefaultBucketSeconds, string Unit);

/// <summary>The features the grains track. Names are the tuning surface of <c>detectors.yaml</c>.</summary>
public static class FeatureCatalog
{
    /// <summary>Default bucket span: ten minutes.</summary>
    public const int DefaultBucketSeconds = 600;

    /// <summary>Identity: requests made.</summary>
    public static readonly FeatureDefinition Requests = new(0, "requests", EntityKind.Identity, Aggregation.Sum, DefaultBucketSeconds, "requests");

    /// <summary>Identity: failed or denied requests.</summary>
    public static readonly FeatureDefinition Failures = new(1, "failures", EntityKind.Identity, Aggregation.Sum, DefaultBucketSeconds, "requests");

    /// <summary>Identity: bytes returned to the identity (data pulled out).</summary>
    public static readonly FeatureDefinition BytesOut = new(2, "bytes_out", EntityKind.Identity, Aggregation.Sum, DefaultBucketSeconds, "bytes");

    /// <summary>Identity: distinct resources touched.</summary>
    public static readonly FeatureDefinition DistinctResources = new(3, "distinct_resources", EntityKind.Identity, Aggregation.Distinct, DefaultBucketSeconds, "resources");

    /// <summary>Node: bytes the node sent.</summary>
    public static readonly FeatureDefinition EgressBytes = new(0, "egress_bytes", EntityKind.Node, Aggregation.Sum, DefaultBucketSeconds, "bytes");

    /// <summary>Node: bytes the node received.</summary>
    public static readonly FeatureDefinition IngressBytes = new(1, "ingress_bytes", EntityKind.Node, Aggregation.Sum, DefaultBucketSeconds, "bytes");

    /// <summary>Node: distinct destination addresses it talked to.</summary>
    public static readonly FeatureDefinition DistinctDestinations = new(2, "distinct_destinations", EntityKind.Node, Aggregation.Distinct, DefaultBucketSeconds, "addresses");

    /// <summary>Node: distinct destination ports it talked to.</summary>
    public static readonly FeatureDefinition DistinctDstPorts = new(3, "distinct_dst_ports", EntityKind.Node, Aggregation.Distinct, DefaultBucketSeconds, "ports");

    /// <summary>Node: mean GPU utilisation over its GPUs' samples.</summary>
    public static readonly FeatureDefinition GpuUtil = new(4, "gpu_util", EntityKind.Node, Aggregation.Mean, DefaultBucketSeconds, "%");

    /// <summary>Node: mean GPU framebuffer memory used.</summary>
    public static readonly FeatureDefinition GpuMemUsed = new(5, "gpu_mem_used", EntityKind.Node, Aggregation.Mean, DefaultBucketSeconds, "MiB");

    /// <summary>Node: mean GPU utilisation of samples with no pod attached (busy GPU, no scheduled job).</summary>
    public static readonly FeatureDefinition GpuUtilUnattributed = new(6, "gpu_util_unattributed", EntityKind.Node, Aggregation.Mean, DefaultBucketSeconds, "%");

    /// <summary>Identity features in slot order.</summary>
    public static readonly FeatureDefinition[] Identity = [Requests, Failures, BytesOut, DistinctResources];

    /// <summary>Node features in slot order.</summary>
    public static readonly FeatureDefinition[] Node = [EgressBytes, IngressBytes, DistinctDestinations, DistinctDstPorts, GpuUtil, GpuMemUsed, GpuUtilUnattributed];

    /// <summary>Novelty kinds tracked per identity.</summary>
    public static readonly string[] IdentityNovelty = ["new_resource", "new_source_ip", "new_user_agent"];

    /// <summary>Novelty kinds tracked per node.</summary>
    public static readonly string[] NodeNovelty = ["new_destination"];

    /// <summary>Features of an entity class.</summary>
    public static FeatureDefinition[] For(EntityKind kind) => kind == EntityKind.Identity ? Identity : Node;

    /// <summary>Novelty kinds of an entity class.</summary>
    public static string[] NoveltyFor(EntityKind kind) => kind == EntityKind.Identity ? IdentityNovelty : NodeNovelty;
}
