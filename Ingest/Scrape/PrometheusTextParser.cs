using System.Globalization;
using System.Text;

namespace AnomalyZT.Ingest.Scrape;

/// <summary>One sample line of the Prometheus text exposition format.</summary>
/// <param name="Name">Metric name.</param>
/// <param name="Labels">Labels in the order they were written, values unescaped.</param>
/// <param name="Value">The value; <c>NaN</c>, <c>+Inf</c> and <c>-Inf</c> are allowed.</param>
/// <param name="TimestampMs">The line's own timestamp (Unix milliseconds), or null when it has none.</param>
/// <param name="LineNumber">1-based line number in the scraped text.</param>
public sealed record PrometheusSample(
    string Name, IReadOnlyList<KeyValuePair<string, string>> Labels, double Value, long? TimestampMs, int LineNumber)
{
    /// <summary>The value of label <paramref name="name"/> (exact, case-sensitive), or null when absent.</summary>
    public string? Label(string name)
    {
        foreach (var (key, value) in Labels)
        {
            if (string.Equals(key, name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>A line that could not be parsed.</summary>
/// <param name="LineNumber">1-based line number.</param>
/// <param name="Reason">What is wrong with it.</param>
/// <param name="Line">The line, cut to <see cref="PrometheusTextParser.MaxErrorLineChars"/> characters.</param>
public sealed record PrometheusLineError(int LineNumber, string Reason, string Line);

/// <summary>What <see cref="PrometheusTextParser.Parse"/> read.</summary>
/// <param name="Samples">Sample lines, in order.</param>
/// <param name="Errors">Malformed lines, in order.</param>
/// <param name="Lines">Lines seen (including comments and blank lines).</param>
public sealed record PrometheusParseResult(IReadOnlyList<PrometheusSample> Samples, IReadOnlyList<PrometheusLineError> Errors, int Lines);

/// <summary>Bounds on what <see cref="PrometheusTextParser"/> accepts.</summary>
public sealed record PrometheusParseLimits
{
    /// <summary>The defaults: 64 KiB lines, 64 labels, 1,000,000 lines.</summary>
    public static readonly PrometheusParseLimits Default = new();

    /// <summary>Longest line accepted, in characters; longer lines are errors.</summary>
    public int MaxLineLength { get; init; } = 64 * 1024;

    /// <summary>Most labels on one sample; more make the line an error.</summary>
    public int MaxLabels { get; init; } = 64;

    /// <summary>Most lines read; the rest are reported as one error.</summary>
    public int MaxLines { get; init; } = 1_000_000;
}

/// <summary>Reads the Prometheus text exposition format (version 0.0.4): <c># HELP</c> and <c># TYPE</c> lines, other
/// comments, and <c>name{label="value",...} value [timestamp]</c> samples with the <c>\\</c>, <c>\"</c> and <c>\n</c>
/// escapes in label values and <c>NaN</c>/<c>+Inf</c>/<c>-Inf</c> values. Bounded by <see cref="PrometheusParseLimits"/>;
/// never throws: a bad line becomes a <see cref="PrometheusLineError"/> and parsing goes on.</summary>
public static class PrometheusTextParser
{
    /// <summary>How much of a bad line an error keeps.</summary>
    public const int MaxErrorLineChars = 512;

    /// <summary>Parses <paramref name="text"/> line by line.</summary>
    public static PrometheusParseResult Parse(string text, PrometheusParseLimits? limits = null)
    {
        limits ??= PrometheusParseLimits.Default;
        var samples = new List<PrometheusSample>();
        var errors = new List<PrometheusLineError>();
        var lineNumber = 0;
        var rest = (text ?? string.Empty).AsSpan();
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf('\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            lineNumber++;
            if (lineNumber > limits.MaxLines)
            {
                errors.Add(new PrometheusLineError(lineNumber, $"more than {limits.MaxLines} lines; the rest was not read", string.Empty));
                break;
            }

            if (line.EndsWith('\r'))
            {
                line = line[..^1];
            }

            string? reason;
            if (line.Length > limits.MaxLineLength)
            {
                reason = $"line is longer than {limits.MaxLineLength} characters";
            }
            else
            {
                reason = ParseLine(line, lineNumber, limits, out var sample);
                if (sample is not null)
                {
                    samples.Add(sample);
                }
            }

            if (reason is not null)
            {
                errors.Add(new PrometheusLineError(lineNumber, reason, Cut(line)));
            }
        }

        return new PrometheusParseResult(samples, errors, lineNumber);
    }

    private static string Cut(ReadOnlySpan<char> line) =>
        line.Length <= MaxErrorLineChars ? line.ToString() : line[..MaxErrorLineChars].ToString();

    private static string? ParseLine(ReadOnlySpan<char> line, int lineNumber, PrometheusParseLimits limits, out PrometheusSample? sample)
    {
        sample = null;
        var pos = SkipBlanks(line, 0);
        if (pos == line.Length)
        {
            return null;
        }

        if (line[pos] == '#')
        {
            return ParseComment(line[(pos + 1)..]);
        }

        var nameStart = pos;
        if (!IsNameStart(line[pos], metric: true))
        {
            return "a sample line must start with a metric name";
        }

        while (pos < line.Length && IsNameChar(line[pos], metric: true))
        {
            pos++;
        }

        var name = line[nameStart..pos].ToString();
        var labels = new List<KeyValuePair<string, string>>();
        pos = SkipBlanks(line, pos);
        if (pos < line.Length && line[pos] == '{')
        {
            var reason = ParseLabels(line, ref pos, limits.MaxLabels, labels);
            if (reason is not null)
            {
                return reason;
            }

            pos = SkipBlanks(line, pos);
        }

        var valueStart = pos;
        while (pos < line.Length && !IsBlank(line[pos]))
        {
            pos++;
        }

        if (valueStart == pos)
        {
            return $"metric '{name}' has no value";
        }

        if (!TryParseValue(line[valueStart..pos], out var value))
        {
            return $"metric '{name}' has value '{Cut(line[valueStart..pos])}', which is not a number";
        }

        pos = SkipBlanks(line, pos);
        long? timestamp = null;
        if (pos < line.Length)
        {
            var tsStart = pos;
            while (pos < line.Length && !IsBlank(line[pos]))
            {
                pos++;
            }

            if (!long.TryParse(line[tsStart..pos], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ts))
            {
                return $"metric '{name}' has timestamp '{Cut(line[tsStart..pos])}', which is not an integer of milliseconds";
            }

            timestamp = ts;
            if (SkipBlanks(line, pos) != line.Length)
            {
                return $"metric '{name}' has text after its timestamp";
            }
        }

        sample = new PrometheusSample(name, labels, value, timestamp, lineNumber);
        return null;
    }

    private static string? ParseComment(ReadOnlySpan<char> comment)
    {
        var pos = SkipBlanks(comment, 0);
        var body = comment[pos..];
        var isHelp = body.StartsWith("HELP") && (body.Length == 4 || IsBlank(body[4]));
        var isType = body.StartsWith("TYPE") && (body.Length == 4 || IsBlank(body[4]));
        if (!isHelp && !isType)
        {
            return null; // any other comment is free text
        }

        var words = body[4..].Trim(" \t");
        var nameEnd = 0;
        while (nameEnd < words.Length && !IsBlank(words[nameEnd]))
        {
            nameEnd++;
        }

        if (nameEnd == 0 || !IsMetricName(words[..nameEnd]))
        {
            return $"# {(isHelp ? "HELP" : "TYPE")} needs a metric name";
        }

        if (isHelp)
        {
            return null;
        }

        var type = words[nameEnd..].Trim(" \t");
        return type is "counter" or "gauge" or "histogram" or "summary" or "untyped" or "gaugehistogram" or "info" or "stateset" or "unknown"
            ? null
            : $"# TYPE has unknown type '{Cut(type)}'";
    }

    private static string? ParseLabels(ReadOnlySpan<char> line, ref int pos, int maxLabels, List<KeyValuePair<string, string>> labels)
    {
        pos++; // '{'
        var value = new StringBuilder();
        while (true)
        {
            pos = SkipBlanks(line, pos);
            if (pos >= line.Length)
            {
                return "labels are not closed with '}'";
            }

            if (line[pos] == '}')
            {
                pos++;
                return null;
            }

            var nameStart = pos;
            if (!IsNameStart(line[pos], metric: false))
            {
                return $"bad label name at column {pos + 1}";
            }

            while (pos < line.Length && IsNameChar(line[pos], metric: false))
            {
                pos++;
            }

            var name = line[nameStart..pos].ToString();
            pos = SkipBlanks(line, pos);
            if (pos >= line.Length || line[pos] != '=')
            {
                return $"label '{name}' has no '='";
            }

            pos = SkipBlanks(line, pos + 1);
            if (pos >= line.Length || line[pos] != '"')
            {
                return $"label '{name}' has no quoted value";
            }

            pos++;
            value.Clear();
            var closed = false;
            while (pos < line.Length)
            {
                var c = line[pos++];
                if (c == '"')
                {
                    closed = true;
                    break;
                }

                if (c != '\\')
                {
                    value.Append(c);
                    continue;
                }

                if (pos >= line.Length)
                {
                    break;
                }

                var escaped = line[pos++];
                switch (escaped)
                {
                    case '\\': value.Append('\\'); break;
                    case '"': value.Append('"'); break;
                    case 'n': value.Append('\n'); break;
                    default: return $"label '{name}' has unknown escape '\\{escaped}'";
                }
            }

            if (!closed)
            {
                return $"label '{name}' has an unterminated value";
            }

            if (labels.Count >= maxLabels)
            {
                return $"more than {maxLabels} labels";
            }

            labels.Add(new KeyValuePair<string, string>(name, value.ToString()));
            pos = SkipBlanks(line, pos);
            if (pos < line.Length && line[pos] == ',')
            {
                pos++;
            }
            else if (pos < line.Length && line[pos] != '}')
            {
                return $"expected ',' or '}}' after label '{name}'";
            }
        }
    }

    /// <summary>A sample value: a float in invariant notation, or <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>, <c>Inf</c> (any case).</summary>
    internal static bool TryParseValue(ReadOnlySpan<char> text, out double value)
    {
        if (text.Equals("NaN", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        if (text.Equals("+Inf", StringComparison.OrdinalIgnoreCase) || text.Equals("Inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (text.Equals("-Inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }

        // Letters other than the exponent would let .NET accept "Infinity" or "∞"; keep to the format's digits.
        foreach (var c in text)
        {
            if (!(char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-'))
            {
                value = 0;
                return false;
            }
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsMetricName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || !IsNameStart(name[0], metric: true))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!IsNameChar(c, metric: true))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsNameStart(char c, bool metric) => char.IsAsciiLetter(c) || c == '_' || (metric && c == ':');

    private static bool IsNameChar(char c, bool metric) => IsNameStart(c, metric) || char.IsAsciiDigit(c);

    private static bool IsBlank(char c) => c is ' ' or '\t';

    private static int SkipBlanks(ReadOnlySpan<char> line, int pos)
    {
        while (pos < line.Length && IsBlank(line[pos]))
        {
            pos++;
        }

        return pos;
    }
}
