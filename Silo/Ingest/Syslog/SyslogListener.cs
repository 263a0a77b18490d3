using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>One bound syslog socket and what its connections share: options, allowlist, TLS settings, the dispatcher,
/// rate limiter and counters, and rate-limited warnings. The loops are in <c>SyslogListener.Stream.cs</c> and
/// <c>SyslogListener.Udp.cs</c>.</summary>
internal sealed partial class SyslogListener : IDisposable
{
    /// <summary>Shipper name under which messages and connections from sources outside the allowlist are counted.</summary>
    public const string UnknownSource = "unknown-source";

    /// <summary>Shipper name under which TLS connections without a valid client certificate are counted.</summary>
    public const string Unauthenticated = "unauthenticated";

    /// <summary>Shipper name under which connections over <see cref="SyslogListenerOptions.MaxConnections"/> or
    /// <see cref="MaxConnectionsPerAddress"/> are counted.</summary>
    public const string ConnectionLimit = "connection-limit";

    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly ILogger _log;
    private readonly WarningGate _unknownGate;
    private readonly WarningGate _tlsGate;
    private readonly WarningGate _refusedGate;
    private readonly WarningGate _limitGate;
    private readonly UdpKernelDrops? _kernelDrops;
    private readonly WarningGate? _kernelGate;
    private readonly WarningGate _addressLimitGate;
    private readonly WarningGate _datagramFailureGate;
    private readonly X509Certificate2? _serverCertificate;
    private readonly X509Certificate2Collection? _clientCa;
    private readonly SslStreamCertificateContext? _serverContext;

    public SyslogListener(SyslogListenerOptions options, SyslogReceiverOptions global, ReceiverDispatcher dispatcher, ShipperRateLimiter limiter,
        TimeProvider time, ILogger log)
    {
        Options = options;
        Global = global;
        Dispatcher = dispatcher;
        Limiter = limiter;
        Time = time;
        _log = log;
        Receiver = options.Protocol switch
        {
            SyslogProtocol.Udp => "syslog:udp",
            SyslogProtocol.Tcp => "syslog:tcp",
            _ => "syslog:tls",
        };
        Allowlist = new SourceAllowlist(options.AllowedSources, $"{SyslogReceiverOptions.SectionName}:Listeners:{options.Name}:AllowedSources");
        _unknownGate = new WarningGate(time, WarningInterval);
        _tlsGate = new WarningGate(time, WarningInterval);
        _refusedGate = new WarningGate(time, WarningInterval);
        _limitGate = new WarningGate(time, WarningInterval);
        _addressLimitGate = new WarningGate(time, WarningInterval);
        _datagramFailureGate = new WarningGate(time, WarningInterval);
        if (options.Protocol == SyslogProtocol.Tls)
        {
            (_serverCertificate, _clientCa) = LoadCertificates(options);
            _serverContext = SslStreamCertificateContext.Create(_serverCertificate, additionalCertificates: null, offline: true);
        }

        var address = IPAddress.Parse(options.Address);
        _socket = options.Protocol == SyslogProtocol.Udp
            ? new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
            : new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (options.Protocol == SyslogProtocol.Udp)
            {
                TryEnlargeReceiveBuffer(_socket);
            }

            _socket.Bind(new IPEndPoint(address, options.EffectivePort));
            if (options.Protocol != SyslogProtocol.Udp)
            {
                _socket.Listen(512);
            }
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            throw new InvalidOperationException(
                $"{SyslogReceiverOptions.SectionName} listener '{options.Name}' cannot bind {options.Protocol} {options.Address}:{options.EffectivePort}: {e.Message}", e);
        }

        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        if (options.Protocol == SyslogProtocol.Udp)
        {
            _kernelDrops = UdpKernelDrops.TryCreate(_socket);
            _kernelGate = new WarningGate(time, WarningInterval);
            Stats.WatchKernelDrops(Receiver + ":" + options.Name, () => _kernelDrops?.Read());
        }
    }

    public SyslogListenerOptions Options { get; }

    public SyslogReceiverOptions Global { get; }

    public ReceiverDispatcher Dispatcher { get; }

    public ShipperRateLimiter Limiter { get; }

    public ReceiverStats Stats => Dispatcher.Stats;

    public TimeProvider Time { get; }

    /// <summary>The receiver tag in counts and the dead-letter source: <c>syslog:udp</c>, <c>syslog:tcp</c>, <c>syslog:tls</c>.</summary>
    public string Receiver { get; }

    public SourceAllowlist Allowlist { get; }

    /// <summary>The address and port actually bound (the chosen port when 0 was configured).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Runs until <paramref name="stop"/>; pending batches are then dispatched until admitted or
    /// <paramref name="abort"/>.</summary>
    public Task RunAsync(CancellationToken stop, CancellationToken abort) =>
        Options.Protocol == SyslogProtocol.Udp ? ReceiveDatagramsAsync(stop, abort) : AcceptAsync(stop, abort);

    /// <summary>Closes the socket, which also ends a pending accept or receive.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        _serverCertificate?.Dispose();
        if (_clientCa is not null)
        {
            foreach (var c in _clientCa)
            {
                c.Dispose();
            }
        }
    }

    /// <summary>Counts and (rate-limited) logs a message or connection from outside the allowlist.</summary>
    private void RefuseUnknown(IPAddress peer)
    {
        Stats.Count(Receiver, UnknownSource, "syslog", 0, rejected: 1);
        if (_unknownGate.TryEnter(out var suppressed))
        {
            LogUnknownSource(Options.Name, peer, suppressed);
        }
    }

    private static void TryEnlargeReceiveBuffer(Socket socket)
    {
        try
        {
            socket.ReceiveBufferSize = 4 * 1024 * 1024; // the kernel caps it (net.core.rmem_max); bursts wait here during a dispatch
        }
        catch (SocketException)
        {
            // not allowed here: the default buffer still works, it just drops earlier under bursts
        }
    }
}
