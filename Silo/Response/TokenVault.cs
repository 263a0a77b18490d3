using System.Collections.Concurrent;

namespace AnomalyZT.Silo.Response;

/// <summary>The newest OAuth access token seen per identity, in memory only (never stored, logged or served), so a
/// <c>revoke_token</c> action can revoke what the identity is using now. Bounded: tokens older than
/// <see cref="MaxAge"/> are forgotten, and at most <see cref="Capacity"/> identities are held.</summary>
public sealed class TokenVault(TimeProvider time)
{
    /// <summary>Identities held at most.</summary>
    public const int Capacity = 100_000;

    /// <summary>How long a token is kept after it was last seen.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);

    private readonly ConcurrentDictionary<string, (string Token, long SeenAtMs)> _tokens = new(StringComparer.Ordinal);
    private long _refused;

    /// <summary>Tokens not kept because the vault was full of fresher ones.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Identities with a token now.</summary>
    public int Count => _tokens.Count;

    /// <summary>Remembers that <paramref name="identity"/> used <paramref name="token"/> just now.</summary>
    public void Remember(string identity, string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(identity);
        ArgumentException.ThrowIfNullOrEmpty(token);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_tokens.Count >= Capacity && !_tokens.ContainsKey(identity))
        {
            Sweep(now);
            if (_tokens.Count >= Capacity)
            {
                Interlocked.Increment(ref _refused);
                return;
            }
        }

        _tokens[identity] = (token, now);
    }

    /// <summary>The newest token of <paramref name="identity"/> not older than <see cref="MaxAge"/>, or null.</summary>
    public string? Latest(string identity)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return _tokens.TryGetValue(identity, out var entry) && now - entry.SeenAtMs <= (long)MaxAge.TotalMilliseconds ? entry.Token : null;
    }

    /// <summary>Forgets the token of <paramref name="identity"/> if it is still <paramref name="token"/> (after revoking it).</summary>
    public void Forget(string identity, string token) =>
        _tokens.TryRemove(new KeyValuePair<string, (string, long)>(identity, _tokens.TryGetValue(identity, out var e) && e.Token == token ? e : default));

    private void Sweep(long now)
    {
        var oldest = now - (long)MaxAge.TotalMilliseconds;
        foreach (var (identity, entry) in _tokens)
        {
            if (entry.SeenAtMs < oldest)
            {
                _tokens.TryRemove(identity, out _);
            }
        }
    }
}
