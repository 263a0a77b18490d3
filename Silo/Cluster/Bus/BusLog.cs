using Microsoft.Extensions.Logging;

namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>Log messages of the partition bus (event ids 61xx). Never payloads, never the password.</summary>
internal static partial class BusLog
{
    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "RabbitMQ {Role} connection open to {Broker}")]
    public static partial void Connected(ILogger logger, string role, string broker);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "RabbitMQ {Role} connection to {Broker} failed ({Attempt}. attempt): {Error}")]
    public static partial void ConnectFailed(ILogger logger, string role, string broker, int attempt, string error);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "RabbitMQ {Role} connection lost: {Code} {Reason}; reconnecting")]
    public static partial void ConnectionLost(ILogger logger, string role, int code, string reason);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Information, Message = "RabbitMQ {Role} connection restored after {Attempts} attempts, {Seconds:0.0} s")]
    public static partial void Reconnected(ILogger logger, string role, int attempts, double seconds);

    [LoggerMessage(EventId = 6105, Level = LogLevel.Warning, Message = "RabbitMQ blocked the {Role} connection: {Reason}; publishes are refused with back-pressure")]
    public static partial void Blocked(ILogger logger, string role, string reason);

    [LoggerMessage(EventId = 6106, Level = LogLevel.Information, Message = "RabbitMQ unblocked the {Role} connection")]
    public static partial void Unblocked(ILogger logger, string role);

    [LoggerMessage(EventId = 6110, Level = LogLevel.Information, Message = "Declared {Count} partition queues ({First} … {Last}): quorum, single active consumer")]
    public static partial void Declared(ILogger logger, int count, string first, string last);

    [LoggerMessage(EventId = 6111, Level = LogLevel.Warning, Message = "Publish of {Count} batches failed ({Reason}): {Error}")]
    public static partial void PublishFailed(ILogger logger, int count, string reason, string error);

    [LoggerMessage(EventId = 6112, Level = LogLevel.Debug, Message = "Publish of {Count} batches refused ({Reason}): {Error}")]
    public static partial void PublishRefused(ILogger logger, int count, string reason, string error);

    [LoggerMessage(EventId = 6120, Level = LogLevel.Information, Message = "Consuming partition {Partition} from {Queue} (registration {Generation}, prefetch {Prefetch})")]
    public static partial void Consuming(ILogger logger, int partition, string queue, int generation, int prefetch);

    [LoggerMessage(EventId = 6121, Level = LogLevel.Warning, Message = "Consumer of partition {Partition} lost (registration {Generation}): {Reason}; its unacked batches return to the queue")]
    public static partial void ConsumerLost(ILogger logger, int partition, int generation, string reason);

    [LoggerMessage(EventId = 6122, Level = LogLevel.Warning, Message = "Could not register the consumer of partition {Partition} again: {Error}; retrying in {Delay}")]
    public static partial void ResubscribeFailed(ILogger logger, int partition, string error, TimeSpan delay);

    [LoggerMessage(EventId = 6123, Level = LogLevel.Error, Message = "The delivery handler of partition {Partition} failed; the subscription stops and its unacked batches return to the queue")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, int partition);

    [LoggerMessage(EventId = 6124, Level = LogLevel.Error, Message = "The lost-consumer callback of partition {Partition} failed")]
    public static partial void LostCallbackFailed(ILogger logger, Exception exception, int partition);

    [LoggerMessage(EventId = 6125, Level = LogLevel.Information, Message = "Stopped consuming partition {Partition}")]
    public static partial void Stopped(ILogger logger, int partition);

    [LoggerMessage(EventId = 6126, Level = LogLevel.Debug, Message = "Closing a RabbitMQ channel failed: {Error}")]
    public static partial void CloseFailed(ILogger logger, string error);
}
