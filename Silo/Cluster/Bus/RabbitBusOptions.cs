using System.Globalization;
using AnomalyZT.Silo.Response.Connectors;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>How the silo reaches RabbitMQ for the partition bus (section <c>Cluster:RabbitMq</c>). Either
/// <see cref="Uri"/> or <see cref="Host"/>/<see cref="Port"/>/<see cref="VirtualHost"/>/<see cref="User"/>; the password
/// is always <see cref="Password"/>, a secret reference (<c>env:NAME</c>, <c>file:/path</c> or the literal), and is
/// never logged.</summary>
public sealed class RabbitBusOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Cluster:RabbitMq";

    /// <summary><c>amqp://user@host:port/vhost</c> or <c>amqps://…</c>; when set it replaces Host, Port, VirtualHost and
    /// User. It must not carry a password: use <see cref="Password"/>.</summary>
    public string Uri { get; set; } = string.Empty;

    /// <summary>Broker host name or address.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>AMQP port.</summary>
    public int Port { get; set; } = 5672;

    /// <summary>Virtual host.</summary>
    public string VirtualHost { get; set; } = "/";

    /// <summary>User name.</summary>
    public string User { get; set; } = string.Empty;

    /// <summary>Password, as a secret reference (see <see cref="SecretReference"/>).</summary>
    public string Password { get; set; } = string.Empty;

    /// <summary>Queue names are this prefix and the partition number (<c>anomalyzt.partition.7</c>).</summary>
    public string QueuePrefix { get; set; } = "anomalyzt.partition.";

    /// <summary>Unacknowledged batches a partition consumer may hold (AMQP <c>basic.qos</c> prefetch count, 1–65535).
    /// RabbitMQ does not implement a byte-sized prefetch, so a byte budget is this count times the batch size.</summary>
    public int PrefetchCount { get; set; } = 2000;

    /// <summary>How long one <see cref="PartitionBus.PublishAsync"/> may wait for a channel and its confirms before it
    /// gives up with <see cref="BusBackpressureException"/>.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Confirm-mode channels publishers share; a publish call holds one for its whole batch list.</summary>
    public int PublishChannels { get; set; } = 4;

    /// <summary>Messages one publish call keeps unconfirmed on its channel at once (it pipelines in windows of this size).</summary>
    public int MaxUnconfirmedPerChannel { get; set; } = 1024;

    /// <summary>TCP connect and AMQP handshake timeout.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>AMQP heartbeat: a silent broker is declared lost after about two of these.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First wait before reconnecting after a lost connection (doubles up to <see cref="MaxReconnectDelay"/>);
    /// also how long publishers fail fast after a failed connection attempt.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between reconnection attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Connection name shown by the broker (<c>rabbitmqctl list_connections client_properties</c>); the
    /// role (<c>publish</c>, <c>consume</c>) is appended.</summary>
    public string ClientName { get; set; } = "anomalyzt-silo";

    /// <summary>The queue of <paramref name="partition"/>.</summary>
    public string QueueName(int partition) => QueuePrefix + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>Where the broker is, for messages: <c>host:port vhost '/' as user</c>; never the password.</summary>
    public string Describe()
    {
        if (!string.IsNullOrWhiteSpace(Uri) && System.Uri.TryCreate(Uri, UriKind.Absolute, out var uri))
        {
            var user = uri.UserInfo.Split(':', 2)[0];
            return FormattableString.Invariant($"{uri.Scheme}://{uri.Host}:{(uri.IsDefaultPort ? 5672 : uri.Port)}{uri.AbsolutePath} as '{System.Uri.UnescapeDataString(user)}'");
        }

        return FormattableString.Invariant($"amqp://{Host}:{Port} vhost '{VirtualHost}' as '{User}'");
    }

    /// <summary>A connection factory for these settings, with the password resolved and automatic recovery off (the bus
    /// reconnects itself).</summary>
    /// <exception cref="InvalidOperationException">The settings are invalid or the password reference cannot be resolved;
    /// the message names the key.</exception>
    internal ConnectionFactory CreateFactory(string role)
    {
        if (RabbitBusOptionsValidator.Check(this) is { Count: > 0 } errors)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        var factory = new ConnectionFactory
        {
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedConnectionTimeout = ConnectTimeout,
            HandshakeContinuationTimeout = ConnectTimeout,
            RequestedHeartbeat = Heartbeat,
            ClientProvidedName = ClientName + "-" + role,
            ConsumerDispatchConcurrency = 1,
        };
        if (!string.IsNullOrWhiteSpace(Uri))
        {
            factory.Uri = new Uri(Uri);
        }
        else
        {
            factory.HostName = Host;
            factory.Port = Port;
            factory.VirtualHost = VirtualHost;
            factory.UserName = User;
        }

        var password = SecretReference.Resolve(Password, SectionName + ":" + nameof(Password));
        if (password.Length > 0)
        {
            factory.Password = password;
        }

        return factory;
    }
}

