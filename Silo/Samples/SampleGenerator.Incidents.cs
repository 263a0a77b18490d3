namespace AnomalyZT.Silo.Samples;

// When the injected incidents happen and what the engine should report for each.
public static partial class SampleGenerator
{
    /// <summary>Source address of the exfiltration: never used by the reader before.</summary>
    private const string ExfilSourceIp = "10.0.77.5";

    /// <summary>User agent of the exfiltration.</summary>
    private const string ExfilUserAgent = "curl/8.5.0";

    /// <summary>Client address behind the credential-stuffing burst (TEST-NET-1).</summary>
    private const string StuffingSourceIp = "192.0.2.77";

    /// <summary>User agent of the credential-stuffing burst.</summary>
    private const string StuffingUserAgent = "python-requests/2.28.2";

    /// <summary>Mining pool the rogue job connects to (TEST-NET-3), stratum port.</summary>
    private const string MiningPoolIp = "203.0.113.66";

    private const int MiningPoolPort = 3333;

    /// <summary>Network swept by the lateral-movement scan; no node or service lives there.</summary>
    private const string ScanPrefix = "10.0.40.";

    /// <summary>A half-open window of event time, Unix microseconds.</summary>
    private readonly record struct Window(long FromUs, long ToUs)
    {
        public bool Contains(long us) => us >= FromUs && us < ToUs;
    }

    /// <summary>The incidents that fit in the set, with their windows; an incident whose window would end after the
    /// last hour is left out (and not listed).</summary>
    private sealed class IncidentSchedule
    {
        private readonly List<SampleIncident> _incidents = [];

        public IncidentSchedule(Group group, long startUs, int hours)
        {
            var endUs = startUs + hours * HourMicros;
            var exfilFrom = hours >= 26 ? 26 * HourMicros : 20 * HourMicros + 10 * MinuteMicros;
            Mining = Place(startUs, endUs, 10 * HourMicros, 60 * MinuteMicros);
            Stuffing = Place(startUs, endUs, 14 * HourMicros, 20 * MinuteMicros);
            Scan = Place(startUs, endUs, 16 * HourMicros + 30 * MinuteMicros, 20 * MinuteMicros);
            Exfil = Place(startUs, endUs, exfilFrom, 30 * MinuteMicros);
            MiningNode = group.Standby.Name;
            ScanNode = group.Data.Name;
            StuffedPerson = group.Person("alice");
            ExfilPrincipal = group.Spiffe("feature-store", "reader");

            if (Mining is { } mining)
            {
                const string text = "cryptominer on a standby GPU node: both GPUs at 98-100 % with no Kubernetes pod attached, " +
                    "framebuffer in use, and a stratum connection to a never-seen pool 203.0.113.66:3333";
                AddAll("cryptomining", "node", MiningNode, mining, text, "gpu_util_unattributed", "gpu_util", "gpu_mem_used", "new_destination");
            }

            if (Stuffing is { } stuffing)
            {
                const string text = "credential stuffing against a person's account: bursts of 401 from a never-seen client " +
                    "192.0.2.77 with a scripted user agent";
                AddAll("credential-stuffing", "identity", StuffedPerson, stuffing, text, "failures", "requests", "new_source_ip", "new_user_agent");
            }

            if (Scan is { } scan)
            {
                const string text = "lateral movement: the data node sweeps 10.0.40.0/24 on many service ports (mostly " +
                    "unanswered SYNs) within twenty minutes";
                AddAll("lateral-movement", "node", ScanNode, scan, text, "distinct_destinations", "distinct_dst_ports", "new_destination");
            }

            if (Exfil is { } exfil)
            {
                const string text = "data exfiltration: the feature-store reader identity pulls 60-75x its usual bytes from a " +
                    "never-seen source 10.0.77.5 with curl, at night";
                AddAll("data-exfiltration", "identity", ExfilPrincipal, exfil, text, "bytes_out", "new_source_ip", "new_user_agent");
            }
        }

        public Window? Mining { get; }

        public Window? Stuffing { get; }

        public Window? Scan { get; }

        public Window? Exfil { get; }

        public string MiningNode { get; }

        public string ScanNode { get; }

        public string StuffedPerson { get; }

        public string ExfilPrincipal { get; }

        public IReadOnlyList<SampleIncident> Incidents => _incidents;

        private static Window? Place(long startUs, long endUs, long offsetUs, long lengthUs)
        {
            var from = startUs + offsetUs;
            return from + lengthUs <= endUs ? new Window(from, from + lengthUs) : null;
        }

        private void AddAll(string name, string kind, string entity, Window window, string description, params string[] features)
        {
            foreach (var feature in features)
            {
                _incidents.Add(new SampleIncident(name, kind, entity, feature, Offset(window.FromUs), Offset(window.ToUs), description));
            }
        }
    }
}
