using System.Buffers.Binary;
using System.Net;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Flows;

/// <summary>
/// Turns one UDP datagram from a NetFlow v5, NetFlow v9 (RFC 3954) or IPFIX (RFC 7011) exporter into
/// <see cref="FlowEvent"/>s. Keeps the v9/IPFIX template cache, keyed by (exporter, source id / observation
/// domain id, template id), and a bounded buffer of data sets that arrived before their template. Every length
/// and count is checked against the bytes present; malformed input gives a reason and counters, never an
/// exception, and every loop advances by at least one byte of input. Thread-safe (calls are serialised).
/// </summary>
/// <remarks>
/// Sampling: v5 header sampling interval (low 14 bits); v9/IPFIX <c>samplingInterval</c> (34) and
/// <c>samplerRandomInterval</c>/<c>FLOW_SAMPLER_RANDOM_INTERVAL</c> (50), and IPFIX
/// <c>samplingPacketInterval</c>/<c>samplingPacketSpace</c> (305/306), taken from the data record itself or else
/// from the last options data record of the same exporter and domain (one interval per domain; sampler ids are
/// not told apart). Bytes and packets are multiplied by the interval.
/// Time: v5/v9 from First/Last against the header sysUptime and unix time; IPFIX from flowStart/End Seconds,
/// Milliseconds, Microseconds, Nanoseconds, DeltaMicroseconds, or SysUpTime with
/// <c>systemInitTimeMilliseconds</c> (160, from the record or an options record); without 160 a SysUpTime flow
/// is assumed to end at the export time.
/// </remarks>
public sealed class FlowPacketDecoder
{
    /// <summary>Work units one datagram may spend (see <see cref="FlowDecodeCounters.Steps"/>).</summary>
    public const int MaxStepsPerDatagram = 4_000_000;

    /// <summary>Buffered data sets per (exporter, domain); the oldest is dropped beyond this.</summary>
    public const int MaxPendingSetsPerDomain = 64;

    /// <summary>Buffered data sets over all exporters.</summary>
    public const int MaxPendingSetsTotal = 4096;

    /// <summary>Buffered bytes over all exporters.</summary>
    public const int MaxPendingBytesTotal = 8 << 20;

    /// <summary>Distinct (exporter, version, domain) entries kept; datagrams for new ones are rejected beyond this.</summary>
    public const int MaxDomains = 4096;

    /// <summary>Templates kept per (exporter, version, domain); new ones are refused beyond this.</summary>
    public const int MaxTemplatesPerDomain = 1024;

    private const int V5HeaderLength = 24;
    private const int V5RecordLength = 48;
    private const int V9HeaderLength = 20;
    private const int IpfixHeaderLength = 16;
    private const int Ipv4CacheLimit = 8192;
    private const long NtpToUnixSeconds = 2_208_988_800L;
    private const long MaxMs = 1L << 50;

    private readonly object _gate = new();
    private readonly Dictionary<DomainKey, DomainState> _domains = [];
    private readonly Dictionary<uint, string> _ipv4Strings = [];
    private FlowDecodeCounters _totals;
    private int _pendingSets;
    private long _pendingBytes;

    /// <summary>Counters summed over every call.</summary>
    public FlowDecodeCounters Totals
    {
        get
        {
            lock (_gate)
            {
                return _totals;
            }
        }
    }

    /// <summary>Decodes one datagram into a new list.</summary>
    /// <param name="datagram">The UDP payload.</param>
    /// <param name="exporter">The exporter's address (the UDP source), used in the cache key and as
    /// <see cref="FlowEvent.Exporter"/>.</param>
    /// <returns>The flows and counters.</returns>
    public FlowDecodeResult Decode(ReadOnlySpan<byte> datagram, string exporter) => Decode(datagram, exporter, []);

