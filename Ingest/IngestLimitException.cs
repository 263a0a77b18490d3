namespace AnomalyZT.Ingest;

/// <summary>A request-level failure: the body as a whole cannot be decoded (too large, unknown format,
/// corrupt compression). Bad single lines never throw; they become <see cref="LineError"/>s.</summary>
public sealed class IngestLimitException : Exception
{
    /// <summary>Creates a 400 failure with a generic message.</summary>
    public IngestLimitException()
        : this(400, "the request body cannot be decoded")
    {
    }

    /// <summary>Creates a 400 failure.</summary>
    public IngestLimitException(string message)
        : this(400, message)
    {
    }

    /// <summary>Creates a 400 failure caused by <paramref name="innerException"/>.</summary>
    public IngestLimitException(string message, Exception innerException)
        : this(400, message, innerException)
    {
    }

    /// <summary>Creates a failure with the HTTP status the caller should answer with.</summary>
    public IngestLimitException(int statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>HTTP status for the response: 413 when the body is too large, 400 otherwise.</summary>
    public int StatusCode { get; }
}
