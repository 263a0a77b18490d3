namespace AnomalyZT.Grains.Detectors;

/// <summary>Bounded memory of values an entity has used (resources, source IPs, user agents, destinations),
/// kept as 64-bit hashes with the time each was last seen.</summary>
/// <remarks>When full, the value seen longest ago is forgotten (ties broken by hash, so a restored set evicts
/// exactly as the original would). Forgetting is the decay: a value not used for a long time counts as new again.</remarks>
public sealed class FirstSeenSet
{
    private const byte StateVersion = 1;
    private readonly Dictionary<ulong, long> _lastSeen;
    private readonly int _capacity;

    /// <summary>Creates an empty set holding at most <paramref name="capacity"/> values.</summary>
    public FirstSeenSet(int capacity)
    {
        _capacity = capacity;
        _lastSeen = new Dictionary<ulong, long>(Math.Min(capacity, 64));
    }

    /// <summary>Values remembered.</summary>
    public int Count => _lastSeen.Count;

    /// <summary>Records a use of <paramref name="hash"/> at <paramref name="timestampMs"/>; true if it was not remembered.</summary>
    public bool Observe(ulong hash, long timestampMs)
    {
        if (_lastSeen.TryGetValue(hash, out var seen))
        {
            if (timestampMs > seen)
            {
                _lastSeen[hash] = timestampMs;
            }

            return false;
        }

        if (_lastSeen.Count >= _capacity)
        {
            EvictOldest();
        }

        _lastSeen[hash] = timestampMs;
        return true;
    }

    /// <summary>Forgets the least recently seen eighth of the set in one pass (ties broken by hash), so a scanner
    /// that shows a new value on every event costs amortised O(log n) per value, not a full scan each time.</summary>
    private void EvictOldest()
    {
        var entries = new (long Seen, ulong Hash)[_lastSeen.Count];
        var i = 0;
        foreach (var (hash, seen) in _lastSeen)
        {
            entries[i++] = (seen, hash);
        }

        Array.Sort(entries);
        var drop = Math.Max(1, entries.Length / 8);
        for (var j = 0; j < drop; j++)
        {
            _lastSeen.Remove(entries[j].Hash);
        }
    }

    /// <summary>Writes the set, sorted by hash so equal sets give equal bytes.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_lastSeen.Count);
        var keys = new ulong[_lastSeen.Count];
        _lastSeen.Keys.CopyTo(keys, 0);
        Array.Sort(keys);
        foreach (var key in keys)
        {
            writer.Write(key);
            writer.Write(_lastSeen[key]);
        }
    }

    /// <summary>Restores a set written by <see cref="Write"/>.</summary>
    public void Read(BinaryReader reader)
    {
        var version = reader.ReadByte();
        if (version != StateVersion)
        {
            throw new InvalidDataException($"first-seen state version {version} is not supported (expected {StateVersion})");
        }

        var count = reader.ReadInt32();
        if (count < 0 || count > 1_000_000)
        {
            throw new InvalidDataException($"first-seen state holds {count} values; the state is corrupt");
        }

        _lastSeen.Clear();
        for (var i = 0; i < count; i++)
        {
            var hash = reader.ReadUInt64();
            var seen = reader.ReadInt64();
            Observe(hash, seen);
        }
    }
}
