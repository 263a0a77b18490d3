using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>HTTP status to <see cref="Outcome"/>.</summary>
internal static class AccessOutcomes
{
    /// <summary>2xx/3xx success, 401/403 denied, anything else (0 included) failure.</summary>
    public static Outcome FromHttpStatus(long status) => status switch
    {
        >= 200 and <= 399 => Outcome.Success,
        401 or 403 => Outcome.Denied,
        _ => Outcome.Failure,
    };

    /// <summary>Reason for a line with neither a principal nor a source address.</summary>
    public static string NoPrincipal(string principalList) =>
        $"no principal: none of {principalList} present and no source address";
}
