using System.Text;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Shared strings for the handful of values almost every line repeats (HTTP methods, Kubernetes verbs),
/// so those lines allocate no string for them.</summary>
internal static class WellKnownText
{
    private static readonly string[] Texts =
    [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
        "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "proxy",
    ];

    private static readonly byte[][] Bytes = ToUtf8(Texts);

    /// <summary>The shared string equal to <paramref name="value"/>, if it is one of the known values.</summary>
    public static bool TryGet(ReadOnlySpan<byte> value, out string text)
    {
        for (var i = 0; i < Bytes.Length; i++)
        {
            if (value.SequenceEqual(Bytes[i]))
            {
                text = Texts[i];
                return true;
            }
        }

        text = string.Empty;
        return false;
    }

    private static byte[][] ToUtf8(string[] texts)
    {
        var bytes = new byte[texts.Length][];
        for (var i = 0; i < texts.Length; i++)
        {
            bytes[i] = Encoding.UTF8.GetBytes(texts[i]);
        }

        return bytes;
    }
}
