using System.Text;
using System.Text.Unicode;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

// The Zeek TSV log: '#' header lines set the separator, the unset/empty markers and the column order.
internal sealed partial class ZeekConnParser
{
    private byte _separator = (byte)'\t';
    private byte[] _unsetField = "-"u8.ToArray();
    private byte[] _emptyField = "(empty)"u8.ToArray();
    private int[]? _columns;

    private LineStatus ParseHeader(ReadOnlySpan<byte> line, out string? reason)
    {
        reason = null;
        if (line.StartsWith("#separator"u8))
        {
            // Written before any separator is known, so the value follows a space: "#separator \x09".
            var value = TextRanges.Trim(line["#separator".Length..]);
            if (value.Length == 1)
            {
                _separator = value[0];
            }
            else if (value.Length == 4 && value.StartsWith("\\x"u8) && TryHex(value[2..], out var b))
            {
                _separator = b;
            }
            else
            {
                reason = "'#separator' must be one byte, written as \\xHH (e.g. \\x09)";
                return LineStatus.Rejected;
            }

            return LineStatus.Control;
        }

        var cut = line.IndexOf(_separator);
        var directive = cut < 0 ? line : line[..cut];
        var rest = cut < 0 ? [] : line[(cut + 1)..];
        if (directive.SequenceEqual("#fields"u8))
        {
            _columns = ParseColumns(rest);
        }
        else if (directive.SequenceEqual("#unset_field"u8))
        {
            _unsetField = rest.ToArray();
        }
        else if (directive.SequenceEqual("#empty_field"u8))
        {
            _emptyField = rest.ToArray();
        }

        // #set_separator, #types, #path, #open, #close and comments carry nothing conn events need.
        return LineStatus.Control;
    }

    private int[] ParseColumns(ReadOnlySpan<byte> names)
    {
        var columns = new int[names.Count(_separator) + 1];
        for (var i = 0; i < columns.Length; i++)
        {
            var cut = names.IndexOf(_separator);
            var name = cut < 0 ? names : names[..cut];
            columns[i] = -1;
            for (var f = 0; f < ColumnNames.Length; f++)
            {
                if (name.SequenceEqual(ColumnNames[f]))
                {
                    columns[i] = Fields[f].Id;
                }
            }

            names = cut < 0 ? [] : names[(cut + 1)..];
        }

        return columns;
    }

    private LineStatus ParseRow(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        evt = default;
        if (_columns is null)
        {
            reason = "Zeek TSV data line before any '#fields' header (send the log with its header lines)";
            return LineStatus.Rejected;
        }

        ResetLine();
        var column = 0;
        var start = 0;
        while (true)
        {
            var next = line[start..].IndexOf(_separator);
            var end = next < 0 ? line.Length : start + next;
            if (column < _columns.Length && _columns[column] >= 0)
            {
                reason = OnColumn(_columns[column], line, start, end - start);
                if (reason is not null)
                {
                    return LineStatus.Rejected;
                }
            }

            column++;
            if (next < 0)
            {
                break;
            }

            start = end + 1;
        }

        if (column != _columns.Length)
        {
            reason = $"the row has {column} columns; '#fields' declares {_columns.Length}";
            return LineStatus.Rejected;
        }

        return Complete(line, out evt, out reason);
    }

    private string? OnColumn(int fieldId, ReadOnlySpan<byte> line, int start, int length)
    {
        var value = line.Slice(start, length);
        if (value.SequenceEqual(_unsetField) || value.SequenceEqual(_emptyField))
        {
            return null;
        }

        var name = Fields[fieldId].Path;
        switch (fieldId)
        {
            case Ts:
                _hasTime = Utf8Values.TryParseTimestamp(value, out _time);
                return _hasTime ? null : $"field '{name}' is not an RFC 3339 timestamp or epoch number";
            case OrigHost:
                return Address(value, name, start, out _origHost);
            case RespHost:
                return Address(value, name, start, out _respHost);
            case Proto:
                return FlowProtocols.TryParse(value, out _protocol) ? null : FlowProtocols.Invalid(name);
            case Duration:
                return Utf8Values.TryParseDouble(value, out _durationSeconds) && _durationSeconds >= 0 && double.IsFinite(_durationSeconds)
                    ? null
                    : $"field '{name}' is not a non-negative number";
            case OrigPort:
            case RespPort:
                if (!Utf8Values.TryParseInt64(value, out var port) || port is < 0 or > 65535)
                {
                    return $"field '{name}' is not a port (0-65535)";
                }

                if (fieldId == OrigPort)
                {
                    _origPort = (int)port;
                }
                else
                {
                    _respPort = (int)port;
                }

                return null;
            default:
                if (!Utf8Values.TryParseInt64(value, out var count) || count < 0)
                {
                    return $"field '{name}' is not a non-negative integer";
                }

                SetCount(fieldId, count);
                return null;
        }
    }

    private void SetCount(int fieldId, long count)
    {
        switch (fieldId)
        {
            case OrigBytes:
                _origBytes = count;
                break;
            case RespBytes:
                _respBytes = count;
                break;
            case OrigPackets:
                _origPackets = count;
                break;
            default:
                _respPackets = count;
                break;
        }
    }

    private string? Address(ReadOnlySpan<byte> value, string name, int start, out Utf8Slice slice)
    {
        slice = default;
        if (value.Length > MaxFieldBytes)
        {
            return $"field '{name}' is {value.Length} bytes; the limit is {MaxFieldBytes}";
        }

        if (!Utf8.IsValid(value))
        {
            return $"field '{name}' is not valid UTF-8";
        }

        if (!TextRanges.IsBlank(value))
        {
            slice = new Utf8Slice(start, value.Length, false);
        }

        return null;
    }

    private static bool TryHex(ReadOnlySpan<byte> hex, out byte value)
    {
        value = 0;
        foreach (var c in hex)
        {
            var digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            value = (byte)((value << 4) | digit);
        }

        return true;
    }

    private static byte[][] BuildColumnNames()
    {
        var fields = Fields;
        var names = new byte[fields.Length][];
        for (var i = 0; i < fields.Length; i++)
        {
            names[i] = Encoding.UTF8.GetBytes(fields[i].Path);
        }

        return names;
    }
}
