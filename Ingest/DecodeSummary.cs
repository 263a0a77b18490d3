namespace AnomalyZT.Ingest;

/// <summary>Totals for one decoded body. <see cref="Lines"/> always equals
/// <see cref="Accepted"/> + <see cref="Rejected"/> + <see cref="ControlLines"/>.</summary>
/// <param name="Lines">Lines seen, including blank and header lines.</param>
/// <param name="Accepted">Lines that produced an event plus lines that were <see cref="LineStatus.Filtered"/>.</param>
/// <param name="Filtered">Valid lines intentionally not scored (part of <paramref name="Accepted"/>).</param>
/// <param name="Rejected">Bad lines.</param>
/// <param name="ControlLines">Blank and header lines.</param>
/// <param name="Bytes">Body bytes read, after decompression.</param>
public readonly record struct DecodeSummary(int Lines, int Accepted, int Filtered, int Rejected, int ControlLines, long Bytes);
