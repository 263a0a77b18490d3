using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Flows;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Receivers.Flows;

/// <summary>The NetFlow v5 / v9 / IPFIX collector: one UDP socket read by one loop with one pooled buffer and one
/// <see cref="FlowPacketDecoder"/> (templates keyed by exporter address and observation domain). A datagram from a
/// source outside <see cref="NetFlowOptions.AllowedSources"/> is dropped and counted as rejected under
/// <see cref="UnknownSource"/>; a malformed one becomes a dead letter, counted as rejected once its batch is stored.
/// Flows are held to the shipper's rate limit, batched with the dead letters, and handed to the runtime by a second
/// loop, so receiving goes on while a batch waits for room; a batch still refused after
/// <see cref="NetFlowOptions.GiveUpAfter"/> is counted as refused, flows and letters alike (UDP cannot push back).
/// A datagram whose handling throws is counted as rejected and the loop goes on; a loop that fails is logged as an
/// error, stops the other two, and fails the service once what was received has been sent.</summary>
internal sealed partial class NetFlowCollector : BackgroundService
{
    /// <summary>Receiver name in <c>/v1/receivers</c> and metrics.</summary>
    public const string ReceiverName = "netflow";

    /// <summary>Shipper name counted for datagrams from sources that are not allowed.</summary>
    public const string UnknownSource = "unknown-source";

    /// <summary>Dead-letter source of malformed datagrams.</summary>
    public const string DeadLetterSource = "netflow";

    /// <summary>Bytes of a malformed datagram kept in its dead letter.</summary>
    public const int MaxLetterPayloadBytes = 512;

