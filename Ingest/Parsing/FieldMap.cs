using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>A field a parser reads: its dotted path and the parser's id for it.</summary>
internal readonly record struct FieldSpec(string Path, int Id);

/// <summary>One dotted path the walker stops at.</summary>
internal sealed class FieldEntry(string name, byte[] path)
{
    /// <summary>The dotted path, for reasons ("field 'bytes_sent' is not a number").</summary>
    public string Name { get; } = name;

    /// <summary>The dotted path as UTF-8, compared exactly after the hash matched.</summary>
    public byte[] Path { get; } = path;

    /// <summary>The parser's id for the field, or -1 when the path only carries a principal.</summary>
    public int FieldId { get; set; } = -1;

    /// <summary>Position in the principal list (0 wins), or -1.</summary>
    public int PrincipalRank { get; set; } = -1;

    /// <summary>How the principal is cut out of the value (the XFCC URI element).</summary>
    public TextTransform PrincipalTransform { get; set; }
}

/// <summary>The dotted JSON paths one format reads, looked up by the FNV-1a hash of the path while the
/// reader streams (a flat key <c>"id.orig_h"</c> and a nested <c>{"id":{"orig_h":…}}</c> are the same path).
/// Built once per decoder; immutable and shared by all bodies.</summary>
internal sealed class FieldMap
{
    private readonly FrozenDictionary<ulong, FieldEntry> _entries;
    private readonly FrozenSet<ulong> _prefixes;

    public FieldMap(ReadOnlySpan<FieldSpec> fields, IReadOnlyList<string> principalPaths)
    {
        var entries = new Dictionary<ulong, FieldEntry>();
        var prefixes = new HashSet<ulong>();
        foreach (var field in fields)
        {
            Add(entries, prefixes, field.Path).FieldId = field.Id;
        }

        for (var rank = 0; rank < principalPaths.Count; rank++)
        {
            var entry = Add(entries, prefixes, principalPaths[rank]);
            if (entry.PrincipalRank < 0)
            {
                entry.PrincipalRank = rank;
                entry.PrincipalTransform = IsXfcc(principalPaths[rank]) ? TextTransform.XfccUri : TextTransform.None;
            }
        }

        _entries = entries.ToFrozenDictionary();
        _prefixes = prefixes.ToFrozenSet();
        PrincipalPaths = principalPaths;
        PrincipalList = "[" + string.Join(", ", principalPaths) + "]";
    }

    /// <summary>The configured principal paths, best first.</summary>
    public IReadOnlyList<string> PrincipalPaths { get; }

    /// <summary><c>[a, b.c]</c>, for the "no principal" reason.</summary>
    public string PrincipalList { get; }

    /// <summary>Finds the entry for a full path (hash first, then an exact byte comparison).</summary>
    public bool TryFind(ulong hash, ReadOnlySpan<byte> path, [NotNullWhen(true)] out FieldEntry? entry) =>
        _entries.TryGetValue(hash, out entry) && path.SequenceEqual(entry.Path);

    /// <summary>True when some mapped path continues below this one, so the walker must descend.</summary>
    public bool IsPrefix(ulong hash) => _prefixes.Contains(hash);

    private static FieldEntry Add(Dictionary<ulong, FieldEntry> entries, HashSet<ulong> prefixes, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        var hash = StableHashing.Fnv1a64(bytes);
        if (entries.TryGetValue(hash, out var existing))
        {
            if (!existing.Path.AsSpan().SequenceEqual(bytes))
            {
                throw new ArgumentException($"field paths '{existing.Name}' and '{path}' have the same hash; rename one", nameof(path));
            }

            return existing;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'.')
            {
                prefixes.Add(StableHashing.Fnv1a64(bytes.AsSpan(0, i)));
            }
        }

        var entry = new FieldEntry(path, bytes);
        entries.Add(hash, entry);
        return entry;
    }

    private static bool IsXfcc(string path) =>
        path.EndsWith("forwarded_client_cert", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith("forwarded-client-cert", StringComparison.OrdinalIgnoreCase);
}
