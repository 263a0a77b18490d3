using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>Syslog over UDP (RFC 5426): one RFC 5424 message per datagram, at most
/// <see cref="SyslogSinkOptions.MaxMessageBytes"/> bytes.</summary>
/// <remarks>
/// <para><b>Size.</b> A message longer than the limit is not dropped: its payload is cut at a UTF-8 character
/// boundary and the datagram ends with <c> [truncated from N bytes]</c> (N: the payload's full size), so the header and
/// the start of the record arrive and the cut is visible. <see cref="Truncated"/> counts such messages.</para>
/// <para><b>Delivery.</b> UDP confirms nothing: every datagram the kernel accepted counts as delivered, so records sent
/// while the receiver is down, or dropped by a full receive buffer, are lost without notice. A send fails (and the
/// batch stops there) only when the kernel refuses the datagram, e.g. when an earlier datagram drew an ICMP port
/// unreachable. Use TCP or TLS where loss matters.</para>
/// </remarks>
public sealed class SyslogUdpSink : IRecordSink
{
    private readonly SyslogSinkOptions _options;
    private readonly byte[] _datagram;
    private Socket? _socket;
    private long _truncated;

    /// <summary>A sink named <paramref name="name"/> sending to <see cref="SyslogSinkOptions.Host"/>:<see cref="SyslogSinkOptions.Port"/>.</summary>
    public SyslogUdpSink(string name, SyslogSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxMessageBytes, SyslogSinkOptions.MinMessageBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxMessageBytes, SyslogSinkOptions.MaxUdpMessageBytes);
        Name = name;
        _options = options;
        Formatter = new SyslogFormatter(options.Facility, options.Hostname, options.ByteOrderMark, options.IncludeProcessId);
        _datagram = new byte[Math.Max(options.MaxMessageBytes, SyslogFormatter.MaxHeaderBytes)];
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The message formatter.</summary>
    public SyslogFormatter Formatter { get; }

    /// <summary>Messages sent truncated so far.</summary>
    public long Truncated => Interlocked.Read(ref _truncated);

    /// <inheritdoc />
    public async Task<SinkResult> SendAsync(IReadOnlyList<EncodedRecord> batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(_options.Timeout);
        var sent = 0;
        try
        {
            var socket = _socket ??= await ConnectAsync(limit.Token).ConfigureAwait(false);
            for (; sent < batch.Count; sent++)
            {
                var length = Build(batch[sent]);
                await socket.SendAsync(_datagram.AsMemory(0, length), SocketFlags.None, limit.Token).ConfigureAwait(false);
            }

            return new SinkResult(batch.Count, null);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            Drop();
            var endpoint = FormattableString.Invariant($"{_options.Host}:{_options.Port}");
            return new SinkResult(sent, ex switch
            {
                SocketException se => FormattableString.Invariant($"sending datagram {sent + 1} of {batch.Count} to {endpoint}: {se.SocketErrorCode} ({se.Message})"),
                OperationCanceledException => FormattableString.Invariant($"sending datagram {sent + 1} of {batch.Count} to {endpoint}: timed out after {_options.Timeout.TotalSeconds:0.###} s"),
                _ => $"sending to {endpoint}: {ex.GetType().Name}: {ex.Message}",
            });
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Drop();
        return ValueTask.CompletedTask;
    }

    /// <summary>The datagram of <paramref name="record"/> under a limit of <paramref name="maxBytes"/>: the whole
    /// message, or the header, the payload cut at a UTF-8 boundary, and <c> [truncated from N bytes]</c>.</summary>
    public static byte[] Datagram(SyslogFormatter formatter, EncodedRecord record, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var buffer = new byte[Math.Max(maxBytes, SyslogFormatter.MaxHeaderBytes)];
        var length = Build(formatter, record, buffer, maxBytes, out _);
        return buffer.AsSpan(0, length).ToArray();
    }

    private int Build(EncodedRecord record)
    {
        var length = Build(Formatter, record, _datagram, _options.MaxMessageBytes, out var truncated);
        if (truncated)
        {
            Interlocked.Increment(ref _truncated);
        }

        return length;
    }

    private static int Build(SyslogFormatter formatter, EncodedRecord record, byte[] buffer, int maxBytes, out bool truncated)
    {
        ArgumentNullException.ThrowIfNull(record);
        var header = formatter.WriteHeader(record, buffer);
        var payload = record.Payload.Span;
        truncated = header + payload.Length > maxBytes;
        if (!truncated)
        {
            payload.CopyTo(buffer.AsSpan(header));
            return header + payload.Length;
        }

        var marker = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $" [truncated from {payload.Length} bytes]"));
        var room = Math.Max(0, maxBytes - header - marker.Length);
        var cut = Math.Min(room, payload.Length);
        // Never split a character: back off while the byte at the cut continues the character before it.
        while (cut > 0 && cut < payload.Length && (payload[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        payload[..cut].CopyTo(buffer.AsSpan(header));
        marker.CopyTo(buffer.AsSpan(header + cut));
        return header + cut + marker.Length;
    }

    private async Task<Socket> ConnectAsync(CancellationToken ct)
    {
        var socket = new Socket(SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(_options.Host, _options.Port, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Drop()
    {
        _socket?.Dispose();
        _socket = null;
    }
}