    // At most one line a minute per kind of trouble; the lines held back are counted in the next one.
    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);

    // Larger than any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6), so a datagram is never truncated.
    private const int ReceiveBufferLength = 65_536;

    private readonly NetFlowOptions _options;
    private readonly ReceiverDispatcher _dispatcher;
    private readonly ShipperRateLimiter _limiter;
    private readonly TimeProvider _time;
    private readonly ILogger<NetFlowCollector> _log;
    private readonly FlowPacketDecoder _decoder = new();
    private readonly Channel<FlowBatch> _ready = Channel.CreateBounded<FlowBatch>(
        new BoundedChannelOptions(4) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Meter? _ownMeter;
    private FlowBatch _current;
    private Socket? _socket;
    private ExporterCache? _exporters;
    private UdpKernelDrops? _kernelDrops;

    /// <summary>Created by <see cref="NetFlowServiceCollectionExtensions.AddNetFlowCollector"/>.</summary>
    public NetFlowCollector(IOptions<NetFlowOptions> options, ReceiverDispatcher dispatcher, ShipperRateLimiter limiter, TimeProvider time,
        ILogger<NetFlowCollector> log, IMeterFactory? meters)
    {
        _options = options.Value;
        _dispatcher = dispatcher;
        _limiter = limiter;
        _time = time;
        _log = log;
        _current = new FlowBatch(_options.MaxBatch);
        _unknownSourceLog = new WarningGate(time, WarningInterval);
        _rejectedLog = new WarningGate(time, WarningInterval);
        _limitedLog = new WarningGate(time, WarningInterval);
        _refusedLog = new WarningGate(time, WarningInterval);
        _kernelLog = new WarningGate(time, WarningInterval);
        _receiveErrorLog = new WarningGate(time, WarningInterval);
        _failedLog = new WarningGate(time, WarningInterval);
        _dispatchFailedLog = new WarningGate(time, WarningInterval);
        _ownMeter = meters is null ? new Meter(Runtime.RuntimeMetrics.Name) : null;
        CreateInstruments(meters?.Create(Runtime.RuntimeMetrics.Name) ?? _ownMeter!);
    }

    /// <summary>The bound address and port (useful with port 0); null when disabled or not started.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Decoder counters summed since start: datagrams, flows, templates, and data sets buffered until their
    /// template arrived, replayed, or dropped.</summary>
    public FlowDecodeCounters DecoderTotals => _decoder.Totals;

    /// <summary>Binds the socket before the host reports started, so a port in use fails the start with a clear error.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled)
        {
            var allowlist = new SourceAllowlist(_options.AllowedSources, NetFlowOptions.SectionName + ":" + nameof(NetFlowOptions.AllowedSources));
            _exporters = new ExporterCache(allowlist);
            _socket = Bind(IPAddress.Parse(_options.Address), _options.Port, _options.ReceiveBufferBytes);
            LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
            _kernelDrops = UdpKernelDrops.TryCreate(_socket);
            _dispatcher.Stats.WatchKernelDrops(ReceiverName, () => _kernelDrops?.Read());
            LogListening(LocalEndPoint, _socket.ReceiveBufferSize, allowlist.Count);
        }

        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _socket?.Dispose();
        _ownMeter?.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_socket is not { } socket || _exporters is not { } exporters)
        {
            return;
        }

        // Cancelled by the stop or by a loop that failed, so no loop outlives the others.
        using var loops = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var dispatching = DispatchLoopAsync(loops);
        var flushing = FlushLoopAsync(loops);
        ExceptionDispatchInfo? failed = null;
        try
        {
            await ReceiveLoopAsync(socket, exporters, loops.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogLoopFailed("receive", e);
            failed = ExceptionDispatchInfo.Capture(e);
        }

        // Graceful stop: no more datagrams, then the batches set aside and the open one go out like any other
        // (bounded by GiveUpAfter each; a dispatch loop that failed closed the channel, so nothing waits on it).
        await loops.CancelAsync().ConfigureAwait(false);
        socket.Dispose();
        await flushing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await SendRemainingAsync().ConfigureAwait(false);
        _ready.Writer.TryComplete();
        await dispatching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var totals = _decoder.Totals;
        LogStopped(totals.DatagramsAccepted, totals.DatagramsRejected, UnknownSourceDatagrams, totals.Flows);

        // A loop that failed (logged as it did) fails the service, so the host sees it.
        failed?.Throw();
        await flushing.ConfigureAwait(false);
        await dispatching.ConfigureAwait(false);
    }

    private static Socket Bind(IPAddress address, int port, int receiveBufferBytes)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.ReceiveBufferSize = receiveBufferBytes;
            socket.Bind(new IPEndPoint(address, port));
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new InvalidOperationException(
                $"NetFlow:Address and NetFlow:Port are {address} and {port}; the UDP socket could not be bound there ({e.SocketErrorCode}: {e.Message})", e);
        }
    }

    private async Task ReceiveLoopAsync(Socket socket, ExporterCache exporters, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferLength);
        var peer = new SocketAddress(socket.AddressFamily);
        var flows = new List<FlowEvent>(64);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int length;
                try
                {
                    length = await socket.ReceiveFromAsync(buffer.AsMemory(0, ReceiveBufferLength), SocketFlags.None, peer, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException e)
                {
                    // E.g. an ICMP error reported on the socket: one datagram's problem, not the listener's.
                    if (_receiveErrorLog.TryEnter(out _))
                    {
                        LogReceiveError(e.SocketErrorCode);
                    }

                    continue;
                }

                FlowBatch? full;
                Exporter? exporter = null;
                try
                {
                    exporter = exporters.Resolve(peer);
                    full = OnDatagram(buffer.AsSpan(0, length), exporter, flows);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A decoder bug or a datagram no check foresaw: that datagram's problem, not the listener's.
                    OnDatagramFailed(buffer.AsSpan(0, length), exporter?.Shipper, e);
                    continue;
                }

                if (full is not null)
                {
                    // Waits only while the dispatcher holds 4 batches (each leaves within GiveUpAfter), and never
                    // past the stop: a batch still waiting then is sent by the stop.
                    await EnqueueAsync(full, ct).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Decodes, counts and batches one datagram; returns a batch that is full and must be sent.</summary>
    private FlowBatch? OnDatagram(ReadOnlySpan<byte> datagram, Exporter exporter, List<FlowEvent> flows)
    {
        var stats = _dispatcher.Stats;
        var format = FormatOf(datagram);
        if (exporter.Shipper is not { } shipper)
        {
            Interlocked.Increment(ref _unknownSourceDatagrams);
            stats.Count(ReceiverName, UnknownSource, format, 0, rejected: 1);
            if (_unknownSourceLog.TryEnter(out var suppressed))
            {
                LogUnknownSource(exporter.Address, suppressed);
            }

            return null;
        }

        flows.Clear();
        var result = _decoder.Decode(datagram, exporter.Address, flows);
        var counters = result.Counters;
        DeadLetter? letter = null;
        long limited = 0;
        if (result.Reason is { } reason)
        {
            // Counted with its batch: rejected once the letter is stored, refused if the batch is not.
            var detail = $"exporter {exporter.Address} ({shipper}): {reason}";
            letter = new DeadLetter(0, _time.GetUtcNow().ToUnixTimeMilliseconds(), DeadLetterSource, 0, detail,
                datagram[..Math.Min(datagram.Length, MaxLetterPayloadBytes)].ToArray());
            if (_rejectedLog.TryEnter(out var suppressed))
            {
                LogRejected(exporter.Address, shipper, reason, suppressed);
            }
        }

        if (flows.Count > 0 && !_limiter.TryAcquire(shipper, flows.Count, out _))
        {
            limited = flows.Count;
            flows.Clear();
            if (_limitedLog.TryEnter(out var suppressed))
            {
                LogLimited(shipper, limited, suppressed);
            }
        }

        // Options records and records without addresses are read but give no flow; dropped sets never will.
        var ignored = counters.RecordsSkipped + counters.SetsDropped;
        if (limited + ignored > 0)
        {
            stats.Count(ReceiverName, shipper, format, 0, limited: limited, ignored: ignored);
        }

        if (flows.Count == 0 && letter is null)
        {
            return null;
        }

        lock (_gate)
        {
            _current.Add(flows, shipper, format, letter);
            return _current.IsFull(_options.MaxBatch) ? Swap() : null;
        }
    }

    /// <summary>Counts a datagram whose handling threw as rejected (it has no dead letter: nothing says what is wrong
    /// with it) and warns at most once a minute.</summary>
    private void OnDatagramFailed(ReadOnlySpan<byte> datagram, string? shipper, Exception e)
    {
        _dispatcher.Stats.Count(ReceiverName, shipper ?? UnknownSource, FormatOf(datagram), 0, rejected: 1);
        if (_failedLog.TryEnter(out var suppressed))
        {
            LogDatagramFailed(e, suppressed);
        }
    }

    private static string FormatOf(ReadOnlySpan<byte> datagram) =>
        datagram.Length < 2 || datagram[0] != 0 ? "unknown" : datagram[1] switch
        {
            5 => "netflow-v5",
            9 => "netflow-v9",
            10 => "ipfix",
            _ => "unknown",
        };
}
