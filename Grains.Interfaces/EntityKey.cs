using System.Text;

namespace AnomalyZT.Grains.Interfaces;

/// <summary>The two kinds of entity that own a grain: a principal (who acted) and a node (where).</summary>
public enum EntityKind : byte
{
    /// <summary>A human or service principal.</summary>
    Identity = 1,

    /// <summary>A machine: a GPU node, a pod host, anything an IP inventory names.</summary>
    Node = 2,

    /// <summary>A response connector (an identity provider the engine acts on); only guardrail findings, such as an
    /// open circuit breaker, are about one. No grain owns it.</summary>
    Connector = 3,
}

/// <summary>Identifies one grain. The partition of a key is a pure function of the key, so every
/// silo routes it the same way.</summary>
public readonly record struct EntityKey(EntityKind Kind, string Id)
{
    /// <summary>Lower-case name used on the wire and in URLs: <c>identity</c> or <c>node</c>.</summary>
    public string KindName => KindToName(Kind);

    /// <summary>FNV-1a 64 over the kind byte and the UTF-8 bytes of the id; stable across processes and versions.</summary>
    public ulong StableHash()
    {
        var hash = StableHashing.Fnv1a64Seed;
        hash = StableHashing.Fnv1a64((byte)Kind, hash);
        return StableHashing.Fnv1a64(Id, hash);
    }

    /// <summary>The partition this key belongs to out of <paramref name="partitionCount"/>.</summary>
    public int Partition(int partitionCount) => (int)(StableHash() % (ulong)partitionCount);

    /// <inheritdoc />
    public override string ToString() => KindName + "/" + Id;

    /// <summary>Name of a kind as used in URLs and JSON.</summary>
    public static string KindToName(EntityKind kind) => kind switch
    {
        EntityKind.Identity => "identity",
        EntityKind.Node => "node",
        EntityKind.Connector => "connector",
        _ => "unknown",
    };

    /// <summary>Parses <c>identity</c> or <c>node</c> (case-insensitive).</summary>
    public static bool TryParseKind(string? name, out EntityKind kind)
    {
        if (string.Equals(name, "identity", StringComparison.OrdinalIgnoreCase))
        {
            kind = EntityKind.Identity;
            return true;
        }

        if (string.Equals(name, "node", StringComparison.OrdinalIgnoreCase))
        {
            kind = EntityKind.Node;
            return true;
        }

        if (string.Equals(name, "connector", StringComparison.OrdinalIgnoreCase))
        {
            kind = EntityKind.Connector;
            return true;
        }

        kind = default;
        return false;
    }
}

/// <summary>Hashes that never change between runs (unlike <see cref="string.GetHashCode()"/>).</summary>
public static class StableHashing
{
    /// <summary>FNV-1a 64-bit offset basis.</summary>
    public const ulong Fnv1a64Seed = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    /// <summary>Folds one byte into an FNV-1a 64 hash.</summary>
    public static ulong Fnv1a64(byte value, ulong hash) => (hash ^ value) * Prime;

    /// <summary>Folds bytes into an FNV-1a 64 hash.</summary>
    public static ulong Fnv1a64(ReadOnlySpan<byte> bytes, ulong hash = Fnv1a64Seed)
    {
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * Prime;
        }

        return hash;
    }

    /// <summary>Folds the UTF-8 encoding of <paramref name="text"/> into an FNV-1a 64 hash without allocating.</summary>
    public static ulong Fnv1a64(string text, ulong hash = Fnv1a64Seed)
    {
        Span<byte> buffer = stackalloc byte[256];
        var remaining = text.AsSpan();
        while (!remaining.IsEmpty)
        {
            // 64 chars encode to at most 192 bytes, so a chunk always fits the buffer.
            var take = Math.Min(remaining.Length, 64);
            if (take < remaining.Length && char.IsHighSurrogate(remaining[take - 1]))
            {
                take--;
            }

            var written = Encoding.UTF8.GetBytes(remaining[..take], buffer);
            hash = Fnv1a64(buffer[..written], hash);
            remaining = remaining[take..];
        }

        return hash;
    }
}