/// <summary>Checks <see cref="RabbitBusOptions"/> at start, naming the key, the value and what is allowed (never the
/// password).</summary>
public sealed class RabbitBusOptionsValidator : IValidateOptions<RabbitBusOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RabbitBusOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Every problem with <paramref name="options"/>; empty when they are usable.</summary>
    public static IReadOnlyList<string> Check(RabbitBusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string P = RabbitBusOptions.SectionName + ":";
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.Uri))
        {
            if (!Uri.TryCreate(options.Uri, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps") || uri.Host.Length == 0)
            {
                // The value may hold a password: say what is wrong without echoing it.
                errors.Add($"{P}Uri is not an amqp:// or amqps:// URI with a host; {P}Uri must look like amqp://user@host:5672/vhost");
            }
            else if (uri.UserInfo.Contains(':', StringComparison.Ordinal))
            {
                errors.Add($"{P}Uri carries a password; {P}Uri must not: put it in {P}Password as a secret reference (env:NAME or file:/path)");
            }
            else if (uri.UserInfo.Length == 0)
            {
                errors.Add($"{P}Uri has no user; {P}Uri must name one (amqp://user@host/vhost)");
            }
        }
        else
        {
            if (string.IsNullOrWhiteSpace(options.Host))
            {
                errors.Add($"{P}Host is '{options.Host}'; {P}Host must name the broker (or set {P}Uri)");
            }

            if (options.Port is < 1 or > 65535)
            {
                errors.Add(FormattableString.Invariant($"{P}Port is {options.Port}; {P}Port must be from 1 to 65535"));
            }

            if (string.IsNullOrEmpty(options.VirtualHost))
            {
                errors.Add($"{P}VirtualHost is empty; {P}VirtualHost must name a virtual host, e.g. '/'");
            }

            if (string.IsNullOrWhiteSpace(options.User))
            {
                errors.Add($"{P}User is empty; {P}User must name the broker user (or set {P}Uri)");
            }
        }

        if (string.IsNullOrEmpty(options.Password))
        {
            errors.Add($"{P}Password is empty; {P}Password must be a secret reference: env:NAME, file:/path or the literal");
        }

        if (string.IsNullOrEmpty(options.QueuePrefix) || options.QueuePrefix.Length > 200 || options.QueuePrefix.StartsWith("amq.", StringComparison.Ordinal))
        {
            errors.Add($"{P}QueuePrefix is '{options.QueuePrefix}'; {P}QueuePrefix must be 1 to 200 characters and not start with 'amq.'");
        }

        if (options.PrefetchCount is < 1 or > ushort.MaxValue)
        {
            errors.Add(FormattableString.Invariant($"{P}PrefetchCount is {options.PrefetchCount}; {P}PrefetchCount must be from 1 to 65535"));
        }

        CheckRange(errors, P + "PublishTimeout", options.PublishTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        CheckRange(errors, P + "ConnectTimeout", options.ConnectTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        CheckRange(errors, P + "Heartbeat", options.Heartbeat, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        CheckRange(errors, P + "ReconnectDelay", options.ReconnectDelay, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10));
        CheckRange(errors, P + "MaxReconnectDelay", options.MaxReconnectDelay, options.ReconnectDelay, TimeSpan.FromHours(1));
        if (options.PublishChannels is < 1 or > 256)
        {
            errors.Add(FormattableString.Invariant($"{P}PublishChannels is {options.PublishChannels}; {P}PublishChannels must be from 1 to 256"));
        }

        if (options.MaxUnconfirmedPerChannel is < 1 or > 65536)
        {
            errors.Add(FormattableString.Invariant($"{P}MaxUnconfirmedPerChannel is {options.MaxUnconfirmedPerChannel}; {P}MaxUnconfirmedPerChannel must be from 1 to 65536"));
        }

        if (string.IsNullOrWhiteSpace(options.ClientName))
        {
            errors.Add($"{P}ClientName is empty; {P}ClientName must name this silo, e.g. 'anomalyzt-silo'");
        }

        return errors;
    }

    private static void CheckRange(List<string> errors, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            errors.Add(FormattableString.Invariant($"{key} is {value}; {key} must be from {min} to {max}"));
        }
    }
}
