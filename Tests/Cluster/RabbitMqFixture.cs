using System.Globalization;
using System.Security.Cryptography;
using AnomalyZT.Silo.Cluster.Bus;
using AnomalyZT.Tests.Response;

namespace AnomalyZT.Tests.Cluster;

/// <summary>A real RabbitMQ node of its own (the Debian rabbitmq-server package, 3.10 on bookworm), run as a plain
/// child process: a unique node name, AMQP and Erlang distribution on free loopback ports, data, logs, configuration and
/// Erlang cookie in a temp dir, no plugins, one user with a random password. Stopped (rabbitmqctl stop, then killed) on
/// dispose.</summary>
/// <remarks>Use it as a class or collection fixture. <see cref="StopAsync"/>/<see cref="StartAgainAsync"/> restart the
/// same node (same ports and data); <see cref="BlockPublishersAsync"/>/<see cref="UnblockAsync"/> raise and clear a memory
/// alarm. A missing rabbitmq-server fails the test with a message that says to run ./test.sh.</remarks>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    private const string InstallHint = "run ./test.sh once, which installs rabbitmq-server";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan CtlTimeout = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private PeerProcess? _server;
    private string _serverScript = string.Empty;
    private string _ctl = string.Empty;

    /// <summary>The test user.</summary>
    public string User => "azt-test";

    /// <summary>The test user's password (random per fixture).</summary>
    public string Password { get; } = "pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));

    /// <summary>The Erlang node name (unique per fixture).</summary>
    public string NodeName { get; } = "azt-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(5)).ToLowerInvariant() + "@localhost";

    /// <summary>The AMQP port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>The Erlang distribution port on 127.0.0.1.</summary>
    public int DistributionPort { get; private set; }

    /// <summary>The temp dir with configuration, data (<c>mnesia/</c>), logs and the cookie.</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "anomalyzt-rabbitmq-" + Guid.NewGuid().ToString("N"));

    /// <summary>What the running node printed (warnings and errors; the console log level is warning).</summary>
    public string ServerOutput => _server?.Output ?? string.Empty;

    /// <summary>True while the node runs.</summary>
    public bool IsRunning => _server is { HasExited: false };

    /// <summary>Bus settings for this broker with a fresh queue prefix (so tests sharing the node never share queues),
    /// short reconnect delays and <paramref name="publishTimeout"/> (default 10 s).</summary>
    public RabbitBusOptions BusOptions(TimeSpan? publishTimeout = null, int prefetch = 2000) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        VirtualHost = "/",
        User = User,
        Password = Password,
        QueuePrefix = "azt-test-" + Guid.NewGuid().ToString("N")[..10] + ".",
        PrefetchCount = prefetch,
        PublishTimeout = publishTimeout ?? TimeSpan.FromSeconds(10),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        Heartbeat = TimeSpan.FromSeconds(5),
        ReconnectDelay = TimeSpan.FromMilliseconds(200),
        MaxReconnectDelay = TimeSpan.FromSeconds(2),
        ClientName = "anomalyzt-test",
    };

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        // The Debian wrapper in /usr/sbin switches to the rabbitmq user; the real scripts run as whoever starts them.
        _serverScript = FindRabbitScript("rabbitmq-server");
        _ctl = FindRabbitScript("rabbitmqctl");
        var home = Path.Combine(Directory, "home");
        System.IO.Directory.CreateDirectory(home);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "mnesia"));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "log"));
        // Our own cookie, written before anything starts, so that the node and rabbitmqctl agree.
        var cookie = Path.Combine(home, ".erlang.cookie");
        await File.WriteAllTextAsync(cookie, Convert.ToHexString(RandomNumberGenerator.GetBytes(20)));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(cookie, UnixFileMode.UserRead);
        }

        await File.WriteAllTextAsync(Path.Combine(Directory, "enabled_plugins"), "[].\n");
        await File.WriteAllTextAsync(Path.Combine(Directory, "rabbitmq-env.conf"), string.Empty);
        var ct = TestContext.Current.CancellationToken;
        for (var attempt = 1; ; attempt++)
        {
            Port = PeerProcess.FreePort();
            DistributionPort = PeerProcess.FreePort();
            await File.WriteAllTextAsync(Path.Combine(Directory, "rabbitmq.conf"), Config(), ct);
            SetEnvironment(home);
            try
            {
                await StartNodeAsync(ct);
                break;
            }
            catch (InvalidOperationException) when (attempt < 3 && _server is { HasExited: true })
            {
                // A free port can be taken between the probe and the node's bind: try other ports.
                await _server.DisposeAsync();
                _server = null;
            }
        }
    }

    /// <summary>Stops the node the way an operator would (<c>rabbitmqctl stop</c>); data stays.</summary>
    public async Task StopAsync()
    {
        if (_server is null)
        {
            return;
        }

        var server = _server;
        _server = null;
        if (!server.HasExited)
        {
            await RunCtlAsync(["stop"], allowFailure: true, TestContext.Current.CancellationToken);
        }

        await server.DisposeAsync();
    }

    /// <summary>Starts the stopped node again on the same ports with the same data.</summary>
    public async Task StartAgainAsync()
    {
        if (_server is not null)
        {
            throw new InvalidOperationException("the node is running");
        }

        await StartNodeAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Raises a memory alarm (high watermark 0): the broker blocks every publishing connection.</summary>
    public Task BlockPublishersAsync() => CtlAsync("set_vm_memory_high_watermark", "0");

    /// <summary>Clears the alarm (watermark back to 0.4).</summary>
    public Task UnblockAsync() => CtlAsync("set_vm_memory_high_watermark", "0.4");

    /// <summary>Runs rabbitmqctl against this node and returns its output.</summary>
    /// <exception cref="InvalidOperationException">It failed; the message has its output.</exception>
    public Task<string> CtlAsync(params string[] arguments) => RunCtlAsync(arguments, allowFailure: false, TestContext.Current.CancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // The kill in StopAsync's dispose is what matters.
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A temp dir left behind is harmless.
        }
    }

    private static string FindRabbitScript(string name)
    {
        foreach (var directory in new[] { "/usr/lib/rabbitmq/bin", "/usr/local/lib/rabbitmq/bin", "/opt/rabbitmq/sbin", "/usr/local/sbin" })
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"'{name}' was not found in /usr/lib/rabbitmq/bin: {InstallHint}");
    }

    private string Config() => string.Join('\n',
        FormattableString.Invariant($"listeners.tcp.1 = 127.0.0.1:{Port}"),
        "loopback_users = none",
        "default_vhost = /",
        "default_user = " + User,
        "default_pass = " + Password,
        "default_permissions.configure = .*",
        "default_permissions.read = .*",
        "default_permissions.write = .*",
        "vm_memory_high_watermark.relative = 0.4",
        "disk_free_limit.absolute = 50MB",
        "log.console = true",
        "log.console.level = warning",
        "log.file = false",
        string.Empty);

    private void SetEnvironment(string home)
    {
        _environment.Clear();
        _environment["HOME"] = home;
        _environment["RABBITMQ_NODENAME"] = NodeName;
        _environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        _environment["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        _environment["RABBITMQ_DIST_PORT"] = DistributionPort.ToString(CultureInfo.InvariantCulture);
        _environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(Directory, "mnesia");
        _environment["RABBITMQ_LOG_BASE"] = Path.Combine(Directory, "log");
        _environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(Directory, "rabbitmq.conf");
        _environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(Directory, "advanced.config");
        _environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(Directory, "enabled_plugins");
        _environment["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(Directory, "rabbitmq-env.conf");
        _environment["RABBITMQ_PID_FILE"] = Path.Combine(Directory, "rabbit.pid");
        // Loopback only: the distribution listener, the CLI's, and epmd if this node is the one that starts it.
        _environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        _environment["RABBITMQ_CTL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        _environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
    }

    private async Task StartNodeAsync(CancellationToken ct)
    {
        _server = PeerProcess.Start(_serverScript, [], Directory, _environment);
        await _server.WaitForPortAsync(Port, StartTimeout, ct);
        // The AMQP listener opens near the end of boot; await_startup makes sure the boot finished.
        await RunCtlAsync(["await_startup", "--timeout", "60"], allowFailure: false, ct);
    }

    private async Task<string> RunCtlAsync(string[] arguments, bool allowFailure, CancellationToken ct)
    {
        var (code, output) = await PeerProcess.RunAsync(_ctl, ["-n", NodeName, .. arguments], Directory, _environment, CtlTimeout, ct);
        if (code != 0 && !allowFailure)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} failed with code {code}:\n{output}\nnode output:\n{_server?.Output}");
        }

        return output;
    }
}

/// <summary>The tests that share one RabbitMQ node (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "RabbitMQ";
}
