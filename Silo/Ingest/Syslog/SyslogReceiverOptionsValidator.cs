using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>Checks <see cref="SyslogReceiverOptions"/> at start: one message per problem, naming the key, the value
/// and what is allowed.</summary>
internal sealed class SyslogReceiverOptionsValidator : IValidateOptions<SyslogReceiverOptions>
{
    private static readonly TimeSpan MaxOffset = TimeSpan.FromHours(14);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SyslogReceiverOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Every problem with <paramref name="options"/>; empty when they are usable.</summary>
    internal static List<string> Check(SyslogReceiverOptions options)
    {
        const string Section = SyslogReceiverOptions.SectionName;
        var errors = new List<string>();
        var offset = options.Rfc3164TimeZoneOffset;
        if (offset < -MaxOffset || offset > MaxOffset || offset.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            errors.Add($"{Section}:Rfc3164TimeZoneOffset is '{offset}'; it must be whole minutes between -14:00:00 and 14:00:00, e.g. '-05:00:00'");
        }

        if (!Enum.IsDefined(options.NonAuthLines))
        {
            errors.Add($"{Section}:NonAuthLines is '{options.NonAuthLines}'; it must be Ignore or DeadLetter");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Listeners.Count; i++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"{Section}:Listeners:{i}");
            var listener = options.Listeners[i];
            if (!IsName(listener.Name))
            {
                errors.Add($"{key}:Name is '{listener.Name}'; it must be 1 to 64 letters, digits, '.', '_' or '-', e.g. 'sshd-tls'");
            }
            else if (!names.Add(listener.Name))
            {
                errors.Add($"{key}:Name is '{listener.Name}'; it must be unique among the listeners");
            }

            CheckListener(key, listener, errors);
        }

        return errors;
    }

    private static void CheckListener(string key, SyslogListenerOptions o, List<string> errors)
    {
        if (!Enum.IsDefined(o.Protocol))
        {
            errors.Add($"{key}:Protocol is '{o.Protocol}'; it must be Udp, Tcp or Tls");
        }

        if (!IPAddress.TryParse(o.Address, out _))
        {
            errors.Add($"{key}:Address is '{o.Address}'; it must be an IP address, e.g. '127.0.0.1' or '0.0.0.0'");
        }

        if (o.Port is < 0 or > 65535)
        {
            errors.Add($"{key}:Port is {o.Port}; it must be between 0 (a free port) and 65535");
        }

        if (o.Protocol != SyslogProtocol.Tls && o.AllowedSources.Count == 0)
        {
            errors.Add($"{key}:AllowedSources is empty; it must name at least one source network for {o.Protocol}, which carries no credential (e.g. Name 'relay', Cidr '10.0.0.0/8')");
        }

        errors.AddRange(SourceAllowlist.Validate(o.AllowedSources, key + ":AllowedSources"));
        if (o.MaxMessageBytes is < 480 or > 16 * 1024 * 1024)
        {
            errors.Add($"{key}:MaxMessageBytes is {o.MaxMessageBytes}; it must be between 480 and 16777216 (RFC 5425 receivers should take 8192)");
        }

        if (o.MaxConnections is < 1 or > 100_000)
        {
            errors.Add($"{key}:MaxConnections is {o.MaxConnections}; it must be between 1 and 100000");
        }

        if (o.IdleTimeout < TimeSpan.FromSeconds(1) || o.IdleTimeout > TimeSpan.FromDays(1))
        {
            errors.Add($"{key}:IdleTimeout is '{o.IdleTimeout}'; it must be between 00:00:01 and 1.00:00:00, e.g. '00:10:00'");
        }

        if (o.Protocol == SyslogProtocol.Tls)
        {
            CheckFile(key + ":Tls:CertificateFile", o.Tls.CertificateFile, errors);
            CheckFile(key + ":Tls:KeyFile", o.Tls.KeyFile, errors);
            CheckFile(key + ":Tls:ClientCaFile", o.Tls.ClientCaFile, errors);
            foreach (var (cn, shipper) in o.Tls.ClientNames)
            {
                if (string.IsNullOrWhiteSpace(shipper))
                {
                    errors.Add($"{key}:Tls:ClientNames:{cn} is empty; it must be the shipper name for certificates with CN '{cn}'");
                }
            }
        }
    }

    private static void CheckFile(string key, string path, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            errors.Add($"{key} is empty; it must be a PEM file for a Tls listener");
        }
        else if (!File.Exists(path))
        {
            errors.Add($"{key} is '{path}'; it must be an existing PEM file");
        }
    }

    private static bool IsName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
