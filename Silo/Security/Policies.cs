namespace AnomalyZT.Silo.Security;

/// <summary>Authorization policies: which roles may call which endpoints.</summary>
internal static class Policies
{
    /// <summary>Posting events: shippers and admins.</summary>
    public const string Ingest = "ingest";

    /// <summary>Reading alerts, entities, dead letters: viewers, responders and admins.</summary>
    public const string Read = "read";

    /// <summary>Approving, rejecting and undoing response actions: responders and admins.</summary>
    public const string Respond = "respond";
}
