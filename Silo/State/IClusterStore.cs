namespace AnomalyZT.Silo.State;

/// <summary>What cluster mode needs from the shared store beyond leases: partition progress and silo membership.</summary>
public interface IClusterStore : ILeaseStore
{
    /// <summary>The progress the partition's last checkpoint committed, or null when none did.</summary>
    Task<PartitionProgress?> LoadProgressAsync(int partition, CancellationToken ct);

    /// <summary>Announces that <paramref name="silo"/> is alive for <paramref name="ttl"/>.</summary>
    Task HeartbeatAsync(string silo, TimeSpan ttl, CancellationToken ct);

    /// <summary>Silos whose heartbeat has not expired, sorted.</summary>
    Task<IReadOnlyList<string>> LiveSilosAsync(CancellationToken ct);

    /// <summary>Removes <paramref name="silo"/>'s heartbeat (a graceful leave).</summary>
    Task LeaveAsync(string silo, CancellationToken ct);
}
