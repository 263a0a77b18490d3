namespace AnomalyZT.Silo.State;

/// <summary>The lease of one partition as the store holds it.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Owner">The silo that holds or last held it; empty once released.</param>
/// <param name="Epoch">Fencing token: rises by one every time the lease passes to an owner that does not hold it at that
/// moment (a lease that expired or was released is held by no one), so a commit stamped with an older epoch can be told
/// apart from the current owner's.</param>
/// <param name="ExpiresAt">When the lease lapses unless renewed, by the store's clock.</param>
/// <param name="Held">True when <paramref name="Owner"/> holds it now (not released and not expired, by the store's
/// clock, so silos with skewed clocks agree).</param>
public sealed record PartitionLease(int Partition, string Owner, long Epoch, DateTimeOffset ExpiresAt, bool Held);

/// <summary>Time-limited ownership of partitions, shared by the silos of a cluster. Expiry is judged by the store's
/// clock, never a silo's.</summary>
public interface ILeaseStore
{
    /// <summary>Takes <paramref name="partition"/> for <paramref name="owner"/> for <paramref name="ttl"/> when no other
    /// owner holds it (free, released or expired), or extends it when <paramref name="owner"/> holds it already. Two
    /// silos racing for a free partition: exactly one gets it.</summary>
    /// <returns>The lease now held by <paramref name="owner"/>, or null when another owner holds it.</returns>
    /// <exception cref="ArgumentException">A negative partition, an empty owner, or a TTL outside 1 ms..1 day.</exception>
    Task<PartitionLease?> TryAcquireLeaseAsync(int partition, string owner, TimeSpan ttl, CancellationToken ct);

    /// <summary>Extends every lease <paramref name="owner"/> still holds by <paramref name="ttl"/> from now. Leases that
    /// already expired are not revived (another silo may have taken them; take them again with
    /// <see cref="TryAcquireLeaseAsync"/>, which raises the epoch).</summary>
    /// <returns>The leases held after the renewal, by partition.</returns>
    Task<IReadOnlyList<PartitionLease>> RenewLeasesAsync(string owner, TimeSpan ttl, CancellationToken ct);

    /// <summary>Gives up <paramref name="partition"/> if <paramref name="owner"/> holds it, so another silo can take it at
    /// once instead of after expiry. The epoch is kept; the next owner raises it.</summary>
    /// <returns>True when <paramref name="owner"/> held it and released it.</returns>
    Task<bool> ReleaseLeaseAsync(int partition, string owner, CancellationToken ct);

    /// <summary>Every lease row, held or not, by partition.</summary>
    Task<IReadOnlyList<PartitionLease>> LeasesAsync(CancellationToken ct);
}
