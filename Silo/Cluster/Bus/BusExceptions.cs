namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>The partition bus could not do what was asked. For a publish it means: not every batch of the call is known
/// to be durable; <see cref="UnconfirmedBatchIds"/> lists the ones that are not (some of them may still arrive, so a
/// retry with the same batch ids is at-least-once).</summary>
public class BusException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BusException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BusException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BusException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a message, a cause and the batches that were not confirmed.</summary>
    public BusException(string message, Exception? innerException, IReadOnlyList<string> unconfirmedBatchIds)
        : base(message, innerException)
    {
        UnconfirmedBatchIds = unconfirmedBatchIds;
    }

    /// <summary>Batch ids of a publish call that the broker did not confirm (empty for other operations).</summary>
    public IReadOnlyList<string> UnconfirmedBatchIds { get; } = [];

    /// <summary>A hint for the caller's <c>Retry-After</c>.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>The broker pushes back: it has blocked this connection (a memory or disk alarm), did not confirm in time,
/// or refused (nacked) a message. Nothing was dropped silently: answer the shipper 429 with
/// <see cref="BusException.RetryAfter"/>.</summary>
public sealed class BusBackpressureException : BusException
{
    /// <summary>Creates the exception.</summary>
    public BusBackpressureException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BusBackpressureException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BusBackpressureException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a message, a cause and the batches that were not confirmed.</summary>
    public BusBackpressureException(string message, Exception? innerException, IReadOnlyList<string> unconfirmedBatchIds)
        : base(message, innerException, unconfirmedBatchIds)
    {
    }
}

/// <summary>The broker cannot be reached or the connection was lost during the call (a restart, a network fault); the
/// bus reconnects by itself. Answer 503 (or 429) with <see cref="BusException.RetryAfter"/>.</summary>
public sealed class BusUnavailableException : BusException
{
    /// <summary>Creates the exception.</summary>
    public BusUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BusUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BusUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a message, a cause and the batches that were not confirmed.</summary>
    public BusUnavailableException(string message, Exception? innerException, IReadOnlyList<string> unconfirmedBatchIds)
        : base(message, innerException, unconfirmedBatchIds)
    {
    }
}
