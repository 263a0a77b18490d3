namespace AnomalyZT.Ingest.Parsing;

/// <summary>Span-in, span-out helpers for the parts of fields that events carry; nothing allocates.</summary>
internal static class TextRanges
{
    /// <summary>Applies <paramref name="transform"/> to an (unescaped) value.</summary>
    public static ReadOnlySpan<byte> Apply(TextTransform transform, ReadOnlySpan<byte> value) => transform switch
    {
        TextTransform.FirstListEntry => FirstListEntry(value),
        TextTransform.HostOfAddress => HostOfAddress(value),
        TextTransform.PathWithoutQuery => PathWithoutQuery(value),
        TextTransform.XfccUri => XfccUri(value),
        _ => value,
    };

    /// <summary>Old Envoy logs write <c>-</c> for "not set"; empty means the same everywhere.</summary>
    public static bool IsAbsent(ReadOnlySpan<byte> value) => value.IsEmpty || (value.Length == 1 && value[0] == (byte)'-');

    /// <summary>Absent once surrounding spaces are dropped: a value that carries nothing.</summary>
    public static bool IsBlank(ReadOnlySpan<byte> value) => IsAbsent(Trim(value));

    /// <summary>Drops spaces and tabs at both ends.</summary>
    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value.Trim(" \t"u8);

    /// <summary>ASCII case-insensitive equality against a lower-case literal.</summary>
    public static bool EqualsLower(ReadOnlySpan<byte> value, ReadOnlySpan<byte> lowerLiteral)
    {
        if (value.Length != lowerLiteral.Length)
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var b = value[i];
            if (b is >= (byte)'A' and <= (byte)'Z')
            {
                b = (byte)(b | 0x20);
            }

            if (b != lowerLiteral[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>First entry of a comma-separated list, trimmed.</summary>
    public static ReadOnlySpan<byte> FirstListEntry(ReadOnlySpan<byte> value)
    {
        var comma = value.IndexOf((byte)',');
        return Trim(comma < 0 ? value : value[..comma]);
    }

    /// <summary>Host of <c>1.2.3.4:80</c>, <c>[::1]:80</c>, <c>::1</c> or <c>host</c>.</summary>
    public static ReadOnlySpan<byte> HostOfAddress(ReadOnlySpan<byte> value)
    {
        value = Trim(value);
        if (!value.IsEmpty && value[0] == (byte)'[')
        {
            var close = value.IndexOf((byte)']');
            return close > 1 ? value[1..close] : [];
        }

        var colon = value.IndexOf((byte)':');
        if (colon < 0 || value.LastIndexOf((byte)':') != colon)
        {
            // No port, or a bare IPv6 address whose colons are not a port separator.
            return value;
        }

        return value[..colon];
    }

    /// <summary>Path up to the first <c>?</c> or <c>#</c>.</summary>
    public static ReadOnlySpan<byte> PathWithoutQuery(ReadOnlySpan<byte> value)
    {
        var cut = value.IndexOfAny((byte)'?', (byte)'#');
        return cut < 0 ? value : value[..cut];
    }

    /// <summary>The <c>URI</c> value of the first element of an X-Forwarded-Client-Cert header
    /// (<c>By=…;Hash=…;Subject="…";URI=spiffe://…,By=…</c>). Only the first element is read: it describes
    /// the original client; later elements describe proxies on the way.</summary>
    public static ReadOnlySpan<byte> XfccUri(ReadOnlySpan<byte> value)
    {
        var i = 0;
        while (i < value.Length)
        {
            var keyStart = i;
            while (i < value.Length && value[i] is not ((byte)'=' or (byte)';' or (byte)','))
            {
                i++;
            }

            var key = Trim(value[keyStart..i]);
            if (i >= value.Length || value[i] == (byte)',')
            {
                return [];
            }

            if (value[i] == (byte)';')
            {
                i++;
                continue;
            }

            i++;
            ReadOnlySpan<byte> element;
            if (i < value.Length && value[i] == (byte)'"')
            {
                // Quoted values (Subject, DNS) may hold ',', ';' and '='; backslash escapes a quote.
                var start = ++i;
                while (i < value.Length && value[i] != (byte)'"')
                {
                    i += value[i] == (byte)'\\' ? 2 : 1;
                }

                element = value[start..Math.Min(i, value.Length)];
                i = Math.Min(i + 1, value.Length);
            }
            else
            {
                var start = i;
                while (i < value.Length && value[i] is not ((byte)';' or (byte)','))
                {
                    i++;
                }

                element = value[start..i];
            }

            if (EqualsLower(key, "uri"u8))
            {
                return Trim(element);
            }

            if (i < value.Length && value[i] == (byte)',')
            {
                return [];
            }

            if (i < value.Length)
            {
                i++;
            }
        }

        return [];
    }
}
