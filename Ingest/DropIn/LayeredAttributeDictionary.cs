using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>The attributes one OTLP level adds (resource, scope, record or data point) over those it inherits. Lookups
/// see the nearest level first; nothing inherited is copied, so many small records under a large resource cost only
/// their own attributes. Adding is bounded: keys of at most <see cref="MaxKeyLength"/> characters, and at most
/// <see cref="OtlpJsonReader.MaxAttributes"/> entries counting every level.</summary>
public sealed class LayeredAttributeDictionary : IReadOnlyDictionary<string, string>
{
    /// <summary>Longest attribute key read, nested kvlist keys joined with dots included.</summary>
    public const int MaxKeyLength = 256;

    private readonly LayeredAttributeDictionary? _parent;
    private readonly Dictionary<string, string> _own = new(StringComparer.Ordinal);

    /// <summary>A level over <paramref name="parent"/> (null for a resource).</summary>
    public LayeredAttributeDictionary(LayeredAttributeDictionary? parent = null) => _parent = parent;

    /// <summary>Entries on this level and every level above it (a key set on two levels counts twice).</summary>
    public int Size => _own.Count + (_parent?.Size ?? 0);

    /// <inheritdoc />
    public int Count
    {
        get
        {
            var n = 0;
            using var e = GetEnumerator();
            while (e.MoveNext())
            {
                n++;
            }

            return n;
        }
    }

    /// <inheritdoc />
    public IEnumerable<string> Keys => this.Select(p => p.Key);

    /// <inheritdoc />
    public IEnumerable<string> Values => this.Select(p => p.Value);

    /// <inheritdoc />
    public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    /// <summary>The reason a key may not be added here, or null when it may.</summary>
    public string? Refusal(int keyLength) =>
        keyLength > MaxKeyLength ? $"an attribute key is longer than {MaxKeyLength} characters"
        : Size >= OtlpJsonReader.MaxAttributes ? $"more than {OtlpJsonReader.MaxAttributes} attributes with the resource's and scope's"
        : null;

    /// <summary>Sets <paramref name="key"/> on this level; false (nothing set) when <see cref="Refusal"/> forbids it.</summary>
    public bool TrySet(string key, string value)
    {
        if (!_own.ContainsKey(key) && Refusal(key.Length) is not null)
        {
            return false;
        }

        _own[key] = value;
        return true;
    }

    /// <inheritdoc />
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) =>
        _own.TryGetValue(key, out value) || (_parent is not null && _parent.TryGetValue(key, out value));

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        foreach (var pair in _own)
        {
            yield return pair;
        }

        if (_parent is null)
        {
            yield break;
        }

        foreach (var pair in _parent)
        {
            if (!_own.ContainsKey(pair.Key))
            {
                yield return pair;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
