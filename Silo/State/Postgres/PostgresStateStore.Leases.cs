using Npgsql;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>Partition leases: one row per partition, each change one statement, expiry by the database clock.</summary>
public sealed partial class PostgresStateStore
{
    /// <summary>Longest lease one call may ask for.</summary>
    private static readonly TimeSpan MaxLeaseTtl = TimeSpan.FromDays(1);

    /// <summary>Longest owner name.</summary>
    private const int MaxOwnerLength = 200;

    private const string LeaseColumns = "partition, owner, epoch, expires_at, (owner <> '' AND expires_at > now())";

    /// <inheritdoc />
    public async Task<PartitionLease?> TryAcquireLeaseAsync(int partition, string owner, TimeSpan ttl, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        CheckOwner(owner);
        CheckTtl(ttl);
        // A racing insert of the same partition turns into the update branch, which locks the row and re-checks the
        // WHERE on its newest version: of two silos taking a free partition, one gets it and the other gets no row.
        await using var command = Command($"""
            INSERT INTO partition_leases AS l (partition, owner, epoch, expires_at) VALUES ($1, $2, 1, now() + $3)
            ON CONFLICT (partition) DO UPDATE SET
                epoch = l.epoch + CASE WHEN l.owner = excluded.owner AND l.expires_at > now() THEN 0 ELSE 1 END,
                owner = excluded.owner,
                expires_at = excluded.expires_at
            WHERE l.owner = excluded.owner OR l.owner = '' OR l.expires_at <= now()
            RETURNING {LeaseColumns};
            """);
        Add(command.Parameters, partition);
        AddText(command.Parameters, owner);
        Add(command.Parameters, ttl);
        var leases = await ReadLeasesAsync(command, ct);
        return leases.Count == 0 ? null : leases[0];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PartitionLease>> RenewLeasesAsync(string owner, TimeSpan ttl, CancellationToken ct)
    {
        CheckOwner(owner);
        CheckTtl(ttl);
        await using var command = Command($"""
            WITH renewed AS (
                UPDATE partition_leases SET expires_at = now() + $2
                WHERE owner = $1 AND expires_at > now()
                RETURNING {LeaseColumns})
            SELECT * FROM renewed ORDER BY partition;
            """);
        AddText(command.Parameters, owner);
        Add(command.Parameters, ttl);
        return await ReadLeasesAsync(command, ct);
    }

    /// <inheritdoc />
    public async Task<bool> ReleaseLeaseAsync(int partition, string owner, CancellationToken ct)
    {
        CheckOwner(owner);
        await using var command = Command("""
            UPDATE partition_leases SET owner = '', expires_at = now()
            WHERE partition = $1 AND owner = $2 AND expires_at > now();
            """);
        Add(command.Parameters, partition);
        AddText(command.Parameters, owner);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PartitionLease>> LeasesAsync(CancellationToken ct)
    {
        await using var command = Command($"SELECT {LeaseColumns} FROM partition_leases ORDER BY partition;");
        return await ReadLeasesAsync(command, ct);
    }

    private static async Task<IReadOnlyList<PartitionLease>> ReadLeasesAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new PartitionLease(
                r.GetInt32(0), ReadText(r, 1), r.GetInt64(2), r.GetFieldValue<DateTimeOffset>(3), r.GetBoolean(4)), ct);
    }

    private static void CheckOwner(string owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (owner.Length is 0 or > MaxOwnerLength)
        {
            throw new ArgumentException(
                FormattableString.Invariant($"Owner is {owner.Length} characters long; it must be 1 to {MaxOwnerLength}."), nameof(owner));
        }
    }

    private static void CheckTtl(TimeSpan ttl)
    {
        if (ttl < TimeSpan.FromMilliseconds(1) || ttl > MaxLeaseTtl)
        {
            throw new ArgumentException(
                FormattableString.Invariant($"Lease TTL is {ttl}; it must be between 1 ms and {MaxLeaseTtl}."), nameof(ttl));
        }
    }
}