    /// <summary>Decodes one datagram, appending the flows to <paramref name="events"/> (reuse it to avoid an
    /// allocation per datagram).</summary>
    /// <param name="datagram">The UDP payload.</param>
    /// <param name="exporter">The exporter's address (the UDP source).</param>
    /// <param name="events">Where flows are appended.</param>
    /// <returns>The counters; <see cref="FlowDecodeResult.Events"/> is <paramref name="events"/>.</returns>
    public FlowDecodeResult Decode(ReadOnlySpan<byte> datagram, string exporter, List<FlowEvent> events)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(events);
        lock (_gate)
        {
            var run = new Run(exporter, events);
            var version = datagram.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(datagram) : 0;
            switch (version)
            {
                case 5:
                    DecodeV5(datagram, ref run);
                    break;
                case 9:
                case 10:
                    DecodeTemplated(datagram, version == 10, ref run);
                    break;
                default:
                    run.Reject(datagram.Length < 2 ? "datagram shorter than a version field" : $"unsupported version {version}");
                    version = 0;
                    break;
            }

            if (run.Reason is null)
            {
                run.Counters.DatagramsAccepted = 1;
            }
            else
            {
                run.Counters.DatagramsRejected = 1;
            }

            _totals.Add(run.Counters);
            return new FlowDecodeResult(events, run.Counters, version, run.Reason);
        }
    }

    private void DecodeV5(ReadOnlySpan<byte> d, ref Run run)
    {
        if (d.Length < V5HeaderLength)
        {
            run.Reject($"v5: {d.Length} bytes, shorter than the 24-byte header");
            return;
        }

        int count = BinaryPrimitives.ReadUInt16BigEndian(d[2..]);
        if (count is < 1 or > 30)
        {
            run.Reject($"v5: record count {count} outside 1..30");
            return;
        }

        if (d.Length < V5HeaderLength + (count * V5RecordLength))
        {
            run.Reject($"v5: {count} records need {V5HeaderLength + (count * V5RecordLength)} bytes, datagram has {d.Length}");
            return;
        }

        var sysUptime = BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
        var nsecs = BinaryPrimitives.ReadUInt32BigEndian(d[12..]);
        var unixMs = (BinaryPrimitives.ReadUInt32BigEndian(d[8..]) * 1000L) + (nsecs < 1_000_000_000 ? nsecs / 1_000_000 : 0);
        long sampling = BinaryPrimitives.ReadUInt16BigEndian(d[22..]) & 0x3FFF;
        if (sampling < 2)
        {
            sampling = 1;
        }

        for (var i = 0; i < count; i++)
        {
            run.Counters.Steps++;
            var r = d.Slice(V5HeaderLength + (i * V5RecordLength), V5RecordLength);
            var first = BinaryPrimitives.ReadUInt32BigEndian(r[24..]);
            var last = BinaryPrimitives.ReadUInt32BigEndian(r[28..]);
            run.Events.Add(new FlowEvent(
                unixMs + unchecked((int)(first - sysUptime)),
                Ipv4(BinaryPrimitives.ReadUInt32BigEndian(r)),
                BinaryPrimitives.ReadUInt16BigEndian(r[32..]),
                Ipv4(BinaryPrimitives.ReadUInt32BigEndian(r[4..])),
                BinaryPrimitives.ReadUInt16BigEndian(r[34..]),
                r[38],
                BinaryPrimitives.ReadUInt32BigEndian(r[20..]) * sampling,
                0,
                BinaryPrimitives.ReadUInt32BigEndian(r[16..]) * sampling,
                unchecked(last - first),
                run.Exporter));
            run.Counters.Flows++;
        }
    }

    private void DecodeTemplated(ReadOnlySpan<byte> d, bool ipfix, ref Run run)
    {
        var name = ipfix ? "ipfix" : "v9";
        var headerLength = ipfix ? IpfixHeaderLength : V9HeaderLength;
        if (d.Length < headerLength)
        {
            run.Reject($"{name}: {d.Length} bytes, shorter than the {headerLength}-byte header");
            return;
        }

        var end = d.Length;
        uint sysUptime = 0;
        uint exportSecs;
        uint domainId;
        if (ipfix)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[2..]);
            if (length < IpfixHeaderLength || length > d.Length)
            {
                run.Reject($"ipfix: message length {length} outside {IpfixHeaderLength}..{d.Length}");
                return;
            }

            end = length;
            exportSecs = BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
            domainId = BinaryPrimitives.ReadUInt32BigEndian(d[12..]);
        }
        else
        {
            sysUptime = BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
            exportSecs = BinaryPrimitives.ReadUInt32BigEndian(d[8..]);
            domainId = BinaryPrimitives.ReadUInt32BigEndian(d[16..]);
        }

        d = d[..end];

        // Walk the set headers first, so a broken structure is rejected before anything is learned from it.
        var pos = headerLength;
        while (end - pos >= 4)
        {
            int setLength = BinaryPrimitives.ReadUInt16BigEndian(d[(pos + 2)..]);
            if (setLength < 4 || setLength > end - pos)
            {
                run.Reject($"{name}: set at offset {pos} has length {setLength}, {end - pos} bytes left");
                return;
            }

            pos += setLength;
        }

        if (pos != end && ipfix)
        {
            run.Reject($"ipfix: {end - pos} bytes after the last set");
            return;
        }

        var domain = GetDomain(new DomainKey(run.Exporter, ipfix, domainId));
        if (domain is null)
        {
            run.Reject($"{name}: more than {MaxDomains} exporter domains");
            return;
        }

        var ctx = new PacketContext(ipfix, sysUptime, exportSecs);
        pos = headerLength;
        while (end - pos >= 4)
        {
            int setId = BinaryPrimitives.ReadUInt16BigEndian(d[pos..]);
            int setLength = BinaryPrimitives.ReadUInt16BigEndian(d[(pos + 2)..]);
            var body = d.Slice(pos + 4, setLength - 4);
            pos += setLength;
            if (!run.Step(body.Length / 4 + 1))
            {
                return;
            }

            if (setId == (ipfix ? 2 : 0))
            {
                ParseTemplates(body, setId, options: false, domain, ctx, ref run);
            }
            else if (setId == (ipfix ? 3 : 1))
            {
                ParseTemplates(body, setId, options: true, domain, ctx, ref run);
            }
            else if (setId >= 256)
            {
                if (domain.Templates.TryGetValue((ushort)setId, out var template))
                {
                    DecodeDataSet(body, setId, template, domain, ctx, replay: false, ref run);
                }
                else
                {
                    Buffer(domain, (ushort)setId, body, ctx, ref run);
                }
            }
            else
            {
                run.Counters.SetsIgnored++;
            }

            if (run.Exhausted)
            {
                return;
            }
        }
    }

    private void ParseTemplates(ReadOnlySpan<byte> body, int setId, bool options, DomainState domain, PacketContext ctx, ref Run run)
    {
        var name = ctx.Ipfix ? "ipfix" : "v9";
        var p = 0;
        while (body.Length - p >= 4)
        {
            int templateId = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
            int second = BinaryPrimitives.ReadUInt16BigEndian(body[(p + 2)..]);
            if (templateId < 256)
            {
                if (ctx.Ipfix && templateId == setId && second == 0)
                {
                    // RFC 7011 §8.1: withdraw every (options) template of the domain.
                    p += 4;
                    WithdrawAll(domain, options, ref run);
                    continue;
                }

                if (templateId == 0 && second == 0 && body[p..].IndexOfAnyExcept((byte)0) < 0)
                {
                    return; // padding
                }

                run.Reject($"{name}: template id {templateId} below 256 in set {setId}");
                run.Counters.TemplatesRefused++;
                return;
            }

            int fieldCount;
            var scopeCount = 0;
            var scopeBytes = -1;
            if (options && !ctx.Ipfix)
            {
                // v9 options template: id, scope length (bytes), option length (bytes).
                if (body.Length - p < 6)
                {
                    run.Reject($"v9: options template {templateId} truncated");
                    run.Counters.TemplatesRefused++;
                    return;
                }

                scopeBytes = second;
                int optionBytes = BinaryPrimitives.ReadUInt16BigEndian(body[(p + 4)..]);
                if (scopeBytes % 4 != 0 || optionBytes % 4 != 0 || scopeBytes + optionBytes == 0)
                {
                    run.Reject($"v9: options template {templateId} has scope length {scopeBytes} and option length {optionBytes}");
                    run.Counters.TemplatesRefused++;
                    return;
                }

                fieldCount = (scopeBytes + optionBytes) / 4;
                p += 6;
            }
            else
            {
                fieldCount = second;
                p += 4;
                if (fieldCount == 0)
                {
                    if (!ctx.Ipfix)
                    {
                        run.Reject($"v9: template {templateId} has no fields");
                        run.Counters.TemplatesRefused++;
                        return;
                    }

                    if (domain.Templates.Remove((ushort)templateId))
                    {
                        run.Counters.TemplatesWithdrawn++;
                    }

                    continue;
                }

                if (options)
                {
                    if (body.Length - p < 2)
                    {
                        run.Reject($"ipfix: options template {templateId} truncated");
                        run.Counters.TemplatesRefused++;
                        return;
                    }

                    scopeCount = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
                    p += 2;
                    if (scopeCount > fieldCount)
                    {
                        run.Reject($"ipfix: options template {templateId} has {scopeCount} scope fields of {fieldCount}");
                        run.Counters.TemplatesRefused++;
                        return;
                    }
                }
            }

            if (fieldCount * 4 > body.Length - p)
            {
                run.Reject($"{name}: template {templateId} declares {fieldCount} fields, {body.Length - p} bytes left");
                run.Counters.TemplatesRefused++;
                return;
            }

            var fields = new FlowField[fieldCount];
            var start = p;
            for (var i = 0; i < fieldCount; i++)
            {
                if (body.Length - p < 4)
                {
                    run.Reject($"{name}: template {templateId} field {i} truncated");
                    run.Counters.TemplatesRefused++;
                    return;
                }

                int id = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
                var length = BinaryPrimitives.ReadUInt16BigEndian(body[(p + 2)..]);
                p += 4;
                uint enterprise = 0;
                if (ctx.Ipfix && (id & 0x8000) != 0)
                {
                    if (body.Length - p < 4)
                    {
                        run.Reject($"ipfix: template {templateId} field {i} enterprise number truncated");
                        run.Counters.TemplatesRefused++;
                        return;
                    }

                    enterprise = BinaryPrimitives.ReadUInt32BigEndian(body[p..]);
                    id &= 0x7FFF;
                    p += 4;
                }

                if (length == 0)
                {
                    run.Reject($"{name}: template {templateId} field {i} has length 0");
                    run.Counters.TemplatesRefused++;
                    return;
                }

                var isScope = scopeBytes >= 0 ? p - start <= scopeBytes : i < scopeCount;
                var kind = isScope && !ctx.Ipfix ? FieldKind.Ignore : FlowTemplate.KindOf(id, enterprise, length, ctx.Ipfix);
                fields[i] = new FlowField(length, kind);
            }

            if (!run.Step(fieldCount))
            {
                return;
            }

            var template = new FlowTemplate(fields, options, ctx.Ipfix);
            var key = (ushort)templateId;
            if (!domain.Templates.ContainsKey(key) && domain.Templates.Count >= MaxTemplatesPerDomain)
            {
                run.Counters.TemplatesRefused++;
                run.Reject($"{name}: more than {MaxTemplatesPerDomain} templates for one domain");
                continue;
            }

            domain.Templates[key] = template;
            run.Counters.TemplatesLearned++;
            Replay(domain, key, template, ref run);
            if (run.Exhausted)
            {
                return;
            }
        }
    }

    private static void WithdrawAll(DomainState domain, bool options, ref Run run)
    {
        List<ushort>? ids = null;
        foreach (var (id, t) in domain.Templates)
        {
            if (t.IsOptions == options)
            {
                (ids ??= []).Add(id);
            }
        }

        if (ids is null)
        {
            return;
        }

        foreach (var id in ids)
        {
            domain.Templates.Remove(id);
            run.Counters.TemplatesWithdrawn++;
        }
    }

    private void Buffer(DomainState domain, ushort templateId, ReadOnlySpan<byte> body, PacketContext ctx, ref Run run)
    {
        while (domain.Pending.Count > 0 &&
               (domain.Pending.Count >= MaxPendingSetsPerDomain ||
                _pendingSets >= MaxPendingSetsTotal ||
                _pendingBytes + body.Length > MaxPendingBytesTotal))
        {
            _pendingSets--;
            _pendingBytes -= domain.Pending[0].Body.Length;
            domain.Pending.RemoveAt(0);
            run.Counters.SetsDropped++;
        }

        if (_pendingSets >= MaxPendingSetsTotal || _pendingBytes + body.Length > MaxPendingBytesTotal)
        {
            run.Counters.SetsDropped++;
            return;
        }

        domain.Pending.Add(new PendingSet(templateId, body.ToArray(), ctx));
        _pendingSets++;
        _pendingBytes += body.Length;
        run.Counters.SetsBuffered++;
    }

    private void Replay(DomainState domain, ushort templateId, FlowTemplate template, ref Run run)
    {
        for (var i = 0; i < domain.Pending.Count && !run.Exhausted;)
        {
            var pending = domain.Pending[i];
            if (pending.TemplateId != templateId)
            {
                i++;
                continue;
            }

            domain.Pending.RemoveAt(i);
            _pendingSets--;
            _pendingBytes -= pending.Body.Length;
            run.Counters.SetsReplayed++;
            if (run.Step(pending.Body.Length / 4 + 1))
            {
                DecodeDataSet(pending.Body, templateId, template, domain, pending.Context, replay: true, ref run);
            }
        }
    }

    private void DecodeDataSet(ReadOnlySpan<byte> body, int setId, FlowTemplate template, DomainState domain, PacketContext ctx, bool replay, ref Run run)
    {
        var p = 0;
        while (body.Length - p >= template.MinRecordLength)
        {
            var values = default(RecordValues);
            var recordStart = p;
            if (!ReadRecord(body, ref p, template, ctx.Ipfix, ref values, ref run))
            {
                if (run.Exhausted)
                {
                    return;
                }

                if (body[recordStart..].IndexOfAnyExcept((byte)0) < 0)
                {
                    return; // zero padding shorter than a variable-length record
                }

                run.Counters.MalformedRecords++;
                if (!replay)
                {
                    run.Reject($"{(ctx.Ipfix ? "ipfix" : "v9")}: record at offset {recordStart} of data set {setId} overruns the set");
                }

                return;
            }

            if (template.IsOptions)
            {
                run.Counters.RecordsSkipped++;
                var interval = values.SamplingRate();
                if (interval > 0)
                {
                    domain.SamplingInterval = interval;
                }

                if (values.Has(FieldKind.SystemInitMs))
                {
                    domain.SystemInitMs = (long)Math.Min(values.SystemInitMs, long.MaxValue);
                }

                continue;
            }

            if (!values.HasSrc || !values.HasDst)
            {
                run.Counters.RecordsSkipped++;
                continue;
            }

            run.Events.Add(BuildEvent(ref values, domain, ctx, run.Exporter));
            run.Counters.Flows++;
        }
    }

    private static bool ReadRecord(ReadOnlySpan<byte> body, ref int p, FlowTemplate template, bool ipfix, ref RecordValues v, ref Run run)
    {
        var fields = template.Fields;
        if (!run.Step(fields.Length))
        {
            return false;
        }

        for (var i = 0; i < fields.Length; i++)
        {
            var f = fields[i];
            int length = f.Length;
            if (ipfix && length == FlowTemplate.VariableLength)
            {
                // RFC 7011 §7: one length byte, or 255 then two length bytes.
                if (p >= body.Length)
                {
                    return false;
                }

                length = body[p++];
                if (length == 255)
                {
                    if (body.Length - p < 2)
                    {
                        return false;
                    }

                    length = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
                    p += 2;
                }
            }

            if (body.Length - p < length)
            {
                return false;
            }

            if (f.Kind != FieldKind.Ignore)
            {
                v.Set(f.Kind, body.Slice(p, length));
            }

            p += length;
        }

        return true;
    }

    private FlowEvent BuildEvent(ref RecordValues v, DomainState domain, PacketContext ctx, string exporter)
    {
        var exportMs = ctx.ExportSecs * 1000L;
        long? start = null;
        long? end = null;
        if (v.Has(FieldKind.StartMs))
        {
            start = ClampMs(v.StartMs);
        }
        else if (v.Has(FieldKind.StartNtp))
        {
            start = NtpToUnixMs(v.StartNtp);
        }
        else if (v.Has(FieldKind.StartSec))
        {
            start = (long)v.StartSec * 1000;
        }
        else if (v.Has(FieldKind.StartDeltaUs))
        {
            start = exportMs - (long)(v.StartDeltaUs / 1000);
        }

        if (v.Has(FieldKind.EndMs))
        {
            end = ClampMs(v.EndMs);
        }
        else if (v.Has(FieldKind.EndNtp))
        {
            end = NtpToUnixMs(v.EndNtp);
        }
        else if (v.Has(FieldKind.EndSec))
        {
            end = (long)v.EndSec * 1000;
        }
        else if (v.Has(FieldKind.EndDeltaUs))
        {
            end = exportMs - (long)(v.EndDeltaUs / 1000);
        }

        var hasUpStart = v.Has(FieldKind.StartUptime);
        var hasUpEnd = v.Has(FieldKind.EndUptime);
        if ((start is null && hasUpStart) || (end is null && hasUpEnd))
        {
            var init = v.Has(FieldKind.SystemInitMs) ? ClampMs(v.SystemInitMs) : domain.SystemInitMs;
            if (!ctx.Ipfix)
            {
                // RFC 3954: sysUptime and unix_secs are the same instant.
                start ??= hasUpStart ? exportMs + unchecked((int)((uint)v.StartUptime - ctx.SysUptime)) : null;
                end ??= hasUpEnd ? exportMs + unchecked((int)((uint)v.EndUptime - ctx.SysUptime)) : null;
            }
            else if (init > 0)
            {
                start ??= hasUpStart ? init + (long)v.StartUptime : null;
                end ??= hasUpEnd ? init + (long)v.EndUptime : null;
            }
            else
            {
                // No system init time known: assume the flow ended when it was exported.
                end ??= exportMs;
                if (start is null && hasUpStart)
                {
                    start = hasUpEnd ? end.Value - unchecked((uint)v.EndUptime - (uint)v.StartUptime) : end;
                }
            }
        }

        long duration = 0;
        if (start is not null && end is not null)
        {
            duration = Math.Max(0, end.Value - start.Value);
        }
        else if (v.Has(FieldKind.DurationMs))
        {
            duration = ClampMs(v.DurationMs);
        }
        else if (v.Has(FieldKind.DurationUs))
        {
            duration = ClampMs(v.DurationUs / 1000);
        }

        var timestamp = start ?? (end is not null ? end.Value - duration : exportMs);
        var rate = v.SamplingRate();
        if (rate <= 1)
        {
            rate = Math.Max(1, domain.SamplingInterval);
        }

        return new FlowEvent(
            timestamp,
            v.SrcIsV6 ? Ipv6(ref v.Src) : Ipv4((uint)v.SrcV4),
            (int)v.SrcPort,
            v.DstIsV6 ? Ipv6(ref v.Dst) : Ipv4((uint)v.DstV4),
            (int)v.DstPort,
            (byte)v.Protocol,
            Scale(v.Octets, rate),
            Scale(v.RevOctets, rate),
            Scale(v.Packets + v.RevPackets < v.Packets ? ulong.MaxValue : v.Packets + v.RevPackets, rate),
            duration,
            exporter);
    }

    /// <summary>Caps exporter-supplied times and durations so that the arithmetic on them cannot overflow.</summary>
    private static long ClampMs(ulong value) => value > MaxMs ? MaxMs : (long)value;

    private static long NtpToUnixMs(ulong ntp)
    {
        var seconds = (long)(ntp >> 32) - NtpToUnixSeconds;
        var fraction = (long)(((ntp & 0xFFFF_FFFF) * 1000) >> 32);
        return (seconds * 1000) + fraction;
    }

    private static long Scale(ulong value, long rate)
    {
        var v = value > long.MaxValue ? long.MaxValue : (long)value;
        return v > long.MaxValue / rate ? long.MaxValue : v * rate;
    }

    private string Ipv4(uint address)
    {
        if (_ipv4Strings.TryGetValue(address, out var s))
        {
            return s;
        }

        if (_ipv4Strings.Count >= Ipv4CacheLimit)
        {
            _ipv4Strings.Clear();
        }

        Span<char> buffer = stackalloc char[15];
        var n = 0;
        for (var shift = 24; shift >= 0; shift -= 8)
        {
            ((byte)(address >> shift)).TryFormat(buffer[n..], out var written);
            n += written;
            if (shift > 0)
            {
                buffer[n++] = '.';
            }
        }

        s = new string(buffer[..n]);
        _ipv4Strings[address] = s;
        return s;
    }

    private static string Ipv6(ref Ipv6Bytes bytes) => new IPAddress((ReadOnlySpan<byte>)bytes).ToString();

    private DomainState? GetDomain(DomainKey key)
    {
        if (_domains.TryGetValue(key, out var state))
        {
            return state;
        }

        if (_domains.Count >= MaxDomains)
        {
            return null;
        }

        state = new DomainState();
        _domains[key] = state;
        return state;
    }

    private readonly record struct DomainKey(string Exporter, bool Ipfix, uint DomainId);

    private readonly record struct PacketContext(bool Ipfix, uint SysUptime, uint ExportSecs);

    private readonly record struct PendingSet(ushort TemplateId, byte[] Body, PacketContext Context);

    private sealed class DomainState
    {
        public Dictionary<ushort, FlowTemplate> Templates { get; } = [];

        public List<PendingSet> Pending { get; } = [];

        public long SamplingInterval { get; set; }

        public long SystemInitMs { get; set; }
    }

    private ref struct Run
    {
        public Run(string exporter, List<FlowEvent> events)
        {
            Exporter = exporter;
            Events = events;
        }

        public string Exporter { get; }

        public List<FlowEvent> Events { get; }

        public FlowDecodeCounters Counters;

        public string? Reason;

        public bool Exhausted;

        public void Reject(string reason) => Reason ??= reason;

        public bool Step(int units)
        {
            Counters.Steps += units;
            if (Counters.Steps <= MaxStepsPerDatagram)
            {
                return true;
            }

            Exhausted = true;
            Reject($"step budget of {MaxStepsPerDatagram} exceeded");
            return false;
        }
    }
}
