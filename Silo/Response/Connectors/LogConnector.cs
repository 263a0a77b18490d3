using AnomalyZT.Grains.Interfaces;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>Calls no provider: logs, at Information, what it would do (kind, subject, restore) and reports
/// <see cref="DeliveryStatus.Done"/>. The default connector of the embedded silo. Tokens are never logged.</summary>
public sealed partial class LogConnector : IIdpConnector
{
    private readonly ILogger _logger;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">Its configured name.</param>
    /// <param name="logger">Where the lines go.</param>
    public LogConnector(string name, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(logger);
        Name = name;
        _logger = logger;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    /// <remarks>Every kind, applied and restored.</remarks>
    public bool Supports(ResponseActionKind kind, bool restore) => Enum.IsDefined(kind);

    /// <inheritdoc/>
    public Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ct.ThrowIfCancellationRequested();
        WouldDeliver(_logger, Name, request.Kind, request.Subject, request.Restore, request.ActionId);
        return Task.FromResult(new DeliveryResult(DeliveryStatus.Done,
            $"log: would {(request.Restore ? "restore " : string.Empty)}{request.Kind} for '{ConnectorSupport.Truncate(request.Subject)}'"));
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information,
        Message = "Connector {Connector} (log only) would deliver {Kind} for {Subject}, restore {Restore}, action {ActionId}")]
    private static partial void WouldDeliver(ILogger logger, string connector, ResponseActionKind kind, string subject, bool restore, string actionId);
}
