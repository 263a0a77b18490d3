using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;

namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>Syslog over a byte stream with octet-counting framing (<c>MSG-LEN SP SYSLOG-MSG</c>, no trailer; RFC 6587
/// §3.4.1, RFC 5425 §4.3): the base of <see cref="SyslogTcpSink"/> and <see cref="SyslogTlsSink"/>.</summary>
/// <remarks>
/// <para>One connection is kept between sends and replaced after any failure (or when the receiver closed it while
/// idle). Frames are gathered into 64 KiB writes. <see cref="SyslogSinkOptions.Timeout"/> bounds connecting (with
/// the TLS handshake), each write, and the wait for acknowledgements.</para>
/// <para><b>What counts as delivered.</b> Syslog over TCP and TLS has no acknowledgement of its own. On Linux the sink
/// reads the connection's <c>TCP_INFO</c>: a send returns success only once the receiver's TCP acknowledged every
/// byte of the batch (<c>tcpi_bytes_acked</c>), and a send that fails counts only the records, from the batch's
/// start, whose last byte was acknowledged (for TLS, whose whole 64 KiB write was). Elsewhere it counts the records
/// whose bytes were written to the kernel.</para>
/// <para><b>Replay after a broken connection.</b> An acknowledgement means the receiver's kernel has the bytes, not
/// that the receiving process read them: rsyslog stopped with SIGTERM drops what is still unread in its socket (seen
/// in the outage tests: up to a few hundred KiB). So the sink keeps its latest frames, <see cref="ReplayBudget"/>
/// bytes (twice the largest receive window the receiver advertised, <c>tcpi_snd_wnd</c>, which bounds what can sit
/// unread in its socket), and after a connection broke it sends them again on the next connection, ahead of the batch.
/// The receiver then sees those records twice; that is the price of at least once. What remains possible is loss of
/// records the receiving process had read but not yet stored when it died beyond that budget, and loss when the sink
/// itself is restarted at the same time (the frames are kept in memory only).</para>
/// <para>Records are delivered at least once: what was not counted is sent again by the delivery loop, and receivers
/// dedupe on the record id.</para>
/// </remarks>
public abstract class SyslogStreamSink : IRecordSink
{
    private const int ChunkBytes = 64 * 1024;
    private const int TcpInfoOption = 11;
    private const int TcpEstablished = 1;
    private const long MinReplayBytes = 256 * 1024;
    private const long MaxReplayBytes = 32L * 1024 * 1024;
    private const long DefaultReplayBytes = 4L * 1024 * 1024;

    private readonly byte[] _chunk = new byte[ChunkBytes];
    private readonly byte[] _header = new byte[SyslogFormatter.MaxHeaderBytes + 16];
    private readonly Queue<(byte[] Frames, int Records)> _replay = new();
    private Connection? _connection;
    private long _replayBytes;
    private long _maxWindow;
    private bool _replayPending;
    private long _resent;

    private protected SyslogStreamSink(string name, SyslogSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        Options = options;
        Formatter = new SyslogFormatter(options.Facility, options.Hostname, options.ByteOrderMark, options.IncludeProcessId);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The settings.</summary>
    public SyslogSinkOptions Options { get; }

    /// <summary>The message formatter.</summary>
    public SyslogFormatter Formatter { get; }

    /// <summary>True when delivery is confirmed by the receiver's TCP acknowledgements (Linux <c>TCP_INFO</c>) on the
    /// current connection; false before the first connection or where that is not available.</summary>
    public bool ConfirmsByAcknowledgement => _connection?.Baseline is not null;

    /// <summary>How many connections were opened so far.</summary>
    public int Connections { get; private set; }

    /// <summary>Records sent again, ahead of a batch, on a new connection after the previous one broke.</summary>
    public long ResentRecords => Interlocked.Read(ref _resent);

    /// <summary>How many bytes of the latest frames are kept to be sent again after a broken connection: twice the
    /// largest receive window the receiver advertised (at least 256 KiB, at most 32 MiB), or 4 MiB where the window is
    /// not known.</summary>
    public long ReplayBudget => _maxWindow > 0 ? Math.Clamp(2 * _maxWindow, MinReplayBytes, MaxReplayBytes) : DefaultReplayBytes;

    /// <summary>Where the receiver is, for messages.</summary>
    protected string Endpoint => FormattableString.Invariant($"{Options.Host}:{Options.Port}");

    /// <inheritdoc />
    public async Task<SinkResult> SendAsync(IReadOnlyList<EncodedRecord> batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return new SinkResult(0, null);
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(Options.Timeout);
        Connection connection;
        try
        {
            connection = await ConnectedAsync(limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFailure(ex, ct))
        {
            return new SinkResult(0, Describe("cannot connect to", ex));
        }

        var ends = ArrayPool<long>.Shared.Rent(batch.Count);
        var written = 0;
        try
        {
            if (_replayPending)
            {
                await ReplayAsync(connection, limit).ConfigureAwait(false);
            }

            var used = 0;
            for (var i = 0; i < batch.Count; i++)
            {
                var record = batch[i];
                var headerLength = Formatter.WriteHeader(record, _header);
                var messageLength = headerLength + record.Payload.Length;
                var prefixLength = Digits(messageLength) + 1;
                var frameLength = prefixLength + messageLength;
                if (used > 0 && used + frameLength > ChunkBytes)
                {
                    await WriteChunkAsync(connection, used, written, i, ends, limit).ConfigureAwait(false);
                    written = i;
                    used = 0;
                }

                if (frameLength > ChunkBytes)
                {
                    // A record larger than a chunk is a write of its own.
                    var frame = new byte[frameLength];
                    var at = WritePrefix(messageLength, frame);
                    _header.AsSpan(0, headerLength).CopyTo(frame.AsSpan(at));
                    record.Payload.Span.CopyTo(frame.AsSpan(at + headerLength));
                    limit.CancelAfter(Options.Timeout);
                    await connection.Stream.WriteAsync(frame, limit.Token).ConfigureAwait(false);
                    ends[i] = connection.Transport.BytesWritten;
                    written = i + 1;
                    Remember(frame, 1);
                    continue;
                }

                used += WritePrefix(messageLength, _chunk.AsSpan(used));
                _header.AsSpan(0, headerLength).CopyTo(_chunk.AsSpan(used));
                used += headerLength;
                record.Payload.Span.CopyTo(_chunk.AsSpan(used));
                used += record.Payload.Length;
                ends[i] = used;
            }

            if (used > 0)
            {
                await WriteChunkAsync(connection, used, written, batch.Count, ends, limit).ConfigureAwait(false);
                written = batch.Count;
            }

            limit.CancelAfter(Options.Timeout);
            await connection.Stream.FlushAsync(limit.Token).ConfigureAwait(false);
            if (connection.Baseline is not null)
            {
                await WaitForAcknowledgementAsync(connection, connection.Transport.BytesWritten, limit.Token).ConfigureAwait(false);
            }

            return new SinkResult(batch.Count, null);
        }
        catch (Exception ex) when (IsFailure(ex, ct))
        {
            var delivered = Delivered(connection, ends, written);
            await DropAsync().ConfigureAwait(false);
            return new SinkResult(delivered, Describe(FormattableString.Invariant($"sending {batch.Count} records ({delivered} confirmed) to"), ex));
        }
        catch
        {
            // Cancelled by the caller (or a bug): the stream may end inside a frame, so it cannot be used again.
            await DropAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ends);
        }
    }

    /// <summary>Closes the connection (TLS: with a close_notify).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            try
            {
                await CloseGracefullyAsync(connection.Stream).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or ObjectDisposedException or InvalidOperationException)
            {
                // Closing anyway.
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Wraps the connected transport for writing (TLS: the handshake); the returned stream owns
    /// <paramref name="transport"/>.</summary>
    private protected abstract Task<Stream> OpenAsync(Socket socket, CountingStream transport, CancellationToken ct);

    /// <summary>True when each record's end is known as an offset of the TCP stream (plain TCP); false when only each
    /// write's end is (TLS).</summary>
    private protected abstract bool ExactOffsets { get; }

    /// <summary>Runs once a connection is open; <paramref name="closed"/> completes when the receiver closes it. The
    /// TLS sink waits here for a receiver that rejects the client after the handshake.</summary>
    private protected virtual Task AfterOpenAsync(Task closed, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Ends the stream politely before it is disposed (TLS: close_notify).</summary>
    private protected virtual Task CloseGracefullyAsync(Stream stream) => Task.CompletedTask;

    /// <summary>A message for a failure of <paramref name="what"/>.</summary>
    private protected virtual string Describe(string what, Exception ex) => ex switch
    {
        OperationCanceledException => FormattableString.Invariant($"{what} {Endpoint}: timed out after {Options.Timeout.TotalSeconds:0.###} s"),
        SocketException se => $"{what} {Endpoint}: {se.SocketErrorCode} ({se.Message})",
        IOException { InnerException: SocketException se } => $"{what} {Endpoint}: {se.SocketErrorCode} ({se.Message})",
        _ => $"{what} {Endpoint}: {ex.GetType().Name}: {ex.Message}",
    };

    private static bool IsFailure(Exception ex, CancellationToken ct) =>
        ex is IOException or SocketException or AuthenticationException or ObjectDisposedException or InvalidOperationException
        || (ex is OperationCanceledException && !ct.IsCancellationRequested);

    private async Task WriteChunkAsync(Connection connection, int used, int first, int end, long[] ends, CancellationTokenSource limit)
    {
        var start = connection.Transport.BytesWritten;
        limit.CancelAfter(Options.Timeout);
        await connection.Stream.WriteAsync(_chunk.AsMemory(0, used), limit.Token).ConfigureAwait(false);
        var after = connection.Transport.BytesWritten;
        for (var i = first; i < end; i++)
        {
            ends[i] = ExactOffsets ? start + ends[i] : after;
        }

        Remember(_chunk.AsSpan(0, used).ToArray(), end - first);
    }

    /// <summary>Keeps the latest frames written, up to <see cref="ReplayBudget"/> bytes, in whole writes.</summary>
    private void Remember(byte[] frames, int records)
    {
        _replay.Enqueue((frames, records));
        _replayBytes += frames.Length;
        var budget = ReplayBudget;
        while (_replay.Count > 1 && _replayBytes - _replay.Peek().Frames.Length >= budget)
        {
            _replayBytes -= _replay.Dequeue().Frames.Length;
        }
    }

    /// <summary>After a broken connection, sends the latest frames again first: the receiver's TCP may have
    /// acknowledged them without the receiving process ever reading them (rsyslog stopped with unread data in its
    /// socket loses it).</summary>
    private async Task ReplayAsync(Connection connection, CancellationTokenSource limit)
    {
        foreach (var (frames, records) in _replay.ToArray())
        {
            limit.CancelAfter(Options.Timeout);
            await connection.Stream.WriteAsync(frames, limit.Token).ConfigureAwait(false);
            Interlocked.Add(ref _resent, records);
        }

        _replayPending = false;
    }

    private async Task<Connection> ConnectedAsync(CancellationToken ct)
    {
        if (_connection is { } existing)
        {
            if (!existing.LooksClosed())
            {
                return existing;
            }

            await DropAsync().ConfigureAwait(false);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(Options.Host, Options.Port, ct).ConfigureAwait(false);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            var baseline = ReadTcpInfo(socket) is { } info ? info.Acked : (long?)null;
            var transport = new CountingStream(new NetworkStream(socket, ownsSocket: true));
            Stream stream;
            try
            {
                stream = await OpenAsync(socket, transport, ct).ConfigureAwait(false);
            }
            catch
            {
                await transport.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            var connection = new Connection(socket, transport, stream, baseline);
            try
            {
                await AfterOpenAsync(connection.Closed, ct).ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            Connections++;
            return _connection = connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task WaitForAcknowledgementAsync(Connection connection, long target, CancellationToken ct)
    {
        for (var round = 0; ; round++)
        {
            var info = ReadTcpInfo(connection.Socket)
                ?? throw new IOException("the connection's TCP state cannot be read any more");
            _maxWindow = Math.Max(_maxWindow, info.Window);
            if (info.Acked - connection.Baseline!.Value >= target)
            {
                return;
            }

            if (info.State != TcpEstablished || connection.Closed.IsCompleted)
            {
                throw new IOException(FormattableString.Invariant(
                    $"the receiver closed the connection with {target - (info.Acked - connection.Baseline.Value)} bytes not acknowledged"));
            }

            // Loopback acknowledges within microseconds; a remote receiver within a round trip.
            if (round < 50)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1, ct).ConfigureAwait(false);
            }
        }
    }

    private static int Delivered(Connection connection, long[] ends, int written)
    {
        if (connection.Baseline is not { } baseline)
        {
            return written;
        }

        if (ReadTcpInfo(connection.Socket) is not { } info)
        {
            return 0;
        }

        var acked = info.Acked - baseline;
        var delivered = 0;
        while (delivered < written && ends[delivered] <= acked)
        {
            delivered++;
        }

        return delivered;
    }

    private async ValueTask DropAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            _replayPending = _replay.Count > 0;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The state, <c>tcpi_bytes_acked</c> and <c>tcpi_snd_wnd</c> (the receiver's advertised window; 0 before
    /// Linux 5.4) of a TCP socket (Linux), or null where unknown.</summary>
    internal static (byte State, long Acked, long Window)? ReadTcpInfo(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Span<byte> info = stackalloc byte[256];
        try
        {
            // struct tcp_info: tcpi_state is byte 0, tcpi_bytes_acked the u64 at offset 120 (Linux 4.1 and later),
            // tcpi_snd_wnd the u32 at offset 228 (Linux 5.4 and later).
            var length = socket.GetRawSocketOption((int)SocketOptionLevel.Tcp, TcpInfoOption, info);
            return length < 128 ? null : (info[0], (long)MemoryMarshal.Read<ulong>(info[120..]), length >= 232 ? MemoryMarshal.Read<uint>(info[228..]) : 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            return null;
        }
    }

    private static int Digits(int value)
    {
        var digits = 1;
        for (; value >= 10; value /= 10)
        {
            digits++;
        }

        return digits;
    }

    private static int WritePrefix(int messageLength, Span<byte> destination)
    {
        messageLength.TryFormat(destination, out var n, default, CultureInfo.InvariantCulture);
        destination[n] = (byte)' ';
        return n + 1;
    }

    private sealed class Connection(Socket socket, CountingStream transport, Stream stream, long? baseline) : IAsyncDisposable
    {
        public Socket Socket { get; } = socket;

        public CountingStream Transport { get; } = transport;

        public Stream Stream { get; } = stream;

        /// <summary><c>tcpi_bytes_acked</c> right after connecting (the SYN), or null without TCP_INFO.</summary>
        public long? Baseline { get; } = baseline;

        /// <summary>Completes when the receiver closes the connection (or it fails): a read is kept pending for the
        /// connection's life (syslog receivers send nothing; what TLS sends after the handshake is consumed).</summary>
        public Task Closed { get; } = WatchAsync(stream);

        /// <summary>True when the receiver closed the connection.</summary>
        public bool LooksClosed() =>
            Closed.IsCompleted || (Baseline is not null && ReadTcpInfo(Socket) is { } info && info.State != TcpEstablished);

        private static async Task WatchAsync(Stream stream)
        {
            var buffer = new byte[512];
            try
            {
                while (await stream.ReadAsync(buffer).ConfigureAwait(false) > 0)
                {
                }
            }
            catch (Exception)
            {
                // Reset, disposed, a TLS alert: closed all the same.
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await Stream.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The connection is gone either way.
            }

            Socket.Dispose();
        }
    }
}

/// <summary>A pass-through stream that counts the bytes written through it.</summary>
internal sealed class CountingStream(Stream inner) : Stream
{
    private long _written;

    /// <summary>Bytes whose write completed.</summary>
    public long BytesWritten => Interlocked.Read(ref _written);

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Interlocked.Add(ref _written, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Interlocked.Add(ref _written, buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _written, buffer.Length);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
