using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AnomalyZT.Ingest;
using AnomalyZT.Silo.Api;

namespace AnomalyZT.Silo.Cli;

/// <summary>Totals of a ship run. Records sent = accepted + rejected when nothing was lost.</summary>
internal readonly record struct ShipResult(int Requests, long Records, long Accepted, long Rejected, int Retries);

/// <summary>A small log shipper: reads log files, orders their lines by event time, and posts them to a silo in
/// batches that each cover one event-time window of one format, as Fluent Bit or Vector would.</summary>
/// <remarks>Zeek TSV header lines are repeated at the top of every batch of their file, since a body must be
/// self-describing. A line the decoder cannot time keeps the time of the line before it, so bad lines are still
/// sent (and come back rejected) rather than silently dropped.</remarks>
internal static class Shipper
{
    public static async Task<ShipResult> ShipAsync(
        IReadOnlyList<(string Path, string Format)> inputs, Uri baseUrl, string apiKey, int windowSeconds, CancellationToken ct)
    {
        var decoder = new LineDecoder(new IngestOptions { MaxBodyBytes = long.MaxValue });
        var lines = new List<ShipLine>();
        var headers = new byte[inputs.Count][];
        for (var f = 0; f < inputs.Count; f++)
        {
            var (path, format) = inputs[f];
            byte[] content;
            await using (var file = File.OpenRead(path))
            await using (var stream = InputFiles.IsGzip(path) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file)
            using (var memory = new MemoryStream())
            {
                await stream.CopyToAsync(memory, ct).ConfigureAwait(false);
                content = memory.ToArray();
            }

            var header = new ArrayBufferWriter<byte>();
            var previous = 0L;
            var start = 0;
            while (start < content.Length)
            {
                var end = Array.IndexOf(content, (byte)'\n', start);
                end = end < 0 ? content.Length : end;
                var line = content.AsMemory(start, end - start);
                start = end + 1;
                if (line.Length > 0 && line.Span[0] == (byte)'#')
                {
                    header.Write(line.Span);
                    header.Write("\n"u8);
                    continue;
                }

                if (line.Span.Trim((byte)'\r').IsEmpty)
                {
                    continue;
                }

                var ts = await TimeOfAsync(decoder, format, header.WrittenMemory, line, ct).ConfigureAwait(false) ?? previous;
                previous = ts;
                lines.Add(new ShipLine(ts, f, lines.Count, line));
            }

            headers[f] = header.WrittenSpan.ToArray();
        }

        lines.Sort(static (a, b) => a.Ts != b.Ts ? a.Ts.CompareTo(b.Ts) : a.Seq.CompareTo(b.Seq));
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(100) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var result = new ShipResult();
        var windowMs = windowSeconds * 1000L;
        var bodies = new ArrayBufferWriter<byte>[inputs.Count];
        var counts = new int[inputs.Count];
        var i = 0;
        while (i < lines.Count)
        {
            var windowEnd = lines[i].Ts - (lines[i].Ts % windowMs) + windowMs;
            for (; i < lines.Count && lines[i].Ts < windowEnd; i++)
            {
                var l = lines[i];
                var body = bodies[l.File] ??= new ArrayBufferWriter<byte>();
                if (counts[l.File] == 0)
                {
                    body.Write(headers[l.File]);
                }

                body.Write(l.Bytes.Span);
                body.Write("\n"u8);
                counts[l.File]++;
            }

            // Formats go in a fixed order within a window; each window's lines reach the silo before the next's.
            for (var f = 0; f < inputs.Count; f++)
            {
                if (counts[f] == 0)
                {
                    continue;
                }

                result = await PostAsync(http, inputs[f].Format, bodies[f]!.WrittenMemory, counts[f], result, ct).ConfigureAwait(false);
                bodies[f]!.ResetWrittenCount();
                counts[f] = 0;
            }
        }

        return result;
    }

    private static async Task<ShipResult> PostAsync(HttpClient http, string format, ReadOnlyMemory<byte> body, int records, ShipResult total, CancellationToken ct)
    {
        var retries = 0;
        while (true)
        {
            using var content = new ReadOnlyMemoryContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            using var response = await http.PostAsync(new Uri("v1/ingest/" + format, UriKind.Relative), content, ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && retries < 60)
            {
                retries++;
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                await Task.Delay(wait, ct).ConfigureAwait(false);
                continue;
            }

            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"POST /v1/ingest/{format} answered {(int)response.StatusCode}: {text}");
            }

            var answer = JsonSerializer.Deserialize(text, Serialization.AnomalyJsonContext.Default.IngestResponse)
                ?? throw new HttpRequestException("the silo answered an empty body");
            return new ShipResult(total.Requests + 1, total.Records + records, total.Accepted + answer.Accepted, total.Rejected + answer.Rejected, total.Retries + retries);
        }
    }

    private static async Task<long?> TimeOfAsync(LineDecoder decoder, string format, ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> line, CancellationToken ct)
    {
        var buffer = new byte[header.Length + line.Length + 1];
        header.CopyTo(buffer);
        line.CopyTo(buffer.AsMemory(header.Length));
        buffer[^1] = (byte)'\n';
        long? ts = null;
        await decoder.DecodeAsync(PipeReader.Create(new MemoryStream(buffer)), format, batch =>
        {
            foreach (var e in batch.Events)
            {
                ts = e.TimestampMs;
            }

            return ValueTask.CompletedTask;
        }, 16, ct).ConfigureAwait(false);
        return ts;
    }

    private readonly record struct ShipLine(long Ts, int File, int Seq, ReadOnlyMemory<byte> Bytes);
}
