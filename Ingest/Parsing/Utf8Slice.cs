namespace AnomalyZT.Ingest.Parsing;

/// <summary>Where a field value sits in the current line, so the string is only made if the line becomes an event.</summary>
/// <param name="Start">Offset of the first byte of the value (after the opening quote for JSON strings).</param>
/// <param name="Length">Length of the value as written (escaped); 0 means absent.</param>
/// <param name="Escaped">Whether the JSON string contains escapes and must be unescaped before use.</param>
internal readonly record struct Utf8Slice(int Start, int Length, bool Escaped)
{
    /// <summary>True when the field was missing, null, empty or <c>-</c>.</summary>
    public bool IsAbsent => Length == 0;
}

/// <summary>Derived values taken from part of a field.</summary>
internal enum TextTransform : byte
{
    /// <summary>The value as is.</summary>
    None,

    /// <summary>First entry of a comma-separated list (X-Forwarded-For).</summary>
    FirstListEntry,

    /// <summary>Host part of <c>host:port</c> or <c>[v6]:port</c>.</summary>
    HostOfAddress,

    /// <summary>A request path without its query string or fragment.</summary>
    PathWithoutQuery,

    /// <summary>The <c>URI=</c> element of the first X-Forwarded-Client-Cert element.</summary>
    XfccUri,
}
