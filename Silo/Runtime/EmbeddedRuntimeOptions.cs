using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Silo.Runtime;

/// <summary>Embedded runtime settings (section <c>Runtime</c>).</summary>
public sealed class EmbeddedRuntimeOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Runtime";

    /// <summary>Partitions (worker queues). Fixed for the life of a data folder.</summary>
    public int Partitions { get; set; } = 64;

    /// <summary><c>Embedded</c> (in-process partitions, SQLite) or <c>Cluster</c> (RabbitMQ partition queues,
    /// PostgreSQL state, several silos).</summary>
    public string Mode { get; set; } = "Embedded";

    /// <summary>Messages a partition may hold before ingest answers 429.</summary>
    public int QueueCapacity { get; set; } = 16_384;

    /// <summary>Grains a partition keeps in memory; beyond it, saved idle grains are dropped and reloaded from the
    /// state store when their entity shows up again. 0 keeps every grain (replays).</summary>
    public int MaxGrainsPerPartition { get; set; } = 8192;

    /// <summary>How often dirty grains, findings and dead letters are committed to the state store.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Path of <c>detectors.yaml</c>; empty uses the built-in defaults.</summary>
    public string DetectorsFile { get; set; } = string.Empty;

    /// <summary>IP/CIDR → node entries for flows.</summary>
    public List<InventoryEntry> Inventory { get; set; } = [];

    /// <summary>A JSON file with more entries (an array of <c>{"cidr", "node"}</c>), e.g. exported from a CMDB.</summary>
    public string InventoryFile { get; set; } = string.Empty;
}
