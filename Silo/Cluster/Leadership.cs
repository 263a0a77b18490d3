namespace AnomalyZT.Silo.Cluster;

/// <summary>Whether this silo runs the cluster-wide singletons: the responder, the outbox executor and the SIEM sinks.
/// Embedded: always. Cluster: the silo holding the leader lease (a reserved lease row next to the partitions').</summary>
public sealed class Leadership
{
    private int _epoch;
    private volatile bool _leader;

    /// <summary>Leadership that is always held (embedded mode).</summary>
    public static Leadership Always()
    {
        var l = new Leadership();
        l.Set(true);
        return l;
    }

    /// <summary>True while this silo leads.</summary>
    public bool IsLeader => _leader;

    /// <summary>Raised by every gain of leadership; loops drop their caches and re-read the store.</summary>
    public int Epoch => Volatile.Read(ref _epoch);

    /// <summary>Records whether this silo leads now.</summary>
    public void Set(bool leader)
    {
        if (leader && !_leader)
        {
            Interlocked.Increment(ref _epoch);
        }

        _leader = leader;
    }
}
