namespace AnomalyZT.Ingest.DropIn;

/// <summary>One item of a drop-in body that was not accepted.</summary>
/// <param name="Index">0-based position of the item in the body (envelope, bulk item, log record, data point, record).</param>
/// <param name="Reason">Why it was rejected, for the shipper's log.</param>
public readonly record struct DropInError(int Index, string Reason);
