using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AnomalyZT.Silo.State;

/// <summary>The audit log's hash chain: each line's hash is the SHA-256 of the previous hash and the line's fields,
/// so deleting, reordering or editing a line breaks every hash after it.</summary>
public static class AuditChain
{
    /// <summary>The previous hash of the first line.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>The hash of a line.</summary>
    public static string Hash(string prevHash, long seq, long atMs, string actionId, string evt, string actor, string detail, string json)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{prevHash}\u001f{seq}\u001f{atMs}\u001f{actionId}\u001f{evt}\u001f{actor}\u001f{detail}\u001f{json}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Checks a run of lines that starts at the first one or continues from <paramref name="prevHash"/>;
    /// returns the sequence number of the first broken line, or null when all verify.</summary>
    public static long? FirstBroken(IEnumerable<AuditRecord> records, string? prevHash = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        var prev = prevHash ?? Genesis;
        foreach (var r in records)
        {
            if (r.PrevHash != prev || Hash(prev, r.Seq, r.AtMs, r.ActionId, r.Event, r.Actor, r.Detail, r.ActionJson) != r.Hash)
            {
                return r.Seq;
            }

            prev = r.Hash;
        }

        return null;
    }
}
