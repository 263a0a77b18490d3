using System.Globalization;
using System.Text.RegularExpressions;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Response;

/// <summary>A Node.js peer server from <c>Tests/peers/{name}/server.js</c>, started as <c>node server.js --port 0</c>
/// with its secrets in the environment. It listens on 127.0.0.1 only, picks a free port itself and prints
/// <c>listening 127.0.0.1:PORT</c>, which is how the fixture learns the port; it is killed on dispose.</summary>
/// <remarks>Missing node or node_modules fail the test with a message that says to run ./test.sh.</remarks>
public abstract partial class NodePeerFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private PeerProcess? _process;

    /// <summary>Creates the fixture of the peer in <c>Tests/peers/<paramref name="peer"/></c>.</summary>
    protected NodePeerFixture(string peer)
    {
        Peer = peer;
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
    }

    /// <summary>The peer's folder name under Tests/peers.</summary>
    public string Peer { get; }

    /// <summary>The loopback address it listens on.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The port it listens on.</summary>
    public int Port { get; private set; }

    /// <summary>http://127.0.0.1:PORT (no trailing slash).</summary>
    public string Origin => string.Create(CultureInfo.InvariantCulture, $"http://{Host}:{Port}");

    /// <summary>The node process, for tests that stop it.</summary>
    public PeerProcess Process => _process ?? throw new InvalidOperationException($"the {Peer} peer is not started");

    /// <summary>A client for the fixture's own checks.</summary>
    protected HttpClient Http { get; }

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var node = PeerProcess.FindProgram("node", "/usr/local/bin", "/usr/bin");
        var directory = Path.Combine(RepoPaths.Root, "Tests", "peers", Peer);
        PeerProcess.RequireDirectory(Path.Combine(directory, "node_modules"), $"Tests/peers/{Peer}/node_modules");
        _process = PeerProcess.Start(node, ["server.js", "--port", "0"], directory, PeerEnvironment());
        var match = await _process.WaitForLineAsync(ListeningLine(), StartTimeout, ct);
        Port = int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);
        await OnStartedAsync(ct);
    }

    /// <summary>Kills the peer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        Http.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The environment of the peer process (its secrets).</summary>
    protected abstract IReadOnlyDictionary<string, string> PeerEnvironment();

    /// <summary>Runs once it listens: a first request that proves it serves.</summary>
    protected abstract Task OnStartedAsync(CancellationToken ct);

    [GeneratedRegex(@"^listening 127\.0\.0\.1:(?<port>\d+)$")]
    private static partial Regex ListeningLine();
}
