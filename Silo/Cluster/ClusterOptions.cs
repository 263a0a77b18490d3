namespace AnomalyZT.Silo.Cluster;

/// <summary>Cluster settings (section <c>Cluster</c>); used when <c>Runtime:Mode</c> is <c>Cluster</c>. The broker is
/// <c>Cluster:RabbitMq</c>, the state store <c>State:Postgres</c>.</summary>
public sealed class ClusterOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Cluster";

    /// <summary>This silo's name in leases and logs; empty: host name and process id.</summary>
    public string SiloId { get; set; } = string.Empty;

    /// <summary>How long a partition lease (and a silo's heartbeat) lasts without renewal: a killed silo's partitions
    /// move after at most this long.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often leases are renewed and the partitions rebalanced.</summary>
    public TimeSpan BalanceInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Event-time seconds between clock ticks sent to partitions that an ingest batch did not touch.</summary>
    public int TickSeconds { get; set; } = 60;

    /// <summary>Unacknowledged batches after which a partition checkpoints early (besides Runtime:CheckpointInterval).</summary>
    public int CheckpointEveryBatches { get; set; } = 500;

    /// <summary>The silo id in force.</summary>
    public string EffectiveSiloId => SiloId.Length > 0 ? SiloId : Environment.MachineName + "-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Errors naming the key, the value and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (LeaseTtl < TimeSpan.FromSeconds(2) || LeaseTtl > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Cluster:LeaseTtl is {LeaseTtl}; it must be from 00:00:02 to 00:10:00");
        }

        if (BalanceInterval < TimeSpan.FromMilliseconds(200) || BalanceInterval * 2 >= LeaseTtl)
        {
            errors.Add($"Cluster:BalanceInterval is {BalanceInterval}; it must be at least 00:00:00.2 and less than half of Cluster:LeaseTtl ({LeaseTtl})");
        }

        if (TickSeconds is < 1 or > 86_400)
        {
            errors.Add($"Cluster:TickSeconds is {TickSeconds}; it must be from 1 to 86400");
        }

        if (CheckpointEveryBatches is < 1 or > 1_000_000)
        {
            errors.Add($"Cluster:CheckpointEveryBatches is {CheckpointEveryBatches}; it must be from 1 to 1000000");
        }

        return errors;
    }
}
